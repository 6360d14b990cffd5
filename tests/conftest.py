"""Shared fixtures: settings, a fresh SQLite file per test, a controllable clock, the bot."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, load_settings
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import Base
from storage.uow import UnitOfWork
from tests.support.harness import TOKEN, BotHarness

STAFF_CHAT_ID = -1001234567890


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'kabinet.db'}",
            "staff_chat_id": STAFF_CHAT_ID,
            "default_locale": "ru",
            "consent_version": "1",
            "redis_url": None,
            "render_workers": 0,  # receipts and charts in threads: no worker processes
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
async def uow(db: Database) -> AsyncIterator[UnitOfWork]:
    async with UnitOfWork(db.session_maker) as unit:
        yield unit


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def sms() -> LogSmsGateway:
    return LogSmsGateway()


@pytest.fixture
async def harness(
    settings: Settings, db: Database, clock: FrozenClock, sms: LogSmsGateway
) -> AsyncIterator[BotHarness]:
    from bot.app import create_dispatcher

    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=sms))
    h = BotHarness(dp)
    yield h
    await dp.storage.close()
    await h.bot.session.close()


def _server_url(var: str) -> str:
    """A server `make test` started; missing in CI is a failure, locally a skip with the fix."""
    url = os.environ.get(var)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{var} is not set: `make test` starts PostgreSQL and Redis")
        pytest.skip(f"{var} is not set: run `make test` (it starts the server)")
    return url


@pytest.fixture
def postgres_url() -> str:
    return _server_url("TEST_POSTGRES_URL")


@pytest.fixture
def redis_url() -> str:
    return _server_url("TEST_REDIS_URL")


@pytest.fixture
async def pg_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    import uuid

    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(postgres_url)
    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield base.set(database=name).render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pg(pg_database_url: str) -> AsyncIterator[Database]:
    """A migrated PostgreSQL database (`pg_database_url`) for one test."""
    import storage.migrate

    await asyncio.to_thread(storage.migrate.upgrade, pg_database_url)
    database = Database(pg_database_url)
    yield database
    await database.dispose()
