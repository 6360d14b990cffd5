"""support conversations: the resident's topic in the staff chat, a ticket's rating

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:10:00

Support tickets are rows of `tickets` with kind "question"; their messages are mapped in
`ticket_messages` (both exist since 0001). This adds where each resident's forum topic is
and the rating a resident gives a closed ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_topics",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_support_topics_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "staff_chat_id", name=op.f("pk_support_topics")),
    )
    op.create_index(
        "ix_support_topics_thread", "support_topics", ["staff_chat_id", "thread_id"], unique=False
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("rated_at")
        batch_op.drop_column("rating")
    op.drop_index("ix_support_topics_thread", table_name="support_topics")
    op.drop_table("support_topics")
