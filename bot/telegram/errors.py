"""Telegram's refusals that change nothing for the user, recognised in one place.

- "message is not modified": a double tap on a button that redraws the same message
  (◀️ ▶️, «No, keep it»);
- "query is too old" / "query ID is invalid": a callback query answered after Telegram's
  ~15 s, e.g. after a slow SMS gateway.

The errors router logs them at INFO and says nothing to the user, /metrics does not count
them as errors, and `QuietCallbackAnswers` turns a late answerCallbackQuery into a no-op so
that the handler goes on with the state change the answer was only decoration for.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger("kabinet.telegram")

NOT_MODIFIED = "message is not modified"
TOO_OLD = ("query is too old", "query id is invalid")
HARMLESS = (NOT_MODIFIED, *TOO_OLD)


def is_harmless(exc: BaseException) -> bool:
    """True for the refusals above (Telegram's descriptions, case-insensitive)."""
    return isinstance(exc, TelegramBadRequest) and any(
        phrase in str(exc.message).lower() for phrase in HARMLESS
    )


class QuietCallbackAnswers(BaseRequestMiddleware):
    """A callback answer Telegram no longer takes is logged and treated as given."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, AnswerCallbackQuery) or not any(
                phrase in str(exc.message).lower() for phrase in TOO_OLD
            ):
                raise
            log.info("callback query %s answered too late: %s", method.callback_query_id, exc)
            return Response[TelegramType](ok=True, result=True)
