"""A broken or hostile billing file: what the importer and the command say about it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.services.billing.formats import BadValue, iso_date, period
from tests.unit.test_billing_cli import Invoke, run  # noqa: F401  (the fixture)

HEADER = b"code,name,account_pattern\r\n"


@pytest.mark.parametrize("value", ["２０２６-１１", "٢٠٢٦-١١", "२०२६-११"])
def test_a_period_in_other_digits_is_read_as_ascii(value: str) -> None:
    """`\\d` matches any script's digits: kept as they are, the period would never match."""
    assert period(value) == "2026-11"


def test_a_date_in_other_digits_is_read_as_ascii() -> None:
    assert iso_date("２０２６-１１-０５") == dt.date(2026, 11, 5)


@pytest.mark.parametrize("value", ["2026-1l", "2026/11", "٢٠٢٦-١٣"])
def test_a_period_that_is_not_one_is_still_refused(value: str) -> None:
    with pytest.raises(BadValue, match="not a period YYYY-MM"):
        period(value)


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_a_bad_utf8_byte_is_reported_on_its_own_line(
    run: Invoke,  # noqa: F811
    tmp_path: Path,
    ending: bytes,
) -> None:
    rows = [b"code,name,account_pattern", b"a,Name,\\d{8}", b"b,Name,\\d{8}", b"c,N\xffme,\\d{8}"]
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ending.join(rows) + ending)
    code, out, err = run("import", "suppliers", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == (f"{path}:4: file: not valid UTF-8 text (save the file as UTF-8)")


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_line_endings_and_bom_still_import(
    run: Invoke,  # noqa: F811
    tmp_path: Path,
    ending: bytes,
) -> None:
    rows = [b"code,name,account_pattern", b'a,"Two, \xd0\xb8 ""more""",\\d{8}', b"b,B,\\d{8}"]
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ending.join(rows) + ending)
    code, out, err = run("import", "suppliers", str(path))
    assert (code, err) == (0, "")
    assert out == (
        "suppliers: 2 rows — 2 inserted, 0 updated, 0 unchanged (separator ',', encoding utf-8)\n"
    )


def test_a_folder_instead_of_a_file(run: Invoke, tmp_path: Path) -> None:  # noqa: F811
    code, _out, err = run("import", "suppliers", str(tmp_path))
    assert code == 1
    assert err == f"kabinet: cannot read {tmp_path}: it is a folder, not a file\n"


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.db

    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 100)


def test_a_busy_database_is_explained_not_a_traceback(
    run: Invoke,  # noqa: F811
    tmp_path: Path,
    short_busy_timeout: None,
) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(HEADER + b"a,A,\\d{8}\r\n")
    assert run("import", "suppliers", str(path))[0] == 0  # migrated, works when free
    holder = sqlite3.connect(tmp_path / "cli.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, out, err = run("import", "suppliers", str(path))
    finally:
        holder.close()
    assert (code, out) == (1, "")
    assert err == (
        f"kabinet: {path}: the database did not accept the import (database is locked); "
        "nothing was imported, try again later\n"
    )
