"""Staff commands over real HTTP (polling and webhook): /find, /stats, bans, notices, and
who may use them — the real bot process against sandbox/, with STAFF_ADMINS_ONLY on.

Olga (the world's operator) administers the staff chat; Пётр is a plain member.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from sandbox.testing import BotMessage
from sandbox.testing import User as SandboxUser
from storage.models import AuditLog, Charge, Notice, Supplier, User
from tests.e2e.conftest import World
from tests.e2e.test_linking_e2e import add_rows, query
from tests.e2e.test_registration_e2e import register
from tests.support import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BOT_ENV = {"STAFF_ADMINS_ONLY": "true"}
NOT_MEMBER = "Команды операторов доступны только участникам чата операторов."
NOT_MEMBER_PRESS = "Решать заявки могут только участники чата операторов."
NOT_ADMIN = "Это решают только администраторы чата операторов (включён STAFF_ADMINS_ONLY)."
ELSEWHERE = "Это работает только в чате операторов."
SEND = "📤 Отправить"

_ids = itertools.count(1)


async def supplier(world: World, code: str, name: str) -> Supplier:
    found = await query(world, select(Supplier).where(Supplier.code == code))
    if found:
        return found[0]  # type: ignore[no-any-return]
    row = f.supplier(code=code, name=name)
    await add_rows(world, row)
    return row


async def ask(world: World, command: str, who: SandboxUser | None = None) -> BotMessage:
    """A command in the staff chat; the bot's reply to it."""
    world.staff.skip_messages()
    sent = await (who or world.operator).send(command, chat=world.staff)
    reply = await world.staff.next_message()
    assert reply.raw.get("reply_to_message", {}).get("message_id") == sent.message_id
    return reply


