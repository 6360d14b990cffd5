"""Operators read the company's language (DEFAULT_LOCALE), whatever their Telegram's: one
middleware for every router of the staff chat (staff commands and cards, support topics)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n


class StaffLocale(BaseMiddleware):
    def __init__(self, locale: str) -> None:
        self.locale = locale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        i18n: I18n = data["i18n"]
        with i18n.use_locale(self.locale):
            return await handler(event, data)
