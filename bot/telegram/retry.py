"""Telegram's failures on the way out: retried with a bound, or understood.

`TelegramRetry` (a request middleware on the bot's session, tenacity inside) tries a Bot API
call again on 5xx, a timeout, a dropped or refused connection, with exponential backoff and
jitter (at most TELEGRAM_RETRY_ATTEMPTS tries, pauses up to TELEGRAM_RETRY_MAX_WAIT s); a
429 is `RetryAfter`'s (bot/middlewares.py: it waits `retry_after`).

Not every call may simply be repeated. When Telegram may have done the call before failing
(5xx, a timeout, a connection dropped after the request went out), a call that creates
something — sendMessage and the other send*, copy*, forward*, createForumTopic — is tried
at most TWICE: a resident may see an answer twice in that rare case, never three times, and
never silence. Everything else (edits, deletions, answers, get*/set*) is idempotent and gets
every try; so does any call that never reached Telegram (connection refused).

`Unreachable`: 403 (the resident blocked the bot, never started it) and 400 "chat not found"
are not retried: the resident is marked inactive (users.inactive_since, in a session of its
own) and the error goes up to the caller. Their next message marks them reachable again
(bot/lifecycle.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from storage import once

log = logging.getLogger("kabinet.telegram")

#: calls that create something: repeated after an unknown outcome they may double
CREATING = frozenset(
    {
        "copymessage",
        "copymessages",
        "forwardmessage",
        "forwardmessages",
        "createforumtopic",
        "createchatinvitelink",
        "createinvoicelink",
    }
)
#: tries of a creating call after an unknown outcome (the original and one more)
CREATING_TRIES = 2


def creates(method: TelegramMethod[object]) -> bool:
    name = method.__api_method__.lower()
    return name.startswith("send") or name in CREATING


def never_sent(exc: BaseException) -> bool:
    """The request did not reach Telegram (the connection was refused or not made)."""
    return isinstance(exc, TelegramNetworkError) and str(exc.message).startswith(
        ("ClientConnectorError", "ClientConnectorDNSError")
    )


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, TelegramServerError | TelegramNetworkError | ClientDecodeError)


class TelegramRetry(BaseRequestMiddleware):
    def __init__(self, attempts: int = 4, max_wait: float = 8.0, base: float = 0.5) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.base = min(base, max_wait)
        self.retries = 0  # tries after the first, for /metrics and tests

    def _stop(self, method: TelegramMethod[object]) -> object:
        limit = stop_after_attempt(self.attempts)

        def stop(state: RetryCallState) -> bool:
            if limit(state):
                return True
            exc = state.outcome.exception() if state.outcome else None
            if exc is None or never_sent(exc) or not creates(method):
                return False
            return state.attempt_number >= CREATING_TRIES

        return stop

    def _log(self, method: TelegramMethod[object]) -> object:
        def before_sleep(state: RetryCallState) -> None:
            self.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s failed (%s): try %s of %s in %.2f s",
                method.__api_method__,
                exc,
                state.attempt_number + 1,
                self.attempts,
                wait,
            )

        return before_sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        retrying = AsyncRetrying(
            stop=self._stop(method),  # type: ignore[arg-type]
            wait=wait_random_exponential(multiplier=self.base, max=self.max_wait),
            retry=retry_if_exception(retryable),
            before_sleep=self._log(method),  # type: ignore[arg-type]
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await make_request(bot, method)
        raise AssertionError("unreachable")  # pragma: no cover


def refused_for_good(exc: BaseException) -> bool:
    """403 (blocked, deactivated, never started) or 400 "chat not found"."""
    if isinstance(exc, TelegramForbiddenError):
        return True
    return isinstance(exc, TelegramBadRequest) and "chat not found" in str(exc.message).lower()


class Unreachable(BaseRequestMiddleware):
    """A resident Telegram will not deliver to is marked inactive; the error goes on."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        *,
        on_unreachable: Callable[[int], None] | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.on_unreachable = on_unreachable

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            chat_id = getattr(method, "chat_id", None)
            if isinstance(chat_id, int) and chat_id > 0 and refused_for_good(exc):
                if self.on_unreachable is not None:
                    self.on_unreachable(chat_id)
                try:
                    if await once.mark_unreachable(
                        self.session_maker, chat_id, dt.datetime.now(dt.UTC)
                    ):
                        log.info("resident %s unreachable (%s): inactive", chat_id, exc.message)
                except Exception:  # the refusal itself matters more than this mark
                    log.exception("could not mark resident %s inactive", chat_id)
            raise
