"""Payment in Telegram end to end: the real bot process with a provider token, sandbox/
as Telegram, a resident of the demo data paying their debt once (however often Telegram
delivers the payment), and a payment stopped because the account was unlinked meanwhile.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from bot.services.clock import SystemClock
from sandbox.methods.payments import deliver_again, pay
from sandbox.testing import User as SandboxUser
from storage.db import Database
from storage.models import AccountLink, Payment
from tests.e2e.conftest import World
from tests.e2e.test_registration_e2e import register
from tests.support import factories as f
from tests.support.balance import account_id

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BOT_ENV = {"PAYMENTS_PROVIDER_TOKEN": "381764678:TEST:payments", "RENDER_WORKERS": "0"}
BALANCE = "💳 Баланс"


async def linked_resident(world: World, case: str) -> tuple[SandboxUser, int, Database]:
    """A registered resident with an active link to the demo account of `case`."""
    from bot.services.demo import seed_demo

    db = Database(world.database_url)
    demo = await seed_demo(db, SystemClock())
    account = await account_id(db, getattr(demo, case))
    user = world.resident()
    await register(user)
    await f.add(db, f.link(user.id, account, "active", "phone"))
    return user, account, db


async def payments(db: Database, account: int) -> list[tuple[Decimal, str | None]]:
    async with db.session_maker() as s:
        rows = await s.execute(
            select(Payment.amount, Payment.telegram_charge_id).where(
                Payment.account_id == account, Payment.telegram_charge_id.is_not(None)
            )
        )
        return [(r.amount, r.telegram_charge_id) for r in rows]


async def test_a_debtor_pays_once(world: World) -> None:
    user, account, db = await linked_resident(world, "debtor")
    try:
        await user.send(BALANCE)
        shown = await user.next_message()
        assert "Задолженность сейчас:" in shown.text
        await user.press("💳 Оплатить в Telegram", message=shown)
        menu = await user.next_edit()
        [pay_button] = [b for row in menu.buttons for b in row if b.startswith("Оплатить долг")]
        await user.press(pay_button, message=menu)
        invoice = await user.next_message()
        kopecks = invoice.raw["invoice"]["total_amount"]
        assert invoice.raw["invoice"]["currency"] == "RUB" and kopecks > 100_000

        paid = await pay(user, invoice)
        assert paid.ok, paid.error_message
        receipt = await user.next_message()
        assert receipt.text.startswith("✅ Платёж получен:") and str(paid.charge_id) in receipt.text
        assert "Задолженности сейчас нет." in receipt.text
        assert await payments(db, account) == [(Decimal(kopecks) / 100, paid.charge_id)]

        deliver_again(user, paid)  # Telegram delivers the same payment once more
        await user.expect_no_message(within=1.5)
        assert len(await payments(db, account)) == 1

        await user.send(BALANCE)  # the balance shows it at once
        after = await user.next_message()
        assert "Оплачено в Telegram, ещё не учтено поставщиком:" in after.text
        assert "Задолженности сейчас нет." in after.text and "в Telegram" in after.text
    finally:
        await db.dispose()


async def test_a_checkout_for_an_account_unlinked_meanwhile_is_refused(world: World) -> None:
    user, account, db = await linked_resident(world, "typical")
    try:
        await user.send(BALANCE)
        shown = await user.next_message()
        await user.press("💳 Оплатить в Telegram", message=shown)
        menu = await user.next_edit()
        await user.press("✏️ Другая сумма", message=menu)
        assert "Напишите сумму" in (await user.next_message()).text
        await user.send("1 500,50")
        invoice = await user.next_message()
        assert invoice.raw["invoice"]["total_amount"] == 150050

        async with db.session_maker() as s:  # unlinked in «My accounts» on another device
            await s.execute(delete(AccountLink).where(AccountLink.user_id == user.id))
            await s.commit()
        paid = await pay(user, invoice)
        assert not paid.ok
        assert paid.error_message == (
            "Этот лицевой счёт больше не привязан к вам: оплата остановлена."
        )
        await user.expect_no_message(within=1.0)
        assert await payments(db, account) == []
    finally:
        await db.dispose()


async def replies(world: World) -> float:
    """How many answers the running bot gave as webhook replies (its /metrics)."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{world.bot.web_port}/metrics") as response,
    ):
        text = await response.text()
    prefix = 'kabinet_telegram_requests_total{method="sendMessage",outcome="reply"} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


async def test_the_balance_screen_comes_once_by_webhook_reply_or_request(world: World) -> None:
    """Webhook: the screen is the reply to Telegram's request (bot.middlewares.ReturnedAnswer).
    Long polling: the bot sends it, a 429 waited out like any answer's."""
    user, _account, db = await linked_resident(world, "debtor")
    try:
        # a resident reads the menu a moment: an answer to a chat that got a message less
        # than a second ago goes as a request (bot.telegram.pressure, Telegram's chat limit)
        await asyncio.sleep(1.1)
        before = await replies(world)
        if world.mode == "polling":
            world.sb.simulate_flood("sendMessage", retry_after=1, times=1, chat_id=user.id)
        await user.send(BALANCE)
        shown = await user.next_message()
        assert "Задолженность сейчас:" in shown.text and shown.buttons
        assert await replies(world) - before == (1 if world.mode == "webhook" else 0)
        screens = [
            call
            for call in world.sb.sent(chat_id=user.id, method="sendMessage", ok=True)
            if "Задолженность сейчас:" in call.params["text"]
        ]
        assert len(screens) == 1
        refused = world.sb.sent(chat_id=user.id, method="sendMessage", ok=False)
        assert [c.error_code for c in refused] == ([429] if world.mode == "polling" else [])
        await user.press("💳 Оплатить в Telegram", message=shown)  # its buttons work
        assert any(
            b.startswith("Оплатить долг") for row in (await user.next_edit()).buttons for b in row
        )
    finally:
        await db.dispose()
