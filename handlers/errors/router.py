"""The last line: an error is logged with its update, and the user is told plainly.

Telegram's harmless refusals (bot/telegram/errors.py: "message is not modified" after a
double tap, "query is too old" after a slow step) are not failures: logged at INFO, the user
is not told anything.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.config import Settings
from bot.telegram.errors import is_harmless
from handlers.common.texts import office, something_went_wrong

log = logging.getLogger("kabinet.errors")


async def on_error(event: ErrorEvent, settings: Settings) -> bool:
    update = event.update
    if is_harmless(event.exception):
        log.info("update %s: harmless Telegram refusal: %s", update.update_id, event.exception)
        return True
    log.exception(
        "update %s failed: %s", update.update_id, event.exception, exc_info=event.exception
    )
    text = something_went_wrong()
    if update.message is not None:  # a callback alert holds 200 characters: no room there
        text += office(settings.support_contact)
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
