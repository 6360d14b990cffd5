"""Payment in Telegram through the production Dispatcher: the invoice, the pre-checkout
check, the payment stored once; the e2e twin runs over HTTP against sandbox/."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from handlers.balance.callbacks import BalanceAction, BalanceCb
from storage.db import Database
from storage.models import Payment
from tests.support.balance import seed_linked
from tests.support.harness import BotHarness, Person, texts

ANNA = Person(811, "Anna")
TOKEN = "381764678:TEST:handlers"
DEBT = 3327018  # the demo debtor's debt in kopecks


@pytest.fixture
async def h(
    make_settings: Callable[..., Settings], db: Database, clock: FrozenClock
) -> AsyncIterator[BotHarness]:
    from bot.app import create_dispatcher

    settings = make_settings(payments_provider_token=TOKEN)
    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=LogSmsGateway()))
    harness = BotHarness(dp)
    yield harness
    await dp.storage.close()


async def checkout(h: BotHarness, payload: str, total: int, currency: str = "RUB") -> Any:
    calls = await h.feed(
        {
            "pre_checkout_query": {
                "id": f"pcq{time.monotonic_ns()}",
                "from": ANNA.as_user(),
                "currency": currency,
                "total_amount": total,
                "invoice_payload": payload,
            }
        }
    )
    [answer] = [c for c in calls if c.method == "answerPreCheckoutQuery"]
    return answer.params


async def paid(h: BotHarness, payload: str, total: int, charge_id: str) -> list[Any]:
    return await h.send(
        ANNA,
        successful_payment={
            "currency": "RUB",
            "total_amount": total,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": f"prov-{charge_id}",
        },
    )


async def test_the_invoice_for_the_debt(h: BotHarness, db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("debtor",))
    debtor = seeded.ids["debtor"]
    [shown] = await h.send(ANNA, "💳 Баланс")
    assert "💳 Оплатить в Telegram" in shown.button_texts()
    calls = await h.press(ANNA, shown.callback_of("💳 Оплатить в Telegram"))
    [menu] = [c for c in calls if c.method == "editMessageText"]
    calls = await h.press(ANNA, menu.callback_of("Оплатить долг: 33\u00a0270,18\u00a0₽"))
    [invoice] = [c for c in calls if c.method == "sendInvoice"]
    p = invoice.params
    assert p["currency"] == "RUB" and p["provider_token"] == TOKEN
    assert p["prices"] == [{"label": "Жилищно-коммунальные услуги", "amount": DEBT}]
    assert p["payload"] == f"kb1:{debtor}:d:{DEBT}"
    assert p["title"] == f"Лицевой счёт № {seeded.demo.debtor.number}"


async def test_the_pre_checkout_is_checked_again(
    h: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("debtor", "overpaid"))
    debtor, overpaid = seeded.ids["debtor"], seeded.ids["overpaid"]
    ok = await checkout(h, f"kb1:{debtor}:d:{DEBT}", DEBT)
    assert ok["ok"] is True and "error_message" not in ok
    wrong_total = await checkout(h, f"kb1:{debtor}:d:{DEBT}", DEBT - 1)
    assert wrong_total["ok"] is False and "больше не действует" in wrong_total["error_message"]
    dollars = await checkout(h, f"kb1:{debtor}:s:150000", 150000, currency="USD")
    assert dollars["ok"] is False
    changed = await checkout(h, f"kb1:{debtor}:d:{DEBT + 100}", DEBT + 100)
    assert changed["ok"] is False and "Сумма к оплате изменилась" in changed["error_message"]
    typed = await checkout(h, f"kb1:{overpaid}:s:150000", 150000)
    assert typed["ok"] is True  # a sum of one's choice, even with no debt
    other = await checkout(h, "kb1:1:s:150000", 150000)  # someone else's account
    assert other["ok"] is False and "больше не привязан" in other["error_message"]


async def test_a_payment_is_stored_once_and_shown(
    h: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("debtor",))
    debtor = seeded.ids["debtor"]
    payload = f"kb1:{debtor}:d:{DEBT}"
    clock.advance(minutes=5)  # after billing's import of the charges
    first = await paid(h, payload, DEBT, "tg-charge-1")
    [told] = texts(first)
    assert told.startswith("✅ Платёж получен: 33\u00a0270,18\u00a0₽ по лицевому счёту")
    assert "<code>tg-charge-1</code>" in told and "Задолженности сейчас нет." in told
    assert texts(await paid(h, payload, DEBT, "tg-charge-1")) == []  # delivered again
    async with db.session_maker() as s:
        rows = (await s.execute(select(Payment).where(Payment.account_id == debtor))).scalars()
        mine = [p for p in rows if p.telegram_charge_id]
    assert [(p.amount, p.source, p.paid_at.isoformat()) for p in mine] == [
        (Decimal("33270.18"), "Telegram", "2026-11-20")
    ]
    # the same sum the same day again is another payment with its own charge id
    assert texts(await paid(h, f"kb1:{debtor}:s:{DEBT}", DEBT, "tg-charge-2"))
    [balance] = texts(await h.send(ANNA, "💳 Баланс"))
    assert "Переплата сейчас: 33\u00a0270,18\u00a0₽" in balance
    assert "Последний платёж: 20.11.2026, 33\u00a0270,18\u00a0₽, в Telegram" in balance


async def test_typed_sums_and_a_refused_invoice(
    h: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("overpaid",))
    account = seeded.ids["overpaid"]
    no_debt = BalanceCb(action=BalanceAction.PAY_DUE, account_id=account).pack()
    assert "Задолженности по этому счёту сейчас нет" in texts(await h.press(ANNA, no_debt))[-1]
    ask = BalanceCb(action=BalanceAction.PAY_SUM, account_id=account).pack()
    await h.press(ANNA, ask)
    assert texts(await h.send(ANNA, "5")) == ["Оплата в Telegram — от 10,00\u00a0₽."]
    await h.press(ANNA, ask)
    h.session.queue(
        "sendInvoice",
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID",
        },
    )
    assert "Telegram сейчас не принял платёжную форму" in texts(await h.send(ANNA, "700"))[-1]
    await h.press(ANNA, ask)
    [invoice] = [c for c in await h.send(ANNA, "700") if c.method == "sendInvoice"]
    assert invoice.params["payload"] == f"kb1:{account}:s:70000"
