"""The main menu's items whose features come in later issues: a polite "coming soon"."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.common.filters import ButtonText, PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.texts import BTN_READINGS, BTN_SUPPORT


async def readings(message: Message) -> None:
    await message.answer(_("Sending meter readings is coming soon: we are preparing this section."))


async def support(message: Message) -> None:
    await message.answer(
        _("Writing to support from the bot is coming soon: we are preparing this section.")
    )


def create_router() -> Router:
    router = Router(name="menu")
    router.message.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.message.register(readings, ButtonText(BTN_READINGS))
    router.message.register(support, ButtonText(BTN_SUPPORT))
    return router
