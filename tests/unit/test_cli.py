"""run_bot.py's own commands: migrate, and what a broken database looks like."""

from __future__ import annotations

import sqlite3

import pytest

from bot.cli import main


def test_migrate_creates_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'data' / 'k.db'}")
    assert main(["migrate"]) == 0
    assert "migrated to head" in capsys.readouterr().out
    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "data" / "k.db").execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"users", "accounts", "alembic_version"} <= tables
    assert main(["migrate"]) == 0  # again: nothing to do


def test_a_foreign_database_is_refused_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, nickname TEXT)")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kabinet: could not migrate the database at")
    assert "table users already exists" in err and "Nothing was changed" in err
    assert "Traceback" not in err
    with sqlite3.connect(path) as conn:  # untouched: no half-made schema
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names == {"users"}