async def settled(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "the bot did not finish in time"
        await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- /find, /stats
async def test_find_by_each_key_and_pages(world: World) -> None:
    n = next(_ids)
    voda = await supplier(world, "VODA", "Водоканал")
    phone = f"+7916555{n:02}{n:02}"
    street = f"Ромашковая{n}"
    flat = f.account(
        voda, f"77700000{n:02}", address=f"ул. {street}, д. 1", holder="Кузнецова Е. В."
    )
    resident = f.resident(5_000_000 + n, phone)
    resident.first_name = f"Евгения{n}"
    houses = [f.account(voda, f"7780000{n:01}{i:02}", address=f"ул. {street}, д. {i + 2}")
              for i in range(6)]  # fmt: skip
    await add_rows(world, flat, resident, *houses)
    await add_rows(
        world,
        f.link(resident.id, flat.id, "active", "phone"),
        Charge(account_id=flat.id, period="2026-10", service="ХВС", charged=Decimal("321.00"),
               paid=Decimal("0")),
    )  # fmt: skip
    national = f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
    for written in (phone, national, phone[1:]):  # +7…, 8 (…) …, 7…
        reply = await ask(world, f"/find {written}")
        assert f"Евгения{n}" in reply.text and "найдено 1" in reply.text, reply.text
        assert f"77700000{n:02}" in reply.text and "долг 321,00" in reply.text
    assert f"Евгения{n}" in (await ask(world, f"/find 77700000{n:02}")).text  # account number
    assert f"Евгения{n}" in (await ask(world, f"/find евгения{n}")).text  # part of a name
    by_street = await ask(world, f"/find {street.lower()}")  # part of an address
    assert "найдено 7, страница 1 из 2" in by_street.text
    assert by_street.buttons == [["1/2", "▶️"]]
    await world.operator.press("▶️", message=by_street)
    page2 = await world.staff.next_edit()
    assert page2.message_id == by_street.message_id and "страница 2 из 2" in page2.text
    assert (await ask(world, "/find Несуществующая")).text == (
        "По запросу «Несуществующая» ничего не найдено."
    )
    assert (await ask(world, "/find")).text.startswith("Как искать: /find телефон")


async def test_stats(world: World) -> None:
    reply = await ask(world, "/stats")
    assert reply.text.startswith("📊 Сейчас (период ")
    for label in ("Зарегистрированных жителей", "Заявок на привязку ждут решения",
                  "Показаний передано за период", "Открытых обращений",
                  "Заблокированных жителей"):  # fmt: skip
        assert f"{label}: " in reply.text


# --------------------------------------------------------------------------- who may
async def test_non_member_and_non_admin(world: World) -> None:
    outsider = world.sb.user("Мэлори")
    world.staff.add_member(outsider, status="member")
    sending = asyncio.create_task(outsider.send("/find Евгения", chat=world.staff))
    await asyncio.sleep(0)
    world.staff.add_member(outsider, status="left")  # left before the bot looks them up
    await sending
    assert (await world.staff.next_message()).text == NOT_MEMBER
    petr = world.sb.user("Пётр")
    world.staff.add_member(petr, status="member")
    assert (await ask(world, "/ban 1 спам", who=petr)).text == NOT_ADMIN
    assert (await ask(world, "/notice VODA Текст", who=petr)).text == NOT_ADMIN
    assert "Сейчас" in (await ask(world, "/stats", who=petr)).text  # members look things up
    preview = await ask(world, "/notice VODA Воды не будет")
    answer = await petr.press(SEND, message=preview)
    assert (answer.text, answer.show_alert) == (NOT_ADMIN, True)
    # a press by someone who is no longer a member (left before the bot looked them up)
    gone = world.sb.user("Ушедший")
    world.staff.add_member(gone, status="member")
    pressing = asyncio.create_task(gone.press(SEND, message=preview))
    await asyncio.sleep(0)
    world.staff.add_member(gone, status="left")
    answer = await pressing
    assert (answer.text, answer.show_alert) == (NOT_MEMBER_PRESS, True)
    assert await query(world, select(Notice).where(Notice.status != "draft")) == []


async def test_forged_staff_button_in_a_private_chat(world: World) -> None:
    anna = world.resident("Анна")
    await register(anna)
    await anna.send("/find Евгения")
    said = await anna.next_message()
    assert said.text == ELSEWHERE
    for data in ("slk:approve:1", "snote:send:1", "sfind:1"):
        answer = await anna.press_data(data, message=said)
        assert (answer.text, answer.show_alert) == (ELSEWHERE, True)


# --------------------------------------------------------------------------- bans
async def test_banned_resident_is_told_once_then_silence(world: World) -> None:
    boris = world.resident("Борис")
    await register(boris)
    world.staff.skip_messages()
    reply = await ask(world, f"/ban {boris.phone} грубит операторам")
    assert reply.text == f"⛔ Борис (id {boris.id}) заблокирован(а). Причина: грубит операторам"
    await boris.send("Почему не отвечаете?")
    told = await boris.next_message()
    assert told.text.startswith("⛔ Операторы закрыли вам доступ к этому боту.")
    assert told.text.endswith("Причина: грубит операторам")
    for text in ("Ответьте!", "/start", "🏠 Мои лицевые счета", "/help"):
        await boris.send(text)
    await boris.expect_no_message(within=1.5)
    await world.staff.expect_no_message(within=0.5)
    [row] = await query(world, select(User).where(User.id == boris.id))
    assert row.banned_by == world.operator.id and row.banned_reason == "грубит операторам"
    reply = await ask(world, f"/unban {boris.id}")
    assert reply.text == f"✅ Борис (id {boris.id}) разблокирован(а)."
    await boris.send("/start")
    assert "Операторы закрыли" not in (await boris.next_message()).text
    actions = await query(world, select(AuditLog.action).where(AuditLog.object_id == str(boris.id)))
    assert actions[-2:] == ["resident_banned", "resident_unbanned"]


# --------------------------------------------------------------------------- notices
async def test_notice_to_200_residents_under_flood_limits(world: World) -> None:
    code = f"N{world.mode[:3].upper()}{next(_ids)}"
    note = await supplier(world, code, "Теплосеть")
    people = [world.sb.user(f"Житель{i}") for i in range(200)]
    state = world.sb.bot_state()
    for person in people:
        state.started.add(person.id)  # they talked to the bot before
    for person in people[:5]:
        person.block_bot()
    accounts = [f.account(note, f"9{i:09}") for i in range(200)]
    await add_rows(
        world, *accounts, *(f.resident(p.id, f"+7999{p.id % 10_000_000:07}") for p in people)
    )
    await add_rows(
        world,
        *(f.link(p.id, a.id, "active", "phone") for p, a in zip(people, accounts, strict=True)),
    )
    limits = world.sb.enforce_limits()  # 429 like Telegram past 30/s, bursts, groups
    try:
        preview = await ask(world, f"/notice {code} Горячей воды не будет 5 декабря.")
        assert "получателей: 200" in preview.text
        assert (await world.operator.press(SEND, message=preview)).text == "Отправляю."
        progress = await world.staff.next_message()
        assert progress.text.startswith("📢 Объявление №")
        started = asyncio.get_running_loop().time()
        await settled(lambda: "разослано" in progress.text, timeout=60.0)
        took = asyncio.get_running_loop().time() - started
    finally:
        state.rate_limits = None
    assert progress.text.endswith(
        "разослано: доставлено 195, заблокировали бота 5, не удалось 0 (из 200)."
    )
    ids = {p.id for p in people}
    calls = [c for c in world.sb.sent(method="sendMessage") if c.chat_id in ids]
    assert len(calls) == 200 and sum(c.ok for c in calls) == 195
    assert limits.refused == 0  # never over Telegram's limits
    times = sorted(c.time for c in calls)
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= 30
    print(
        f"notice: 200 in {times[-1] - times[0]:.1f} s, busiest second {busiest}, took {took:.1f} s"
    )
    assert times[-1] - times[0] >= 200 / 30 - 1 and took < 40
    line = (progress.message_id, str(progress.message_id))
    edits = [
        c.time
        for c in world.sb.sent(world.staff.id, "editMessageText")
        if c.params.get("message_id") in line
    ]
    assert len(edits) >= 2 and all(b - a >= 1.9 for a, b in itertools.pairwise(edits[:-1]))
    [notice] = await query(world, select(Notice).where(Notice.supplier_id == note.id))
    assert (notice.status, notice.delivered, notice.blocked, notice.failed) == ("done", 195, 5, 0)
    blocked = await query(world, select(User).where(User.id.in_([p.id for p in people[:5]])))
    assert all(u.inactive_since is not None for u in blocked)
