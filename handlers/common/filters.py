"""Async filters (a synchronous filter costs a thread hop per update in aiogram)."""

from __future__ import annotations

from functools import lru_cache

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from handlers.common.texts import MAIN_MENU


@lru_cache(maxsize=256)
def _labels(i18n: I18n, msgids: tuple[str, ...]) -> frozenset[str]:
    """Every language's label of these buttons (the catalogs do not change while running)."""
    return frozenset(
        i18n.gettext(msgid, locale=code)
        for msgid in msgids
        for code in (*i18n.available_locales, "")
    )


class ButtonText(Filter):
    """A reply-keyboard button, in whichever language the keyboard was drawn."""

    def __init__(self, msgid: str) -> None:
        self.msgids = (msgid,)

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        return bool(message.text) and message.text in _labels(i18n, self.msgids)


def is_main_menu_button(text: str | None, i18n: I18n) -> bool:
    """One of the main menu's buttons, in any language."""
    return bool(text) and text in _labels(i18n, MAIN_MENU)


class PrivateChat(Filter):
    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.type == "private"


class GroupChat(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.chat.type in ("group", "supergroup")


class ChatId(Filter):
    """Only updates from one chat (the staff supergroup)."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.id == self.chat_id


class HasText(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.text is not None


class HasContact(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.contact is not None


class SuccessfulPayment(Filter):
    """`F.successful_payment` without the thread hop: its router is tried before every
    feature, so a sync filter there would cost every private message ~100 µs."""

    async def __call__(self, message: Message) -> bool:
        return message.successful_payment is not None
