"""never reuse ids people see or the audit log records (SQLite AUTOINCREMENT)

SQLite hands out the id of a deleted row again (the largest id + 1), so a request shown
to operators as «Заявка №7», a staff card's button and `audit_log`'s `account_link 7`
could mean two different requests. AUTOINCREMENT never reuses an id. SQLite cannot add it
to a table: each table is copied (batch mode, foreign keys off — see env.py). Each table's
counter starts above the highest id it ever gave out that the audit log remembers.
PostgreSQL's sequences never reuse a value: nothing to do there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table → the audit log's object_type for its ids (None: the audit log does not name them)
TABLES: dict[str, str | None] = {
    "suppliers": "supplier",
    "accounts": "account",
    "meters": None,
    "readings": None,
    "account_links": "account_link",
    "confirmation_codes": "confirmation_code",
    "tickets": None,
    "audit_log": None,
}


def _recreate(autoincrement: bool) -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    _recreate(True)
    for table, object_type in TABLES.items():
        # the copy set the counter to the largest id there is; an id the audit log
        # remembers may be larger (that row was deleted): never hand it out again
        ids = sa.table(table, sa.column("id"))
        highest = bind.execute(sa.select(sa.func.coalesce(sa.func.max(ids.c.id), 0))).scalar_one()
        if object_type is not None:
            audited = bind.execute(
                sa.text(
                    "SELECT coalesce(max(CAST(object_id AS INTEGER)), 0) FROM audit_log "
                    "WHERE object_type = :type AND object_id GLOB '[0-9]*' "
                    "AND length(object_id) <= 18"
                ),
                {"type": object_type},
            ).scalar_one()
            highest = max(highest, audited)
        if highest:
            bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"),
                {"t": table, "seq": highest},
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _recreate(False)
