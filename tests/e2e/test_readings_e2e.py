"""Meter readings over real HTTP, in long polling and in webhook mode: a resident sends
readings, an operator decides the unusual one in the staff chat, the bot's own scheduler
reminds a resident and the reminder's button opens the submission.

Billing data is seeded straight into the bot's SQLite file (a supplier whose window is
open every day, so the tests pass on any date). Reminders run every second here, at any
hour; residents of the conversation tests turn them off first, as a resident can.
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from sandbox.testing import User as SandboxUser
from storage.db import Database
from storage.models import Reading, ReminderLog, Supplier, User
from tests.e2e.conftest import World
from tests.e2e.test_registration_e2e import register
from tests.support import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BOT_ENV = {
    "READING_REMINDER_CHECK_SECONDS": "1",
    "READING_REMINDER_FROM_HOUR": "0",
    "READING_REMINDER_TO_HOUR": "24",
}

READINGS = "📟 Показания счётчиков"
SEND = "✅ Отправить"
YES = "✅ Да, всё верно"
SKIP = "⏭ Пропустить"
ACCEPT = "✅ Принять"
SEND_READINGS = "📟 Передать показания"

_numbers = itertools.count(1)


async def _db(world: World) -> Database:
    return Database(world.database_url)


async def seed(world: World, user: SandboxUser, *, reminders: bool) -> dict[str, Any]:
    """An account of «Теплосеть» (window open every day) with cold water (last 130,000 m³,
    +5 a month for seven months) linked to the resident."""
    number = str(3_000_000_000 + next(_numbers))
    db = await _db(world)
    try:
        async with db.session_maker() as s:
            supplier = (
                await s.execute(select(Supplier).where(Supplier.code == "TEPLO"))
            ).scalar_one_or_none() or f.supplier(code="TEPLO", name="Теплосеть", window=(1, 31))
            account = f.account(supplier, number)
            s.add(account)
            await s.flush()
            meter = f.meter(account, f"ХВ{number[-4:]}")
            s.add(meter)
            await s.flush()
            months = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
            s.add_all(f.billing_reading(meter, p, str(100 + 5 * n)) for n, p in enumerate(months))
            await s.execute(
                update(User).where(User.id == user.id).values(reading_reminders=reminders)
            )
            s.add(f.link(user.id, account.id, "active", "phone"))
            await s.commit()
            return {"account": account.id, "meter": meter.id, "number": number}
    finally:
        await db.dispose()


async def readings_of(world: World, meter_id: int) -> list[tuple[Decimal, str]]:
    db = await _db(world)
    try:
        async with db.session_maker() as s:
            rows = (
                await s.execute(
                    select(Reading)
                    .where(Reading.meter_id == meter_id, Reading.source == "bot")
                    .order_by(Reading.id)
                )
            ).scalars()
            return [(r.value, r.status) for r in rows]
    finally:
        await db.dispose()


async def test_a_resident_sends_and_an_operator_accepts(world: World) -> None:
    anna = world.resident("Анна")
    await register(anna)
    ids = await seed(world, anna, reminders=False)
    await anna.send(READINGS)
    prompt = await anna.next_message()
    assert "Холодная вода № ХВ" in prompt.text and "последнее 130,000 м³" in prompt.text
    await anna.send("200")
    caution = await anna.next_message()
    assert "намного больше вашего обычного" in caution.text
    await anna.press(YES, message=caution)
    summary = await anna.next_message()
    assert "200,000 м³" in summary.text and "проверит оператор" in summary.text
    await anna.press(SEND, message=summary)
    sent = await anna.next_message()
    assert sent.text.startswith("✅ Отправлено")
    assert await readings_of(world, ids["meter"]) == [(Decimal("200"), "pending")]

    card = await world.staff.next_message()
    assert f"лицевой счёт {ids['number']}" in card.text and card.buttons == [
        [ACCEPT, "❌ Отклонить"]
    ]
    answer = await world.operator.press(ACCEPT, message=card)
    assert answer.text == "Принято."
    told = await anna.next_message()
    assert told.text.startswith("✅ Оператор принял ваше показание 200,000 м³")
    await world.staff.next_edit()
    assert "✅ Принял(а) Ольга" in card.text and card.buttons == []
    assert await readings_of(world, ids["meter"]) == [(Decimal("200"), "accepted")]


async def test_a_double_press_on_send_stores_once(world: World) -> None:
    boris = world.resident("Борис")
    await register(boris)
    ids = await seed(world, boris, reminders=False)
    await boris.send(READINGS)
    await boris.next_message()
    await boris.send("131,5")
    summary = await boris.next_message()
    first, second = await asyncio.gather(
        boris.press(SEND, message=summary), boris.press(SEND, message=summary)
    )
    assert "Эти показания уже отправлены." in (first.text or "") + (second.text or "")
    assert await readings_of(world, ids["meter"]) == [(Decimal("131.5"), "accepted")]


async def test_the_bots_scheduler_reminds_and_the_button_opens_the_submission(
    world: World,
) -> None:
    vera = world.resident("Вера")
    await register(vera)
    ids = await seed(world, vera, reminders=True)
    reminder = await vera.next_message(timeout=20)
    assert f"лицевой счёт № {ids['number']} (Теплосеть)" in reminder.text
    assert reminder.buttons == [[SEND_READINGS]]
    await vera.press(SEND_READINGS, message=reminder)
    prompt = await vera.next_message()
    assert "Холодная вода № ХВ" in prompt.text
    await asyncio.sleep(2.5)  # more rounds of the scheduler: no second reminder
    await vera.expect_no_message(within=0.5)
    db = await _db(world)
    try:
        async with db.session_maker() as s:
            logged = (
                await s.execute(select(ReminderLog).where(ReminderLog.user_id == vera.id))
            ).scalars()
            assert [r.status for r in logged] == ["sent"]
    finally:
        await db.dispose()
