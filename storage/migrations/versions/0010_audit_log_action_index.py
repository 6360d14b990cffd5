"""audit_log: an index on (action, object_id, at) — the balance's "figures as of" query

Every balance screen asks when charges were last imported (the newest audit_log row of
that action and object). The only index began with actor_id, so that query scanned the
whole audit trail, which grows with every audited action (≈ 34 ms at 300k rows on SQLite,
in the one thread aiosqlite has); with this index it is a lookup.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_log_action_object_at",
        "audit_log",
        ["action", "object_id", "at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_action_object_at", table_name="audit_log")
