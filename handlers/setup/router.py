"""/chat_id in a group tells its id for STAFF_CHAT_ID."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.common.filters import GroupChat


async def chat_id(message: Message) -> None:
    if message.chat.type == "group":
        text = _(
            "This is a basic group. Turn on Topics in its settings (it becomes a "
            "supergroup with a new id), then send /chat_id again."
        )
    else:
        text = _(
            "This chat's id is <code>{chat_id}</code>. To make it the operators' chat, "
            "set STAFF_CHAT_ID={chat_id} and restart the bot."
        ).format(chat_id=message.chat.id)
    await message.reply(text)


def create_router() -> Router:
    router = Router(name="setup")
    router.message.filter(GroupChat())
    router.message.register(chat_id, Command("chat_id"))
    return router
