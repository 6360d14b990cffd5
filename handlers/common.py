"""/help, /cancel and the Cancel buttons (from any state), and the last-resort answers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services import registration
from bot.services.registration import Step
from handlers import keyboards
from handlers.callbacks import CancelCb
from handlers.filters import ButtonText, PrivateChat
from handlers.registration import resume
from handlers.texts import BTN_CANCEL
from storage.uow import UnitOfWork


def help_text() -> str:
    return _(
        "<b>What I can do</b>\n"
        "• <b>My accounts</b> — link your personal accounts (лицевой счёт) and see them.\n"
        "• <b>Balance</b> — what was charged and paid for each service, and what you owe.\n"
        "• <b>Meter readings</b> — send readings while your supplier accepts them.\n"
        "• <b>Contact support</b> — write to an operator.\n"
        "• <b>Settings</b> — language, e-mail, deleting your data.\n\n"
        "/start — main menu\n/cancel — stop what you are doing\n/help — this text"
    )


async def leave_conversation(
    message: Message, state: FSMContext, uow: UnitOfWork, settings: Settings, user_id: int
) -> None:
    await state.clear()
    step = await registration.current_step(uow, user_id, settings.consent_version)
    if step is Step.DONE:
        await message.answer(_("Cancelled."), reply_markup=keyboards.main_menu())
    else:
        await message.answer(
            _("Cancelled. Send /start when you are ready to continue."),
            reply_markup=keyboards.remove(),
        )


def create_router() -> Router:
    router = Router(name="common")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())

    @router.message(Command("help"))
    async def help_(message: Message) -> None:
        await message.answer(help_text())

    @router.message(Command("cancel"))
    @router.message(ButtonText(BTN_CANCEL))
    async def cancel(
        message: Message, state: FSMContext, uow: UnitOfWork, settings: Settings
    ) -> None:
        assert message.from_user is not None
        await leave_conversation(message, state, uow, settings, message.from_user.id)

    @router.callback_query(CancelCb.filter())
    async def cancel_button(
        query: CallbackQuery, state: FSMContext, uow: UnitOfWork, settings: Settings
    ) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await leave_conversation(query.message, state, uow, settings, query.from_user.id)

    return router


def create_fallback_router() -> Router:
    """Registered last: whatever no feature took."""
    router = Router(name="fallback")
    router.message.filter(PrivateChat())

    @router.message()
    async def anything(
        message: Message, state: FSMContext, uow: UnitOfWork, settings: Settings
    ) -> None:
        assert message.from_user is not None
        step = await registration.current_step(uow, message.from_user.id, settings.consent_version)
        if step is not Step.DONE:
            await resume(message, state, uow, settings, message.from_user.id)
            return
        await message.answer(
            _("I did not understand that. Please use the menu buttons below, or /help."),
            reply_markup=keyboards.main_menu(),
        )

    @router.callback_query()
    async def stale_button(query: CallbackQuery) -> None:
        await query.answer(_("This button is not valid any more."), show_alert=True)

    return router
