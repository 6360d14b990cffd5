"""The reads every press of «💳 Баланс» makes find their rows by index, never by a scan of
a table that grows with the company (payments: a dozen a year per account). SQLite's own
EXPLAIN QUERY PLAN on a migrated database: a missing index shows as `SCAN <table>`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Select

from storage.migrate import upgrade
from storage.repositories import balance, links

HOT_READS = {
    "the picker's accounts": links._ACTIVE_ACCOUNTS,
    "the only account with its supplier": balance._ACTIVE_ACCOUNT_ROWS,
    "the account with its supplier": balance._LINKED_ACCOUNT,
    "the shown month and the sums": balance._PERIOD_SUMMARY,
    "the month totals (history)": balance._MONTH_TOTALS,
    "the payments and the last import": balance._PAYMENTS_AS_OF,
}
GROWING = ("accounts", "account_links", "charges", "payments", "audit_log")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "kabinet.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.mark.parametrize("name", HOT_READS)
def test_a_hot_read_scans_no_growing_table(database: Path, name: str) -> None:
    statement: Select = HOT_READS[name]  # type: ignore[type-arg]
    sql = str(statement.compile(dialect=sqlite.dialect()))
    with sqlite3.connect(database) as db:
        plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", [1] * sql.count("?"))]
    scans = [step for step in plan if step.startswith("SCAN") and step.split()[1] in GROWING]
    assert not scans, f"{name}: {plan}"
