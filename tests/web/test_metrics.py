"""/metrics: counters of the bot and counts from the database, in Prometheus' format."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.web.app import create_web_app
from bot.web.metrics import Metrics
from storage.db import Database
from tests.handlers.test_registration import register
from tests.support.harness import BotHarness, Person


async def scrape(
    settings: Settings, db: Database, metrics: Metrics
) -> dict[tuple[str, str], float]:
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_web_app(settings, db, metrics=metrics))
    )
    await client.start_server()
    try:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    finally:
        await client.close()
    values: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[(sample.name, label)] = sample.value
    return values


async def test_bot_counters_and_database_counts(
    harness: BotHarness, settings: Settings, db: Database
) -> None:
    metrics = Metrics()
    metrics.instrument(harness.dp, harness.bot)
    await register(harness, Person(801))
    await register(harness, Person(802))
    await harness.send(Person(803), "/start")  # greeted, not yet consented
    values = await scrape(settings, db, metrics)
    assert values[("kabinet_updates_total", "type=message")] == 5
    assert values[("kabinet_updates_total", "type=callback_query")] == 2
    assert values[("kabinet_update_seconds_count", "")] == 7
    assert values[("kabinet_telegram_requests_total", "method=sendMessage,outcome=ok")] >= 7
    assert values[("kabinet_residents", "state=consented")] == 2
    assert values[("kabinet_residents", "state=registered")] == 2
    assert values[("kabinet_billing_rows", "kind=accounts")] == 0
    assert not any(name == "kabinet_update_errors_total" for name, _ in values)


async def test_metrics_without_the_bot(settings: Settings, db: Database) -> None:
    """serve-api has no bot: /metrics still answers with the database counts."""
    values = await scrape(settings, db, Metrics())
    assert values[("kabinet_residents", "state=registered")] == 0
    assert not any(re.match("kabinet_updates", name) for name, _ in values)


async def test_harmless_refusals_are_not_counted_as_errors(
    harness: BotHarness, settings: Settings, db: Database
) -> None:
    """A double tap ("message is not modified") is not an error; a real failure is."""
    metrics = Metrics()
    metrics.instrument(harness.dp, harness.bot)
    anna = Person(804)
    await register(harness, anna)
    calls = await harness.send(anna, "⚙️ Настройки")
    harness.session.queue(
        "editMessageText",
        {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"},
    )
    await harness.press(anna, calls[0].callback_of("🌐 Язык"))
    values = await scrape(settings, db, metrics)
    assert not any(name == "kabinet_update_errors_total" for name, _ in values)
    harness.session.queue(
        "editMessageText",
        {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"},
    )
    await harness.press(anna, calls[0].callback_of("🌐 Язык"))
    values = await scrape(settings, db, metrics)
    assert values[("kabinet_update_errors_total", "type=callback_query")] == 1
