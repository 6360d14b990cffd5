"""The web app of a production process: /healthz says "stopping" after SIGTERM, the webhook
answers 503 then, /metrics shows readiness, updates in flight and skipped duplicates."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_dispatcher
from bot.config import Settings
from bot.lifecycle import Lifecycle
from storage.db import Database
from tests.support.harness import TOKEN


async def test_stopping_is_seen_by_the_proxy_and_prometheus(
    make_settings: Any, db: Database
) -> None:
    from aiogram import Bot

    from bot.web.app import create_web_app

    settings: Settings = make_settings(
        webhook_url="https://bot.example.org/tg/hook", webhook_secret="s3cret"
    )
    dp = create_dispatcher(settings, db)
    bot = Bot(TOKEN)
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_web_app(settings, db, bot=bot, dispatcher=dp))
    )
    await client.start_server()
    try:
        r = await client.get("/healthz")
        assert r.status == 200 and (await r.json())["in_flight"] == 0
        assert "kabinet_ready 1.0" in await (await client.get("/metrics")).text()

        lifecycle: Lifecycle = dp["lifecycle"]
        lifecycle.stop_accepting()  # what SIGTERM does first
        r = await client.get("/healthz")
        assert r.status == 503 and (await r.json())["status"] == "stopping"
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        r = await client.post("/tg/hook", json={"update_id": 5}, headers=headers)
        assert r.status == 503 and r.headers["Retry-After"] == "5"
        metrics = await (await client.get("/metrics")).text()
        assert "kabinet_ready 0.0" in metrics
        assert "kabinet_updates_in_flight 0.0" in metrics
        assert "kabinet_duplicate_updates 0.0" in metrics
    finally:
        await client.close()
        await bot.session.close()
        await dp.storage.close()
