"""meter readings: photo, correction link, review, idempotency key; reminders; locks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:47:36.145914

Chained after 0003 (ids never reused); 0005 (payments) follows it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_locks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_locks")),
    )
    op.create_table(
        "reminder_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_reminder_log_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reminder_log_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_log")),
        sa.UniqueConstraint(
            "user_id",
            "account_id",
            "period",
            "kind",
            name=op.f("uq_reminder_log_user_id_account_id_period_kind"),
        ),
    )
    with op.batch_alter_table("reminder_log", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_log_status", ["status"], unique=False)

    with op.batch_alter_table(
        "readings", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("batch", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("photo_file_id", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("consumption", sa.Numeric(precision=18, scale=6), nullable=True)
        )
        batch_op.add_column(
            sa.Column("rolled_over", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("flag", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("decided_by_name", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_readings_corrects_id"), ["corrects_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_readings_batch_meter_id_zone"), ["batch", "meter_id", "zone"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_readings_corrects_id_readings"),
            "readings",
            ["corrects_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table(
        "tickets", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("reading_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_reading_id"), ["reading_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_reading_id_readings"),
            "readings",
            ["reading_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reading_reminders", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("inactive_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("inactive_since")
        batch_op.drop_column("reading_reminders")

    with op.batch_alter_table(
        "tickets", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tickets_reading_id_readings"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_tickets_reading_id"))
        batch_op.drop_column("reading_id")

    with op.batch_alter_table(
        "readings", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_readings_corrects_id_readings"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_readings_batch_meter_id_zone"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_readings_corrects_id"))
        batch_op.drop_column("decided_by_name")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("corrects_id")
        batch_op.drop_column("flag")
        batch_op.drop_column("rolled_over")
        batch_op.drop_column("consumption")
        batch_op.drop_column("photo_file_id")
        batch_op.drop_column("batch")

    with op.batch_alter_table("reminder_log", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_log_status")

    op.drop_table("reminder_log")
    op.drop_table("scheduler_locks")
