"""Staff commands and buttons outside the staff chat: refused, with a clear answer.

A resident who types /find in a private chat, or presses a forged staff button there,
is told that this works only in the operators' chat; nothing reaches a service.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, Message

from handlers.staff import texts
from handlers.staff.callbacks import STAFF_PREFIXES

COMMANDS = ("find", "stats", "ban", "unban", "notice")


class NotInChat(Filter):
    def __init__(self, chat_id: int | None) -> None:
        self.chat_id = chat_id

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is None or message.chat.id != self.chat_id


class StaffButton(Filter):
    async def __call__(self, query: CallbackQuery) -> bool:
        return (query.data or "").split(":", 1)[0] in STAFF_PREFIXES


async def command_elsewhere(message: Message) -> None:
    await message.answer(texts.staff_chat_only())


async def button_elsewhere(query: CallbackQuery) -> None:
    await query.answer(texts.staff_chat_only(), show_alert=True)


def create_router(staff_chat_id: int | None) -> Router:
    router = Router(name="staff-outside")
    router.message.register(command_elsewhere, Command(*COMMANDS), NotInChat(staff_chat_id))
    router.callback_query.register(button_elsewhere, StaffButton(), NotInChat(staff_chat_id))
    return router
