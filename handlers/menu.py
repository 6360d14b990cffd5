"""The main menu's items whose features come in later issues."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers import keyboards
from handlers.filters import ButtonText, PrivateChat
from handlers.gate import RegisteredOnly
from handlers.texts import BTN_BALANCE, BTN_READINGS, BTN_SUPPORT


def create_router() -> Router:
    router = Router(name="menu")
    router.message.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        await message.answer(
            _("Main menu. Choose what you need."), reply_markup=keyboards.main_menu()
        )

    @router.message(ButtonText(BTN_BALANCE))
    async def balance(message: Message) -> None:
        await message.answer(
            _("Balance and receipts are coming soon: we are preparing this section.")
        )

    @router.message(ButtonText(BTN_READINGS))
    async def readings(message: Message) -> None:
        await message.answer(
            _("Sending meter readings is coming soon: we are preparing this section.")
        )

    @router.message(ButtonText(BTN_SUPPORT))
    async def support(message: Message) -> None:
        await message.answer(
            _("Writing to support from the bot is coming soon: we are preparing this section.")
        )

    return router
