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


def test_a_migration_failing_half_way_leaves_nothing(tmp_path) -> None:
    """SQLite runs the DDL inside the transaction: a killed or failed upgrade is undone."""
    import shutil

    from alembic import command

    from storage.migrate import MIGRATIONS, alembic_config

    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    first = scripts / "versions" / "0001_initial_schema.py"
    source = first.read_text(encoding="utf-8")
    cut = source.index("def downgrade")
    first.write_text(
        source[:cut].rstrip() + "\n    raise RuntimeError('half-way')\n\n\n" + source[cut:],
        encoding="utf-8",
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'half.db'}"
    cfg = alembic_config(url)
    cfg.set_main_option("script_location", str(scripts))
    with pytest.raises(RuntimeError, match="half-way"):
        command.upgrade(cfg, "head")
    assert asyncio.run(_tables(url)) == set()
    upgrade(url)  # the real migrations then apply cleanly
    assert "users" in asyncio.run(_tables(url))
