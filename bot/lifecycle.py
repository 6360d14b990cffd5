"""Production behaviour of the update path: each update once, in-flight accounting, a
graceful stop.

- `Lifecycle`: whether this process takes new updates (False after SIGTERM: the webhook
  answers 503, /healthz says "stopping"), how many are in flight, and `drain()` which waits
  for them (bounded by SHUTDOWN_GRACE_SECONDS).
- `OncePerUpdate`: an outer update middleware right after the unit of work. An update_id
  seen in this process (done, or still running) is not handled again — an in-process LRU in
  front, so a re-delivery costs no query; a new one is claimed in the database inside the
  update's own transaction (storage/once.py), which makes it once across restarts and
  instances. A private message or button press from a resident Telegram had refused to
  deliver to (users.inactive_since) marks them reachable again in the same statement batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update

from bot.services.clock import Clock
from storage import once
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.updates")

#: update_ids remembered in process (a webhook re-delivery comes within minutes)
LRU_SIZE = 20_000
#: how long a duplicate waits for the first copy, still running in this process
DUPLICATE_WAIT = 60.0


class Lifecycle:
    """Taking updates or stopping; the updates in flight."""

    def __init__(self, grace: float = 20.0) -> None:
        self.grace = grace
        self.accepting = True
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.duplicates = 0

    def stop_accepting(self) -> None:
        if self.accepting:
            log.info("stopping: no new updates; %s in flight", self.in_flight)
        self.accepting = False

    def enter(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight <= 0:
            self.in_flight = 0
            self._idle.set()

    async def drain(self, *_args: object, **_kwargs: object) -> bool:
        """Wait for the updates in flight (at most `grace` s); True when none is left.
        Also a dispatcher shutdown handler: the first thing the shutdown does."""
        self.stop_accepting()
        try:
            await asyncio.wait_for(self._idle.wait(), self.grace)
        except TimeoutError:
            log.warning("%s update(s) still in flight after %s s", self.in_flight, self.grace)
            return False
        log.info("every update in flight finished")
        return True


class OncePerUpdate(BaseMiddleware):
    def __init__(self, lifecycle: Lifecycle, clock: Clock) -> None:
        self.lifecycle = lifecycle
        self.clock = clock
        self.done: OrderedDict[int, None] = OrderedDict()
        self.running: dict[int, asyncio.Future[None]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):  # pragma: no cover - registered on updates only
            return await handler(event, data)
        update_id = event.update_id
        if update_id in self.done:
            return self._duplicate(update_id, "handled")
        first = self.running.get(update_id)
        if first is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(first), DUPLICATE_WAIT)
            return self._duplicate(update_id, "being handled")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.running[update_id] = future
        self.lifecycle.enter()
        try:
            uow: UnitOfWork = data["uow"]
            bot: Bot = data["bot"]
            if not await once.claim(uow.session, bot.id, update_id, self.clock.now()):
                self._remember(update_id)
                return self._duplicate(update_id, "handled by another instance or run")
            await self._reachable_again(event, uow)
            result = await handler(event, data)
            self._remember(update_id)
            return result
        finally:
            del self.running[update_id]
            future.set_result(None)
            self.lifecycle.leave()

    def _remember(self, update_id: int) -> None:
        self.done[update_id] = None
        if len(self.done) > LRU_SIZE:
            self.done.popitem(last=False)

    def _duplicate(self, update_id: int, why: str) -> Any:
        self.lifecycle.duplicates += 1
        log.info("update %s skipped: already %s", update_id, why)
        return UNHANDLED

    @staticmethod
    async def _reachable_again(event: Update, uow: UnitOfWork) -> None:
        if event.message is not None and event.message.chat.type == "private":
            user = event.message.from_user
        elif event.callback_query is not None:
            user = event.callback_query.from_user
        else:
            return
        if user is not None and not user.is_bot and await once.mark_reachable(uow.session, user.id):
            log.info("resident %s writes again: reachable", user.id)
