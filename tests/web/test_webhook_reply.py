"""A handler's returned answer (bot.middlewares.ReturnedAnswer) in the webhook's HTTP reply.

The production web app over the production Dispatcher, its Bot talking real HTTP to
sandbox/: the balance screen of a resident comes back in the reply to the webhook request
as one JSON method call, and the bot makes no request of its own for it — unless a refused
or lost reply could not be made good: near Telegram's limits, or when the update stored
something (it is then remembered as handled). Then the bot sends the screen itself, and the
reply is empty.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_bot, create_dispatcher
from bot.telegram import pressure
from bot.web.app import create_web_app
from sandbox import Sandbox
from storage.db import Database
from tests.support import factories as f

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
RESIDENT = 830_555_001
_update_ids = itertools.count(1)


def balance_press(user_id: int) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Анна"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Анна", "language_code": "ru"},
            "text": "💳 Баланс",
        },
    }


@pytest.fixture(autouse=True)
def fresh_pressure(monkeypatch: pytest.MonkeyPatch) -> pressure.SendingPressure:
    """Each test starts calm: what other tests sent is not counted against it."""
    watch = pressure.SendingPressure()
    monkeypatch.setattr(pressure, "PRESSURE", watch)
    monkeypatch.setattr("bot.middlewares.PRESSURE", watch)
    return watch


@dataclass
class Web:
    client: TestClient[Any, Any]
    sb: Sandbox
    dp: Dispatcher


@contextlib.asynccontextmanager
async def served(
    sb: Sandbox, make_settings: Any, db: Database
) -> AsyncIterator[tuple[TestClient[Any, Any], Bot, Dispatcher]]:
    """The production web app with its webhook, the Bot talking to `sb`."""
    settings = make_settings(
        bot_token=sb.token,
        telegram_api_url=sb.url,
        webhook_url="https://bot.example.org/tg/hook",
        webhook_secret="s3cret",
    )
    dp = create_dispatcher(settings, db)
    bot = create_bot(settings)
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_web_app(settings, db, bot=bot, dispatcher=dp))
    )
    await client.start_server()
    try:
        yield client, bot, dp
    finally:
        await client.close()
        await bot.session.close()
        await dp.storage.close()


@pytest.fixture
async def web(make_settings: Any, db: Database) -> AsyncIterator[Web]:
    async with Sandbox() as sb:
        sb.user("Анна", id=RESIDENT)
        sb.state.started.add(RESIDENT)  # she has written to the bot: it may write to her
        voda = f.supplier()
        account = f.account(voda, "1000000001")
        await f.add(db, voda, account, f.resident(RESIDENT, language="ru"))
        await f.add(db, f.link(RESIDENT, account.id, "active"))
        async with served(sb, make_settings, db) as (client, _bot, dp):
            yield Web(client, sb, dp)


async def test_the_balance_screen_is_the_webhook_reply(
    web: Web,
) -> None:
    client, sb = web.client, web.sb
    r = await client.post("/tg/hook", json=balance_press(RESIDENT), headers=HEADERS)
    assert r.status == 200 and r.content_type == "application/json"
    reply = await r.json()
    assert reply["method"] == "sendMessage" and reply["chat_id"] == RESIDENT
    assert reply["text"].startswith("<b>Баланс</b> · лицевой счёт № 1000000001")
    assert reply["parse_mode"] == "HTML"  # the bot's default, filled in
    assert reply["link_preview_options"] == {"is_disabled": True}
    assert reply["reply_markup"]["inline_keyboard"]  # the screen's buttons
    assert sb.sent(method="sendMessage") == []  # no request of the bot's own
    metrics = await (await client.get("/metrics")).text()
    assert 'kabinet_telegram_requests_total{method="sendMessage",outcome="reply"} 1.0' in metrics


async def test_near_telegrams_limits_the_bot_sends_the_screen_itself(
    web: Web, fresh_pressure: pressure.SendingPressure
) -> None:
    client, sb = web.client, web.sb
    fresh_pressure.flooded(1.0)  # a 429 was just answered
    r = await client.post("/tg/hook", json=balance_press(RESIDENT), headers=HEADERS)
    assert r.status == 200 and await r.json() == {}  # nothing for Telegram to execute
    [sent] = sb.sent(chat_id=RESIDENT, method="sendMessage", ok=True)
    assert sent.params["text"].startswith("<b>Баланс</b> · лицевой счёт № 1000000001")


async def test_a_second_answer_to_a_chat_within_a_second_is_a_request(
    web: Web,
) -> None:
    """Telegram allows about one message a second in a chat: a second reply could be refused
    unseen, so the second quick press is answered by a request (429 waited out)."""
    client, sb = web.client, web.sb
    first = await client.post("/tg/hook", json=balance_press(RESIDENT), headers=HEADERS)
    second = await client.post("/tg/hook", json=balance_press(RESIDENT), headers=HEADERS)
    assert (await first.json())["method"] == "sendMessage"
    assert await second.json() == {}
    [sent] = sb.sent(chat_id=RESIDENT, method="sendMessage", ok=True)
    assert sent.params["text"].startswith("<b>Баланс</b>")


async def test_an_update_answered_by_reply_is_answered_again_when_redelivered(
    web: Web, fresh_pressure: pressure.SendingPressure
) -> None:
    """The reply travels with the 200: Telegram sends the update again only if it did not get
    it (a timeout, a dropped connection), so the second delivery must not be skipped."""
    client = web.client
    press = balance_press(RESIDENT)
    first = await client.post("/tg/hook", json=press, headers=HEADERS)
    assert (await first.json())["text"].startswith("<b>Баланс</b>")
    fresh_pressure._chats.clear()  # a redelivery comes seconds later, past the chat's second
    again = await client.post("/tg/hook", json=press, headers=HEADERS)
    assert (await again.json())["text"].startswith("<b>Баланс</b>")


async def test_an_update_that_stored_something_answers_by_request_and_once(
    web: Web,
) -> None:
    """The press clears a conversation the resident had begun (a write): its update is claimed
    with that write, so its answer goes before the 200, and a redelivery is skipped."""
    from aiogram.fsm.storage.base import StorageKey

    client, sb = web.client, web.sb
    dp = web.dp
    key = StorageKey(bot_id=int(sb.token.split(":")[0]), chat_id=RESIDENT, user_id=RESIDENT)
    await dp.storage.set_state(key, "BalanceSum:amount")
    press = balance_press(RESIDENT)
    r = await client.post("/tg/hook", json=press, headers=HEADERS)
    assert r.status == 200 and await r.json() == {}
    assert await dp.storage.get_state(key) is None
    again = await client.post("/tg/hook", json=press, headers=HEADERS)
    assert again.status == 200 and await again.json() == {}
    [sent] = sb.sent(chat_id=RESIDENT, method="sendMessage", ok=True)
    assert sent.params["text"].startswith("<b>Баланс</b>")


async def test_a_message_the_bot_just_sent_by_request_counts_too(web: Web) -> None:
    """/start answers by request (the main menu); a balance press right after it in the same
    chat is answered by request as well (bot.telegram.pressure.CountMessages)."""
    client, sb = web.client, web.sb
    start = balance_press(RESIDENT)
    start["message"]["text"] = "/start"
    r = await client.post("/tg/hook", json=start, headers=HEADERS)
    assert r.status == 200 and await r.json() == {}
    assert sb.sent(chat_id=RESIDENT, method="sendMessage", ok=True)  # the menu, by request
    r = await client.post("/tg/hook", json=balance_press(RESIDENT), headers=HEADERS)
    assert await r.json() == {}
    assert (
        sb.sent(chat_id=RESIDENT, method="sendMessage", ok=True)[-1]
        .params["text"]
        .startswith("<b>Баланс</b>")
    )


async def test_sixty_residents_at_once_over_telegrams_limits_all_get_their_screen(
    make_settings: Any, db: Database
) -> None:
    """QA: 60 presses in the same moment, Telegram's limits on (30 a second): 30 replies were
    refused unseen and lost. Now the first ones go as replies, the rest as requests whose 429
    is waited out — every resident gets the screen once. The sandbox delivers the updates to
    the web app and executes the replies, as Telegram does."""
    async with Sandbox() as sb:
        voda = f.supplier()
        people = [sb.user(f"Житель {n}", id=RESIDENT + n) for n in range(60)]
        accounts = [f.account(voda, f"{1_000_000_100 + n}") for n in range(60)]
        residents = [
            f.resident(p.id, f"+7916{p.id % 10_000_000:07d}", language="ru") for p in people
        ]
        await f.add(db, voda, *accounts, *residents)
        await f.add(
            db, *(f.link(p.id, a.id, "active") for p, a in zip(people, accounts, strict=True))
        )
        async with served(sb, make_settings, db) as (client, bot, _dp):
            await bot.set_webhook(str(client.make_url("/tg/hook")), secret_token="s3cret")
            limits = sb.enforce_limits()
            for person in people:
                await person.send("💳 Баланс")
            screens = [await person.next_message(timeout=30) for person in people]
            assert all(s.text.startswith("Баланс · лицевой счёт № 10000001") for s in screens)
            for person in people:
                await person.expect_no_message(within=0.01)
            assert limits.refused > 0  # the limit was met: some requests waited out a 429
            sent = sb.sent(method="sendMessage", ok=True)
            assert sorted(c.chat_id for c in sent) == sorted(p.id for p in people)  # once each
