"""Receipts: the menu, the amount due, one service, a typed sum; the PDF and its QR code."""

from __future__ import annotations

from aiogram.enums import ChatAction
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.services.balance import BalanceService
from bot.services.balance.money import MAX_SUM, SumRejected, parse_sum
from bot.services.receipts import ReceiptKind, ReceiptOutcome, ReceiptResult, ReceiptService
from bot.services.registration import Resident
from handlers.balance import keyboards, texts
from handlers.balance.base import ask_for_sum, message_of, pressed_statement
from handlers.balance.callbacks import BalanceCb, ServiceReceiptCb
from handlers.common.states import BalanceSum
from handlers.common.texts import not_available


async def send(message: Message, result: ReceiptResult) -> None:
    """The PDF, then the QR code as a picture to scan from a second screen."""
    if result.outcome is ReceiptOutcome.UNAVAILABLE:
        await message.answer(not_available())
        return
    if result.outcome is ReceiptOutcome.NO_CHARGES:
        await message.answer(texts.no_charges_for_receipt())
        return
    if result.outcome is ReceiptOutcome.NOTHING_DUE or result.file is None:
        await message.answer(texts.nothing_due_text())
        return
    file = result.file
    await message.answer_document(
        BufferedInputFile(file.pdf, file.filename),
        caption=texts.receipt_caption(file.account_number, file.period, file.amount),
    )
    if file.qr_png is None:
        await message.answer(texts.no_qr_text())
        return
    await message.answer_photo(
        BufferedInputFile(file.qr_png, file.filename.replace(".pdf", "_qr.png")),
        caption=texts.qr_caption(file.amount, file.supplier_name),
    )


async def menu(
    query: CallbackQuery, callback_data: BalanceCb, balance: BalanceService, resident: Resident
) -> None:
    pressed = await pressed_statement(
        query, balance, resident, callback_data.account_id, callback_data.period
    )
    if pressed is None:
        return
    message, statement = pressed
    if statement.period is None:
        await query.answer(texts.no_charges_for_receipt(), show_alert=True)
        return
    await query.answer()
    await message.edit_text(
        texts.receipt_menu_text(statement), reply_markup=keyboards.receipt_menu(statement)
    )


async def _make(
    query: CallbackQuery,
    receipts: ReceiptService,
    resident: Resident,
    account_id: int,
    period: str,
    kind: ReceiptKind,
    charge_id: int | None = None,
) -> None:
    message = await message_of(query)
    if message is None:
        return
    draft = await receipts.draft(resident.id, account_id, period or None, kind, charge_id=charge_id)
    if draft.outcome is ReceiptOutcome.UNAVAILABLE:  # a forged or stale button
        await query.answer(not_available(), show_alert=True)
        return
    if draft.outcome is ReceiptOutcome.READY:
        await query.answer(texts.preparing_text())  # before the PDF is drawn
        if message.bot is not None:
            await message.bot.send_chat_action(message.chat.id, ChatAction.UPLOAD_DOCUMENT)
    else:  # no charges, nothing due: said in a message by `send`
        await query.answer()
    await send(message, await receipts.render(draft))


async def due(
    query: CallbackQuery, callback_data: BalanceCb, receipts: ReceiptService, resident: Resident
) -> None:
    await _make(
        query, receipts, resident, callback_data.account_id, callback_data.period, ReceiptKind.DUE
    )


async def for_service(
    query: CallbackQuery,
    callback_data: ServiceReceiptCb,
    receipts: ReceiptService,
    resident: Resident,
) -> None:
    await _make(
        query,
        receipts,
        resident,
        callback_data.account_id,
        callback_data.period,
        ReceiptKind.SERVICE,
        charge_id=callback_data.charge_id,
    )


async def ask_sum(
    query: CallbackQuery,
    callback_data: BalanceCb,
    state: FSMContext,
    balance: BalanceService,
    resident: Resident,
) -> None:
    await ask_for_sum(query, callback_data, state, balance, resident, BalanceSum.receipt)


async def sum_given(
    message: Message, state: FSMContext, receipts: ReceiptService, resident: Resident
) -> None:
    try:
        amount = parse_sum(message.text or "")
    except SumRejected as exc:
        await message.answer(texts.sum_problem_text(exc.problem, MAX_SUM))
        return
    data = await state.get_data()
    await state.clear()
    draft = await receipts.draft(
        resident.id,
        int(data.get("account_id", 0)),
        str(data.get("period") or "") or None,
        ReceiptKind.SUM,
        amount=amount,
    )
    if draft.outcome is ReceiptOutcome.READY:
        await message.answer(texts.preparing_text())
    await send(message, await receipts.render(draft))
