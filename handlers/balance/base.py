"""What the balance handlers share: the message under a button and the re-check of the
account behind it (never trust callback data)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from bot.services.balance import AccountCard, BalanceService, Statement
from bot.services.registration import Resident
from handlers.balance import texts
from handlers.balance.callbacks import BalanceCb
from handlers.common import keyboards as common_keyboards
from handlers.common.texts import not_available, stale_button


async def message_of(query: CallbackQuery) -> Message | None:
    """The message under the button, or None after telling the presser to start again."""
    if isinstance(query.message, Message):
        return query.message
    await query.answer(texts.too_old_text(), show_alert=True)
    return None


async def pressed_statement(
    query: CallbackQuery,
    balance: BalanceService,
    resident: Resident,
    account_id: int,
    period: str = "",
) -> tuple[Message, Statement] | None:
    """The message and the month of an account the presser has an active link to; None
    after answering the query when either is gone."""
    message = await message_of(query)
    if message is None:
        return None
    statement = await balance.statement(resident.id, account_id, period or None)
    if statement is None:
        await query.answer(not_available(), show_alert=True)
        return None
    if period and statement.period != period:  # a month with no charges: forged or stale
        await query.answer(stale_button(), show_alert=True)
        return None
    return message, statement


async def pressed_account(
    query: CallbackQuery, balance: BalanceService, resident: Resident, account_id: int
) -> tuple[Message, AccountCard] | None:
    """As `pressed_statement`, for the account alone (no figures read)."""
    message = await message_of(query)
    if message is None:
        return None
    account = await balance.linked(resident.id, account_id)
    if account is None:
        await query.answer(not_available(), show_alert=True)
        return None
    return message, account


async def ask_for_sum(
    query: CallbackQuery,
    callback_data: BalanceCb,
    state: FSMContext,
    balance: BalanceService,
    resident: Resident,
    step: State,
) -> None:
    """«Another sum» (a receipt's or a payment's): the next message is the sum."""
    pressed = await pressed_account(query, balance, resident, callback_data.account_id)
    if pressed is None:
        return
    message, _account = pressed
    await query.answer()
    await state.set_state(step)
    await state.update_data(account_id=callback_data.account_id, period=callback_data.period)
    await message.answer(texts.ask_sum_text(), reply_markup=common_keyboards.cancel_inline())
