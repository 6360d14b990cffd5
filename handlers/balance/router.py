"""Balance: the main-menu button, the account picker's choice, months, the history chart;
and the router of the feature (receipts: receipts.py)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot.config import Settings
from bot.services.balance import BalanceService, Statement
from bot.services.balance.chart import ChartLabels
from bot.services.linking import LinkingService
from bot.services.registration import Resident
from handlers.balance import keyboards, payments, receipts, texts
from handlers.balance.base import message_of, pressed_account, pressed_statement
from handlers.balance.callbacks import BalanceAction, BalanceCb, PeriodsPageCb, ServiceReceiptCb
from handlers.common.callbacks import AccountPickCb, PickPurpose
from handlers.common.filters import PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.main_menu import MenuItem
from handlers.common.picker import pick_account, picker_keyboard, picker_text
from handlers.common.states import BalanceSum
from handlers.common.texts import BTN_BALANCE, not_available


async def screen(
    statement: Statement,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
    *,
    several: bool | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """`several`: whether the resident has other accounts, when the caller already knows
    (else the links are read)."""
    if several is None:
        several = len(await linking.active_account_ids(resident.id)) > 1
    markup = keyboards.balance(
        statement,
        can_pay=settings.payments_enabled,
        several_accounts=several,
        extra=keyboards.account_actions(statement.account.id),
    )
    return texts.balance_text(statement), markup


async def open_balance(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    balance: BalanceService,
    resident: Resident,
    settings: Settings,
) -> SendMessage | None:
    """The balance of the resident's only account, or the picker of their accounts. The
    screen is returned, not sent (bot.middlewares.ReturnedAnswer): in webhook mode it goes
    as the webhook's reply."""
    await state.clear()
    # one account (most residents): one read of it, not the picker's and then the account's
    statement = await balance.only_statement(resident.id)
    if statement is None:  # none or several: the picker says so or asks which
        account = await pick_account(message, linking, resident, PickPurpose.BALANCE)
        if account is None:
            return None
        statement = await balance.statement(resident.id, account.id)
    if statement is None:  # unlinked between the two reads
        return message.answer(not_available())
    # only one account is linked (either read above said so, in this transaction): no
    # second read of the links for «other accounts»
    text, markup = await screen(statement, linking, resident, settings, several=False)
    return message.answer(text, reply_markup=markup)


async def _show(
    query: CallbackQuery,
    account_id: int,
    period: str,
    linking: LinkingService,
    balance: BalanceService,
    resident: Resident,
    settings: Settings,
) -> None:
    pressed = await pressed_statement(query, balance, resident, account_id, period)
    if pressed is None:
        return
    message, statement = pressed
    await query.answer()
    text, markup = await screen(statement, linking, resident, settings)
    await message.edit_text(text, reply_markup=markup)


async def picked(
    query: CallbackQuery,
    callback_data: AccountPickCb,
    linking: LinkingService,
    balance: BalanceService,
    resident: Resident,
    settings: Settings,
) -> None:
    await _show(query, callback_data.account_id, "", linking, balance, resident, settings)


async def show_month(
    query: CallbackQuery,
    callback_data: BalanceCb,
    linking: LinkingService,
    balance: BalanceService,
    resident: Resident,
    settings: Settings,
) -> None:
    await _show(
        query, callback_data.account_id, callback_data.period, linking, balance, resident, settings
    )


async def _months(
    query: CallbackQuery,
    account_id: int,
    period: str,
    page: int,
    balance: BalanceService,
    resident: Resident,
) -> None:
    pressed = await pressed_statement(query, balance, resident, account_id, period)
    if pressed is None:
        return
    message, statement = pressed
    await query.answer()
    await message.edit_reply_markup(reply_markup=keyboards.periods(statement, page))


async def choose_month(
    query: CallbackQuery, callback_data: BalanceCb, balance: BalanceService, resident: Resident
) -> None:
    await _months(query, callback_data.account_id, callback_data.period, 0, balance, resident)


async def turn_months(
    query: CallbackQuery, callback_data: PeriodsPageCb, balance: BalanceService, resident: Resident
) -> None:
    await _months(
        query, callback_data.account_id, callback_data.period, callback_data.page, balance, resident
    )


async def other_account(query: CallbackQuery, linking: LinkingService, resident: Resident) -> None:
    message = await message_of(query)
    if message is None:
        return
    await query.answer()
    accounts = await linking.active_accounts(resident.id)
    await message.edit_text(
        picker_text(), reply_markup=picker_keyboard(accounts, PickPurpose.BALANCE)
    )


async def history(
    query: CallbackQuery, callback_data: BalanceCb, balance: BalanceService, resident: Resident
) -> None:
    pressed = await pressed_account(query, balance, resident, callback_data.account_id)
    if pressed is None:
        return
    message, account = pressed
    await query.answer()  # before the chart is drawn: Telegram expires a query in ~15 s
    labels = ChartLabels(
        title=texts.chart_title(account.number),
        charged=texts.charged_label(),
        paid=texts.paid_label(),
        currency="₽",
        locale=texts.locale(),
    )
    chart = await balance.history_chart(resident.id, callback_data.account_id, labels)
    if chart is None:
        await message.answer(not_available())
    elif chart.png is None:
        await message.answer(texts.no_history_text())
    else:
        await message.answer_photo(
            BufferedInputFile(chart.png, f"history_{account.number}.png"),
            caption=texts.history_caption(chart.history),
        )


#: the main-menu item of this feature (handlers/common/main_menu.py)
MENU_ITEM: MenuItem = (BTN_BALANCE, open_balance)


def create_router() -> Router:
    router = Router(name="balance")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())
    msg, cb = router.message.register, router.callback_query.register

    cb(picked, AccountPickCb.filter(F.purpose == PickPurpose.BALANCE))
    cb(show_month, BalanceCb.filter(F.action == BalanceAction.SHOW))
    cb(choose_month, BalanceCb.filter(F.action == BalanceAction.PERIODS))
    cb(turn_months, PeriodsPageCb.filter())
    cb(history, BalanceCb.filter(F.action == BalanceAction.HISTORY))
    cb(other_account, BalanceCb.filter(F.action == BalanceAction.ACCOUNTS))

    cb(receipts.menu, BalanceCb.filter(F.action == BalanceAction.RECEIPT))
    cb(receipts.due, BalanceCb.filter(F.action == BalanceAction.RECEIPT_DUE))
    cb(receipts.for_service, ServiceReceiptCb.filter())
    cb(receipts.ask_sum, BalanceCb.filter(F.action == BalanceAction.RECEIPT_SUM))
    msg(receipts.sum_given, StateFilter(BalanceSum.receipt))

    cb(payments.menu, BalanceCb.filter(F.action == BalanceAction.PAY))
    cb(payments.pay_due, BalanceCb.filter(F.action == BalanceAction.PAY_DUE))
    cb(payments.ask_sum, BalanceCb.filter(F.action == BalanceAction.PAY_SUM))
    msg(payments.sum_given, StateFilter(BalanceSum.payment))
    return router


def create_payments_router() -> Router:
    """Pre-checkout queries and successful payments (tried before every feature)."""
    return payments.create_router()
