"""The last line: an error is logged with its update, and the resident is told plainly."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger("kabinet.errors")


def create_router() -> Router:
    router = Router(name="errors")

    @router.errors()
    async def on_error(event: ErrorEvent) -> bool:
        update = event.update
        log.exception(
            "update %s failed: %s", update.update_id, event.exception, exc_info=event.exception
        )
        text = _("Something went wrong on our side. Nothing was changed; please try again.")
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            elif update.message is not None and update.message.chat.type == "private":
                await update.message.answer(text)
        except TelegramAPIError:
            log.warning("could not tell the user about the failure of update %s", update.update_id)
        return True

    return router
