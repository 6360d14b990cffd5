"""A handler's returned answer (bot.middlewares.ReturnedAnswer) in the webhook's HTTP reply.

The production web app over the production Dispatcher, its Bot talking real HTTP to
sandbox/: the balance screen of a resident comes back in the reply to the webhook request
as one JSON method call, and the bot makes no request of its own for it — unless the bot is
sending near Telegram's limits, when a refused reply would be lost: then it sends the
screen itself, and the reply is empty.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
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


@pytest.fixture
async def web(
    make_settings: Any, db: Database
) -> AsyncIterator[tuple[TestClient[Any, Any], Sandbox]]:
    async with Sandbox() as sb:
        sb.user("Анна", id=RESIDENT)
        sb.state.started.add(RESIDENT)  # she has written to the bot: it may write to her
        settings = make_settings(
            bot_token=sb.token,
            telegram_api_url=sb.url,
            webhook_url="https://bot.example.org/tg/hook",
            webhook_secret="s3cret",
        )
        voda = f.supplier()
        account = f.account(voda, "1000000001")
        await f.add(db, voda, account, f.resident(RESIDENT, language="ru"))
        await f.add(db, f.link(RESIDENT, account.id, "active"))
        dp = create_dispatcher(settings, db)
        bot = create_bot(settings)
        client: TestClient[Any, Any] = TestClient(
            TestServer(create_web_app(settings, db, bot=bot, dispatcher=dp))
        )
        await client.start_server()
        try:
            yield client, sb
        finally:
            await client.close()
            await bot.session.close()
            await dp.storage.close()


async def test_the_balance_screen_is_the_webhook_reply(
    web: tuple[TestClient[Any, Any], Sandbox],
) -> None:
    client, sb = web
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
    web: tuple[TestClient[Any, Any], Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, sb = web
    monkeypatch.setattr(pressure, "PRESSURE", pressure.SendingPressure())
    monkeypatch.setattr("bot.middlewares.PRESSURE", pressure.PRESSURE)
    pressure.PRESSURE.flooded(1.0)  # a 429 was just answered
    r = await client.post("/tg/hook", json=balance_press(RESIDENT), headers=HEADERS)
    assert r.status == 200 and await r.json() == {}  # nothing for Telegram to execute
    [sent] = sb.sent(chat_id=RESIDENT, method="sendMessage", ok=True)
    assert sent.params["text"].startswith("<b>Баланс</b> · лицевой счёт № 1000000001")
