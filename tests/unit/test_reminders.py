"""Meter-reading reminders: who is reminded and when, exactly once across restarts, one
sender among several instances (the lease)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import select

from bot.services.clock import FrozenClock
from bot.services.enums import ReminderKind
from bot.services.ports import Delivery
from bot.services.readings_reminders import Reminder, ReminderScheduler, ReminderService
from bot.services.readings_rules import ReadingRules
from storage.db import Database
from storage.locks import DatabaseLock, RedisLock
from storage.models import Reading, ReminderLog, User
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.services import RecordingReadingNotifier

#: 15 November 2026, 12:00 in Moscow: the first day of a 15..25 window
START_DAY = dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC)
WANTED = 2001  # one account with meters, nothing sent: reminded
TWO = 2002  # two accounts: reminded of each
OPTED_OUT, INACTIVE, DONE, PENDING, NO_METERS, OLD_CONSENT = 2003, 2004, 2005, 2006, 2007, 2008


async def seed(db: Database, *, window: tuple[int, int] = (15, 25), extra: int = 0) -> dict:
    """Residents in every situation a reminder cares about (+ `extra` plain ones)."""
    voda = f.supplier(window=window)
    numbers = {n: f.account(voda, f"20000000{n:02d}") for n in range(10 + extra)}
    people = [
        f.resident(uid, f"+7916000{uid:04d}")
        for uid in (WANTED, TWO, OPTED_OUT, INACTIVE, DONE, PENDING, NO_METERS, OLD_CONSENT)
    ]
    people += [f.resident(3000 + n, f"+7926000{n:04d}") for n in range(extra)]
    people[2].reading_reminders = False
    people[3].inactive_since = START_DAY - dt.timedelta(days=3)
    people[7].consent_version = "0"
    await f.add(db, voda, *numbers.values(), *people)
    meters = {n: f.meter(acc, f"ХВ{n}") for n, acc in numbers.items() if n != 7}
    links = [
        f.link(WANTED, numbers[0].id, "active"),
        f.link(TWO, numbers[1].id, "active"),
        f.link(TWO, numbers[2].id, "active"),
        f.link(OPTED_OUT, numbers[3].id, "active"),
        f.link(INACTIVE, numbers[4].id, "active"),
        f.link(DONE, numbers[5].id, "active"),
        f.link(PENDING, numbers[6].id, "pending"),
        f.link(NO_METERS, numbers[7].id, "active"),
        f.link(OLD_CONSENT, numbers[8].id, "active"),
    ]
    links += [f.link(3000 + n, numbers[10 + n].id, "active") for n in range(extra)]
    await f.add(db, *meters.values(), *links)
    sent = Reading(
        meter_id=meters[5].id,
        zone=1,
        value=1,
        period="2026-11",
        taken_on=START_DAY.date(),
        submitted_at=START_DAY,
        source="bot",
        status="accepted",
    )
    await f.add(db, sent)
    return {"accounts": {n: a.id for n, a in numbers.items()}}


def service(uow: UnitOfWork, clock: FrozenClock, notifier, chunk: int = 25) -> ReminderService:
    return ReminderService(
        uow, clock, notifier=notifier, consent_version="1", from_hour=10, to_hour=20, chunk=chunk
    )


async def run(db: Database, clock: FrozenClock, notifier, chunk: int = 25):
    async with UnitOfWork(db.session_maker) as uow:
        reminders = service(uow, clock, notifier, chunk)
        queued = await reminders.enqueue()
        return queued, await reminders.send_queued()


async def log(db: Database) -> list[tuple[int, str, str, str]]:
    async with db.session_maker() as s:
        rows = (await s.execute(select(ReminderLog).order_by(ReminderLog.id))).scalars()
        return [(r.user_id, r.period, r.kind, r.status) for r in rows]


async def test_who_is_reminded_and_only_once(db: Database) -> None:
    ids = await seed(db)
    clock, notifier = FrozenClock(START_DAY), RecordingReadingNotifier()
    queued, report = await run(db, clock, notifier)
    assert (queued, report.sent) == (3, 3)
    assert sorted((r.resident_id, r.account_id) for r in notifier.reminded) == [
        (WANTED, ids["accounts"][0]),
        (TWO, ids["accounts"][1]),
        (TWO, ids["accounts"][2]),
    ]
    reminder = notifier.reminded[0]
    assert (reminder.kind, reminder.period, reminder.closes_on) == (
        ReminderKind.START,
        "2026-11",
        dt.date(2026, 11, 25),
    )
    clock.advance(hours=1)
    assert await run(db, clock, notifier) == (0, report.__class__())  # nothing twice
    assert len(notifier.reminded) == 3


async def test_only_in_the_daytime(db: Database) -> None:
    await seed(db)
    early = FrozenClock(dt.datetime(2026, 11, 15, 6, 59, tzinfo=dt.UTC))  # 09:59 in Moscow
    assert (await run(db, early, RecordingReadingNotifier()))[0] == 0
    late = FrozenClock(dt.datetime(2026, 11, 15, 17, 0, tzinfo=dt.UTC))  # 20:00
    assert (await run(db, late, RecordingReadingNotifier()))[0] == 0


async def test_two_days_before_the_end_comes_the_second_reminder(db: Database) -> None:
    await seed(db)
    notifier = RecordingReadingNotifier()
    await run(db, FrozenClock(START_DAY), notifier)
    clock = FrozenClock(dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC))
    queued, report = await run(db, clock, notifier)
    assert (queued, report.sent) == (3, 3)
    assert [r.kind for r in notifier.reminded[3:]] == [ReminderKind.END] * 3


async def test_a_start_reminder_not_sent_in_time_is_dropped_for_the_end_one(db: Database) -> None:
    await seed(db)
    async with UnitOfWork(db.session_maker) as uow:
        assert await service(uow, FrozenClock(START_DAY), RecordingReadingNotifier()).enqueue()
    notifier = RecordingReadingNotifier()
    queued, report = await run(
        db, FrozenClock(dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)), notifier
    )
    assert (queued, report.skipped, report.sent) == (3, 3, 3)
    assert {r.kind for r in notifier.reminded} == {ReminderKind.END}


async def test_a_blocked_resident_is_marked_and_skipped_later(db: Database) -> None:
    await seed(db)
    notifier = RecordingReadingNotifier(outcomes={WANTED: Delivery.BLOCKED})
    _, report = await run(db, FrozenClock(START_DAY), notifier)
    assert (report.sent, report.blocked) == (2, 1)
    async with db.session_maker() as s:
        user = await s.get(User, WANTED)
        assert user is not None and user.inactive_since == START_DAY
    later = RecordingReadingNotifier()
    await run(db, FrozenClock(dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)), later)
    assert WANTED not in {r.resident_id for r in later.reminded}


async def test_due_no_more_when_sent_or_opted_out_meanwhile(db: Database) -> None:
    ids = await seed(db)
    clock = FrozenClock(START_DAY)
    async with UnitOfWork(db.session_maker) as uow:
        assert await service(uow, clock, RecordingReadingNotifier()).enqueue() == 3
    async with db.session_maker() as s:
        (await s.get(User, TWO)).reading_reminders = False  # type: ignore[union-attr]
        meter = (
            await s.execute(select(f.Meter).where(f.Meter.account_id == ids["accounts"][0]))
        ).scalar_one()
        s.add(
            Reading(
                meter_id=meter.id,
                zone=1,
                value=5,
                period="2026-11",
                taken_on=START_DAY.date(),
                submitted_at=START_DAY,
                source="bot",
                status="pending",
            )
        )
        await s.commit()
    notifier = RecordingReadingNotifier()
    async with UnitOfWork(db.session_maker) as uow:
        report = await service(uow, clock, notifier).send_queued()
    assert (report.skipped, report.sent, notifier.reminded) == (3, 0, [])


class CrashingNotifier(RecordingReadingNotifier):
    """Sends the first chunk, then the process "dies" inside the second one."""

    chunks: int = 0

    async def remind_readings(
        self, reminders: Sequence[Reminder]
    ) -> AsyncIterator[tuple[Reminder, Delivery]]:
        self.chunks += 1
        if self.chunks == 2:
            raise SystemExit("killed")
        for reminder in reminders:
            self.reminded.append(reminder)
            yield reminder, Delivery.SENT


class StoppingNotifier(RecordingReadingNotifier):
    """SIGTERM in the middle of a chunk: the rest come back DEFERRED (not attempted)."""

    async def remind_readings(
        self, reminders: Sequence[Reminder]
    ) -> AsyncIterator[tuple[Reminder, Delivery]]:
        for n, reminder in enumerate(reminders):
            if n < 2:
                self.reminded.append(reminder)
                yield reminder, Delivery.SENT
            else:
                yield reminder, Delivery.DEFERRED


async def test_a_stop_in_the_middle_neither_loses_nor_doubles(db: Database) -> None:
    await seed(db, extra=7)  # 10 reminders
    clock = FrozenClock(START_DAY)
    first = StoppingNotifier()
    _, report = await run(db, clock, first, chunk=4)
    assert (report.sent, report.deferred) == (2, 2)
    statuses = [status for *_, status in await log(db)]
    assert statuses.count("sent") == 2 and statuses.count("queued") == 8
    after = RecordingReadingNotifier()  # the restarted process
    _, report = await run(db, clock, after, chunk=4)
    assert report.sent == 8
    everyone = [r.log_id for r in first.reminded + after.reminded]
    assert sorted(everyone) == sorted(set(everyone)) and len(everyone) == 10


async def test_a_crash_in_the_middle_never_sends_twice(db: Database) -> None:
    await seed(db, extra=7)
    clock = FrozenClock(START_DAY)
    crashing = CrashingNotifier()
    with pytest.raises(SystemExit):
        await run(db, clock, crashing, chunk=4)
    statuses = [status for *_, status in await log(db)]
    assert statuses.count("sent") == 4 and statuses.count("sending") == 4
    assert statuses.count("queued") == 2
    after = RecordingReadingNotifier()
    _, report = await run(db, clock, after, chunk=4)
    assert report.sent == 2  # the queued ones; the four in doubt are not sent again
    ids = [r.log_id for r in crashing.reminded + after.reminded]
    assert len(ids) == len(set(ids)) == 6


async def test_a_wrapped_window_reminds_in_the_next_month(db: Database) -> None:
    await seed(db, window=(28, 5))
    notifier = RecordingReadingNotifier()
    queued, _ = await run(db, FrozenClock(dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)), notifier)
    assert queued == 3
    assert {(r.kind, r.period, r.closes_on) for r in notifier.reminded} == {
        (ReminderKind.END, "2026-11", dt.date(2026, 12, 5))
    }


# --------------------------------------------------------------------------- one sender
async def test_the_database_lease_lets_one_instance_send(db: Database) -> None:
    clock = FrozenClock(START_DAY)
    ttl = dt.timedelta(minutes=2)
    one = DatabaseLock(db.session_maker, "job", ttl=ttl, now=clock.now, holder="one")
    two = DatabaseLock(db.session_maker, "job", ttl=ttl, now=clock.now, holder="two")
    assert await one.acquire() and not await two.acquire()
    clock.advance(minutes=1)
    assert await one.acquire()  # renewed
    clock.advance(minutes=2, seconds=1)  # "one" died: its lease ran out
    assert await two.acquire() and not await one.acquire()
    await two.release()
    assert await one.acquire()


async def test_the_scheduler_round_needs_the_lease(db: Database) -> None:
    await seed(db)
    clock = FrozenClock(START_DAY)
    notifier = RecordingReadingNotifier()

    def scheduler(holder: str) -> ReminderScheduler:
        lock = DatabaseLock(
            db.session_maker,
            "reading-reminders",
            ttl=dt.timedelta(minutes=5),
            now=clock.now,
            holder=holder,
        )
        return ReminderScheduler(
            new_uow=lambda: UnitOfWork(db.session_maker),
            clock=clock,
            lock=lock,
            notifier=notifier,
            desk=None,
            rules=ReadingRules(),
            consent_version="1",
            from_hour=10,
            to_hour=20,
            every=60,
        )

    first, second = scheduler("a"), scheduler("b")
    report = await first.round()
    assert report is not None and report.sent == 3
    assert await second.round() is None
    assert len(notifier.reminded) == 3


@pytest.mark.redis
async def test_the_redis_lease_lets_one_instance_send(redis_url: str) -> None:
    ttl = dt.timedelta(seconds=30)
    name = f"test-{dt.datetime.now().timestamp()}"
    one = RedisLock(redis_url, name, ttl=ttl, holder="one")
    two = RedisLock(redis_url, name, ttl=ttl, holder="two")
    try:
        assert await one.acquire() and not await two.acquire()
        assert await one.acquire()  # renewed
        await one.release()
        assert await two.acquire() and not await one.acquire()
        await two.release()
    finally:
        await one.close()
        await two.close()


def test_reminder_hours_must_make_a_day() -> None:
    from bot.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="READING_REMINDER_FROM_HOUR must be before"):
        load_settings(reading_reminder_from_hour=20, reading_reminder_to_hour=10)
    settings = load_settings()
    assert (settings.reading_reminder_from_hour, settings.reading_reminder_to_hour) == (10, 20)
    assert settings.bulk_messages_per_second <= 30 and settings.reading_reminders
