"""The last line: an error is logged with its update, and the user is told plainly.

Two refusals of Telegram are not failures and are treated here, in one place, as nothing
happened: "message is not modified" (a double tap on a button that redraws the same
message) and "query is too old" (a callback answered after Telegram's ~15 s).
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import ErrorEvent

from handlers.common.texts import something_went_wrong

log = logging.getLogger("kabinet.errors")

#: Telegram's descriptions of refusals that change nothing for the user
HARMLESS = ("message is not modified", "query is too old", "query id is invalid")


def is_harmless(exc: BaseException) -> bool:
    return isinstance(exc, TelegramBadRequest) and any(
        phrase in str(exc.message).lower() for phrase in HARMLESS
    )


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    if is_harmless(event.exception):
        log.info("update %s: harmless Telegram refusal: %s", update.update_id, event.exception)
        return True
    log.exception(
        "update %s failed: %s", update.update_id, event.exception, exc_info=event.exception
    )
    text = something_went_wrong()
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(text)
    except TelegramAPIError:
        log.warning("could not tell the user about the failure of update %s", update.update_id)
    return True


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
