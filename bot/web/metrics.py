"""Prometheus metrics: /metrics in the web app (prometheus_client, one registry per app).

Counters of the bot (updates, handler errors, Bot API calls, flood-control waits) are
filled by an update middleware and a request middleware; the gauges (residents, links,
open escalations, accounts) are read from the database when /metrics is scraped.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from bot.services.stats import snapshot
from bot.telegram.errors import is_harmless
from storage.db import Database
from storage.uow import UnitOfWork


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("kabinet_updates", "Updates handled, by type", ["type"], registry=r)
        self.update_errors = Counter(
            "kabinet_update_errors", "Updates whose handler raised", ["type"], registry=r
        )
        self.update_seconds = Histogram(
            "kabinet_update_seconds",
            "Time to handle one update",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.api_calls = Counter(
            "kabinet_telegram_requests",
            "Bot API requests by method and outcome (ok, error, flood; reply: in a webhook reply)",
            ["method", "outcome"],
            registry=r,
        )
        self.residents = Gauge(
            "kabinet_residents", "Residents (consented, registered)", ["state"], registry=r
        )
        self.links = Gauge(
            "kabinet_account_links", "Account links by status", ["status"], registry=r
        )
        self.open_tickets = Gauge(
            "kabinet_open_escalations", "Open escalations by kind", ["kind"], registry=r
        )
        self.billing = Gauge("kabinet_billing_rows", "Billing data loaded", ["kind"], registry=r)

    def instrument(self, dispatcher: Dispatcher, bot: Bot) -> None:
        dispatcher.update.outer_middleware(_UpdateMetrics(self))
        bot.session.middleware(_RequestMetrics(self))

    async def refresh(self, db: Database) -> None:
        async with UnitOfWork(db.session_maker) as uow:
            snap = await snapshot(uow)
        for gauge, values in (
            (self.residents, snap.residents),
            (self.links, snap.links),
            (self.open_tickets, snap.open_tickets),
            (self.billing, snap.billing),
        ):
            gauge.clear()
            for label, value in values.items():
                gauge.labels(label).set(value)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _UpdateMetrics(BaseMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        self.metrics.updates.labels(kind).inc()
        started = time.perf_counter()
        try:
            return await handler(event, data)
        except Exception as exc:
            if not is_harmless(exc):
                self.metrics.update_errors.labels(kind).inc()
            raise
        finally:
            self.metrics.update_seconds.observe(time.perf_counter() - started)


class _RequestMetrics(BaseRequestMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.api_calls.labels(name, "flood").inc()
            raise
        except TelegramAPIError:
            self.metrics.api_calls.labels(name, "error").inc()
            raise
        self.metrics.api_calls.labels(name, "ok").inc()
        return response


METRICS_KEY = web.AppKey("metrics", Metrics)


async def metrics_view(request: web.Request) -> web.Response:
    from bot.web.app import DB_KEY

    metrics = request.app[METRICS_KEY]
    await metrics.refresh(request.app[DB_KEY])
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
