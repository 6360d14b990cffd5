"""Every revision walks up, down and up again; the models match the migrations."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import Database
from storage.migrate import downgrade, revisions, upgrade
from storage.models import Base


def _walk(url: str) -> None:
    revs = revisions(url)
    assert revs, "no migrations found"
    for rev in revs:
        upgrade(url, rev)
    for rev in reversed(["base", *revs[:-1]]):
        downgrade(url, rev)
    upgrade(url, "head")
    upgrade(url, "head")  # idempotent at head


async def _diff(url: str) -> list[object]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:

            def compare(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, Base.metadata)

            return await conn.run_sync(compare)
    finally:
        await db.dispose()


async def _tables(url: str) -> set[str]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await db.dispose()


async def test_sqlite_walk_and_match(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await asyncio.to_thread(_walk, url)
    assert {"users", "accounts", "readings", "fsm_records"} <= await _tables(url)
    assert await _diff(url) == []


async def test_sqlite_downgrade_to_base_leaves_nothing(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(downgrade, url, "base")
    assert await _tables(url) <= {"alembic_version"}


@pytest.mark.postgres
async def test_postgres_walk_and_match(pg_database_url: str) -> None:
    await asyncio.to_thread(_walk, pg_database_url)
    assert await _diff(pg_database_url) == []


async def test_sqlite_pragmas(tmp_path) -> None:
    from sqlalchemy import text

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'p.db'}")  # folder made on demand
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
        assert (mode, fks, busy) == ("wal", 1, 10_000)
    finally:
        await db.dispose()
