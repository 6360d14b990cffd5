"""/help, /menu, /cancel and the Cancel buttons (from any state), and the last-resort answers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services.registration import RegistrationService, Step
from handlers.common import keyboards
from handlers.common.callbacks import CancelCb
from handlers.common.filters import ButtonText, PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.onboarding import resume, show_main_menu
from handlers.common.texts import BTN_CANCEL, office, stale_button


def help_text(settings: Settings) -> str:
    return _(
        "<b>What I can do</b>\n"
        "• <b>My accounts</b> — link your personal accounts (лицевой счёт) and see them.\n"
        "• <b>Balance</b> — what was charged and paid for each service, and what you owe.\n"
        "• <b>Meter readings</b> — send readings while your supplier accepts them.\n"
        "• <b>Contact support</b> — write to an operator.\n"
        "• <b>Settings</b> — language, e-mail, deleting your data.\n\n"
        "/start — main menu\n/cancel — stop what you are doing\n/help — this text"
    ) + office(settings.support_contact)


async def leave_conversation(
    message: Message, state: FSMContext, registration: RegistrationService, user_id: int
) -> None:
    await state.clear()
    if await registration.step(user_id) is Step.DONE:
        await message.answer(_("Cancelled."), reply_markup=keyboards.main_menu())
    else:
        await message.answer(
            _("Cancelled. Send /start when you are ready to continue."),
            reply_markup=keyboards.remove(),
        )


async def help_(message: Message, settings: Settings) -> None:
    await message.answer(help_text(settings))


async def cancel(message: Message, state: FSMContext, registration: RegistrationService) -> None:
    assert message.from_user is not None
    await leave_conversation(message, state, registration, message.from_user.id)


async def cancel_button(
    query: CallbackQuery, state: FSMContext, registration: RegistrationService
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await leave_conversation(query.message, state, registration, query.from_user.id)


async def menu(message: Message) -> None:
    await show_main_menu(message)


def create_router() -> Router:
    router = Router(name="common")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(help_, Command("help"))
    router.message.register(cancel, Command("cancel"))
    router.message.register(cancel, ButtonText(BTN_CANCEL))
    router.callback_query.register(cancel_button, CancelCb.filter())
    registered = Router(name="common-registered")
    registered.message.middleware(RegisteredOnly())
    registered.message.register(menu, Command("menu"))
    router.include_router(registered)
    return router


async def anything(
    message: Message, state: FSMContext, registration: RegistrationService, settings: Settings
) -> None:
    assert message.from_user is not None
    if await registration.step(message.from_user.id) is not Step.DONE:
        await resume(message, state, registration, settings, message.from_user.id)
        return
    await message.answer(
        _("I did not understand that. Please use the menu buttons below, or /help."),
        reply_markup=keyboards.main_menu(),
    )


async def stale(query: CallbackQuery) -> None:
    await query.answer(stale_button(), show_alert=True)


def create_fallback_router() -> Router:
    """Registered last: whatever no feature took."""
    router = Router(name="fallback")
    router.message.filter(PrivateChat())
    router.message.register(anything)
    router.callback_query.register(stale)
    return router
