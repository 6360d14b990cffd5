"""organisations: ИНН/КПП/contract of an account; representatives with a power of attorney

An account may belong to an organisation (holder_inn, holder_kpp, contract_number from the
billing file). A representative asks for its accounts with a power of attorney (its pages
in representative_documents); an operator approves with a role (manager / accountant) and
the representative gets account_links carrying representative_id and the role.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:10:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: SQLite recreates a table to alter it: its ids must stay never reused (see 0003)
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


@contextmanager
def _keeping_ids(table: str) -> Iterator[None]:
    """SQLite: a table recreated by a batch keeps the highest id it ever handed out
    (sqlite_sequence would restart from the highest id left), so ids stay never reused."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    query = sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t")
    before = bind.execute(query, {"t": table}).scalar() or 0
    yield
    after = bind.execute(query, {"t": table}).scalar() or 0
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)"),
        {"t": table, "s": max(before, after)},
    )


def upgrade() -> None:
    op.create_table(
        "representatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("holder_inn", sa.String(length=12), nullable=False),
        sa.Column("holder_kpp", sa.String(length=9), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.String(length=255), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_message_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_page_ids", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_representatives_supplier_id_suppliers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_representatives_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representatives")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_representatives_inn", "representatives", ["holder_inn"], unique=False)
    op.create_index(
        op.f("ix_representatives_user_id"), "representatives", ["user_id"], unique=False
    )
    op.create_table(
        "representative_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("mime_type", sa.String(length=127), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["representatives.id"],
            name=op.f("fk_representative_documents_representative_id_representatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representative_documents")),
    )
    op.create_index(
        op.f("ix_representative_documents_representative_id"),
        "representative_documents",
        ["representative_id"],
        unique=False,
    )
    # plain ADD COLUMN: no copy of the table (an index and nullable columns need none)
    op.add_column("accounts", sa.Column("holder_inn", sa.String(length=12), nullable=True))
    op.add_column("accounts", sa.Column("holder_kpp", sa.String(length=9), nullable=True))
    op.add_column("accounts", sa.Column("contract_number", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_accounts_holder_inn"), "accounts", ["holder_inn"], unique=False)
    with (
        _keeping_ids("account_links"),
        op.batch_alter_table(
            "account_links", schema=None, table_kwargs=NEVER_REUSE_IDS
        ) as batch_op,
    ):
        batch_op.add_column(sa.Column("representative_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_account_links_representative_id"), ["representative_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_account_links_representative_id_representatives"),
            "representatives",
            ["representative_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # a representative's links go with the representatives: without them they grant nothing
    op.execute("DELETE FROM account_links WHERE representative_id IS NOT NULL")
    with (
        _keeping_ids("account_links"),
        op.batch_alter_table(
            "account_links", schema=None, table_kwargs=NEVER_REUSE_IDS
        ) as batch_op,
    ):
        batch_op.drop_constraint(
            batch_op.f("fk_account_links_representative_id_representatives"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_account_links_representative_id"))
        batch_op.drop_column("role")
        batch_op.drop_column("representative_id")
    with (
        _keeping_ids("accounts"),
        op.batch_alter_table("accounts", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op,
    ):
        batch_op.drop_index(batch_op.f("ix_accounts_holder_inn"))
        batch_op.drop_column("contract_number")
        batch_op.drop_column("holder_kpp")
        batch_op.drop_column("holder_inn")
    op.drop_index(
        op.f("ix_representative_documents_representative_id"),
        table_name="representative_documents",
    )
    op.drop_table("representative_documents")
    op.drop_index(op.f("ix_representatives_user_id"), table_name="representatives")
    op.drop_index("ix_representatives_inn", table_name="representatives")
    op.drop_table("representatives")
