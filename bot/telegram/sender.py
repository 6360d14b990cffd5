"""The one sender of bulk messages (reminders, notices): under Telegram's limits.

- at most `rate` messages a second overall (BULK_MESSAGES_PER_SECOND, ≤ 30) and one a
  second per chat: each message reserves a start slot before it goes (evenly spaced);
- counted where Telegram counts them, on arrival, whatever the network does: of any
  `rate` consecutive messages, the last starts only a second after the first was
  *answered* (its arrival lies before that), and a chat's next message starts only
  `per_chat` after its previous one was answered. So a slow or jittery connection costs a
  little rate but never a 429 (bench/broadcast.py: ≥ 0.9 of sandbox/'s flood limit);
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
from bot.telegram.pressure import PRESSURE

log = logging.getLogger("kabinet.sender")

T = TypeVar("T")

#: a 429 asking for a longer pause than this gives the message up (FAILED) for this round
MAX_PAUSE = 600.0


class _Stopped(Exception):
    """`stop()` came while the message waited for its slot."""


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
        self._last: dict[int, float] = {}  # chat → when its last message was answered
        # the window on arrival: `burst` permits, each given back `window` s after an answer
        self._burst = max(1, math.floor(rate))
        self._window = self._burst / rate
        self._permits = asyncio.Semaphore(self._burst)
        self._chats: dict[int, asyncio.Lock] = {}  # one message of a chat at a time
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
                pauses = self._pauses
            if start > now:
                await self._sleep(start - now)
            if self._pauses == pauses:
                return

    def _answered(self, chat_id: int) -> None:
        """A request is answered: its permit comes back a window later; the chat's clock."""
        self._last[chat_id] = self._clock()
        PRESSURE.bulk_sent()
        if len(self._last) > 100_000:
            self._last = {chat_id: self._last[chat_id]}
        asyncio.get_running_loop().call_later(self._window, self._permits.release)

    async def _request(self, message: Outgoing) -> None:
        """One sendMessage inside the arrival window (a permit held until a window after)."""
        await self._permits.acquire()
        try:
            await self._reserve(message.chat_id)
            if self.stopping:
                raise _Stopped
            await self.bot.send_message(
                message.chat_id, message.text, reply_markup=message.reply_markup
            )
        finally:
            self._answered(message.chat_id)

    def _pause(self, seconds: float) -> None:
        PRESSURE.flooded(seconds)
        resume = self._clock() + seconds
        if resume > self._resume_at:
            self._resume_at = resume
            self._pauses += 1
            log.warning("flood control: every bulk message waits %s s", seconds)

    async def send(self, message: Outgoing) -> Delivery:
        return await self._deliver(message, None)

    async def _deliver(self, message: Outgoing, gate: asyncio.Semaphore | None) -> Delivery:
        """One message: its chat's previous one answered a `per_chat` ago, then (holding a
        worker of `gate` only now, so a chat's wait holds up no other chat) sent."""
        chat_id = message.chat_id
        lock = self._chats.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock:
                wait = self._last.get(chat_id, -math.inf) + self.per_chat - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                if gate is None:
                    return await self._send(message)
                async with gate:
                    if self.stopping:
                        return Delivery.DEFERRED
                    return await self._send(message)
        finally:
            if not lock.locked() and self._chats.get(chat_id) is lock:
                del self._chats[chat_id]

    async def _send(self, message: Outgoing) -> Delivery:
        for _ in range(self.tries):
            try:
                await self._request(message)
            except _Stopped:
                return Delivery.DEFERRED
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
                if not self.stopping:
                    delivery = await self._deliver(render(item), gate)
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
