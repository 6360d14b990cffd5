"""ReadingsService on a fresh SQLite file: checks against the data, the batch stored in one
transaction and once, corrections, operators' decisions, the export, the history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.services.billing import accepted_readings
from bot.services.clock import FrozenClock
from bot.services.enums import ReadingStatus
from bot.services.ports import Delivery
from bot.services.readings import (
    CORRECTED,
    SUBMITTED,
    DecisionOutcome,
    Entry,
    ReadingsService,
    SubmitOutcome,
)
from bot.services.readings_rules import Caution, Problem, ReadingRules
from storage.db import Database
from storage.models import AuditLog, Reading, Ticket
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.services import (
    RecordingReadingDesk,
    RecordingReadingNotifier,
    readings_service,
)

D = Decimal
ANNA, BORIS = 801, 802
# the FrozenClock's default moment: 20 November 2026, 12:00 in Moscow (window 15..25 open)
HISTORY = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]


async def seed(db: Database, *, window: tuple[int, int] = (15, 25), history: int = 7) -> dict:
    """Anna's account: cold water (5+3) with `history` months of billing readings (+5 m³ a
    month, last 130.000 in October) and a two-zone electricity meter (6+1) without any."""
    voda = f.supplier(window=window)
    account = f.account(voda, "1000000001")
    other = f.account(voda, "1000000002")
    await f.add(db, voda, account, other, f.resident(ANNA), f.resident(BORIS, "+79035550011"))
    water = f.meter(account, "ХВ123456")
    power = f.meter(account, "Э7788", "Электроэнергия", zones=2, digits=6, decimals=1)
    await f.add(db, water, power, f.link(ANNA, account.id, "active", "phone"))
    start = len(HISTORY) - history
    readings = [
        f.billing_reading(water, period, str(100 + 5 * n))
        for n, period in enumerate(HISTORY[start:], start=start)
    ]
    await f.add(db, *readings)
    return {"account": account.id, "other": other.id, "water": water.id, "power": power.id}


async def rows(db: Database, model: type = Reading) -> list:
    async with db.session_maker() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())


async def mine(db: Database) -> list[Reading]:
    return [r for r in await rows(db) if r.source == "bot"]


async def submit(
    db: Database,
    clock: FrozenClock,
    ids: dict,
    entries: list[Entry],
    *,
    batch: str = "aaaaaaaaaaaa",
    desk: RecordingReadingDesk | None = None,
    **kw: object,
):
    async with UnitOfWork(db.session_maker) as uow:
        service = readings_service(uow, clock, desk=desk, **kw)  # type: ignore[arg-type]
        return await service.submit(
            user_id=ANNA, account_id=ids["account"], batch=batch, entries=entries
        )


def water(ids: dict, value: str, *confirmed: Caution, photo: str | None = None) -> Entry:
    return Entry(ids["water"], 1, value, frozenset(confirmed), photo)


# --------------------------------------------------------------------------- the view
async def test_submission_lists_meters_last_values_and_steps(db: Database, clock) -> None:
    ids = await seed(db)
    async with UnitOfWork(db.session_maker) as uow:
        service = readings_service(uow, clock)
        sub = await service.submission(ANNA, ids["account"])
        assert await service.submission(ANNA, ids["other"]) is None  # not linked
        assert await service.submission(BORIS, ids["account"]) is None
    assert sub is not None and sub.state.open and sub.period == "2026-11"
    cold, power = sub.meters
    assert cold.last[0] is not None and cold.last[0].value == D("130")
    assert cold.last[0].taken_on == dt.date(2026, 10, 20)
    assert power.last == (None, None) and power.zones == 2
    assert sub.steps() == [(ids["water"], 1), (ids["power"], 1), (ids["power"], 2)]


async def test_closed_window_says_when_the_next_one_is(db: Database) -> None:
    ids = await seed(db)
    clock = FrozenClock(dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    async with UnitOfWork(db.session_maker) as uow:
        sub = await readings_service(uow, clock).submission(ANNA, ids["account"])
    assert sub is not None and not sub.state.open
    assert sub.state.window.opens_on == dt.date(2026, 12, 15)
    assert (await submit(db, clock, ids, [water(ids, "131")])).outcome is SubmitOutcome.CLOSED
    assert await mine(db) == []


async def test_moscow_day_decides_the_window(db: Database) -> None:
    """21:30 UTC on the 25th is already the 26th in Moscow: the window has closed."""
    ids = await seed(db)
    clock = FrozenClock(dt.datetime(2026, 11, 25, 21, 30, tzinfo=dt.UTC))
    assert (await submit(db, clock, ids, [water(ids, "131")])).outcome is SubmitOutcome.CLOSED


# --------------------------------------------------------------------------- checks
async def check(
    db: Database, clock, ids: dict, raw: str, meter: str = "water", zone: int = 1, **kw
):
    async with UnitOfWork(db.session_maker) as uow:
        return await readings_service(uow, clock, **kw).check(
            ANNA, ids["account"], ids[meter], zone, raw
        )


async def test_checks_against_the_last_accepted_reading(db: Database, clock) -> None:
    ids = await seed(db)
    ok = await check(db, clock, ids, "133,5")
    assert ok is not None and ok.ok and ok.cautions == () and ok.consumption == D("3.500")
    less = await check(db, clock, ids, "129,999")
    assert less is not None and less.problem is Problem.LESS_THAN_LAST
    assert less.last is not None and less.last.value == D("130")
    assert (await check(db, clock, ids, "12,3456")).problem is Problem.TOO_MANY_DECIMALS  # type: ignore[union-attr]
    assert (await check(db, clock, ids, "abc")).problem is Problem.NOT_A_NUMBER  # type: ignore[union-attr]
    async with UnitOfWork(db.session_maker) as uow:  # someone else's meter
        service = readings_service(uow, clock)
        assert await service.check(BORIS, ids["account"], ids["water"], 1, "131") is None
        assert await service.check(ANNA, ids["account"], ids["water"], 2, "131") is None


async def test_spike_with_six_months_of_history(db: Database, clock) -> None:
    ids = await seed(db)  # +5 a month: the limit is 25 a month
    assert (await check(db, clock, ids, "155")).cautions == ()  # type: ignore[union-attr]
    spike = await check(db, clock, ids, "155,001")
    assert spike is not None and spike.cautions == (Caution.SPIKE,)
    assert spike.average == D(5) and spike.consumption == D("25.001")


async def test_ceiling_with_less_history(db: Database, clock) -> None:
    ids = await seed(db, history=3)  # three months: the water ceiling (30 m³) applies
    assert (await check(db, clock, ids, "160")).cautions == ()  # type: ignore[union-attr]
    high = await check(db, clock, ids, "160,001")
    assert high is not None and high.cautions == (Caution.CEILING,) and high.average is None
    lower = await check(db, clock, ids, "150,001", rules=ReadingRules(ceilings={}))
    assert lower is not None and lower.cautions == ()  # no ceiling for the service: no check


async def test_the_first_reading_of_a_meter_is_only_checked_as_a_number(db, clock) -> None:
    ids = await seed(db)
    first = await check(db, clock, ids, "12345,6", meter="power", zone=2)
    assert first is not None and first.ok and first.consumption is None and first.cautions == ()


async def test_rollover_is_a_caution_with_the_consumption_across_it(db, clock) -> None:
    ids = await seed(db)
    async with db.session_maker() as s:
        s.add(f.billing_reading(await s.get(f.Meter, ids["water"]), "2026-11", "99995"))  # type: ignore[arg-type]
        await s.commit()
    rolled = await check(db, clock, ids, "10")
    assert rolled is not None and Caution.ROLLOVER in rolled.cautions
    assert rolled.consumption == D("15")
    result = await submit(db, clock, ids, [water(ids, "10", *rolled.cautions)])
    assert result.outcome is SubmitOutcome.STORED
    [stored] = await mine(db)
    assert (stored.rolled_over, stored.consumption, stored.status) == (True, D("15"), "accepted")


async def test_verification_date_warns_or_refuses(db: Database, clock) -> None:
    ids = await seed(db)
    async with db.session_maker() as s:
        meter = await s.get(f.Meter, ids["water"])
        assert meter is not None
        meter.verification_due = dt.date(2026, 11, 19)
        await s.commit()
    async with UnitOfWork(db.session_maker) as uow:
        sub = await readings_service(uow, clock).submission(ANNA, ids["account"])
    assert sub is not None and sub.meters[0].overdue and not sub.meters[0].refused
    assert (await check(db, clock, ids, "131")).ok  # type: ignore[union-attr]
    strict = ReadingRules(refuse_unverified=True)
    refused = await check(db, clock, ids, "131", rules=strict)
    assert refused is not None and refused.problem is Problem.UNVERIFIED
    async with UnitOfWork(db.session_maker) as uow:
        sub = await readings_service(uow, clock, rules=strict).submission(ANNA, ids["account"])
    assert sub is not None and sub.meters[0].refused
    assert (ids["water"], 1) not in sub.steps()


# --------------------------------------------------------------------------- submit
async def test_batch_is_stored_together_and_once(db: Database, clock) -> None:
    ids = await seed(db)
    entries = [
        water(ids, "133,5", photo="photo-1"),
        Entry(ids["power"], 1, "12345,6"),
        Entry(ids["power"], 2, "5432,1"),
    ]
    first = await submit(db, clock, ids, entries)
    assert first.outcome is SubmitOutcome.STORED and len(first.stored) == 3
    again = await submit(db, clock, ids, entries)  # a double press, a redelivered update
    assert again.outcome is SubmitOutcome.ALREADY_STORED
    stored = await mine(db)
    assert [(r.zone, r.value, r.period, r.status) for r in stored] == [
        (1, D("133.5"), "2026-11", "accepted"),
        (1, D("12345.6"), "2026-11", "accepted"),
        (2, D("5432.1"), "2026-11", "accepted"),
    ]
    assert stored[0].photo_file_id == "photo-1" and stored[0].consumption == D("3.5")
    assert {r.batch for r in stored} == {"aaaaaaaaaaaa"}
    assert stored[0].taken_on == dt.date(2026, 11, 20) and stored[0].user_id == ANNA
    actions = [a.action for a in await rows(db, AuditLog)]
    assert actions == [SUBMITTED] * 3


async def test_a_concurrent_duplicate_hits_the_unique_key(db: Database, clock, monkeypatch) -> None:
    """Two deliveries of one Send in two processes: the second insert meets the first's rows
    (the pre-check saw nothing yet) — still one reading, and the answer is "already sent"."""
    ids = await seed(db)
    assert (await submit(db, clock, ids, [water(ids, "131")])).outcome is SubmitOutcome.STORED

    async def nothing_yet(self: object, batch: str) -> bool:
        return False

    monkeypatch.setattr(
        "storage.repositories.readings.ReadingsRepository.batch_stored", nothing_yet
    )
    again = await submit(db, clock, ids, [water(ids, "131")])
    assert again.outcome is SubmitOutcome.ALREADY_STORED
    assert len(await mine(db)) == 1


async def test_a_failure_in_the_middle_stores_nothing(db: Database, clock, monkeypatch) -> None:
    ids = await seed(db)
    from storage.repositories.readings import ReadingsRepository

    real_add = ReadingsRepository.add
    added: list[object] = []

    def failing_add(self: ReadingsRepository, reading: Reading) -> None:
        added.append(reading)
        if len(added) == 2:
            raise RuntimeError("the disk is full")
        real_add(self, reading)

    monkeypatch.setattr(ReadingsRepository, "add", failing_add)
    entries = [water(ids, "133"), Entry(ids["power"], 1, "1"), Entry(ids["power"], 2, "2")]
    with pytest.raises(RuntimeError):
        await submit(db, clock, ids, entries)
    assert await mine(db) == [] and await rows(db, AuditLog) == []


async def test_nothing_changes_without_the_confirmation_the_checks_need(db, clock) -> None:
    ids = await seed(db)
    unconfirmed = await submit(db, clock, ids, [water(ids, "200")])  # a spike, not confirmed
    assert unconfirmed.outcome is SubmitOutcome.CHANGED
    refused = await submit(db, clock, ids, [water(ids, "100")])
    assert refused.outcome is SubmitOutcome.REFUSED
    assert refused.problem == (ids["water"], 1, Problem.LESS_THAN_LAST)
    assert (await submit(db, clock, ids, [])).outcome is SubmitOutcome.NOTHING
    assert await mine(db) == []


async def test_confirmed_spike_waits_for_an_operator(db: Database, clock) -> None:
    ids = await seed(db)
    desk = RecordingReadingDesk()
    result = await submit(db, clock, ids, [water(ids, "200", Caution.SPIKE, photo="ph")], desk=desk)
    assert result.outcome is SubmitOutcome.STORED
    [reading] = await mine(db)
    assert (reading.status, reading.flag) == ("pending", "spike")
    [card] = desk.reading_cards
    assert (card.reading_id, card.value, card.photo_file_id) == (reading.id, D("200"), "ph")
    assert card.last is not None and card.last.value == D("130") and card.average == D(5)
    assert [k.value for k in card.recent] == [D("130"), D("125"), D("120")]
    [ticket] = await rows(db, Ticket)
    assert (ticket.kind, ticket.reading_id, ticket.status) == ("reading", reading.id, "open")
    async with UnitOfWork(db.session_maker) as uow:  # not exported while pending
        assert [r async for r in await accepted_readings(uow, "2026-11")] == []


async def test_without_a_staff_chat_a_confirmed_spike_is_accepted(db: Database, clock) -> None:
    ids = await seed(db)
    result = await submit(db, clock, ids, [water(ids, "200", Caution.SPIKE)], no_desk=True)
    assert result.outcome is SubmitOutcome.STORED
    [reading] = await mine(db)
    assert (reading.status, reading.flag) == ("accepted", "spike")


async def test_a_refused_card_is_posted_again_later(db: Database, clock) -> None:
    ids = await seed(db)
    desk = RecordingReadingDesk(fail=True)
    await submit(db, clock, ids, [water(ids, "200", Caution.SPIKE)], desk=desk)
    assert await rows(db, Ticket) == []
    desk.fail = False
    async with UnitOfWork(db.session_maker) as uow:
        assert await readings_service(uow, clock, desk=desk).repost_cards() == 1
        assert await readings_service(uow, clock, desk=desk).repost_cards() == 0
    assert len(desk.reading_cards) == 1 and len(await rows(db, Ticket)) == 1


# --------------------------------------------------------------------------- correction
async def test_correction_keeps_the_old_value_in_history_and_audit(db: Database, clock) -> None:
    ids = await seed(db)
    await submit(db, clock, ids, [water(ids, "133")])
    clock.advance(hours=2)
    async with UnitOfWork(db.session_maker) as uow:
        sub = await readings_service(uow, clock).submission(ANNA, ids["account"])
    assert sub is not None and sub.meters[0].sent[0] is not None
    assert sub.meters[0].sent[0].value == D("133") and sub.meters[0].last[0].value == D("130")  # type: ignore[union-attr]
    assert sub.steps() == [(ids["power"], 1), (ids["power"], 2)]
    fixed = await submit(db, clock, ids, [water(ids, "132,5")], batch="bbbbbbbbbbbb")
    assert fixed.outcome is SubmitOutcome.STORED and fixed.stored[0].corrected
    old, new = await mine(db)
    assert (old.status, new.status, new.corrects_id) == ("corrected", "accepted", old.id)
    assert new.consumption == D("2.5")  # against October's 130, not the corrected 133
    corrected = [a for a in await rows(db, AuditLog) if a.action == CORRECTED]
    assert corrected[0].details["old_value"] == "133"
    assert corrected[0].details["value"] == "132.5"
    async with UnitOfWork(db.session_maker) as uow:
        exported = [r async for r in await accepted_readings(uow, "2026-11")]
        history = await readings_service(uow, clock).history(ANNA, ids["account"], ids["water"])
    assert [(r["serial"], r["value"]) for r in exported] == [("ХВ123456", "132.5")]
    assert history is not None
    assert [e.values[0][1:] for e in history.entries[:2]] == [
        (D("132.5"), ReadingStatus.ACCEPTED),
        (D("133"), ReadingStatus.CORRECTED),
    ]


async def test_correcting_a_pending_value_closes_its_card(db: Database, clock) -> None:
    ids = await seed(db)
    desk = RecordingReadingDesk()
    await submit(db, clock, ids, [water(ids, "200", Caution.SPIKE)], desk=desk)
    await submit(db, clock, ids, [water(ids, "134")], desk=desk, batch="bbbbbbbbbbbb")
    old, new = await mine(db)
    assert (old.status, new.status) == ("corrected", "accepted")
    [ticket] = await rows(db, Ticket)
    assert ticket.status == "closed"
    assert desk.reading_shown[-1][0].status is ReadingStatus.CORRECTED
    async with UnitOfWork(db.session_maker) as uow:  # a late press finds it corrected
        late = await readings_service(uow, clock, desk=desk).decide(
            reading_id=old.id, accept=True, operator_id=5, operator_name="Ольга"
        )
    assert late.outcome is DecisionOutcome.ALREADY_DECIDED
    assert late.card is not None and late.card.status is ReadingStatus.CORRECTED


# --------------------------------------------------------------------------- operators
async def _decide(db: Database, clock, reading_id: int, accept: bool, **kw: object):
    async with UnitOfWork(db.session_maker) as uow:
        service: ReadingsService = readings_service(uow, clock, **kw)  # type: ignore[arg-type]
        decision = await service.decide(
            reading_id=reading_id, accept=accept, operator_id=5, operator_name="Ольга"
        )
        delivery = await service.announce(decision)
    return decision, delivery


async def test_operator_accepts_and_the_resident_is_told(db: Database, clock) -> None:
    ids = await seed(db)
    desk, notifier = RecordingReadingDesk(), RecordingReadingNotifier()
    await submit(db, clock, ids, [water(ids, "200", Caution.SPIKE)], desk=desk)
    [reading] = await mine(db)
    decision, delivery = await _decide(db, clock, reading.id, True, desk=desk, notifier=notifier)
    assert decision.outcome is DecisionOutcome.DECIDED and delivery is Delivery.SENT
    [(told, _lang, card)] = notifier.decided
    assert told == ANNA and card.status is ReadingStatus.ACCEPTED
    assert desk.reading_shown[-1][0].decided_by_name == "Ольга"
    [ticket] = await rows(db, Ticket)
    assert ticket.status == "closed"
    again, _ = await _decide(db, clock, reading.id, False, desk=desk, notifier=notifier)
    assert again.outcome is DecisionOutcome.ALREADY_DECIDED and len(notifier.decided) == 1
    async with UnitOfWork(db.session_maker) as uow:
        exported = [r async for r in await accepted_readings(uow, "2026-11")]
    assert [r["value"] for r in exported] == ["200"]


async def test_rejected_readings_are_never_exported(db: Database, clock) -> None:
    ids = await seed(db)
    desk = RecordingReadingDesk()
    await submit(db, clock, ids, [water(ids, "200", Caution.SPIKE)], desk=desk)
    [reading] = await mine(db)
    decision, _ = await _decide(db, clock, reading.id, False, desk=desk)
    assert decision.card is not None and decision.card.status is ReadingStatus.REJECTED
    async with UnitOfWork(db.session_maker) as uow:
        assert [r async for r in await accepted_readings(uow, "2026-11")] == []
        sub = await readings_service(uow, clock).submission(ANNA, ids["account"])
    assert sub is not None and sub.meters[0].sent[0] is None  # may be sent again
    assert (await _decide(db, clock, 10**6, True))[0].outcome is DecisionOutcome.GONE


# --------------------------------------------------------------------------- periods, history
async def test_a_wrapped_window_stores_the_month_it_opened_in(db: Database) -> None:
    ids = await seed(db, window=(28, 5))
    clock = FrozenClock(dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC))
    result = await submit(db, clock, ids, [water(ids, "135")])
    assert result.outcome is SubmitOutcome.STORED
    assert result.window is not None and result.window.closes_on == dt.date(2026, 12, 5)
    [reading] = await mine(db)
    assert (reading.period, reading.taken_on) == ("2026-11", dt.date(2026, 12, 3))


async def test_history_lists_submissions_and_consumption(db: Database, clock) -> None:
    ids = await seed(db)
    await submit(db, clock, ids, [water(ids, "137")])
    async with UnitOfWork(db.session_maker) as uow:
        history = await readings_service(uow, clock).history(ANNA, ids["account"], ids["water"])
        assert (
            await readings_service(uow, clock).history(BORIS, ids["account"], ids["water"]) is None
        )
    assert history is not None and len(history.entries) == 8
    assert history.entries[0].values == ((1, D("137"), ReadingStatus.ACCEPTED),)
    assert history.entries[-1].taken_on == dt.date(2026, 4, 20)
    assert [p for p, _ in history.consumption][-2:] == ["2026-10", "2026-11"]
    assert history.consumption[-1][1] == (D(7),) and history.consumption[0][1] == (D(5),)


async def test_deleting_my_data_keeps_readings_without_the_resident(db: Database, clock) -> None:
    """152-ФЗ: the readings stay (billing needs them), without the resident's id; the
    reminders' log goes with the resident."""
    from storage.models import ReminderLog, User
    from tests.support.services import registration_service

    ids = await seed(db)
    await submit(db, clock, ids, [water(ids, "133")])
    await f.add(
        db,
        ReminderLog(
            user_id=ANNA, account_id=ids["account"], period="2026-11", kind="start", status="sent"
        ),
    )
    async with UnitOfWork(db.session_maker) as uow:
        await registration_service(uow, clock).delete_my_data(ANNA)
    [reading] = await mine(db)
    assert (reading.user_id, reading.value) == (None, D(133))
    assert await rows(db, ReminderLog) == [] and ANNA not in [u.id for u in await rows(db, User)]
