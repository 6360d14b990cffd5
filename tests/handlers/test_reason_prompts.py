"""An operator's open «✍️ Other reason» prompt does not swallow their answers to residents.

While a prompt waits for its reply, the operator goes on answering residents: a reply to a
resident's message in a plain staff chat, a message in another resident's forum topic. Those
are support answers (copied to that resident), not the reason; the request stays pending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import AccountLink, TicketMessage
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_hostile_bot import bot_message
from tests.handlers.test_linking import seed as seed_linking
from tests.handlers.test_representatives import (
    OLGA,
    OTHER,
    open_prompt,
    rep_state,
    reply_to,
    requested,
)
from tests.handlers.test_staff import card_of as link_card_of
from tests.handlers.test_staff import press as staff_press
from tests.handlers.test_support import talking
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person

VERA = Person(651, "Вера", phone="+79035550651")  # asks support meanwhile
STAFF_CHAT = {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Staff"}


def copied_to(calls: list[Call], person: Person) -> list[Call]:
    return [c for c in calls if c.method == "copyMessage" and c.params["chat_id"] == person.id]


async def veras_copy(db: Database) -> dict[str, Any]:
    """Vera's message as it stands in the plain staff chat (an operator replies to it)."""
    async with db.session_maker() as s:
        ids = (await s.execute(select(TicketMessage.staff_message_id))).scalars().all()
    return {"message_id": max(i for i in ids if i), "date": 0, "chat": STAFF_CHAT}


async def answer_vera(h: BotHarness, db: Database) -> None:
    """The operator replies to Vera's message in the plain staff chat: Vera gets it."""
    replied = await veras_copy(db)
    calls = await h.send(
        OLGA, "Вера, всё в порядке", chat_id=STAFF_CHAT_ID, reply_to_message=replied
    )
    assert len(copied_to(calls, VERA)) == 1


async def test_a_reply_to_a_residents_message_is_an_answer_not_the_reason(
    harness: BotHarness, db: Database
) -> None:
    card, message_id = await requested(harness, db)
    await open_prompt(harness, card, message_id, 7001)
    await talking(harness, VERA)
    await answer_vera(harness, db)
    [(_, status, reason)] = await rep_state(db)
    assert (status, reason) == ("pending", None)
    # the prompt is still open: a reply to the card (not a resident's message) is the reason
    the_card = {"message_id": message_id, "date": 0, "chat": STAFF_CHAT}
    await harness.send(OLGA, "Не та доверенность", chat_id=STAFF_CHAT_ID, reply_to_message=the_card)
    [(_, status, reason)] = await rep_state(db)
    assert (status, reason) == ("rejected", "Не та доверенность")


async def test_a_message_in_another_residents_topic_is_an_answer_not_the_reason(
    harness: BotHarness, db: Database
) -> None:
    harness.session.forum = True
    card, message_id = await requested(harness, db)
    await open_prompt(harness, card, message_id, 7001)  # pressed in the chat's main thread
    calls = await talking(harness, VERA)
    [thread] = [
        c.params["message_thread_id"]
        for c in calls
        if c.method == "copyMessage" and c.params.get("chat_id") == STAFF_CHAT_ID
    ]
    topic_start = {"message_id": thread, "date": 0, "chat": {**STAFF_CHAT, "is_forum": True}}
    calls = await harness.send(
        OLGA, "Вера, ваш счёт в порядке", chat_id=STAFF_CHAT_ID, message_thread_id=thread,
        is_topic_message=True, reply_to_message=topic_start,
    )  # fmt: skip
    assert len(copied_to(calls, VERA)) == 1
    [(_, status, reason)] = await rep_state(db)
    assert (status, reason) == ("pending", None)
    # where the prompt is, a message replying to none is still the reason
    await harness.send(OLGA, "Не та доверенность", chat_id=STAFF_CHAT_ID)
    [(_, status, reason)] = await rep_state(db)
    assert (status, reason) == ("rejected", "Не та доверенность")


async def test_a_link_prompt_does_not_take_an_answer_to_a_resident_either(
    harness: BotHarness, db: Database
) -> None:
    await seed_linking(db)
    link_card, link_message = await link_card_of(harness, db)
    calls = await staff_press(harness, OLGA, link_card, "❌ Отклонить", link_message)
    harness.session.queue("sendMessage", bot_message(7002))
    await staff_press(harness, OLGA, calls[-1], OTHER, link_message)
    await talking(harness, VERA)
    await answer_vera(harness, db)
    async with db.session_maker() as s:
        link = (await s.execute(select(AccountLink))).scalar_one()
    assert (link.status, link.reason) == ("pending", None)
    await harness.send(OLGA, "Квитанция не читается", chat_id=STAFF_CHAT_ID)
    async with db.session_maker() as s:
        link = (await s.execute(select(AccountLink))).scalar_one()
    assert (link.status, link.reason) == ("rejected", "Квитанция не читается")


async def test_a_second_prompt_of_the_same_request_closes_with_the_first(
    harness: BotHarness, db: Database
) -> None:
    """«✍️ Other reason» pressed twice opens two prompts of one request; once the reason is
    given, the other prompt does not stay open to swallow the operator's next messages."""
    card, message_id = await requested(harness, db)
    await open_prompt(harness, card, message_id, 7001)
    calls = await staff_press(harness, OLGA, card, "❌ Отклонить", message_id)
    harness.session.queue("sendMessage", bot_message(7002))
    await staff_press(harness, OLGA, calls[-1], OTHER, message_id)
    await harness.send(
        OLGA, "Не та доверенность", chat_id=STAFF_CHAT_ID, reply_to_message=reply_to(7001)
    )
    assert (await rep_state(db))[0][1:] == ("rejected", "Не та доверенность")
    assert await harness.send(OLGA, "Коллеги, я на обед", chat_id=STAFF_CHAT_ID) == []
