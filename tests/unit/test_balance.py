"""Balance: the demo's edge cases, typed sums, money in both languages, the chart."""

from __future__ import annotations

import io
import struct
from decimal import Decimal

import pytest
from PIL import Image

from bot.services.balance import BalanceService, Trend
from bot.services.balance.chart import ChartLabels, month_label
from bot.services.balance.money import SumProblem, SumRejected, format_money, parse_sum
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.balance import seed_linked

CASES = ("typical", "overpaid", "debtor", "no_charges", "recalculation")


async def test_each_demo_edge_case(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, CASES)
    async with UnitOfWork(db.session_maker) as uow:
        service = BalanceService(uow, clock)
        s = {case: await service.statement(900, seeded.ids[case]) for case in CASES}

    overpaid = s["overpaid"]
    assert overpaid is not None and overpaid.period == "2026-11"
    assert overpaid.balance_now == -Decimal("3000.00") and overpaid.to_pay == 0
    assert (
        overpaid.last_payment is not None
        and overpaid.last_payment.paid_at.isoformat() == "2026-11-19"
    )

    debtor = s["debtor"]
    assert debtor is not None and debtor.balance_now == Decimal("33270.18")
    assert debtor.to_pay == debtor.balance_now == debtor.opening + debtor.charged
    assert debtor.paid == 0 and len(debtor.lines) == 6 and len(debtor.periods) == 12

    typical = s["typical"]
    assert typical is not None and typical.opening == 0 and typical.to_pay == typical.charged > 0

    none = s["no_charges"]
    assert none is not None and none.period is None and none.lines == () and none.to_pay == 0
    assert none.last_payment is None

    recalc = s["recalculation"]
    assert recalc is not None and recalc.only_recalculation
    assert [line.service for line in recalc.lines] == ["Перерасчёт: отопление"]
    assert recalc.balance_now == -Decimal("1843.27") and recalc.to_pay == 0

    for statement in s.values():
        assert statement is not None and statement.as_of == clock.now()


async def test_an_earlier_month_and_its_opening_debt(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, ("debtor",))
    async with UnitOfWork(db.session_maker) as uow:
        service = BalanceService(uow, clock)
        june = await service.statement(900, seeded.ids["debtor"], "2026-06")
        july = await service.statement(900, seeded.ids["debtor"], "2026-07")
        missing = await service.statement(900, seeded.ids["debtor"], "2019-01")
    assert june is not None and june.closing == 0 and not june.is_latest
    assert july is not None and july.opening == 0 and july.to_pay == july.charged
    assert missing is not None and missing.period == "2026-11"  # no such month: the latest


async def test_only_active_links_show_anything(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, ("typical",))
    await f.add(db, f.resident(901, "+79990009901"), f.resident(902, "+79990009902"))
    await f.add(db, f.link(901, seeded.ids["typical"], "pending"))
    await f.add(db, f.link(902, seeded.ids["typical"], "rejected"))
    async with UnitOfWork(db.session_maker) as uow:
        service = BalanceService(uow, clock)
        for user in (901, 902, 903):
            assert await service.statement(user, seeded.ids["typical"]) is None
            assert await service.history(user, seeded.ids["typical"]) is None


async def test_history_and_its_chart(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, ("debtor", "no_charges"))
    labels = ChartLabels("Лицевой счёт", "Начислено", "Оплачено", "₽", "ru")
    async with UnitOfWork(db.session_maker) as uow:
        service = BalanceService(uow, clock)
        chart = await service.history_chart(900, seeded.ids["debtor"], labels)
        empty = await service.history_chart(900, seeded.ids["no_charges"], labels)
    assert chart is not None and chart.png is not None
    history = chart.history
    assert [m.period for m in history.months][::11] == ["2025-12", "2026-11"]
    assert history.charged - history.paid == Decimal("33270.18")
    assert history.trend in (Trend.UP, Trend.DOWN, Trend.FLAT)
    image = Image.open(io.BytesIO(chart.png))
    assert image.format == "PNG" and image.size[0] >= 800 and image.size[1] >= 500
    assert struct.unpack(">II", chart.png[16:24]) == image.size
    assert empty is not None and empty.png is None


def test_month_names_follow_the_language() -> None:
    assert month_label("2026-11", "ru") == "нояб.\n2026"
    assert month_label("2026-05", "en") == "May\n2026"


def test_money_in_each_language() -> None:
    assert format_money(Decimal("1234.56"), "ru") == "1\u00a0234,56\u00a0₽"
    assert format_money(Decimal("1234.56"), "en") == "RUB\u00a01,234.56"
    assert format_money(Decimal("-0.5"), "ru") == "\u22120,50\u00a0₽"
    assert format_money(Decimal("-1234.5"), "en") == "\u2212RUB\u00a01,234.50"


