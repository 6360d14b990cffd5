"""Hostile and confused residents and operators, through the production Dispatcher.

Every message the bot sends is checked the way Telegram checks it: valid HTML for the
HTML parse mode (sandbox/html.py follows tdlib's rules), at most 4096 characters of text,
1024 of a caption, 200 of a callback answer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.html import parse_html, utf16_len
from storage.db import Database
from storage.models import AccountLink
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_linking import (
    ACCESS,
    ANNA,
    BORIS,
    LINK,
    MY_ACCOUNTS,
    OPERATOR,
    enter_number,
    last_with,
    operator_request,
    seed,
)
from tests.handlers.test_staff import OLGA
from tests.support import factories as f
from tests.support.fake_session import BOT_USER, Call
from tests.support.harness import BotHarness, Person, answers, texts

TEXT_METHODS = {"sendMessage", "editMessageText"}
CAPTION_METHODS = {"sendPhoto", "editMessageCaption", "sendDocument"}


def telegram_would_accept(calls: list[Call]) -> None:
    for call in calls:
        if call.method == "answerCallbackQuery":
            assert len(call.params.get("text") or "") <= 200, call.params
            continue
        key = "text" if call.method in TEXT_METHODS else "caption"
        if call.method not in TEXT_METHODS | CAPTION_METHODS or key not in call.params:
            continue
        plain, _entities = parse_html(call.params[key])  # raises like "can't parse entities"
        limit = 4096 if key == "text" else 1024
        assert utf16_len(plain) <= limit, (call.method, utf16_len(plain), limit)


NASTY = "<b>&amp; «Ё» 🏠 שלום \u202e"  # HTML, an entity, emoji (2 UTF-16 units), RTL, RLO
SIZE = {"file_unique_id": "u", "width": 90, "height": 90}
REASON_OTHER = "✍️ Другая причина (ответом, текстом)"
ERROR_TEXT = "У нас что-то пошло не так"


def nasty(length: int) -> str:
    return (NASTY * (length // len(NASTY) + 1))[:length]


def failures(calls: list[Call]) -> list[str]:
    said = texts(calls) + [a.params.get("text", "") for a in answers(calls)]
    return [t for t in said if ERROR_TEXT in t]


async def test_decided_photo_card_with_longest_fields_still_fits_a_caption(
    harness: BotHarness, db: Database
) -> None:
    """Every field at its maximum, in HTML and emoji: the card stays a valid caption when it
    is edited to show the decision (Telegram refuses captions over 1024 characters, and the
    card would keep its buttons)."""
    voda = f.supplier(name=nasty(255), hint=nasty(1000))
    bare = f.account(
        voda,
        "1000000003",
        address=nasty(1000),
        holder=nasty(255),
        phones=("+79161111111", "+79162222222", "+79163333333", "+79164444444"),
    )
    await f.add(db, voda, bare, f.resident(BORIS.id, BORIS.phone))
    calls = await enter_number(harness, BORIS, "1000000003")
    await harness.press(BORIS, last_with(calls, OPERATOR).callback_of(OPERATOR))
    await harness.send(BORIS, nasty(255))
    await harness.send(BORIS, nasty(512))
    calls = await harness.send(BORIS, photo=[{"file_id": "receipt-big", **SIZE}])
    card = next(c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat")
    assert card.method == "sendPhoto"
    operator = Person(905, nasty(64))
    calls = await harness.press(
        operator, card.callback_of("❌ Отклонить"), chat_id=STAFF_CHAT_ID, message_id=1000
    )
    calls = await harness.press(
        operator, calls[-1].callback_of(REASON_OTHER), chat_id=STAFF_CHAT_ID, message_id=1000
    )
    calls = await harness.send(operator, NASTY * 300, chat_id=STAFF_CHAT_ID)
    [edited] = [c for c in calls if c.method == "editMessageCaption"]
    assert "❌ Отклонено" in (edited.text or "") and edited.markup is None
    telegram_would_accept(harness.session.calls)


#: callback data Telegram could deliver (forged by a client, or from an old message)
FORGED = [
    "acc:unlink:99999999999999999999999",
    "acc:unlink:-5",
    "acc:suggest:abc",
    "acc",
    "sup:18446744073709551616",
    "sup:2147483648",
    "slk:approve:99999999999999999999",
    "slk:reject:2147483648",
    "lm:nonsense",
    "set:delete_yes:extra",
    "lang:xx",
    "eml:resend",
    "consent:agree",
    "garbage-without-prefix",
]


async def test_forged_and_malformed_buttons_get_an_answer_not_an_error(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    for chat_id in (None, STAFF_CHAT_ID):
        for data in FORGED:
            calls = await harness.press(BORIS, data, chat_id=chat_id)
            assert len(answers(calls)) == 1, (data, chat_id)
            assert failures(calls) == [], (data, chat_id)
    assert await links_of(db) == []
    telegram_would_accept(harness.session.calls)


async def links_of(db: Database) -> list[tuple[int, str]]:
    async with db.session_maker() as s:
        rows = (await s.execute(select(AccountLink))).scalars()
        return [(r.user_id, r.status) for r in rows]


def bot_message(message_id: int, chat_id: int = STAFF_CHAT_ID) -> dict[str, Any]:
    return {
        "ok": True,
        "result": {
            "message_id": message_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "supergroup", "title": "Staff", "is_forum": True},
            "from": BOT_USER,
            "text": "…",
        },
    }


async def test_own_reason_goes_to_the_request_whose_prompt_is_answered(
    harness: BotHarness, db: Database
) -> None:
    """An operator opens «Other reason» on two cards, then replies to the first prompt:
    the reason belongs to the first request, not to the last one opened."""
    await seed(db)
    first = next(
        c
        for c in await operator_request(harness, BORIS, "1000000003")
        if c.chat_id == STAFF_CHAT_ID and c.method != "getChat"
    )
    second = next(
        c
        for c in await operator_request(harness, ANNA, "1000000002")
        if c.chat_id == STAFF_CHAT_ID and c.method != "getChat"
    )
    for card, prompt_id in ((first, 777), (second, 778)):
        calls = await harness.press(
            OLGA,
            card.callback_of("❌ Отклонить"),
            chat_id=STAFF_CHAT_ID,
            message_id=prompt_id - 500,
        )
        harness.session.queue("sendMessage", bot_message(prompt_id))
        await harness.press(
            OLGA,
            calls[-1].callback_of(REASON_OTHER),
            chat_id=STAFF_CHAT_ID,
            message_id=prompt_id - 500,
        )
    reply_to = {**bot_message(777)["result"]}
    calls = await harness.send(
        OLGA, "Причина для Бориса", chat_id=STAFF_CHAT_ID, reply_to_message=reply_to
    )
    assert texts(calls, "sendMessage")[-1] == "Отклонено."
    assert await link_states(db) == {
        (BORIS.id, "rejected", "Причина для Бориса"),
        (ANNA.id, "pending", None),
    }
    told = texts([c for c in calls if c.chat_id == BORIS.id])
    assert len(told) == 1 and "Причина для Бориса" in told[0]
    # the other prompt still takes its answer
    calls = await harness.send(
        OLGA, "Причина для Анны", chat_id=STAFF_CHAT_ID, reply_to_message=bot_message(778)["result"]
    )
    assert await link_states(db) == {
        (BORIS.id, "rejected", "Причина для Бориса"),
        (ANNA.id, "rejected", "Причина для Анны"),
    }
    telegram_would_accept(harness.session.calls)


async def link_states(db: Database) -> set[tuple[int, str, str | None]]:
    async with db.session_maker() as s:
        rows = (await s.execute(select(AccountLink))).scalars()
        return {(r.user_id, r.status, r.reason) for r in rows}


async def test_settings_show_the_email_as_typed(harness: BotHarness, db: Database) -> None:
    """`&lt1` is a valid e-mail local part; unescaped, Telegram shows it as `<1`."""
    user = f.resident(BORIS.id, BORIS.phone)
    user.email = "x&lt1@example.ru"
    user.email_verified_at = f.CONSENTED_AT
    await f.add(db, user)
    calls = await harness.send(BORIS, "/settings")
    plain, _entities = parse_html(texts(calls)[0])
    assert "x&lt1@example.ru" in plain


ODD_CONTENT: list[dict[str, Any]] = [
    {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1,
                 "height": 1, "is_animated": False, "is_video": False}},
    {"document": {"file_id": "d", "file_unique_id": "d"}},
    {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 1}},
    {"location": {"latitude": 55.7, "longitude": 37.6}},
    {"contact": {"phone_number": "79990001122", "first_name": "X", "user_id": 1}},
    {"text": nasty(5000)},
]  # fmt: skip


async def test_odd_content_at_every_linking_step_gets_an_answer(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)

    async def to_step(step: str) -> None:
        calls = await enter_number(harness, BORIS, "1000000002")
        if step == "method":
            return
        if step == "access_code":
            await harness.press(BORIS, last_with(calls, ACCESS).callback_of(ACCESS))
            return
        await harness.press(BORIS, last_with(calls, OPERATOR).callback_of(OPERATOR))
        if step in ("address", "photo"):
            await harness.send(BORIS, "Борис")
        if step == "photo":
            await harness.send(BORIS, "Ленина 1")

    for step in ("number", "method", "access_code", "name", "address", "photo"):
        for content in ODD_CONTENT:
            if step == "number":
                calls = await harness.send(BORIS, MY_ACCOUNTS)
                await harness.press(BORIS, last_with(calls, LINK).callback_of(LINK))
            else:
                await to_step(step)
            extra = dict(content)
            calls = await harness.send(BORIS, extra.pop("text", None), **extra)
            assert texts(calls, "sendMessage"), (step, content)
            assert failures(calls) == [], (step, content)
            await harness.send(BORIS, "/cancel")
    assert await links_of(db) == []
    telegram_would_accept(harness.session.calls)
