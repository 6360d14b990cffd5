"""The billing HTTP API (filled in by the billing-data feature)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import Settings
from storage.db import Database

log = logging.getLogger("kabinet.api")


def setup_api(app: web.Application, settings: Settings, db: Database) -> None:
    if settings.admin_api_token is None:
        log.info("billing API disabled: ADMIN_API_TOKEN is not set")
        return
