"""ResidentNotifier over the Bot API: a message in the resident's private chat."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.utils.i18n import I18n

from bot.services.linking import LinkCard
from bot.services.ports import Delivery
from bot.services.readings import ReadingCard
from handlers.accounts.texts import decision_text
from handlers.readings import notes as reading_notes

log = logging.getLogger("kabinet.notifier")


class TelegramResidentNotifier:
    """Texts in the resident's language (the one they chose, else DEFAULT_LOCALE)."""

    def __init__(self, bot: Bot, i18n: I18n, default_locale: str) -> None:
        self.bot = bot
        self.i18n = i18n
        self.default_locale = default_locale

    async def _send(self, resident_id: int, text: str) -> Delivery:
        try:
            await self.bot.send_message(resident_id, text)
        except TelegramForbiddenError:
            return Delivery.BLOCKED
        except TelegramAPIError as exc:
            log.warning("could not notify resident %s: %s", resident_id, exc)
            return Delivery.FAILED
        return Delivery.SENT

    async def link_decided(
        self, resident_id: int, language: str | None, card: LinkCard
    ) -> Delivery:
        with self.i18n.use_locale(language or self.default_locale):
            text = decision_text(card)
        return await self._send(resident_id, text)

    async def reading_decided(
        self, resident_id: int, language: str | None, card: ReadingCard
    ) -> Delivery:
        with self.i18n.use_locale(language or self.default_locale):
            text = reading_notes.decision_text(card)
        return await self._send(resident_id, text)
