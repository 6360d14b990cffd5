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
from bot.services.clock import Clock, SystemClock
from bot.services.readings import rules_from
from bot.services.readings_reminders import LOCK_NAME, ReminderScheduler
from bot.telegram import create_ports
from bot.telegram.sender import BulkSender
from storage.db import Database
from storage.locks import DatabaseLock, JobLock, RedisLock
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.scheduler")

#: how long a stopping round may finish the messages in flight
STOP_TIMEOUT = 10.0


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
