"""/notice: preview, Send / Cancel, the run with its progress line, blocked residents."""

from __future__ import annotations

from sqlalchemy import select

from bot.telegram.notice_board import NoticeRunner
from storage.db import Database
from storage.models import Notice, NoticeRecipient, User
from tests.conftest import STAFF_CHAT_ID
from tests.support import factories as f
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

OLGA = Person(901, "Olga")
PETR = Person(902, "Petr")
RESIDENTS = [Person(800 + i, f"R{i}", phone=f"+7916000000{i}") for i in range(5)]


async def seed(db: Database) -> None:
    voda, elec = f.supplier(), f.supplier(code="ELEC", name="Энергосбыт")
    flats = [f.account(voda, f"100000000{i}") for i in range(5)]
    power = f.account(elec, "5000000001")
    people = [f.resident(p.id, p.phone, language="en" if i == 4 else None)
              for i, p in enumerate(RESIDENTS)]  # fmt: skip
    await f.add(db, voda, elec, *flats, power, *people)
    links = [f.link(p.id, a.id, "active", "phone") for p, a in zip(RESIDENTS, flats, strict=True)]
    links[3].status = "pending"  # not linked yet: gets nothing
    await f.add(db, *links, f.link(RESIDENTS[0].id, power.id, "active", "phone"))


async def preview(h: BotHarness, text: str = "/notice VODA 5 декабря не будет <воды>") -> Call:
    calls = await h.send(OLGA, text, chat_id=STAFF_CHAT_ID)
    return [c for c in calls if c.method == "sendMessage"][-1]


