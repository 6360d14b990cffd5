"""Notices over the Bot API: the progress line in the staff chat (NoticeBoard) and the
runner that sends a started notice in a task of its own, one at a time.

The runner's messages go through one BulkSender over a Bot without the RetryAfter request
middleware (the sender pauses every message on a 429 itself); the lease `NOTICE_LOCK`
(a database row, or a Redis key with REDIS_URL) keeps a second run — in this process or
another — from starting while one is sending. Notices that were sending when the process
stopped are resumed at start-up (`resume`): only the recipients still queued get them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.services.clock import Clock
from bot.services.notices import NOTICE_LOCK, StartOutcome, run_notice
from bot.services.ports import NoticeProgress
from bot.telegram.locale import speaking
from bot.telegram.notifier import TelegramResidentNotifier
from bot.telegram.sender import BulkSender
from bot.telegram.session import JsonAiohttpSession
from handlers.staff.texts import progress_text
from storage.db import Database
from storage.locks import DatabaseLock, JobLock, RedisLock
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.notices")

LEASE = dt.timedelta(seconds=120)  # renewed every batch (≤ 100 messages, ≈ 4 s)


class TelegramNoticeBoard:
    def __init__(self, bot: Bot, i18n: I18n, locale: str) -> None:
        self.bot = bot
        self.i18n = i18n
        self.locale = locale

    async def show_progress(self, progress: NoticeProgress) -> int | None:
        with speaking(self.i18n, self.locale):
            text = progress_text(progress)
        try:
            if progress.message_id is None:
                sent = await self.bot.send_message(
                    progress.chat_id, text, message_thread_id=progress.thread_id
                )
                return sent.message_id
            await self.bot.edit_message_text(
                text, chat_id=progress.chat_id, message_id=progress.message_id
            )
            return progress.message_id
        except TelegramAPIError as exc:
            if "message is not modified" not in str(exc):
                log.warning("notice %s progress not shown: %s", progress.notice_id, exc)
            return None


def bulk_bot(bot: Bot) -> Bot:
    """A Bot like `bot` without its request middlewares (a test's recording session is
    kept: it answers like Telegram and makes no network call)."""
    if isinstance(bot.session, AiohttpSession):
        session = JsonAiohttpSession(api=bot.session.api)
        return Bot(bot.token, session=session, default=bot.default)
    return bot


class NoticeRunner:
    """Starts and tracks notice runs (one per process and, by the lease, across processes)."""

    def __init__(
        self, settings: Settings, db: Database, i18n: I18n, clock: Clock, *, every: float = 2.0
    ) -> None:
        self.settings = settings
        self.db = db
        self.i18n = i18n
        self.clock = clock
        self.every = every
        self.tasks: set[asyncio.Task[Any]] = set()
        self._bots: dict[int, tuple[Bot, BulkSender]] = {}
        self.resuming: asyncio.Task[None] | None = None

    def new_lock(self) -> JobLock:
        if self.settings.redis_url:
            return RedisLock(self.settings.redis_url, NOTICE_LOCK, ttl=LEASE)
        return DatabaseLock(self.db.session_maker, NOTICE_LOCK, ttl=LEASE, now=self.clock.now)

    def _sender(self, bot: Bot) -> tuple[Bot, BulkSender]:
        if bot.id not in self._bots:
            own = bulk_bot(bot)
            rate = self.settings.bulk_messages_per_second
            self._bots[bot.id] = (own, BulkSender(own, rate=rate))
        return self._bots[bot.id]

    async def begin(
        self, bot: Bot, notice_id: int, start: Callable[[], Awaitable[StartOutcome]]
    ) -> StartOutcome:
        """Take the lease, start the notice (`start`: the service's), run it in a task."""
        lock = self.new_lock()
        if not await lock.acquire():
            await self._close(lock)
            return StartOutcome.BUSY
        outcome = await start()
        if outcome is not StartOutcome.STARTED:
            # released once the update's transaction ends (SQLite: it may hold the write
            # lock until then), without keeping the operator waiting
            task = asyncio.create_task(self._release(lock), name="notice-lock-release")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return outcome
        self._spawn(bot, notice_id, lock)
        return outcome

    def _spawn(
        self, bot: Bot, notice_id: int, lock: JobLock
    ) -> asyncio.Task[NoticeProgress | None]:
        own, sender = self._sender(bot)
        notifier = TelegramResidentNotifier(
            own, self.i18n, self.settings.default_locale, sender=sender
        )
        board = TelegramNoticeBoard(bot, self.i18n, self.settings.default_locale)
        task = asyncio.create_task(
            self._run(notice_id, notifier, board, lock), name=f"notice-{notice_id}"
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _run(
        self,
        notice_id: int,
        notifier: TelegramResidentNotifier,
        board: TelegramNoticeBoard,
        lock: JobLock,
    ) -> NoticeProgress | None:
        try:
            return await run_notice(
                notice_id,
                new_uow=lambda: UnitOfWork(self.db.session_maker),
                clock=self.clock,
                notifier=notifier,
                board=board,
                lock=lock,
                every=self.every,
                stopping=lambda: notifier.sender.stopping,
            )
        except Exception:
            log.exception("notice %s stopped", notice_id)
            return None
        finally:
            await self._close(lock)

    async def resume(self, bot: Bot) -> None:
        """At start-up: notices that were sending when the process stopped are sent to
        their recipients still queued, one after another, in the background."""
        task = asyncio.create_task(self._resume(bot), name="notices-resume")
        self.resuming = task

    async def _resume(self, bot: Bot) -> None:
        try:
            async with UnitOfWork(self.db.session_maker) as uow:
                unfinished = await uow.notices.unfinished()
            for notice_id in unfinished:
                lock = self.new_lock()
                if not await lock.acquire():
                    await self._close(lock)
                    return  # another instance is sending; it resumes them
                log.info("resuming notice %s", notice_id)
                await asyncio.shield(self._spawn(bot, notice_id, lock))
        except Exception:
            log.exception("notices not resumed")

    async def wait(self) -> None:
        """Until every run of this process has finished (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: nothing new is sent; the messages in flight finish and are recorded."""
        for _, sender in self._bots.values():
            sender.stop()
        if self.resuming is not None:
            self.resuming.cancel()
        await self.wait()
        for own, _ in self._bots.values():
            if isinstance(own.session, AiohttpSession):
                await own.session.close()
        self._bots.clear()

    async def _release(self, lock: JobLock) -> None:
        try:
            await lock.release()
        except Exception:  # the lease runs out by itself
            log.exception("notice lease not released")
        finally:
            await self._close(lock)
        return None

    @staticmethod
    async def _close(lock: JobLock) -> None:
        if isinstance(lock, RedisLock):
            await lock.close()
