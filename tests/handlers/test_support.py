"""«Contact support» through the production Dispatcher: the resident's side, the operators'
side in the staff chat (forum and plain), closing, rating, edits."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import select

from bot.app import create_dispatcher
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from handlers.support.callbacks import RateCb, TicketAction, TicketCb
from storage.db import Database
from storage.models import SupportTopic, Ticket, TicketMessage, User
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_registration import register
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

SUPPORT = "💬 Написать в поддержку"
PASSED = "✅ Передано операторам (обращение №"
ANNA = Person(601, "Анна")
BORIS = Person(602, "Борис")
OLGA = Person(901, "Olga", language_code="en")


def of(calls: list[Call], method: str) -> list[Call]:
    return [c for c in calls if c.method == method]


async def talking(h: BotHarness, person: Person) -> list[Call]:
    await register(h, person)
    calls = await h.send(person, SUPPORT)
    assert texts(calls)[0].startswith("💬 <b>Связь с поддержкой</b>")
    return await h.send(person, "Здравствуйте, вопрос")


async def in_topic(h: BotHarness, thread: int, text: str | None = None, **extra: Any) -> list[Call]:
    """An operator's message in a topic of the forum staff chat."""
    return await h.send(
        OLGA, text, chat_id=STAFF_CHAT_ID, message_thread_id=thread, is_topic_message=True,
        **extra,
    )  # fmt: skip


