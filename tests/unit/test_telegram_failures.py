"""Telegram's failures over real HTTP (sandbox/ with injected faults): 5xx, timeouts and
dropped connections are retried with a bound; a message whose outcome is unknown is sent at
most twice; 403 and "chat not found" are not retried and mark the resident inactive."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)

from bot.app import create_bot, setup_production_bot
from bot.config import Settings
from bot.telegram.retry import TelegramRetry
from sandbox.testing import Sandbox
from sandbox.testing import User as SandboxUser
from storage.db import Database
from storage.models import User
from tests.support import factories as f


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def bot(sb: Sandbox, make_settings: object, db: Database) -> AsyncIterator[Bot]:
    settings: Settings = make_settings(  # type: ignore[operator]
        bot_token=sb.token,
        telegram_api_url=sb.url,
        telegram_timeout_seconds=1,
        telegram_retry_attempts=4,
        telegram_retry_max_wait=0.05,
    )
    production = setup_production_bot(create_bot(settings), settings, db)
    yield production
    await production.session.close()


async def started(sb: Sandbox, name: str = "Анна") -> SandboxUser:
    user = sb.user(name)
    await user.send("/start")
    return user


def delivered(sb: Sandbox, chat_id: int) -> list[str]:
    return [str(c.params.get("text")) for c in sb.sent(chat_id, "sendMessage", ok=True)]


def tries(sb: Sandbox, chat_id: int) -> int:
    return len(sb.sent(chat_id, "sendMessage"))


def retrier(bot: Bot) -> TelegramRetry:
    return next(m for m in bot.session.middleware._middlewares if isinstance(m, TelegramRetry))


async def test_a_5xx_is_retried_and_the_message_arrives_once(sb: Sandbox, bot: Bot) -> None:
    anna = await started(sb)
    sb.inject_fault("sendMessage", kind="error", status=502, times=1, chat_id=anna.id)
    await bot.send_message(anna.id, "Показание принято")
    assert delivered(sb, anna.id) == ["Показание принято"]
    assert tries(sb, anna.id) == 2


async def test_an_idempotent_call_gets_every_try_up_to_the_bound(sb: Sandbox, bot: Bot) -> None:
    anna = await started(sb)
    sb.inject_fault("getChat", kind="error", status=500, times=3)
    chat = await bot.get_chat(anna.id)  # idempotent: every one of the 4 tries
    assert chat.id == anna.id
    sb.inject_fault("getChat", kind="error", status=503, times=4)
    with pytest.raises(TelegramServerError):
        await bot.get_chat(anna.id)
    assert len(sb.sent(anna.id, "getChat")) == (3 + 1) + 4


async def test_a_refused_connection_is_retried_even_for_a_message(
    make_settings: object, db: Database
) -> None:
    from tests.e2e.conftest import free_port

    settings: Settings = make_settings(  # type: ignore[operator]
        telegram_api_url=f"http://127.0.0.1:{free_port()}",  # nobody listens: never sent
        telegram_retry_attempts=3,
        telegram_retry_max_wait=0.05,
    )
    bot = setup_production_bot(create_bot(settings), settings, db)
    try:
        with pytest.raises(TelegramNetworkError, match="ClientConnector"):
            await bot.send_message(1, "Здравствуйте")
        assert retrier(bot).retries == 2  # all 3 tries: it cannot arrive twice
    finally:
        await bot.session.close()


async def test_a_dropped_connection_before_the_call_is_retried(sb: Sandbox, bot: Bot) -> None:
    anna = await started(sb)
    sb.inject_fault("sendMessage", kind="drop", times=1, chat_id=anna.id)
    await bot.send_message(anna.id, "Здравствуйте")
    assert delivered(sb, anna.id) == ["Здравствуйте"]


async def test_a_timeout_is_retried(sb: Sandbox, bot: Bot) -> None:
    anna = await started(sb)
    sb.inject_fault("sendMessage", kind="timeout", delay=3, times=1, chat_id=anna.id)
    await bot.send_message(anna.id, "Долго")  # the session gives up after 1 s, then again
    assert delivered(sb, anna.id) == ["Долго"]


async def test_a_message_whose_outcome_is_unknown_is_sent_at_most_twice(
    sb: Sandbox, bot: Bot
) -> None:
    anna = await started(sb)
    sb.inject_fault("sendMessage", kind="drop_after", times=5, chat_id=anna.id)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(anna.id, "Квитанция")
    assert delivered(sb, anna.id) == ["Квитанция", "Квитанция"]  # the bound: never a third
    assert retrier(bot).retries == 1


async def test_a_blocked_resident_is_marked_inactive_not_retried(
    sb: Sandbox, bot: Bot, db: Database
) -> None:
    anna = await started(sb)
    await f.add(db, f.resident(anna.id))
    anna.block_bot()
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(anna.id, "Напоминание")
    assert tries(sb, anna.id) == 1
    async with db.session_maker() as s:
        user = await s.get(User, anna.id)
        assert user is not None and user.inactive_since is not None
        assert user.inactive_since > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


async def test_chat_not_found_marks_the_resident_inactive(
    sb: Sandbox, bot: Bot, db: Database
) -> None:
    gone = 777_000_123  # a resident the Bot API does not know (deleted account)
    await f.add(db, f.resident(gone))
    with pytest.raises(Exception, match="chat not found"):
        await bot.send_message(gone, "Напоминание")
    async with db.session_maker() as s:
        user = await s.get(User, gone)
        assert user is not None and user.inactive_since is not None


async def test_control_endpoint_injects_faults_over_http(sb: Sandbox, bot: Bot) -> None:
    import aiohttp

    anna = await started(sb)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{sb.url}/_control/faults",
            json={"method": "sendMessage", "kind": "error", "status": 504, "times": 1},
        ) as r:
            assert r.status == 200 and (await r.json())["status"] == 504
        async with http.get(f"{sb.url}/_control/faults") as r:
            assert [rule["times"] for rule in await r.json()] == [1]
        async with http.post(f"{sb.url}/_control/faults", json={"kind": "boom"}) as r:
            assert r.status == 400
    await bot.send_message(anna.id, "После 504")
    assert delivered(sb, anna.id) == ["После 504"]
    assert [c.error_code for c in sb.sent(anna.id, "sendMessage")] == [504, None]
