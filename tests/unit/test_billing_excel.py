"""Billing files as Russian offices save them: Excel's ';', Windows-1251, empty rows at the end."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bot.services.billing import CsvFile, ImportRejected, ImportSummary, Kind, import_rows
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import Account, AccountPhone, Supplier
from storage.uow import UnitOfWork
from tests.support.billing_files import EXCEL_ACCOUNTS
from tests.unit.test_billing_digits import base, scalars  # noqa: F401  (base: a fixture)


async def load_bytes(
    db: Database, kind: Kind, body: bytes, clock: FrozenClock, encoding: str = "utf-8"
) -> ImportSummary:
    source = CsvFile(kind, io.BytesIO(body), encoding=encoding, advice="ADVICE")
    async with UnitOfWork(db.session_maker) as uow:
        return await import_rows(uow, kind, source, clock=clock)


async def rejected(
    db: Database, kind: Kind, body: bytes, clock: FrozenClock, **kw: Any
) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        await load_bytes(db, kind, body, clock, **kw)
    return info.value.lines("f.csv")


# ------------------------------------------------------------------ Excel: ';' and cp1251
@pytest.mark.usefixtures("base")
async def test_an_excel_file_separated_by_semicolons(db: Database, clock: FrozenClock) -> None:
    summary = await load_bytes(db, Kind.ACCOUNTS, EXCEL_ACCOUNTS.encode("utf-8"), clock)
    assert (summary.inserted, summary.separator, summary.encoding) == (2, ";", "utf-8")
    assert summary.text() == (
        "accounts: 2 rows — 2 inserted, 0 updated, 0 unchanged (separator ';', encoding utf-8)"
    )
    assert await scalars(db, Account.address) == [
        "г. Тверь, ул. Советская, д. 1, кв. 2",
        "пр-т Победы; д. 41",
    ]
    assert len(await scalars(db, AccountPhone.phone)) == 3


@pytest.mark.usefixtures("base")
async def test_a_windows_1251_file(db: Database, clock: FrozenClock) -> None:
    body = EXCEL_ACCOUNTS.encode("cp1251")
    summary = await load_bytes(db, Kind.ACCOUNTS, body, clock, encoding="cp1251")
    assert (summary.inserted, summary.separator, summary.encoding) == (2, ";", "cp1251")
    assert await scalars(db, Account.holder_name) == ["Иванов Иван Иванович", "Попова Анна"]


@pytest.mark.usefixtures("base")
async def test_a_windows_1251_file_read_as_utf8_says_how_to_import_it(
    db: Database, clock: FrozenClock
) -> None:
    lines = await rejected(db, Kind.ACCOUNTS, EXCEL_ACCOUNTS.encode("cp1251"), clock)
    assert lines == [
        "f.csv:2: file: not valid UTF-8 text: the file looks like Windows-1251 (cp1251, "
        "as Excel in Russia saves CSV); ADVICE"
    ]
    assert await scalars(db, Account.id) == []


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.usefixtures("base")
async def test_a_utf8_file_read_as_windows_1251_is_refused_not_garbled(
    db: Database, clock: FrozenClock, bom: bytes
) -> None:
    lines = await rejected(
        db, Kind.ACCOUNTS, bom + EXCEL_ACCOUNTS.encode("utf-8"), clock, encoding="cp1251"
    )
    assert len(lines) == 1
    assert "it is UTF-8, not cp1251" in lines[0] or "looks like UTF-8, not cp1251" in lines[0]
    assert lines[0].endswith("import it as UTF-8 (the default)")


async def test_the_separator_is_found_from_the_header(db: Database, clock: FrozenClock) -> None:
    comma = "code,name,account_pattern\r\nuk,ООО «УК; Тест»,\\d{8}\r\n"
    semicolon = 'code;name;account_pattern\r\ngas;"ООО ""Газ, сервис""";\\d{10}\r\n'
    first = await load_bytes(db, Kind.SUPPLIERS, comma.encode(), clock)
    second = await load_bytes(db, Kind.SUPPLIERS, semicolon.encode(), clock)
    assert (first.separator, second.separator) == (",", ";")
    assert await scalars(db, Supplier.name) == ['ООО "Газ, сервис"', "ООО «УК; Тест»"]


async def test_empty_columns_excel_adds_at_the_end_are_ignored(
    db: Database, clock: FrozenClock
) -> None:
    body = "code;name;account_pattern;;\r\nuk;УК;\\d{8};;\r\n;;;;\r\n".encode("cp1251")
    summary = await load_bytes(db, Kind.SUPPLIERS, body, clock, encoding="cp1251")
    assert summary.inserted == 1


async def test_a_row_with_another_separator_says_which_one_is_used(
    db: Database, clock: FrozenClock
) -> None:
    body = b"code;name;account_pattern\r\nuk,UK,\\d{8}\r\n"
    assert await rejected(db, Kind.SUPPLIERS, body, clock) == [
        "f.csv:2: row: 1 fields, the header has 3 (separator ';')"
    ]


async def test_utf16_is_named(db: Database, clock: FrozenClock) -> None:
    body = "code\tname\taccount_pattern\r\n".encode("utf-16")
    assert await rejected(db, Kind.SUPPLIERS, body, clock) == [
        "f.csv:1: file: the file is UTF-16 (Excel's “Unicode text”): save it as “CSV UTF-8” "
        "or plain CSV"
    ]
