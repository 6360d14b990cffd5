"""The sandbox's payments: sendInvoice, the pre-checkout query with its 10 s answer, the
successful_payment message and its second delivery, driven by aiogram's real Bot."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice, Message, PreCheckoutQuery

from sandbox import Sandbox
from sandbox.methods.payments import deliver_again, pay

from .conftest import make_bot

PRICES = [LabeledPrice(label="ЖКУ", amount=123456)]


async def test_an_invoice_is_checked_like_telegram_does(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user("Alice")
    await alice.send("/start")
    sent = await bot.send_invoice(
        alice.id, "Счёт № 1", "Оплата", "kb1:1:d:123456", "RUB", PRICES, provider_token="t"
    )
    assert sent.invoice is not None and sent.invoice.total_amount == 123456
    assert sent.invoice.currency == "RUB" and sent.invoice.title == "Счёт № 1"
    with pytest.raises(TelegramBadRequest, match="INVOICE_TITLE_INVALID"):
        await bot.send_invoice(alice.id, "x" * 33, "d", "p", "RUB", PRICES, provider_token="t")
    with pytest.raises(TelegramBadRequest, match="PAYMENT_PROVIDER_INVALID"):
        await bot.send_invoice(alice.id, "t", "d", "p", "RUB", PRICES)
    with pytest.raises(TelegramBadRequest, match="CURRENCY_TOTAL_AMOUNT_INVALID"):
        bad = [LabeledPrice(label="x", amount=0)]
        await bot.send_invoice(alice.id, "t", "d", "p", "RUB", bad, provider_token="t")
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_pre_checkout_query("nope", ok=True)


async def test_pay_answer_and_deliver_again(sb: Sandbox) -> None:
    dp = Dispatcher()
    seen: list[str] = []

    @dp.message(F.text == "/buy")
    async def buy(message: Message) -> None:
        await message.answer_invoice(
            "Счёт", "Оплата", "order-7", "RUB", PRICES, provider_token="token"
        )

    @dp.pre_checkout_query()
    async def check(query: PreCheckoutQuery) -> None:
        ok = query.invoice_payload == "order-7" and query.total_amount == 123456
        await query.answer(ok=ok, error_message=None if ok else "no")

    @dp.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        seen.append(message.successful_payment.telegram_payment_charge_id)
        await message.answer("спасибо")

    client = make_bot(sb)
    polling = asyncio.create_task(dp.start_polling(client, handle_signals=False, polling_timeout=1))
    try:
        await sb.wait_until_receiving()
        alice = sb.user("Alice")
        await alice.send("/buy")
        invoice = await alice.next_message()
        assert invoice.raw["invoice"]["total_amount"] == 123456
        result = await pay(alice, invoice)
        assert result.ok and result.charge_id
        assert (await alice.next_message()).text == "спасибо"
        deliver_again(alice, result)
        assert (await alice.next_message()).text == "спасибо"
        assert seen == [result.charge_id, result.charge_id]  # the same payment, twice
    finally:
        await dp.stop_polling()
        await polling


async def test_a_refused_or_unanswered_checkout_takes_no_money(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user("Alice")
    await alice.send("/start")
    await bot.send_invoice(alice.id, "t", "d", "p", "RUB", PRICES, provider_token="t")
    invoice = alice.last_message
    assert invoice is not None
    result = await pay(alice, invoice, timeout=0.2)  # nobody answers
    assert not result.ok and result.charge_id is None
    [update] = [u for u in await bot.get_updates() if u.pre_checkout_query]
    assert update.pre_checkout_query is not None
    await asyncio.sleep(0)  # the query stays answerable until Telegram's 10 s pass
    assert await bot.answer_pre_checkout_query(
        update.pre_checkout_query.id, ok=False, error_message="no"
    )
    with pytest.raises(TelegramBadRequest):  # answered once only
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
