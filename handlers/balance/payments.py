"""Payment in Telegram: the menu, invoices, the pre-checkout check and the payment itself.

Offered only with PAYMENTS_PROVIDER_TOKEN. The pre-checkout query is answered at once
(Telegram waits 10 s); the successful payment is stored before the resident is told.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services.balance import BalanceService
from bot.services.balance.money import CURRENCY, MAX_SUM, SumProblem, SumRejected, parse_sum
from bot.services.balance.payments import (
    MIN_PAYMENT,
    CheckOutcome,
    InvoiceKind,
    InvoiceOutcome,
    PaymentsService,
    RecordOutcome,
)
from bot.services.registration import Resident
from handlers.balance import keyboards, texts
from handlers.balance.base import ask_for_sum, pressed_account, pressed_statement
from handlers.balance.callbacks import BalanceAction, BalanceCb
from handlers.common.filters import PrivateChat, SuccessfulPayment
from handlers.common.states import BalanceSum
from handlers.common.texts import not_available

log = logging.getLogger("kabinet.payments")


async def menu(
    query: CallbackQuery, callback_data: BalanceCb, balance: BalanceService, resident: Resident
) -> None:
    pressed = await pressed_statement(query, balance, resident, callback_data.account_id)
    if pressed is None:
        return
    message, statement = pressed
    await query.answer()
    await message.edit_text(
        texts.pay_menu_text(statement), reply_markup=keyboards.pay_menu(statement)
    )


async def _send_invoice(
    message: Message,
    payments: PaymentsService,
    resident: Resident,
    settings: Settings,
    account_id: int,
    amount: Decimal | None,
) -> str | None:
    """Sends the invoice; otherwise returns what to tell the resident."""
    invoice = await payments.invoice(resident.id, account_id, amount)
    if invoice.outcome is InvoiceOutcome.UNAVAILABLE or invoice.account is None:
        return not_available()
    if invoice.outcome is InvoiceOutcome.NOTHING_DUE:
        return texts.nothing_to_pay_text()
    if invoice.outcome is InvoiceOutcome.TOO_SMALL:
        return texts.too_small_text(MIN_PAYMENT)
    if invoice.outcome is InvoiceOutcome.TOO_LARGE:
        return texts.sum_problem_text(SumProblem.TOO_LARGE, MAX_SUM)
    assert settings.payments_provider_token is not None
    account = invoice.account
    try:
        await message.answer_invoice(
            title=texts.invoice_title(account.number),
            description=texts.invoice_description(
                account.payee.name, account.address, invoice.kind is InvoiceKind.DUE
            ),
            payload=invoice.payload,
            provider_token=settings.payments_provider_token.get_secret_value(),
            currency=CURRENCY,
            prices=[LabeledPrice(label=texts.invoice_label(), amount=invoice.kopecks)],
        )
    except TelegramBadRequest as exc:
        log.warning("sendInvoice refused for account %s: %s", account.id, exc.message)
        return texts.invoice_failed_text()
    return None


async def pay_due(
    query: CallbackQuery,
    callback_data: BalanceCb,
    payments: PaymentsService,
    balance: BalanceService,
    resident: Resident,
    settings: Settings,
) -> None:
    pressed = await pressed_account(query, balance, resident, callback_data.account_id)
    if pressed is None:
        return
    message, _account = pressed
    await query.answer()
    problem = await _send_invoice(
        message, payments, resident, settings, callback_data.account_id, None
    )
    if problem is not None:
        await message.answer(problem)


async def ask_sum(
    query: CallbackQuery,
    callback_data: BalanceCb,
    state: FSMContext,
    balance: BalanceService,
    resident: Resident,
) -> None:
    await ask_for_sum(query, callback_data, state, balance, resident, BalanceSum.payment)


async def sum_given(
    message: Message,
    state: FSMContext,
    payments: PaymentsService,
    resident: Resident,
    settings: Settings,
) -> None:
    try:
        amount = parse_sum(message.text or "")
    except SumRejected as exc:
        await message.answer(texts.sum_problem_text(exc.problem, MAX_SUM))
        return
    account_id = int((await state.get_data()).get("account_id", 0))
    await state.clear()
    problem = await _send_invoice(message, payments, resident, settings, account_id, amount)
    if problem is not None:
        await message.answer(problem)


CHECKOUT_ERRORS = {
    CheckOutcome.UNAVAILABLE: texts.checkout_unavailable,
    CheckOutcome.INVALID: texts.checkout_invalid,
    CheckOutcome.CHANGED: texts.checkout_changed,
}


async def pre_checkout(query: PreCheckoutQuery, payments: PaymentsService) -> None:
    try:
        outcome = await payments.check(
            query.from_user.id, query.invoice_payload, query.currency, query.total_amount
        )
    except Exception:  # answered in any case: Telegram cancels the payment after 10 s
        log.exception("pre-checkout check failed")
        await query.answer(ok=False, error_message=texts.checkout_invalid())
        return
    if outcome is CheckOutcome.OK:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=CHECKOUT_ERRORS[outcome]())


def _to_balance(account_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("💳 Balance"),
                    callback_data=BalanceCb(
                        action=BalanceAction.SHOW, account_id=account_id
                    ).pack(),
                )
            ]
        ]
    )


async def paid(message: Message, payments: PaymentsService) -> None:
    payment = message.successful_payment
    assert payment is not None and message.from_user is not None
    recorded = await payments.record(
        message.from_user.id,
        payload=payment.invoice_payload,
        currency=payment.currency,
        total_amount=payment.total_amount,
        charge_id=payment.telegram_payment_charge_id,
        provider_charge_id=payment.provider_payment_charge_id,
    )
    if recorded.outcome is RecordOutcome.DUPLICATE:
        return  # told when it was stored
    if recorded.outcome is RecordOutcome.INVALID:
        await message.answer(texts.payment_not_matched_text())
        return
    text = texts.paid_text(
        recorded.amount, recorded.account_number, recorded.supplier_name, recorded.charge_id
    )
    markup = None
    if recorded.statement is not None:
        text += "\n\n" + texts.standing_now(recorded.statement)
        markup = _to_balance(recorded.statement.account.id)
    await message.answer(text, reply_markup=markup)


def create_router() -> Router:
    """Payments' updates, tried before every feature: a successful payment is a message that
    must never be taken as an answer to a conversation step."""
    router = Router(name="balance-payments")
    router.message.filter(PrivateChat())
    router.message.register(paid, SuccessfulPayment())
    router.pre_checkout_query.register(pre_checkout)
    return router
