"""The balance's sums come from the database (one row per month, not per charge): they stay
exact to the kopeck on SQLite, which keeps money as binary floating point, and on
PostgreSQL, whose NUMERIC is decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.services.balance import BalanceService
from bot.services.balance.money import format_money
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import Charge
from storage.uow import UnitOfWork
from tests.support import factories as f

# amounts binary floating point cannot hold: summed as floats, 0.1 × 10 is 0.9999999999999999
AWKWARD = ("0.10", "0.07", "0.01", "1234567.89", "0.29", "3.30")
SERVICES = [f"Услуга {n:02}" for n in range(10)]
MONTHS = [f"{2017 + m // 12}-{m % 12 + 1:02}" for m in range(100)]  # 2017-01 … 2025-04


def _amounts(month: int, service: int) -> tuple[Decimal, Decimal]:
    charged = Decimal(AWKWARD[(month + service) % len(AWKWARD)])
    paid = Decimal(AWKWARD[(month * 7 + service) % len(AWKWARD)]) if month % 3 else Decimal(0)
    return charged, paid


async def test_a_thousand_awkward_charges_sum_to_the_kopeck_on_sqlite(
    db: Database, clock: FrozenClock
) -> None:
    await a_thousand_awkward_charges(db, clock)


@pytest.mark.postgres
async def test_a_thousand_awkward_charges_sum_to_the_kopeck_on_postgresql(
    pg: Database, clock: FrozenClock
) -> None:
    await a_thousand_awkward_charges(pg, clock)


async def a_thousand_awkward_charges(store: Database, clock: FrozenClock) -> None:
    supplier = f.supplier()
    account = f.account(supplier, "1000000001")
    await f.add(store, supplier, account, f.resident(900))
    await f.add(store, f.link(900, account.id, "active", "phone"))
    charges = [
        Charge(account_id=account.id, period=month, service=service,
               charged=_amounts(m, s)[0], paid=_amounts(m, s)[1])
        for m, month in enumerate(MONTHS) for s, service in enumerate(SERVICES)
    ]  # fmt: skip
    await f.add(store, *charges)

    def owed(months: list[str]) -> Decimal:
        return sum((c.charged - c.paid for c in charges if c.period in months), Decimal(0))

    async with UnitOfWork(store.session_maker) as uow:
        service = BalanceService(uow, clock)
        latest = await service.statement(900, account.id)
        middle = await service.statement(900, account.id, MONTHS[50])
        history = await service.history(900, account.id)

    assert latest is not None and middle is not None and history is not None
    assert latest.periods == tuple(reversed(MONTHS))
    assert latest.period == MONTHS[-1] and middle.period == MONTHS[50]
    assert latest.balance_now == middle.balance_now == owed(MONTHS)
    assert latest.opening == owed(MONTHS[:-1])
    assert middle.opening == owed(MONTHS[:50])
    assert [(line.service, line.charged, line.paid) for line in middle.lines] == [
        (c.service, c.charged, c.paid) for c in charges if c.period == MONTHS[50]
    ]
    assert middle.closing == owed(MONTHS[:51])
    for month in history.months:
        of_month = [c for c in charges if c.period == month.period]
        assert month.charged == sum((c.charged for c in of_month), Decimal(0))
        assert month.paid == sum((c.paid for c in of_month), Decimal(0))
    assert [m.period for m in history.months] == MONTHS[-12:]


async def test_amounts_that_cancel_out_sum_to_an_unsigned_zero(
    db: Database, clock: FrozenClock
) -> None:
    """SQLite sums −0.10, −0.20 and 0.30 to −5.6e-17: rounded, that would be −0.00, which a
    sum formatted on its own shows as "−0,00 ₽"."""
    supplier = f.supplier()
    account = f.account(supplier, "1000000002")
    await f.add(db, supplier, account, f.resident(900))
    await f.add(db, f.link(900, account.id, "active", "phone"))
    await f.add(db, *(
        Charge(account_id=account.id, period=month, service=f"Перерасчёт {n}",
               charged=Decimal(amount), paid=Decimal(amount))
        for month in ("2026-10", "2026-11")
        for n, amount in enumerate(("-0.10", "-0.20", "0.30"))
    ))  # fmt: skip
    async with UnitOfWork(db.session_maker) as uow:
        service = BalanceService(uow, clock)
        statement = await service.statement(900, account.id)
        history = await service.history(900, account.id)
    assert statement is not None and history is not None
    sums = [statement.opening, statement.balance_now]
    sums += [v for m in history.months[-2:] for v in (m.charged, m.paid)]
    assert [str(v) for v in sums] == ["0.00"] * 6
    assert format_money(history.months[-1].charged, "ru") == "0,00\xa0₽"
