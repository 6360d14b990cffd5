"""Meter readings: the main-menu item, the account picker's answer, the reminders' button,
and whether the resident can be reached (Telegram's my_chat_member in the private chat)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bot.services.linking import LinkingService
from bot.services.readings import ReadingsService
from bot.services.registration import Resident
from handlers.common.callbacks import AccountPickCb, PickPurpose, SendReadingsCb
from handlers.common.filters import PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.main_menu import MenuItem
from handlers.common.picker import pick_account
from handlers.common.states import Readings
from handlers.common.texts import BTN_READINGS, not_available
from handlers.readings import conversation, history, steps
from handlers.readings.callbacks import CorrectCb, HistoryCb, MeterCb, StepAction, StepCb


async def open_readings(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    """«📟 Meter readings»: the account (asked only with several), then its meters."""
    await state.clear()
    account = await pick_account(message, linking, resident, PickPurpose.READINGS)
    if account is not None:
        await conversation.begin(message, state, readings, resident, account.id)


async def account_chosen(
    query: CallbackQuery,
    callback_data: AccountPickCb | SendReadingsCb,
    state: FSMContext,
    linking: LinkingService,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    """An account from the picker, a reminder or the balance screen (re-checked)."""
    account = await linking.active_account(resident.id, callback_data.account_id)
    if account is None or not isinstance(query.message, Message):
        await query.answer(not_available(), show_alert=True)
        return
    await query.answer()
    if isinstance(callback_data, AccountPickCb):
        await query.message.edit_reply_markup(reply_markup=None)
    await conversation.begin(query.message, state, readings, resident, account.id)


async def _private(event: ChatMemberUpdated) -> bool:
    return event.chat.type == "private"


async def reachability(event: ChatMemberUpdated, readings: ReadingsService) -> None:
    """The resident blocked the bot (reminders skip them) or started it again."""
    status = event.new_chat_member.status
    await readings.set_reachable(event.from_user.id, reachable=status == "member")


#: the main-menu item of this feature (handlers/common/main_menu.py)
MENU_ITEM: MenuItem = (BTN_READINGS, open_readings)


def create_router() -> Router:
    router = Router(name="readings")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.my_chat_member.filter(_private)
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())
    msg, cb = router.message.register, router.callback_query.register

    cb(account_chosen, AccountPickCb.filter(F.purpose == PickPurpose.READINGS))
    cb(account_chosen, SendReadingsCb.filter())
    cb(history.show, HistoryCb.filter())
    cb(steps.correct, CorrectCb.filter())
    cb(steps.skip, StepCb.filter(F.action == StepAction.SKIP))
    cb(steps.confirm, StepCb.filter(F.action == StepAction.CONFIRM))
    cb(steps.retype, StepCb.filter(F.action == StepAction.RETYPE))
    cb(steps.send, StepCb.filter(F.action == StepAction.SEND))
    cb(steps.edit, StepCb.filter(F.action == StepAction.EDIT))
    cb(steps.back_to_summary, StepCb.filter(F.action == StepAction.SUMMARY))
    cb(steps.meter_chosen, MeterCb.filter())
    msg(conversation.value_given, StateFilter(Readings.value))
    msg(conversation.value_given, StateFilter(Readings.confirm))
    msg(conversation.choice_expected, StateFilter(Readings.summary))
    msg(conversation.choice_expected, StateFilter(Readings.choose))
    router.my_chat_member.register(reachability)
    return router
