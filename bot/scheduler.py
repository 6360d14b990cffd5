"""Scheduled jobs inside the bot process: the meter-reading reminders.

Started by bot/runner.py beside polling or the webhook. Its messages go through one
rate-limited BulkSender over a Bot of its own (no RetryAfter request middleware: the sender
pauses every message on a 429 itself). With several instances, the lease (a database row,
or a Redis key with REDIS_URL) lets one of them send; the others wait for it to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.services.balance import BalanceService
from bot.services.clock import Clock, SystemClock
from bot.services.ports import SupportDesk
from bot.services.readings import rules_from
from bot.services.readings_reminders import LOCK_NAME, ReminderScheduler
from bot.services.support import SupportService, parse_hours
from bot.telegram import create_ports
from bot.telegram.sender import BulkSender
from storage.db import Database
from storage.locks import DatabaseLock, JobLock, KeyedLock, RedisLock, create_keyed_lock
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.scheduler")

#: how long a stopping round may finish the messages in flight
STOP_TIMEOUT = 10.0


class ScheduledThreads:
    """ResidentThreads for cards the scheduler posts (a reading waiting too long posted
    again): the resident's topic, found or made in a unit of work of its own, as the
    support service does it for an update."""

    def __init__(
        self, db: Database, clock: Clock, desk: SupportDesk, locks: KeyedLock, settings: Settings
    ) -> None:
        self.db, self.clock, self.desk, self.locks = db, clock, desk, locks
        self.hours = parse_hours(settings.support_hours)
        self.full_phone = settings.staff_see_full_phone

    def _service(self, uow: UnitOfWork) -> SupportService:
        return SupportService(
            uow,
            self.clock,
            desk=self.desk,
            locks=self.locks,
            hours=self.hours,
            balance=BalanceService(uow, self.clock),
            full_phone=self.full_phone,
        )

    async def thread_of(self, resident_id: int) -> int | None:
        async with UnitOfWork(self.db.session_maker) as uow:
            return await self._service(uow).thread_of(resident_id)

    async def thread_gone(self, resident_id: int, thread_id: int) -> int | None:
        async with UnitOfWork(self.db.session_maker) as uow:
            return await self._service(uow).thread_gone(resident_id, thread_id)


def lease(settings: Settings) -> dt.timedelta:
    """Longer than a pause between rounds, so the holder keeps it while it lives."""
    return dt.timedelta(seconds=max(60.0, settings.reading_reminder_check_seconds * 2 + 30))


def create_lock(settings: Settings, db: Database, clock: Clock) -> JobLock:
    if settings.redis_url:
        return RedisLock(settings.redis_url, LOCK_NAME, ttl=lease(settings))
    return DatabaseLock(db.session_maker, LOCK_NAME, ttl=lease(settings), now=clock.now)


@dataclass
class Running:
    task: asyncio.Task[None]
    stop_event: asyncio.Event
    sender: BulkSender
    bot: Bot
    lock: JobLock

    async def stop(self) -> None:
        """Nothing new is sent; the messages in flight finish and are recorded."""
        self.stop_event.set()
        self.sender.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), STOP_TIMEOUT)
        except TimeoutError:
            log.warning("reminders did not stop in %s s: cancelled", STOP_TIMEOUT)
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        finally:
            if isinstance(self.lock, RedisLock):
                await self.lock.close()
            await self.bot.session.close()


def start_reminders(
    settings: Settings, db: Database, i18n: I18n, *, clock: Clock | None = None
) -> Running | None:
    """The reminders' loop as a task (None when READING_REMINDERS is off)."""
    if not settings.reading_reminders:
        log.info("meter-reading reminders are off (READING_REMINDERS=false)")
        return None
    from bot.app import create_bot

    clock = clock or SystemClock()
    bot = create_bot(settings, flood_control=False)
    sender = BulkSender(bot, rate=settings.bulk_messages_per_second)
    ports = create_ports(bot, i18n, settings, sender=sender)
    if ports.desk is not None and ports.support is not None:  # cards in residents' topics
        keyed = create_keyed_lock(settings.redis_url)
        ports.desk.use_threads(ScheduledThreads(db, clock, ports.support, keyed, settings))
    lock = create_lock(settings, db, clock)
    scheduler = ReminderScheduler(
        new_uow=lambda: UnitOfWork(db.session_maker),
        clock=clock,
        lock=lock,
        notifier=ports.notifier,
        desk=ports.desk,
        rules=rules_from(settings),
        consent_version=settings.consent_version,
        from_hour=settings.reading_reminder_from_hour,
        to_hour=settings.reading_reminder_to_hour,
        every=settings.reading_reminder_check_seconds,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop), name="reading-reminders")
    return Running(task, stop, sender, bot, lock)
