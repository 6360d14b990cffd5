"""ResidentNotifier over the Bot API: a message in the resident's private chat."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.utils.i18n import I18n

from bot.services.linking import LinkCard
from bot.services.ports import Delivery, NoticeMessage, NoticeRecipient
from bot.services.readings import ReadingCard
from bot.services.readings_reminders import Reminder
from bot.services.representatives import RepresentativeCard
from bot.telegram.locale import speaking
from bot.telegram.sender import BulkSender, Outgoing
from handlers.accounts import org_texts
from handlers.accounts.texts import decision_text
from handlers.readings import keyboards as reading_keyboards
from handlers.readings import notes as reading_notes
from handlers.staff.texts import resident_notice

log = logging.getLogger("kabinet.notifier")


class TelegramResidentNotifier:
    """Texts in the resident's language (the one they chose, else DEFAULT_LOCALE)."""

    def __init__(
        self, bot: Bot, i18n: I18n, default_locale: str, sender: BulkSender | None = None
    ) -> None:
        self.bot = bot
        self.i18n = i18n
        self.default_locale = default_locale
        self._sender = sender

    @property
    def sender(self) -> BulkSender:
        """The bulk sender (the scheduler hands in its own; otherwise one of this Bot)."""
        if self._sender is None:
            self._sender = BulkSender(self.bot)
        return self._sender

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
        with speaking(self.i18n, language or self.default_locale):
            text = decision_text(card)
        return await self._send(resident_id, text)

    async def reading_decided(
        self, resident_id: int, language: str | None, card: ReadingCard
    ) -> Delivery:
        with speaking(self.i18n, language or self.default_locale):
            text = reading_notes.decision_text(card)
        return await self._send(resident_id, text)

    async def representative_decided(
        self, resident_id: int, language: str | None, card: RepresentativeCard
    ) -> Delivery:
        with speaking(self.i18n, language or self.default_locale):
            text = org_texts.decision_text(card)
        return await self._send(resident_id, text)

    def _reminder(self, reminder: Reminder) -> Outgoing:
        with speaking(self.i18n, reminder.language or self.default_locale):
            return Outgoing(
                reminder.resident_id,
                reading_notes.reminder_text(reminder),
                reading_keyboards.reminder(reminder.account_id),
            )

    def remind_readings(
        self, reminders: Sequence[Reminder]
    ) -> AsyncIterator[tuple[Reminder, Delivery]]:
        return self.sender.send_all(reminders, self._reminder)

    # --- staff: notices ---
    def send_notice(
        self, notice: NoticeMessage, recipients: Sequence[NoticeRecipient]
    ) -> AsyncIterator[tuple[NoticeRecipient, Delivery]]:
        def render(recipient: NoticeRecipient) -> Outgoing:
            with speaking(self.i18n, recipient.language or self.default_locale):
                return Outgoing(recipient.resident_id, resident_notice(notice))

        return self.sender.send_all(recipients, render)
