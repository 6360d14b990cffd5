"""The one sender of bulk messages (reminders, notices): under Telegram's limits.

- at most `rate` messages a second overall (BULK_MESSAGES_PER_SECOND, ≤ 30) and one a
  second per chat: each message reserves a start slot before it goes;
- a 429 `retry_after` pauses every message of the sender, not only the refused one, and
  the refused one is sent again after the pause;
- 403 (blocked, never started) → BLOCKED; another refusal → FAILED; Telegram unreachable
  or failing (network, 5xx) → DEFERRED, to be tried in a later round;
- `stop()`: nothing new starts, the messages in flight finish, the rest come back DEFERRED.

Its Bot must not carry the RetryAfter request middleware (bot/app.py `create_bot(…,
flood_control=False)`): that one would sleep inside a single request while the other
workers go on sending.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from bot.services.ports import Delivery

log = logging.getLogger("kabinet.sender")

T = TypeVar("T")

#: a 429 asking for a longer pause than this gives the message up (FAILED) for this round
MAX_PAUSE = 600.0


@dataclass(frozen=True)
class Outgoing:
    chat_id: int
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


class BulkSender:
    def __init__(
        self,
        bot: Bot,
        *,
        rate: float = 25.0,
        per_chat: float = 1.0,
        tries: int = 5,
        workers: int = 30,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self.tries = tries
        self.workers = workers
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._next_slot = 0.0  # the earliest start of the next message
        self._resume_at = 0.0  # nothing starts before this (after a 429)
        self._pauses = 0
        self._last: dict[int, float] = {}  # chat → start of its last message
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True

    async def _reserve(self, chat_id: int) -> None:
        """Wait for this message's start slot; take a new one if a 429 came meanwhile."""
        while True:
            async with self._lock:
                now = self._clock()
                start = max(
                    now,
                    self._next_slot,
                    self._resume_at,
                    self._last.get(chat_id, -math.inf) + self.per_chat,
                )
                self._next_slot = start + self.interval
                self._last[chat_id] = start
                if len(self._last) > 100_000:
                    self._last = {chat_id: start}
                pauses = self._pauses
            if start > now:
                await self._sleep(start - now)
            if self._pauses == pauses:
                return

    def _pause(self, seconds: float) -> None:
        resume = self._clock() + seconds
        if resume > self._resume_at:
            self._resume_at = resume
            self._pauses += 1
            log.warning("flood control: every bulk message waits %s s", seconds)

    async def send(self, message: Outgoing) -> Delivery:
        for _ in range(self.tries):
            await self._reserve(message.chat_id)
            if self.stopping:
                return Delivery.DEFERRED
            try:
                await self.bot.send_message(
                    message.chat_id, message.text, reply_markup=message.reply_markup
                )
            except TelegramRetryAfter as exc:
                if exc.retry_after > MAX_PAUSE:
                    log.error("flood control asks for %s s: giving up this round", exc.retry_after)
                    self._pause(MAX_PAUSE)
                    return Delivery.DEFERRED
                self._pause(exc.retry_after)
                continue
            except TelegramForbiddenError:
                return Delivery.BLOCKED
            except (TelegramNetworkError, TelegramServerError) as exc:
                log.warning("bulk message to %s not sent (%s): later", message.chat_id, exc)
                return Delivery.DEFERRED
            except TelegramAPIError as exc:
                log.warning("bulk message to %s refused: %s", message.chat_id, exc)
                return Delivery.FAILED
            return Delivery.SENT
        return Delivery.DEFERRED  # still flooded after every try: the next round

    async def send_all(
        self, items: Sequence[T], render: Callable[[T], Outgoing]
    ) -> AsyncIterator[tuple[T, Delivery]]:
        """Send one message per item; yield (item, delivery) as each is known."""
        results: asyncio.Queue[tuple[T, Delivery]] = asyncio.Queue()
        gate = asyncio.Semaphore(self.workers)

        async def one(item: T) -> None:
            delivery = Delivery.DEFERRED
            try:
                async with gate:
                    if not self.stopping:
                        delivery = await self.send(render(item))
            except Exception:  # a bug must not hang the round: the item is reported failed
                log.exception("bulk message failed")
                delivery = Delivery.FAILED
            finally:
                results.put_nowait((item, delivery))

        tasks = [asyncio.create_task(one(item)) for item in items]
        try:
            for _ in items:
                yield await results.get()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