async def test_notice_preview_send_and_final_count(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card = await preview(harness)
    assert card.text == (
        "Предпросмотр объявления №1 (поставщик: Водоканал, получателей: 4):\n\n"
        "📢 <b>Объявление: Водоканал</b>\n\n5 декабря не будет &lt;воды&gt;"
    )
    assert card.button_texts() == ["📤 Отправить", "✖️ Отмена"]
    runner: NoticeRunner = harness.dp["notice_runner"]
    calls = await harness.press(
        OLGA, card.callback_of("📤 Отправить"), chat_id=STAFF_CHAT_ID, message_id=50
    )
    assert answers(calls)[0].params["text"] == "Отправляю."
    await runner.wait()
    sent = [c for c in harness.session.calls if c.method == "sendMessage"]
    to_residents = {c.chat_id: c.text for c in sent if (c.chat_id or 0) > 0}
    assert set(to_residents) == {800, 801, 802, 804}
    assert to_residents[804] == (
        "📢 <b>Notice from Водоканал</b>\n\n5 декабря не будет &lt;воды&gt;"
    )  # in the resident's language
    staff = [c for c in harness.session.calls if c.chat_id == STAFF_CHAT_ID]
    final = [c for c in staff if c.method in ("sendMessage", "editMessageText")][-1]
    assert final.text == (
        "📢 Объявление №1 (Водоканал) разослано: доставлено 4, заблокировали бота 0, "
        "не удалось 0 (из 4)."
    )
    async with db.session_maker() as s:
        notice = (await s.execute(select(Notice))).scalar_one()
        statuses = (await s.execute(select(NoticeRecipient.status))).scalars().all()
    assert (notice.status, notice.delivered, notice.total) == ("done", 4, 4)
    assert set(statuses) == {"sent"}
    # pressed again (or by another operator): nothing is sent twice
    before = len(harness.session.calls)
    calls = await harness.press(PETR, card.callback_of("📤 Отправить"), chat_id=STAFF_CHAT_ID)
    assert answers(calls)[0].params["text"] == "Это объявление уже рассылается или разослано."
    await runner.wait()
    assert [c for c in harness.session.calls[before:] if (c.chat_id or 0) > 0] == []


async def test_blocked_residents_are_counted_and_marked_inactive(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    card = await preview(harness, "/notice elec Плановое отключение")  # any case of the code
    progress = {"message_id": 77, "date": 0, "chat": {"id": STAFF_CHAT_ID, "type": "supergroup"}}
    harness.session.queue("sendMessage", {"ok": True, "result": progress})  # the progress line
    harness.session.queue(  # then the only resident of ELEC: blocked the bot
        "sendMessage",
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    runner: NoticeRunner = harness.dp["notice_runner"]
    await harness.press(OLGA, card.callback_of("📤 Отправить"), chat_id=STAFF_CHAT_ID)
    await runner.wait()
    async with db.session_maker() as s:
        notice = (await s.execute(select(Notice))).scalar_one()
        user = await s.get(User, RESIDENTS[0].id)
    assert (notice.status, notice.delivered, notice.blocked, notice.failed) == ("done", 0, 1, 0)
    assert user is not None and user.inactive_since is not None
    final = [c for c in harness.session.calls if c.chat_id == STAFF_CHAT_ID][-1]
    assert (final.method, final.params["message_id"]) == ("editMessageText", 77)
    assert "доставлено 0, заблокировали бота 1, не удалось 0 (из 1)" in (final.text or "")


async def test_cancel_and_odd_input(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card = await preview(harness)
    calls = await harness.press(OLGA, card.callback_of("✖️ Отмена"), chat_id=STAFF_CHAT_ID)
    assert "Объявление отменено: ничего не отправлено." in texts(calls)
    calls = await harness.press(OLGA, card.callback_of("📤 Отправить"), chat_id=STAFF_CHAT_ID)
    assert answers(calls)[0].params["text"] == "Это объявление отменено."
    assert [c for c in harness.session.calls if (c.chat_id or 0) > 0] == []

    async def reply(text: str) -> str:
        return texts(await harness.send(OLGA, text, chat_id=STAFF_CHAT_ID))[0]

    assert (await reply("/notice")).startswith("Как использовать: /notice КОД_ПОСТАВЩИКА текст")
    assert (await reply("/notice VODA")).startswith("Как использовать: /notice")
    assert await reply("/notice GAS Газа не будет") == "Поставщика с кодом «GAS» нет."
    too_long = "Текст слишком длинный: не больше 3500 символов (эмодзи считается за два)."
    assert await reply("/notice VODA " + "я" * 3501) == too_long
    # Telegram counts UTF-16 units: 1751 emoji are 3502, and the preview would not fit
    assert await reply("/notice VODA " + "😀" * 1751) == too_long


async def test_a_resident_registered_in_english_gets_the_notice_in_english(
    harness: BotHarness, db: Database
) -> None:
    """Not seeded with a language: a resident whose Telegram speaks English registers (and
    never opens Settings); the notice, sent from the operator's update, is in English."""
    emma = Person(810, "Emma", language_code="en", phone="+447911123456")
    calls = await harness.send(emma, "/start")
    consent = next(c for c in calls if "152" in (c.text or ""))
    await harness.press(emma, consent.callback_of("✅ I agree"))
    await harness.share_contact(emma)
    voda = f.supplier()
    flat = f.account(voda, "1000000001")
    await f.add(db, voda, flat)
    await f.add(db, f.link(emma.id, flat.id, "active", "phone"))
    card = await preview(harness)
    runner: NoticeRunner = harness.dp["notice_runner"]
    await harness.press(OLGA, card.callback_of("📤 Отправить"), chat_id=STAFF_CHAT_ID)
    await runner.wait()
    [notice] = [c.text for c in harness.session.calls if c.chat_id == emma.id][-1:]
    assert notice == "📢 <b>Notice from Водоканал</b>\n\n5 декабря не будет &lt;воды&gt;"


async def test_a_notice_cut_short_is_resumed_at_start_up_for_the_queued_only(
    harness: BotHarness, db: Database
) -> None:
    """The process stopped while sending: who got it (sent) or may have (sending) gets
    nothing again; the queued ones get it when the bot starts."""
    await seed(db)
    card = await preview(harness)
    runner: NoticeRunner = harness.dp["notice_runner"]
    sender = runner._sender(harness.bot)[1]
    sender.stopping = True  # the process stops while the notice is being sent
    await harness.press(OLGA, card.callback_of("📤 Отправить"), chat_id=STAFF_CHAT_ID)
    await runner.wait()
    sender.stopping = False  # the next start
    async with db.session_maker() as s:
        notice = (await s.execute(select(Notice))).scalar_one()
        rows = (await s.execute(select(NoticeRecipient))).scalars().all()
        assert notice.status == "sending"  # stopped: not finished
        assert {r.status for r in rows} == {"queued"}  # nobody was sent it
        for row in rows:
            if row.user_id == 801:
                row.status = "sending"  # handed to the sender when the process died
        await s.commit()
        queued = {r.user_id for r in rows if r.status == "queued"}
    assert queued == {800, 802, 804}
    before = len(harness.session.calls)
    await runner.resume(harness.bot)
    assert runner.resuming is not None
    await runner.resuming
    resent = {c.chat_id for c in harness.session.calls[before:] if (c.chat_id or 0) > 0}
    assert resent == {800, 802, 804}
    async with db.session_maker() as s:
        notice = (await s.execute(select(Notice))).scalar_one()
    assert notice.status == "done"
