"""The aiohttp app: webhook endpoint, billing API, /healthz, /metrics (Prometheus)."""

from __future__ import annotations

import logging
import time

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from prometheus_client import Gauge

from bot.config import Settings
from bot.lifecycle import Lifecycle
from bot.web.metrics import METRICS_KEY, Metrics, metrics_view
from bot.web.webhook import ProductionWebhook
from storage.db import Database

log = logging.getLogger("kabinet.web")

SETTINGS_KEY = web.AppKey("settings", Settings)
DB_KEY = web.AppKey("db", Database)
STARTED_KEY = web.AppKey("started", float)
LIFECYCLE_KEY = web.AppKey("lifecycle", Lifecycle)


async def healthz(request: web.Request) -> web.Response:
    db = request.app[DB_KEY]
    ok = await db.ping()
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if ok else "unreachable",
        "uptime_s": round(time.monotonic() - request.app[STARTED_KEY], 1),
    }
    lifecycle = request.app.get(LIFECYCLE_KEY)
    if lifecycle is not None:  # after SIGTERM: not ready, the proxy sends updates elsewhere
        body["in_flight"] = lifecycle.in_flight
        if not lifecycle.accepting:
            body["status"] = "stopping"
            ok = False
    return web.json_response(body, status=200 if ok else 503)


def lifecycle_metrics(metrics: Metrics, lifecycle: Lifecycle) -> None:
    """Gauges of the update path (prod, issue 13), read at each scrape."""
    r = metrics.registry
    Gauge("kabinet_ready", "1 while taking updates, 0 while stopping", registry=r).set_function(
        lambda: 1.0 if lifecycle.accepting else 0.0
    )
    Gauge("kabinet_updates_in_flight", "Updates being handled now", registry=r).set_function(
        lambda: float(lifecycle.in_flight)
    )
    Gauge(
        "kabinet_duplicate_updates", "Re-delivered updates skipped since start", registry=r
    ).set_function(lambda: float(lifecycle.duplicates))


def create_web_app(
    settings: Settings,
    db: Database,
    *,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    app = web.Application(client_max_size=int(settings.api_max_body_mb * 1024 * 1024))
    app[SETTINGS_KEY] = settings
    app[DB_KEY] = db
    app[STARTED_KEY] = time.monotonic()
    app.router.add_get("/healthz", healthz)
    app[METRICS_KEY] = metrics or Metrics()
    app.router.add_get("/metrics", metrics_view)

    from bot.web.api import setup_api

    setup_api(app, settings, db)

    if dispatcher is not None and "lifecycle" in dispatcher.workflow_data:
        app[LIFECYCLE_KEY] = dispatcher["lifecycle"]
        lifecycle_metrics(app[METRICS_KEY], dispatcher["lifecycle"])
    if bot is not None and dispatcher is not None and settings.webhook_url is not None:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        if LIFECYCLE_KEY in app:  # production: handled before 200, 503 while stopping
            ProductionWebhook(
                dispatcher, bot, app[LIFECYCLE_KEY], secret, metrics=app[METRICS_KEY]
            ).register(app, path=settings.webhook_path)
        else:
            SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=secret).register(
                app, path=settings.webhook_path
            )
    return app
