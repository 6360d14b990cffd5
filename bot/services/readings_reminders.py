"""Meter-reading reminders: who is reminded when, exactly once, and the loop that sends them.

On the first day of a supplier's window (START) and from two days before its last day
(END), a resident with an active link, who wants reminders and has not blocked the bot,
is reminded of each of their accounts whose meters still lack a reading of the period —
between READING_REMINDER_FROM_HOUR and READING_REMINDER_TO_HOUR, Moscow time. A reminder
the bot could not send on its day (it was down) is sent on a later day of the window,
until the next reminder is due.

Exactly once, across restarts: a due reminder is first written to `reminder_log` as
"queued" and committed; a chunk is marked "sending" and committed before it goes to the
bulk sender; each outcome is written as it comes back. A restart sends what is still
queued and never what was sent. A stop (SIGTERM) lets the messages in flight finish and
puts the rest back in the queue. Only after a hard crash can a chunk (≤ one second of
messages) stay "sending": those are not sent again — a second reminder the same day is
worse than none, and the END reminder follows.

Only one instance sends: each round first takes (or renews) a lease (storage/locks.py: a
database row, or a Redis key with REDIS_URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.services import readings_rules as rules
from bot.services.clock import Clock
from bot.services.codes import DAY_ZONE
from bot.services.enums import ReminderKind, ReminderStatus
from bot.services.ports import Delivery, ResidentNotifier, StaffDesk
from bot.services.readings import ReadingsService
from bot.services.readings_rules import ReadingRules
from storage.locks import JobLock
from storage.repositories.reminders import QueuedReminder
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.reminders")

#: reminders handed to the sender at once (about a second of sending)
CHUNK = 25
#: the lock's name in scheduler_locks / Redis
LOCK_NAME = "reading-reminders"

_STATUS = {
    Delivery.SENT: ReminderStatus.SENT,
    Delivery.BLOCKED: ReminderStatus.BLOCKED,
    Delivery.FAILED: ReminderStatus.FAILED,
    Delivery.DEFERRED: ReminderStatus.QUEUED,
}


@dataclass(frozen=True)
class Reminder:
    """One reminder as the notifier renders it (in the resident's language)."""

    log_id: int
    resident_id: int
    language: str | None
    kind: ReminderKind
    account_id: int
    account_number: str
    supplier_name: str
    address: str
    period: str
    closes_on: dt.date


@dataclass
class RoundReport:
    queued: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    reposted: int = 0

    def text(self) -> str:
        return (
            f"reminders: {self.queued} queued, {self.sent} sent, {self.blocked} blocked, "
            f"{self.failed} failed, {self.skipped} skipped, {self.deferred} put back; "
            f"{self.reposted} review cards reposted"
        )


class ReminderService:
    """One round of reminders over one unit of work."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        notifier: ResidentNotifier,
        consent_version: str,
        from_hour: int = 10,
        to_hour: int = 20,
        chunk: int = CHUNK,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.notifier = notifier
        self.consent_version = consent_version
        self.from_hour = from_hour
        self.to_hour = to_hour
        self.chunk = chunk

    def _now(self) -> dt.datetime:
        return self.clock.now().astimezone(DAY_ZONE)

    async def enqueue(self) -> int:
        """Write the reminders due now as "queued" (committed); returns how many."""
        now = self._now()
        if not self.from_hour <= now.hour < self.to_hour:
            return 0
        repo = self.uow.reminders
        added = 0
        for supplier in await repo.suppliers():
            state = rules.window_state(
                now.date(), supplier.window_start_day, supplier.window_end_day
            )
            kind = rules.reminder_due(now.date(), state.window) if state.open else None
            if kind is None:
                continue
            period = state.window.period
            needed = await repo.zones_needed(supplier.id)
            sent = await repo.zones_sent(supplier.id, period)
            logged = await repo.logged(supplier.id, period, kind.value)
            due = [
                c
                for c in await repo.candidates(supplier.id, self.consent_version)
                if needed.get(c.account_id, 0) > sent.get(c.account_id, 0)
                and (c.user_id, c.account_id) not in logged
            ]
            added += repo.enqueue(due, period=period, kind=kind.value)
        await self.uow.commit()  # named point: due reminders survive a restart
        return added

    async def _still_due(self, row: QueuedReminder, today: dt.date) -> Reminder | None:
        window = rules.window_of(row.period, row.window_start_day, row.window_end_day)
        due = rules.reminder_due(today, window)
        repo = self.uow.reminders
        if (
            due is None
            or due.value != row.kind
            or not row.wanted
            or row.inactive_since is not None
            or not await repo.active_link(row.user_id, row.account_id)
            or not await repo.missing(row.account_id, row.period)
        ):
            return None
        return Reminder(
            log_id=row.id,
            resident_id=row.user_id,
            language=row.language,
            kind=ReminderKind(row.kind),
            account_id=row.account_id,
            account_number=row.account_number,
            supplier_name=row.supplier_name,
            address=row.address,
            period=row.period,
            closes_on=window.closes_on,
        )

    async def send_queued(
        self,
        *,
        stop: asyncio.Event | None = None,
        renew: Callable[[], Awaitable[bool]] | None = None,
    ) -> RoundReport:
        """Send what is queued, a chunk at a time, recording every outcome as it comes."""
        report = RoundReport()
        repo = self.uow.reminders
        while not (stop and stop.is_set()):
            rows = await repo.queued(self.chunk)
            if not rows:
                break
            today, now = self._now().date(), self.clock.now()
            chunk = [r for r in [await self._still_due(row, today) for row in rows] if r]
            skipped = [row.id for row in rows if row.id not in {r.log_id for r in chunk}]
            await repo.set_status(skipped, ReminderStatus.SKIPPED, now)
            await repo.set_status([r.log_id for r in chunk], ReminderStatus.SENDING, now)
            await self.uow.commit()  # named point: what is in flight is known
            report.skipped += len(skipped)
            await self._deliver(chunk, report)
            if report.deferred or (renew is not None and not await renew()):
                break  # stopping, Telegram unreachable, or another instance took over
        return report

    async def _deliver(self, chunk: list[Reminder], report: RoundReport) -> None:
        repo = self.uow.reminders
        async for reminder, delivery in self.notifier.remind_readings(chunk):
            status = _STATUS[delivery]
            await repo.set_status([reminder.log_id], status, self.clock.now())
            if delivery is Delivery.BLOCKED:
                user = await self.uow.users.get(reminder.resident_id)
                if user is not None and user.inactive_since is None:
                    user.inactive_since = self.clock.now()
            await self.uow.commit()
            field = "deferred" if delivery is Delivery.DEFERRED else status.value
            setattr(report, field, getattr(report, field) + 1)


class ReminderScheduler:
    """The reminders' loop inside the bot process (started by bot/runner.py).

    Every `every` seconds: take or renew the lease; if held, post the review cards the
    staff chat refused before, queue the due reminders and send the queue.
    """

    def __init__(
        self,
        *,
        new_uow: Callable[[], UnitOfWork],
        clock: Clock,
        lock: JobLock,
        notifier: ResidentNotifier,
        desk: StaffDesk | None,
        rules: ReadingRules,
        consent_version: str,
        from_hour: int,
        to_hour: int,
        every: float,
    ) -> None:
        self.new_uow = new_uow
        self.clock = clock
        self.lock = lock
        self.notifier = notifier
        self.desk = desk
        self.rules = rules
        self.consent_version = consent_version
        self.from_hour = from_hour
        self.to_hour = to_hour
        self.every = every

    async def round(self, stop: asyncio.Event | None = None) -> RoundReport | None:
        """One round; None when another instance holds the lease."""
        if not await self.lock.acquire():
            return None
        async with self.new_uow() as uow:
            readings = ReadingsService(
                uow, self.clock, rules=self.rules, desk=self.desk, notifier=self.notifier
            )
            reposted = await readings.repost_cards()
            service = ReminderService(
                uow,
                self.clock,
                notifier=self.notifier,
                consent_version=self.consent_version,
                from_hour=self.from_hour,
                to_hour=self.to_hour,
            )
            queued = await service.enqueue()
            report = await service.send_queued(stop=stop, renew=self.lock.acquire)
        report.queued, report.reposted = queued, reposted
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until `stop` is set; a failed round is logged and the next one tries."""
        while not stop.is_set():
            try:
                report = await self.round(stop)
                if report is not None and (report.queued or report.sent or report.reposted):
                    log.info(report.text())
            except Exception:
                log.exception("reminders round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)
        with contextlib.suppress(Exception):
            await self.lock.release()
