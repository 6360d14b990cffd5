"""Async filters (a synchronous filter costs a thread hop per update in aiogram)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n


class ButtonText(Filter):
    """A reply-keyboard button, in whichever language the keyboard was drawn."""

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        if not message.text:
            return False
        return message.text in {
            i18n.gettext(self.msgid, locale=code) for code in (*i18n.available_locales, "")
        }


class PrivateChat(Filter):
    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.type == "private"


class ChatId(Filter):
    """Only updates from one chat (the staff supergroup)."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.id == self.chat_id
