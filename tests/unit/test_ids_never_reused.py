"""Ids people see («Заявка №7», buttons) or the audit log records are never handed out twice.

SQLite gives a new row the largest id + 1, so deleting the newest row used to give its id
to the next one: two requests «№7» for two residents, `account_link 7` meaning both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    Account,
    AccountLink,
    AuditLog,
    Base,
    ConfirmationCode,
    Meter,
    Reading,
    Supplier,
    Ticket,
    User,
)
from tests.support import factories as f

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
NEVER_REUSED = (
    "suppliers",
    "accounts",
    "meters",
    "readings",
    "account_links",
    "confirmation_codes",
    "tickets",
    "audit_log",
)


async def _new_id_after_deleting_the_newest(db: Database, make: Callable[[int], Any]) -> list[int]:
    """Insert two rows, delete the newer one, insert another: the three ids."""
    model = type(make(0))
    async with db.session_maker() as session:
        first, second = make(1), make(2)
        session.add_all([first, second])
        await session.commit()
        await session.execute(delete(model).where(model.id == second.id))
        await session.commit()
        third = make(3)
        session.add(third)
        await session.commit()
        return [first.id, second.id, third.id]


async def _link_request_numbers(db: Database) -> list[int]:
    """A resident's request, withdrawn (deleted), then another request: the three numbers."""
    voda = f.supplier()
    accounts = [f.account(voda, f"100000000{i}") for i in range(4)]
    await f.add(db, f.resident(1), *accounts)
    return await _new_id_after_deleting_the_newest(
        db, lambda n: f.link(1, accounts[n].id, "pending")
    )


async def test_a_deleted_link_s_number_is_not_given_to_the_next_request(db: Database) -> None:
    ids = await _link_request_numbers(db)
    assert ids[2] > ids[1] > ids[0]


@pytest.mark.parametrize(
    "model", [Supplier, Account, Meter, Reading, ConfirmationCode, Ticket, AuditLog]
)
async def test_no_id_shown_or_audited_is_reused(db: Database, model: type[Base]) -> None:
    voda = f.supplier()
    account = f.account(voda, "1000000001")
    await f.add(db, User(id=1), account)
    meter = Meter(account_id=account.id, serial="M0", service="Вода")
    await f.add(db, meter)
    makers: dict[type[Base], Callable[[int], Any]] = {
        Supplier: lambda n: f.supplier(code=f"S{n}"),
        Account: lambda n: f.account(voda, f"20000000{n:02d}"),
        Meter: lambda n: Meter(account_id=account.id, serial=f"M{n}", service="Вода"),
        Reading: lambda n: Reading(meter_id=meter.id, value=n, period=f"2026-{n + 1:02d}"),
        ConfirmationCode: lambda n: ConfirmationCode(
            purpose="link_sms", target="+79161234567", code_hash="x", expires_at=NOW
        ),
        Ticket: lambda n: Ticket(kind="link"),
        AuditLog: lambda n: AuditLog(actor_kind="system", action="test", at=NOW),
    }
    ids = await _new_id_after_deleting_the_newest(db, makers[model])
    assert ids[2] > ids[1] > ids[0], model.__tablename__


def _schema(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))


async def test_the_schema_says_autoincrement_whether_created_or_migrated(
    db: Database, tmp_path: Path
) -> None:
    async with db.engine.connect() as conn:
        created = dict(
            (await conn.exec_driver_sql("SELECT name, sql FROM sqlite_master")).all()  # type: ignore[arg-type]
        )
    migrated_path = tmp_path / "migrated.db"
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{migrated_path}")
    migrated = _schema(migrated_path)
    for table in NEVER_REUSED:
        assert "AUTOINCREMENT" in created[table], table
        assert "AUTOINCREMENT" in migrated[table], table
    for table in ("users", "charges", "payments", "ticket_messages", "account_phones"):
        assert "AUTOINCREMENT" not in migrated[table], table


def test_the_migration_keeps_every_row_and_skips_ids_the_audit_log_remembers(
    tmp_path: Path,
) -> None:
    """0002 → 0003 on a database with data: children survive the copy of their parents
    (no cascade fired), and a link deleted before the upgrade keeps its number."""
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0002")
    at = "2026-11-01 09:00:00"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(
            f"""
            INSERT INTO users (id, created_at, updated_at) VALUES (7, '{at}', '{at}');
            INSERT INTO suppliers (id, code, name, account_pattern, account_hint,
                window_start_day, window_end_day, inn, kpp, bank_name, bic, corr_account,
                settlement_account, created_at, updated_at)
                VALUES (1, 'uk', 'УК', '\\d{{8}}', '', 15, 25, '', '', '', '', '', '',
                        '{at}', '{at}');
            INSERT INTO accounts (id, supplier_id, number, address, holder_name, created_at,
                updated_at) VALUES (1, 1, '10000001', '', '', '{at}', '{at}');
            INSERT INTO account_phones (account_id, phone) VALUES (1, '+79161234567');
            INSERT INTO charges (account_id, period, service, charged, paid)
                VALUES (1, '2026-10', 'Вода', 10, 0);
            INSERT INTO meters (id, account_id, serial, service, zones, digits, decimals,
                created_at, updated_at) VALUES (1, 1, 'M1', 'Вода', 1, 5, 3, '{at}', '{at}');
            INSERT INTO readings (meter_id, zone, value, period, submitted_at, source, status)
                VALUES (1, 1, 5, '2026-10', '{at}', 'billing', 'accepted');
            INSERT INTO account_links (id, user_id, account_id, status, created_at, updated_at)
                VALUES (3, 7, 1, 'pending', '{at}', '{at}');
            INSERT INTO tickets (id, kind, status, user_id, link_id, created_at, updated_at)
                VALUES (1, 'link', 'open', 7, 3, '{at}', '{at}');
            INSERT INTO ticket_messages (ticket_id, staff_chat_id, staff_message_id, direction,
                created_at) VALUES (1, -100, 55, 'out', '{at}');
            INSERT INTO audit_log (at, actor_kind, action, object_type, object_id, details)
                VALUES ('{at}', 'resident', 'link_requested', 'account_link', '5', '{{}}');
            """
        )
    upgrade(url)

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("account_phones", "charges", "meters", "readings", "account_links",
                          "tickets", "ticket_messages", "audit_log")
        }  # fmt: skip
        assert set(counts.values()) == {1}, counts
        assert conn.execute("SELECT link_id FROM tickets").fetchone() == (3,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # link 5 was given out (the audit log says so) and deleted before the upgrade
        conn.execute("DELETE FROM account_links WHERE id = 3")
        conn.execute(
            "INSERT INTO account_links (user_id, account_id, status, created_at, updated_at) "
            f"VALUES (7, 1, 'active', '{at}', '{at}')"
        )
        new_id = conn.execute("SELECT id FROM account_links").fetchone()[0]
        assert new_id == 6
        # the foreign keys still act: deleting the account takes its rows with it
        conn.execute("DELETE FROM accounts")
        assert conn.execute("SELECT count(*) FROM charges").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM account_links").fetchone() == (0,)


@pytest.mark.postgres
async def test_postgres_never_reuses_a_link_id(pg_database_url: str) -> None:
    await asyncio.to_thread(upgrade, pg_database_url)
    db = Database(pg_database_url)
    try:
        ids = await _link_request_numbers(db)
        assert ids[2] > ids[1] > ids[0]
        async with db.session_maker() as session:
            assert len((await session.execute(select(AccountLink.id))).all()) == 2
    finally:
        await db.dispose()
