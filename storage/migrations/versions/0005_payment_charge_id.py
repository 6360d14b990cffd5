"""payments: Telegram's charge id (unique) and when a row was recorded

A payment made in Telegram is stored once, keyed by telegram_payment_charge_id, however
often Telegram delivers its successful_payment. Billing's key (account + date + amount)
stays unique among billing's rows only: a resident may pay the same sum twice a day.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BILLING_ROWS = sa.text("telegram_charge_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_charge_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_payments_account_id_paid_at_amount", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_telegram_charge_id"), ["telegram_charge_id"]
        )
    op.create_index(
        "uq_payments_billing_key",
        "payments",
        ["account_id", "paid_at", "amount"],
        unique=True,
        sqlite_where=BILLING_ROWS,
        postgresql_where=BILLING_ROWS,
    )


def downgrade() -> None:
    op.drop_index("uq_payments_billing_key", table_name="payments")
    # Telegram payments that share billing's key with another row cannot keep the old
    # constraint: the later ones go (their amounts stay in the audit log)
    op.execute(
        "DELETE FROM payments WHERE telegram_charge_id IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM payments GROUP BY account_id, paid_at, amount)"
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payments_telegram_charge_id"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_payments_account_id_paid_at_amount", ["account_id", "paid_at", "amount"]
        )
        batch_op.drop_column("recorded_at")
        batch_op.drop_column("telegram_charge_id")
