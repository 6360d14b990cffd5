"""The staff chat: link-request cards, Approve / Reject with a reason, who may decide."""

from __future__ import annotations

from sqlalchemy import select

from handlers.staff.cards import RejectPreset, StaffLinkCb, StaffRejectCb
from storage.db import Database
from storage.models import AccountLink, AuditLog, Ticket, User
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_linking import (
    BORIS,
    MY_ACCOUNTS,
    links,
    operator_request,
    seed,
)
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

OLGA = Person(901, "Olga", language_code="en")  # an operator whose Telegram speaks English
PETR = Person(902, "Petr")
STRANGER = Person(903, "Mallory")


async def ticket(db: Database) -> Ticket:
    async with db.session_maker() as s:
        return (await s.execute(select(Ticket))).scalar_one()


async def card_of(h: BotHarness, db: Database, *, photo: bool = False) -> tuple[Call, int]:
    """Boris asks an operator about account 1000000003; the card and its message id."""
    calls = await operator_request(h, BORIS, "1000000003", photo=photo)
    card = next(c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat")
    return card, int((await ticket(db)).staff_message_id or 0)


async def press(h: BotHarness, who: Person, card: Call, button: str, message_id: int) -> list[Call]:
    return await h.press(
        who, card.callback_of(button), chat_id=STAFF_CHAT_ID, message_id=message_id
    )


def to(calls: list[Call], chat_id: int) -> list[Call]:
    return [c for c in calls if c.chat_id == chat_id and c.method != "getChat"]


async def test_approve(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db)
    calls = await press(harness, OLGA, card, "✅ Одобрить", message_id)
    assert answers(calls)[0].params["text"] == "Одобрено."  # staff texts in the default language
    [told] = texts(to(calls, BORIS.id))
    assert told.startswith("✅ Оператор подтвердил вашу заявку: лицевой счёт № 1000000003")
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert edited.params["message_id"] == message_id
    assert "✅ Одобрено: Olga, 20.11.2026 12:00" in (edited.text or "")
    assert edited.markup is None
    assert await links(db) == [(BORIS.id, 3, "active", "operator")]
    assert (await ticket(db)).status == "closed"
    async with db.session_maker() as s:
        link = (await s.execute(select(AccountLink))).scalar_one()
        entry = (
            await s.execute(select(AuditLog).where(AuditLog.action == "link_decided"))
        ).scalar_one()
    assert (link.decided_by, link.decided_by_name) == (OLGA.id, "Olga")
    assert (entry.actor_kind, entry.actor_id, entry.details["decision"]) == (
        "operator",
        OLGA.id,
        "approved",
    )
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    assert "🏠 Водоканал, лицевой счёт № 1000000003" in texts(calls)[0]


async def test_reject_with_a_preset_reason_photo_card(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db, photo=True)
    calls = await press(harness, PETR, card, "❌ Отклонить", message_id)
    [reasons] = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert reasons.button_texts() == [
        "ФИО или адрес не совпадают с учётными данными",
        "Не удалось подтвердить, что лицевой счёт ваш",
        "Фото квитанции не читается",
        "✍️ Другая причина (ответом, текстом)",
        "⬅️ Назад",
    ]
    back = await press(harness, PETR, reasons, "⬅️ Назад", message_id)
    assert back[-1].button_texts() == ["✅ Одобрить", "❌ Отклонить"]
    calls = await press(harness, PETR, reasons, "Фото квитанции не читается", message_id)
    [told] = texts(to(calls, BORIS.id))
    assert "отклонена" in told and "Причина: Фото квитанции не читается" in told
    [edited] = [c for c in calls if c.method == "editMessageCaption"]
    assert "❌ Отклонено: Petr, 20.11.2026 12:00. Причина: Фото квитанции не читается" in (
        edited.text or ""
    )
    assert await links(db) == [(BORIS.id, 3, "rejected", "operator")]
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    assert "Заявка отклонена. Причина: Фото квитанции не читается" in texts(calls)[0]


async def test_reject_with_own_reason_in_residents_language(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db)
    async with db.session_maker() as s:
        (await s.get(User, BORIS.id)).language = "en"  # type: ignore[union-attr]
        await s.commit()
    calls = await press(harness, OLGA, card, "❌ Отклонить", message_id)
    reasons = calls[-1]
    calls = await press(harness, OLGA, reasons, "✍️ Другая причина (ответом, текстом)", message_id)
    [prompt] = [c for c in calls if c.method == "sendMessage"]
    assert "ответьте на это сообщение причиной отказа по заявке №1" in (prompt.text or "")
    assert prompt.params["reply_markup"]["force_reply"] is True
    # another operator's message is not taken as the reason
    calls = await harness.send(PETR, "что тут у нас?", chat_id=STAFF_CHAT_ID)
    assert calls == []
    calls = await harness.send(OLGA, "Квартира <3> продана", chat_id=STAFF_CHAT_ID)
    [told] = texts(to(calls, BORIS.id))
    assert told.startswith("❌ Your request to link account № 1000000003")
    assert "Reason: Квартира &lt;3&gt; продана" in told
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert "Причина: Квартира &lt;3&gt; продана" in (edited.text or "")
    assert texts(to(calls, STAFF_CHAT_ID))[-1] == "Отклонено."
    async with db.session_maker() as s:
        link = (await s.execute(select(AccountLink))).scalar_one()
    assert (link.status, link.reason) == ("rejected", "Квартира <3> продана")


async def test_cancel_own_reason_keeps_the_request_open(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db)
    calls = await press(harness, OLGA, card, "❌ Отклонить", message_id)
    await press(harness, OLGA, calls[-1], "✍️ Другая причина (ответом, текстом)", message_id)
    calls = await harness.send(OLGA, "/cancel", chat_id=STAFF_CHAT_ID)
    assert texts(calls) == ["Хорошо, заявка остаётся открытой."]
    await harness.send(OLGA, "просто сообщение", chat_id=STAFF_CHAT_ID)
    assert await links(db) == [(BORIS.id, 3, "pending", "operator")]


async def test_double_decision_one_wins(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db)
    await press(harness, OLGA, card, "✅ Одобрить", message_id)
    calls = await press(harness, PETR, card, "❌ Отклонить", message_id)
    assert answers(calls)[0].params["text"] == "Эта заявка уже закрыта."
    calls = await harness.press(
        PETR,
        StaffRejectCb(
            link_id=StaffLinkCb.unpack(card.callback_of("✅ Одобрить")).link_id,
            reason=RejectPreset.MISMATCH,
        ).pack(),
        chat_id=STAFF_CHAT_ID,
        message_id=message_id,
    )
    answer = answers(calls)[0].params
    assert answer["text"] == "Уже одобрено: Olga." and answer["show_alert"] is True
    assert to(calls, BORIS.id) == []  # the resident hears one decision only
    assert await links(db) == [(BORIS.id, 3, "active", "operator")]
    async with db.session_maker() as s:
        decided = (await s.execute(select(AuditLog).where(AuditLog.action == "link_decided"))).all()
    assert len(decided) == 1


async def test_only_members_decide(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db)
    for status in ("left", "kicked"):
        harness.session.chat_member_status[STRANGER.id] = status
        calls = await press(harness, STRANGER, card, "✅ Одобрить", message_id)
        answer = answers(calls)[0].params
        assert answer["text"] == "Решать заявки могут только участники чата операторов."
        assert answer["show_alert"] is True
        harness.session.chat_member_status.pop(STRANGER.id)
    # the answer is cached for a minute: a kicked operator is refused without a new lookup
    harness.session.chat_member_status[PETR.id] = "kicked"
    await press(harness, PETR, card, "❌ Отклонить", message_id)
    harness.session.chat_member_status[PETR.id] = "member"
    calls = await press(harness, PETR, card, "✅ Одобрить", message_id)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    # the same button pressed in another group does nothing
    calls = await harness.press(
        OLGA, card.callback_of("✅ Одобрить"), chat_id=-1009999, message_id=message_id
    )
    assert all(c.chat_id != BORIS.id for c in calls)
    assert await links(db) == [(BORIS.id, 3, "pending", "operator")]


async def test_blocked_resident_is_noted_on_the_card(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db)
    harness.session.queue(
        "sendMessage",
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    calls = await press(harness, OLGA, card, "✅ Одобрить", message_id)
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert "⚠️ Житель заблокировал бота и не получил уведомление." in (edited.text or "")
    assert await links(db) == [(BORIS.id, 3, "active", "operator")]  # the decision stands


async def test_withdrawn_request(harness: BotHarness, db: Database) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db)
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    calls = await harness.press(BORIS, calls[0].callback_of("✖️ Отозвать заявку по № 1000000003"))
    assert calls[-1].button_texts() == ["Да, отозвать", "Нет, оставить"]  # withdraw, not unlink
    calls = await harness.press(BORIS, calls[-1].callback_of("Да, отозвать"))
    assert texts(calls, "editMessageText")[0].startswith(
        "Заявка по лицевому счёту № 1000000003 отозвана."
    )
    staff = to(calls, STAFF_CHAT_ID)
    assert [c.method for c in staff] == ["editMessageReplyMarkup", "sendMessage"]
    assert staff[1].text == "↩️ Житель отозвал эту заявку."
    assert staff[1].params["reply_to_message_id"] == message_id
    calls = await press(harness, OLGA, card, "✅ Одобрить", message_id)
    assert answers(calls)[0].params["text"] == "Житель отозвал эту заявку."
    assert await links(db) == []
    assert (await ticket(db)).status == "closed"


async def _delete_my_data(h: BotHarness, who: Person) -> list[Call]:
    calls = await h.send(who, "⚙️ Настройки")
    calls = await h.press(who, calls[0].callback_of("🗑 Удалить мои данные"))
    return await h.press(who, calls[-1].callback_of("Да, удалить мои данные"))


async def test_deleting_my_data_takes_my_card_off_the_staff_chat(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    card, message_id = await card_of(harness, db, photo=True)
    calls = await _delete_my_data(harness, BORIS)
    staff = to(calls, STAFF_CHAT_ID)
    assert [(c.method, c.params.get("message_id")) for c in staff] == [
        ("deleteMessage", message_id)
    ]
    assert (await ticket(db)).status == "closed" and (await ticket(db)).user_id is None
    assert await links(db) == []
    calls = await press(harness, OLGA, card, "✅ Одобрить", message_id)  # a stale copy
    assert answers(calls)[0].params["text"] == "Житель отозвал эту заявку."


async def test_an_old_card_is_edited_down_when_it_cannot_be_deleted(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    await card_of(harness, db, photo=True)
    calls = await harness.send(BORIS, "⚙️ Настройки")
    calls = await harness.press(BORIS, calls[0].callback_of("🗑 Удалить мои данные"))
    refusals = {
        "deleteMessage": "Bad Request: message can't be deleted",
        "editMessageText": "Bad Request: there is no text in the message to edit",
    }
    for method, description in refusals.items():
        harness.session.queue(method, {"ok": False, "error_code": 400, "description": description})
    calls = await harness.press(BORIS, calls[-1].callback_of("Да, удалить мои данные"))
    staff = to(calls, STAFF_CHAT_ID)
    assert [c.method for c in staff] == ["deleteMessage", "editMessageText", "editMessageCaption"]
    assert staff[-1].text == "🗑 Житель удалил свои данные, заявка закрыта."
    assert "reply_markup" not in staff[-1].params
    assert any("удалены" in t for t in texts(to(calls, BORIS.id)))