async def tickets(db: Database) -> list[Ticket]:
    async with db.session_maker() as s:
        return list((await s.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def test_plain_chat_conversation(harness: BotHarness, db: Database) -> None:
    calls = await talking(harness, ANNA)
    [card, header] = of(calls, "sendMessage")[:2]
    assert card.chat_id == STAFF_CHAT_ID and "🟢 <b>Обращение №1</b>" in (card.text or "")
    assert card.button_texts() == ["✅ Закрыть обращение №1"]
    assert header.text == "👤 Анна · №1 — чтобы ответить, ответьте на сообщение ниже"
    [copy] = of(calls, "copyMessage")
    assert (copy.params["chat_id"], copy.params["from_chat_id"]) == (STAFF_CHAT_ID, ANNA.id)
    assert "message_thread_id" not in copy.params
    assert texts(calls)[-1].startswith(PASSED + "1)")
    assert not of(calls, "createForumTopic")


async def test_sticker_and_location_are_explained(harness: BotHarness) -> None:
    await talking(harness, ANNA)
    sticker = {"file_id": "s1", "file_unique_id": "u", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    for extra in ({"sticker": sticker}, {"location": {"latitude": 55.7, "longitude": 37.6}}):
        calls = await harness.send(ANNA, **extra)
        assert texts(calls) == [
            "Операторам доходят текст, фото, документы, голосовые сообщения и видео. "
            "Стикеры, геопозиция, контакты и опросы до них не доходят: пожалуйста, "
            "напишите словами."
        ]
        assert not of(calls, "copyMessage")


async def test_album_every_photo_one_answer(harness: BotHarness) -> None:
    await talking(harness, ANNA)
    photo = [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
    said: list[str] = []
    headers: list[Call] = []
    copies = 0
    for _ in range(3):
        calls = await harness.send(ANNA, photo=photo, media_group_id="album-1")
        said += [c.text or "" for c in calls if c.chat_id == ANNA.id]
        copies += len(of(calls, "copyMessage"))
        headers += [c for c in calls if "Анна · №1" in (c.text or "")]
    assert copies == 3 and len(headers) == 1  # one header line for the album
    assert len(said) == 1 and said[0].startswith(PASSED)


async def test_forum_topic_answer_edit_close(harness: BotHarness, db: Database) -> None:
    harness.session.forum = True
    calls = await talking(harness, ANNA)
    [topic] = of(calls, "createForumTopic")
    assert topic.params["name"] == "🟢 Анна · #1"
    async with db.session_maker() as s:
        thread = (await s.execute(select(SupportTopic.thread_id))).scalar_one()
    [card] = [c for c in of(calls, "sendMessage") if c.chat_id == STAFF_CHAT_ID]
    assert card.params["message_thread_id"] == thread
    [copy] = of(calls, "copyMessage")
    assert copy.params["message_thread_id"] == thread
    # the operator answers in the topic: a copy, no author
    calls = await in_topic(harness, thread, "Здравствуйте!")
    [out] = of(calls, "copyMessage")
    assert (out.params["chat_id"], out.params["from_chat_id"]) == (ANNA.id, STAFF_CHAT_ID)
    assert not of(calls, "sendMessage")
    answer_id = out.params["message_id"]
    # the operator edits it: the resident's copy follows
    edited = {"message_id": answer_id, "date": int(time.time()), "edit_date": int(time.time()),
              "chat": {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Staff",
                       "is_forum": True}, "from": OLGA.as_user(), "text": "Здравствуйте, Анна!",
              "message_thread_id": thread, "is_topic_message": True}  # fmt: skip
    calls = await harness.feed({"edited_message": edited})
    [edit] = of(calls, "editMessageText")
    assert (edit.params["chat_id"], edit.text) == (ANNA.id, "Здравствуйте, Анна!")
    # Telegram refuses (e.g. a text became a photo): the operator is told
    refused = "Bad Request: there is no text in the message to edit"
    harness.session.queue(
        "editMessageText", {"ok": False, "error_code": 400, "description": refused}
    )
    calls = await harness.feed({"edited_message": {**edited, "text": "ещё раз"}})
    assert texts(calls, "sendMessage")[0].startswith("✏️ Telegram не позволяет боту изменить")
    # /close: title, closed topic, the resident asked to rate, the card's button gone
    calls = await in_topic(harness, thread, "/close")
    [unbuttoned] = of(calls, "editMessageReplyMarkup")
    card_id = (await tickets(db))[0].staff_message_id
    assert unbuttoned.params["message_id"] == card_id and not unbuttoned.params.get("reply_markup")
    [title] = of(calls, "editForumTopic")
    assert title.params["name"] == "✅ Анна · #1"
    assert of(calls, "closeForumTopic")
    rate = next(c for c in calls if c.chat_id == ANNA.id)
    assert rate.button_texts() == ["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]
    assert [t.status for t in await tickets(db)] == ["closed"]


async def test_rating_is_the_residents_own_and_once(harness: BotHarness, db: Database) -> None:
    await talking(harness, ANNA)
    await register(harness, BORIS)
    close = TicketCb(action=TicketAction.CLOSE, ticket_id=1).pack()
    calls = await harness.press(OLGA, close, chat_id=STAFF_CHAT_ID)
    assert answers(calls)[0].params.get("text") is None  # answered before closing
    assert "✅ Обращение №1 закрыто" in texts(calls, "sendMessage")[-1]
    calls = await harness.press(OLGA, close, chat_id=STAFF_CHAT_ID)  # an old button
    assert answers(calls)[0].params["text"] == "Обращение №1 уже закрыто."
    assert answers(calls)[0].params["show_alert"] is True
    forged = TicketCb(action=TicketAction.CLOSE, ticket_id=999).pack()  # never existed
    calls = await harness.press(OLGA, forged, chat_id=STAFF_CHAT_ID)
    assert answers(calls)[0].params["text"] == "Эта кнопка больше не действует."
    calls = await harness.press(BORIS, RateCb(ticket_id=1, stars=5).pack())  # forged
    assert answers(calls)[0].params["text"] == "Эта кнопка больше не действует."
    calls = await harness.press(ANNA, RateCb(ticket_id=1, stars=5).pack())
    assert [c.text for c in calls if c.chat_id == ANNA.id and c.text] == [
        "Спасибо! Ваша оценка обращения №1: ⭐⭐⭐⭐⭐"
    ]
    assert any(c.chat_id == STAFF_CHAT_ID and "5 из 5" in (c.text or "") for c in calls)
    calls = await harness.press(ANNA, RateCb(ticket_id=1, stars=1).pack())
    assert answers(calls)[0].params["text"] == "Вы уже оценили это обращение."
    assert [t.rating for t in await tickets(db)] == [5]


async def test_blocked_resident_operator_told(harness: BotHarness, db: Database) -> None:
    await talking(harness, ANNA)
    blocked = "Forbidden: bot was blocked by the user"
    harness.session.queue("copyMessage", {"ok": False, "error_code": 403, "description": blocked})
    async with db.session_maker() as s:
        header = (await s.execute(select(TicketMessage.staff_message_id))).scalars().first()
    staff_chat = {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Staff"}
    replied = {"message_id": header, "date": 0, "chat": staff_chat}
    calls = await harness.send(OLGA, "Ответ", chat_id=STAFF_CHAT_ID, reply_to_message=replied)
    assert texts(calls, "sendMessage") == [
        "⛔ Житель заблокировал бота: это сообщение он не получил."
    ]
    async with db.session_maker() as s:
        assert (await s.get(User, ANNA.id)).inactive_since is not None  # type: ignore[union-attr]


async def test_without_a_ticket_the_fallback_answers(harness: BotHarness) -> None:
    await register(harness, ANNA)
    calls = await harness.send(ANNA, "привет")
    assert texts(calls)[0].startswith("Я не понял")


async def test_operators_chatting_and_commands_stay_in_the_staff_chat(harness: BotHarness) -> None:
    await talking(harness, ANNA)
    calls = await harness.send(OLGA, "коллеги, кто возьмёт?", chat_id=STAFF_CHAT_ID)
    assert calls == [] or all(c.method != "copyMessage" for c in calls)
    calls = await harness.send(OLGA, "/close", chat_id=STAFF_CHAT_ID)
    assert texts(calls) == [
        "Здесь нет обращения: отправьте /close в теме жителя или ответом на его сообщение."
    ]


async def test_outside_support_hours_the_resident_is_told_when(
    make_settings: Any, db: Database, clock: FrozenClock
) -> None:
    """The test clock is Friday 12:00 in Moscow: operators of the weekend are away."""
    settings = make_settings(support_hours="Sat-Sun 10:00-16:00; Mon 09:00-24:00")
    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=LogSmsGateway()))
    h = BotHarness(dp)
    try:
        calls = await talking(h, ANNA)
        note = "🕘 Операторы работают Сб–Вс 10:00–16:00; Пн 09:00–24:00 (по московскому времени)"
        assert note in texts(calls)[-1] and texts(calls)[-1].startswith(PASSED)
        clock.set(dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC))  # Saturday 11:00 MSK
        calls = await h.send(ANNA, "суббота")
        assert texts(calls)[-1] == "✅ Передано операторам (обращение №1). Ответ придёт сюда."
    finally:
        await dp.storage.close()


async def test_english_resident_is_asked_to_rate_in_english(harness: BotHarness) -> None:
    """A resident whose Telegram speaks English never chose a language in Settings: the
    card must still say English, and the rating request — sent from the operator's
    update, in the staff chat's language — must reach them in English."""
    emma = Person(603, "Emma", language_code="en")
    calls = await harness.send(emma, "/start")
    consent = next(c for c in calls if "152" in (c.text or ""))
    await harness.press(emma, consent.callback_of("✅ I agree"))
    await harness.share_contact(emma)
    await harness.send(emma, "💬 Contact support")
    calls = await harness.send(emma, "Hello, no water")
    [card] = [c for c in of(calls, "sendMessage") if c.chat_id == STAFF_CHAT_ID][:1]
    assert "🌐 Язык: English" in (card.text or "")
    close = TicketCb(action=TicketAction.CLOSE, ticket_id=1).pack()
    calls = await harness.press(OLGA, close, chat_id=STAFF_CHAT_ID)
    [rate] = [c for c in calls if c.chat_id == emma.id]
    assert (rate.text or "").startswith("✅ Ticket #1 is closed.")


async def test_a_residents_edit_is_not_lost_silently(harness: BotHarness) -> None:
    """Operators keep the copy made before an edit: the resident is told to resend."""
    await talking(harness, ANNA)
    private = {"id": ANNA.id, "type": "private", "first_name": ANNA.first_name}
    edited = {"message_id": 7, "date": int(time.time()), "edit_date": int(time.time()),
              "chat": private, "from": ANNA.as_user(), "text": "исправленный вопрос"}  # fmt: skip
    calls = await harness.feed({"edited_message": edited})
    assert texts(calls) == [
        "✏️ Операторы видят сообщение таким, каким оно было отправлено: пришлите "
        "исправление новым сообщением."
    ]
    calls = await harness.feed({"edited_message": {**edited, "chat": {**private, "id": BORIS.id},
                                                   "from": BORIS.as_user()}})  # fmt: skip
    assert texts(calls) == []  # no ticket, nothing to say


async def test_an_answer_after_closing_opens_a_ticket_with_its_card(
    harness: BotHarness, db: Database
) -> None:
    """Plain staff chat: an operator replies to a closed conversation — the new ticket is
    announced with a card and its close button, as one a resident opens is."""
    await talking(harness, ANNA)
    close = TicketCb(action=TicketAction.CLOSE, ticket_id=1).pack()
    await harness.press(OLGA, close, chat_id=STAFF_CHAT_ID)
    async with db.session_maker() as s:
        header = (await s.execute(select(TicketMessage.staff_message_id))).scalars().first()
    staff_chat = {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Staff"}
    replied = {"message_id": header, "date": 0, "chat": staff_chat}
    calls = await harness.send(OLGA, "Ещё вопрос", chat_id=STAFF_CHAT_ID, reply_to_message=replied)
    [out] = of(calls, "copyMessage")
    assert out.params["chat_id"] == ANNA.id
    staff = [c for c in of(calls, "sendMessage") if c.chat_id == STAFF_CHAT_ID]
    [card] = [c for c in staff if "🟢 <b>Обращение №2</b>" in (c.text or "")]
    assert card.button_texts() == ["✅ Закрыть обращение №2"]
    assert staff[-1].text == "🟢 Этим ответом открыто обращение №2."
    assert [t.status for t in await tickets(db)] == ["closed", "open"]
    assert (await tickets(db))[1].staff_message_id is not None
    close = TicketCb(action=TicketAction.CLOSE, ticket_id=2).pack()
    calls = await harness.press(OLGA, close, chat_id=STAFF_CHAT_ID)
    assert "✅ Обращение №2 закрыто" in texts(calls, "sendMessage")[-1]


async def test_a_reply_to_the_bots_card_in_a_topic_stays_among_operators(
    harness: BotHarness, db: Database
) -> None:
    """Forum: a reply to the bot's card (or a prompt, a note) speaks to the bot or to
    colleagues — not copied to the resident, the operator told; a reply to the resident's
    own message is an answer, quoting it."""
    harness.session.forum = True
    calls = await talking(harness, ANNA)
    async with db.session_maker() as s:
        thread = (await s.execute(select(SupportTopic.thread_id))).scalar_one()
    card = (await tickets(db))[0].staff_message_id
    [copy_in] = of(calls, "copyMessage")
    async with db.session_maker() as s:
        copy_id = (await s.execute(select(TicketMessage.staff_message_id))).scalars().first()
    staff_chat = {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Staff", "is_forum": True}
    bot = {"id": harness.bot.id, "is_bot": True, "first_name": "Kabinet"}
    to_card = {"message_id": card, "date": 0, "chat": staff_chat, "from": bot,
               "message_thread_id": thread}  # fmt: skip
    calls = await in_topic(harness, thread, "Павел, посмотри карточку", reply_to_message=to_card)
    assert not of(calls, "copyMessage")
    assert texts(calls, "sendMessage") == [
        "🔒 Жителю не отправлено: это ответ на сообщение бота. Чтобы ответить жителю, "
        "напишите в теме без ответа или ответьте на его сообщение."
    ]
    to_copy = {**to_card, "message_id": copy_id}
    calls = await in_topic(harness, thread, "Отвечаю на ваш вопрос", reply_to_message=to_copy)
    [out] = of(calls, "copyMessage")
    assert out.params["chat_id"] == ANNA.id
    assert copy_in.params["chat_id"] == STAFF_CHAT_ID
    assert [t.status for t in await tickets(db)] == ["open"]


async def test_a_reply_to_a_resident_who_deleted_their_data_is_said_not_sent(
    harness: BotHarness, db: Database
) -> None:
    """Plain chat: the resident deleted their data (152-ФЗ) — an operator's reply to their old
    header is not silence: the bot says nothing was sent."""
    await talking(harness, ANNA)
    async with db.session_maker() as s:
        header = (await s.execute(select(TicketMessage.staff_message_id))).scalars().first()
    calls = await harness.send(ANNA, "⚙️ Настройки")
    calls = await harness.press(ANNA, calls[0].callback_of("🗑 Удалить мои данные"))
    await harness.press(ANNA, calls[-1].callback_of("Да, удалить мои данные"))
    staff_chat = {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Staff"}
    replied = {"message_id": header, "date": 0, "chat": staff_chat}
    calls = await harness.send(OLGA, "Анна, ответ", chat_id=STAFF_CHAT_ID, reply_to_message=replied)
    assert not of(calls, "copyMessage")
    assert texts(calls, "sendMessage") == ["🗑 Житель удалил свои данные: ему ничего не отправлено."]