def test_money_is_shown_to_the_kopeck_whatever_its_arithmetic_left() -> None:
    # a negative zero from a subtraction is no debt; half a kopeck rounds up (the same
    # sums are remembered once formatted: equal amounts must read alike)
    assert format_money(Decimal("-0.00"), "ru") == "0,00\u00a0₽"
    assert format_money(Decimal("0"), "ru") == format_money(Decimal("0.000"), "ru")
    assert format_money(Decimal("1.005"), "ru") == "1,01\u00a0₽"
    assert format_money(Decimal("-2.005"), "en") == "\u2212RUB\u00a02.01"
    assert format_money(Decimal("7.5"), "en") == format_money(Decimal("7.50"), "en")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1500", "1500.00"),
        ("1234,56", "1234.56"),
        ("1234.5", "1234.50"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),  # a no-break space from a copy
        ("1\u202f234,56", "1234.56"),  # the Russian locale's group separator
        ("１２３４", "1234.00"),  # full-width digits
        ("٣٠٠", "300.00"),  # Arabic-Indic digits
        ("500 ₽", "500.00"),
        ("500 руб.", "500.00"),
        ("0,01", "0.01"),
        ("1000000", "1000000.00"),
    ],
)
def test_typed_sums_that_are_accepted(typed: str, expected: str) -> None:
    assert parse_sum(typed) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", SumProblem.NOT_A_NUMBER),
        ("abc", SumProblem.NOT_A_NUMBER),
        ("12 34", SumProblem.NOT_A_NUMBER),  # two numbers, not groups of three
        ("1,2,3", SumProblem.NOT_A_NUMBER),
        ("1e3", SumProblem.NOT_A_NUMBER),
        ("NaN", SumProblem.NOT_A_NUMBER),
        ("12,345", SumProblem.TOO_PRECISE),
        ("0", SumProblem.NOT_POSITIVE),
        ("0,00", SumProblem.NOT_POSITIVE),
        ("-5", SumProblem.NOT_POSITIVE),
        ("−5", SumProblem.NOT_POSITIVE),
        ("1000000,01", SumProblem.TOO_LARGE),
    ],
)
def test_typed_sums_that_are_refused(typed: str, problem: SumProblem) -> None:
    with pytest.raises(SumRejected) as caught:
        parse_sum(typed)
    assert caught.value.problem is problem


async def test_a_telegram_payment_counts_until_billing_imports_again(
    db: Database, clock: FrozenClock
) -> None:
    import datetime as dt

    seeded = await seed_linked(db, clock, 900, ("debtor",))
    debtor = seeded.ids["debtor"]
    async with UnitOfWork(db.session_maker) as uow:
        await uow.balance.add_telegram_payment(
            account_id=debtor,
            paid_at=dt.date(2026, 11, 20),
            amount=Decimal("1000.00"),
            source="Telegram",
            charge_id="tg-1",
            recorded_at=clock.advance(minutes=1),
        )
    async with UnitOfWork(db.session_maker) as uow:
        statement = await BalanceService(uow, clock).statement(900, debtor)
    assert statement is not None
    assert statement.pending == Decimal("1000.00")
    assert statement.balance_now == statement.to_pay == Decimal("32270.18")
    # billing's next charges file has it in `paid`: the import after it ends the wait
    async with UnitOfWork(db.session_maker) as uow:
        later = clock.advance(hours=1)
        uow.audit.add("billing.import", actor_kind="system", actor_id=None, object_id="charges",
                      at=later)  # fmt: skip
    async with UnitOfWork(db.session_maker) as uow:
        statement = await BalanceService(uow, clock).statement(900, debtor)
    assert statement is not None and statement.pending == 0


async def test_years_of_payments_the_last_one_and_the_ones_billing_has_not_seen(
    db: Database, clock: FrozenClock
) -> None:
    import datetime as dt

    from storage.models import AuditLog, Payment

    seeded = await seed_linked(db, clock, 900, ("no_charges",))
    account = seeded.ids["no_charges"]
    imported = clock.advance(hours=1)  # after the import seed_linked made
    billing = [
        Payment(account_id=account, paid_at=dt.date(2020 + n // 12, n % 12 + 1, 10),
                amount=Decimal("1000.00"), source="Сбербанк")
        for n in range(80)
    ]  # fmt: skip

    def telegram(day: int, charge: str, recorded: dt.datetime) -> Payment:
        return Payment(account_id=account, paid_at=dt.date(2026, 10, day),
                       amount=Decimal("7.00"), source="Telegram", telegram_charge_id=charge,
                       recorded_at=recorded)  # fmt: skip

    await f.add(
        db,
        *billing,  # the last: 2026-08-10
        telegram(30, "seen", imported - dt.timedelta(days=1)),  # before the import: in billing
        telegram(31, "not-yet", imported + dt.timedelta(hours=1)),
        AuditLog(action="billing.import", actor_kind="system", object_id="charges", at=imported),
    )
    async with UnitOfWork(db.session_maker) as uow:
        statement = await BalanceService(uow, clock).statement(900, account)
    assert statement is not None
    assert statement.as_of == imported
    assert statement.pending == Decimal("7.00")  # only the payment billing has not seen
    last = statement.last_payment
    assert last is not None and (last.paid_at, last.in_telegram) == (dt.date(2026, 10, 31), True)


async def test_a_read_on_the_connection_sees_what_the_same_unit_of_work_added(
    db: Database, clock: FrozenClock
) -> None:
    """The hot reads skip the ORM's execute (storage/repositories/columns.py): rows the unit
    of work added and has not flushed yet are flushed first, as the ORM's autoflush would."""
    import datetime as dt

    from storage.models import Charge, Payment

    seeded = await seed_linked(db, clock, 900, ("no_charges",))
    account = seeded.ids["no_charges"]
    async with UnitOfWork(db.session_maker) as uow:
        uow.session.add(Charge(account_id=account, period="2026-11", service="Отопление",
                               charged=Decimal("1500.00"), paid=Decimal(0)))  # fmt: skip
        uow.session.add(Payment(account_id=account, paid_at=dt.date(2026, 11, 20),
                                amount=Decimal("700.00"), source="Сбербанк"))  # fmt: skip
        summary = await uow.balance.period_summary(account)
        _, payments = await uow.balance.payments(account)
        statement = await BalanceService(uow, clock).statement(900, account)
    assert [(c.service, c.charged) for c in summary.lines] == [("Отопление", Decimal("1500.00"))]
    assert [p.amount for p in payments] == [Decimal("700.00")]
    assert statement is not None and statement.charged == Decimal("1500.00")
