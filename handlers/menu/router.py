"""The main menu's items whose features come in later issues: a polite "coming soon"."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.common.filters import ButtonText, PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.texts import BTN_BALANCE, BTN_SUPPORT


async def balance(message: Message) -> None:
    await message.answer(_("Balance and receipts are coming soon: we are preparing this section."))


async def support(message: Message) -> None:
    await message.answer(
        _("Writing to support from the bot is coming soon: we are preparing this section.")
    )


def create_router() -> Router:
    router = Router(name="menu")
    router.message.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.message.register(balance, ButtonText(BTN_BALANCE))
    router.message.register(support, ButtonText(BTN_SUPPORT))
    return router
