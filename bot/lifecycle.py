"""Production behaviour of the update path: each update once, in-flight accounting, a
graceful stop.

- `Lifecycle`: whether this process takes new updates (False after SIGTERM: the webhook
  answers 503, /healthz says "stopping"), how many are in flight, and `drain()` which waits
  for them (bounded by SHUTDOWN_GRACE_SECONDS).
- `OncePerUpdate`: an outer update middleware right after the unit of work. An update_id
  seen in this process (handled, or still running) is not handled again: an in-process LRU
  in front, so a re-delivery costs no query. Beyond the process the update_id is claimed in
  `processed_updates` inside the update's own transaction (storage/once.py):

  * several instances possible (PostgreSQL): claimed when the update starts. A second
    instance given the same update waits on the first one's row and skips it once that
    commits; a crash rolls the claim back with the update's writes, and the re-delivery is
    handled.
  * one process (SQLite): claimed with the update's first commit that carries writes — right
    before its first message or at its end — so a press that only reads (the menu) costs no
    statement; a duplicate is stopped at that commit, before it stores or says anything.
    Update_ids that wrote nothing are written in one batch a second (and at shutdown), so a
    restart's re-delivered batch (polling) is not answered again either; after a kill -9 at
    most the last second of read-only answers can be repeated — never a write.
  * an update answered in its webhook's reply (bot.middlewares.ReturnedAnswer: only one
    that stored nothing) is not remembered at all: the reply travels with the 200, so
    Telegram sends the update again only if the reply was lost, and then it is answered.

  A private message or button press from a resident Telegram had refused to deliver to
  (users.inactive_since) marks them reachable again (checked once a minute per resident).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import TelegramMethod
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.clock import Clock
from storage import once
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.updates")

#: update_ids remembered in process (a webhook re-delivery comes within minutes)
LRU_SIZE = 20_000
#: how long a duplicate waits for the first copy, still running in this process
DUPLICATE_WAIT = 60.0
#: read-only update_ids are written at most this often (SQLite)
BATCH_EVERY = 1.0
#: a resident seen active is not checked again for this long
ACTIVE_TTL = 60.0


class DuplicateUpdate(Exception):
    """Raised at the commit of an update another run already handled: nothing is kept."""


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


class _Claim:
    """The claim of one update, made by the first commit that carries writes (lazy mode)."""

    def __init__(self, bot_id: int, update_id: int, clock: Clock) -> None:
        self.bot_id, self.update_id, self.clock = bot_id, update_id, clock
        self.made = False

    async def __call__(self, session: AsyncSession) -> None:
        if self.made:
            return
        if not await once.claim(session, self.bot_id, self.update_id, self.clock.now()):
            raise DuplicateUpdate(self.update_id)
        self.made = True


class OncePerUpdate(BaseMiddleware):
    def __init__(
        self,
        lifecycle: Lifecycle,
        clock: Clock,
        session_maker: async_sessionmaker[AsyncSession],
        *,
        eager: bool,
    ) -> None:
        self.lifecycle = lifecycle
        self.clock = clock
        self.session_maker = session_maker
        self.eager = eager
        self.done: OrderedDict[int, None] = OrderedDict()
        self.running: dict[int, asyncio.Future[None]] = {}
        self.read_only: list[tuple[int, int, Any]] = []
        self._flushed_at = time.monotonic()
        self.active: dict[int, float] = {}  # resident → until when they count as active
        #: lazy mode: per bot, the highest update_id remembered when this process started;
        #: an update at or below it may be a re-delivery of one a previous run answered
        #: without writing (its id came in a batch), so it is looked up first
        self.horizon: dict[int, int] = {}

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
            if update_id in self.done or update_id in self.running:
                return self._duplicate(update_id, "being handled")
            # the first copy left it unremembered: answered in a webhook reply that did not
            # reach Telegram (it sends an update again only then), or failed — handled again
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.running[update_id] = future
        self.lifecycle.enter()
        try:
            return await self._handle(handler, event, data)
        finally:
            del self.running[update_id]
            future.set_result(None)
            self.lifecycle.leave()

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Update,
        data: dict[str, Any],
    ) -> Any:
        uow: UnitOfWork = data["uow"]
        bot: Bot = data["bot"]
        claim = _Claim(bot.id, event.update_id, self.clock)
        try:
            if self.eager:
                await claim(uow.session)
            else:
                if await self._answered_before(uow, bot.id, event.update_id):
                    raise DuplicateUpdate(event.update_id)
                uow.before_commit.append(claim)
            await self._reachable_again(event, uow)
            result = await handler(event, data)
            await uow.commit_writes()  # a duplicate is found here, inside this middleware
        except DuplicateUpdate:
            with contextlib.suppress(ValueError):
                uow.before_commit.remove(claim)
            await uow.rollback()  # nothing of this copy is kept; the final commit is empty
            self._remember(event.update_id)
            return self._duplicate(event.update_id, "handled by another instance or run")
        if isinstance(result, TelegramMethod) and not claim.made:
            # answered in the webhook's reply (bot.middlewares.ReturnedAnswer) and nothing
            # stored: not remembered, so that if the reply is lost with its HTTP response,
            # Telegram's next delivery of the update is answered, not skipped
            return result
        self._remember(event.update_id)
        if not claim.made:
            self.read_only.append((bot.id, event.update_id, self.clock.now()))
            if time.monotonic() - self._flushed_at >= BATCH_EVERY:
                await self.flush()
        return result

    async def _answered_before(self, uow: UnitOfWork, bot_id: int, update_id: int) -> bool:
        horizon = self.horizon.get(bot_id)
        if horizon is None:
            horizon = self.horizon[bot_id] = await once.last_handled(uow.session, bot_id)
        return update_id <= horizon and await once.handled(uow.session, bot_id, update_id)

    async def flush(self, *_args: object, **_kwargs: object) -> None:
        """Write the read-only update_ids (each second, and at shutdown after the drain)."""
        rows, self.read_only = self.read_only, []
        self._flushed_at = time.monotonic()
        try:
            await once.claim_many(self.session_maker, rows)
        except Exception:  # only duplicates of read-only answers are at stake
            log.exception("could not remember %s handled update id(s)", len(rows))

    def _remember(self, update_id: int) -> None:
        self.done[update_id] = None
        if len(self.done) > LRU_SIZE:
            self.done.popitem(last=False)

    def _duplicate(self, update_id: int, why: str) -> Any:
        self.lifecycle.duplicates += 1
        log.info("update %s skipped: already %s", update_id, why)
        return UNHANDLED

    def forget_active(self, user_id: int) -> None:
        """Telegram refused to deliver to them: their next message is checked at once."""
        self.active.pop(user_id, None)

    async def _reachable_again(self, event: Update, uow: UnitOfWork) -> None:
        if event.message is not None and event.message.chat.type == "private":
            user = event.message.from_user
        elif event.callback_query is not None:
            user = event.callback_query.from_user
        else:
            return
        if user is None or user.is_bot:
            return
        now = time.monotonic()
        if self.active.get(user.id, 0.0) > now:
            return
        if len(self.active) > LRU_SIZE:
            self.active.clear()
        self.active[user.id] = now + ACTIVE_TTL
        if await once.mark_reachable(uow.session, user.id):
            log.info("resident %s writes again: reachable", user.id)
