"""Alembic environment (async; batch mode for SQLite's ALTER TABLE limits).

On SQLite, foreign keys are off while migrations run and checked before the commit: a
batch migration copies a table and drops the old one, and with foreign keys on, dropping
`accounts` would cascade-delete every charge, meter and link (SQLite's "12-step ALTER
TABLE" procedure, https://sqlite.org/lang_altertable.html#otheralter).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return str(config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url"))


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UTCDateTime as the plain column type it stores, so revisions stand alone."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    is_sqlite = (url or "").startswith("sqlite") or (
        connection is not None and connection.dialect.name == "sqlite"
    )
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
        render_item=_render_item,
        transactional_ddl=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def _do_run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    # at connect, before any BEGIN: the pragma is a no-op inside a transaction
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


async def run_migrations_online() -> None:
    engine = create_engine(_url(), transactional_ddl=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _foreign_keys_off)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_do_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
