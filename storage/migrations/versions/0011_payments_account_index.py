"""payments: an index on (account_id, paid_at, id) — an account's payments, newest first

The balance screen, the receipt and the history read an account's payments on every press.
The only index on payments was billing's partial unique key (…WHERE telegram_charge_id IS
NULL), which a query over all of an account's payments cannot use: every press scanned the
whole table (a dozen payments a year per account: 12 million rows for a million accounts).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_payments_account_paid", "payments", ["account_id", "paid_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_payments_account_paid", table_name="payments")
