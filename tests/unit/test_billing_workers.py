"""A big CSV parsed in a worker process (IMPORT_WORKERS, bench/README.md): the same rows
stored, the same errors with the same lines, nothing written when anything is wrong.

The files here are over `parsing.IN_PROCESS_ROWS` rows (7,000 in chunks of 1,000),
so `workers=1` really starts a process; the in-process path (`workers=0`) is the reference.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services.billing import CsvFile, ImportRejected, ImportSummary, Kind, csv_rows, import_rows
from bot.services.billing.parsing import IN_PROCESS_ROWS
from bot.services.billing.sources import CsvLayout, CsvReading, RawRow, RowError, record_chunks
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import Account, AccountPhone, Base
from storage.uow import UnitOfWork
from tests.support.billing_files import account, csv_text, supplier

ROWS = 7_000
CHUNK = 1_000
assert ROWS > IN_PROCESS_ROWS + CHUNK  # so `workers=1` uses the worker process


def accounts(n: int = ROWS, *, broken: tuple[int, ...] = ()) -> list[dict[str, str]]:
    """Accounts; some addresses hold quotes, and those of the rows `broken` a line break
    (a quoted field over two lines, which the address refuses as a control character)."""
    rows = []
    for i in range(n):
        address = f"г. Тверь, ул. Советская, д. {i % 97 + 1}"
        if i % 250 == 0:
            address += ', подъезд 2, "код 12"'
        if i in broken:
            address += ",\nподъезд 2"
        rows.append(
            account(
                f"{30_000_000 + i}",
                address=address,
                phones=f"8 (916) {i % 1000:03d}-00-{i % 100:02d}; +7 482 212-{i % 10_000:04d}",
            )
        )
    return rows


@pytest.fixture
async def second_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'second.db'}")
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


async def load_suppliers(db: Database, clock: FrozenClock) -> None:
    text = csv_text(Kind.SUPPLIERS, [supplier()])
    async with UnitOfWork(db.session_maker) as uow:
        await import_rows(
            uow, Kind.SUPPLIERS, csv_rows(Kind.SUPPLIERS, io.StringIO(text)), clock=clock
        )


async def load(
    db: Database, body: bytes, clock: FrozenClock, workers: int, *, text: bool = False
) -> ImportSummary:
    """Import `body` as the CLI does (`CsvFile`), or as a text stream (`csv_rows`)."""
    source = (
        csv_rows(Kind.ACCOUNTS, io.TextIOWrapper(io.BytesIO(body), "utf-8", newline=""))
        if text
        else CsvFile(Kind.ACCOUNTS, io.BytesIO(body))
    )
    async with UnitOfWork(db.session_maker) as uow:
        return await import_rows(
            uow, Kind.ACCOUNTS, source, clock=clock, batch_size=CHUNK, workers=workers
        )


async def rejected(
    db: Database, body: bytes, clock: FrozenClock, workers: int, *, text: bool = False
) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        await load(db, body, clock, workers, text=text)
    return info.value.lines("a.csv")


async def stored(db: Database) -> tuple[set[tuple[Any, ...]], set[tuple[str, str]]]:
    async with db.session_maker() as session:
        accounts = {
            (a.number, a.address, a.holder_name, a.access_code_hash, a.holder_inn)
            for a in (await session.execute(select(Account))).scalars()
        }
        phones = {
            (number, phone)
            for number, phone in await session.execute(
                select(Account.number, AccountPhone.phone).join(
                    AccountPhone, AccountPhone.account_id == Account.id
                )
            )
        }
    return accounts, phones


async def count(db: Database, model: type[Base]) -> int:
    async with db.session_maker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def body_of(rows: list[dict[str, str]]) -> bytes:
    return csv_text(Kind.ACCOUNTS, rows).encode("utf-8")


async def test_the_worker_stores_exactly_what_the_import_in_process_stores(
    db: Database, second_db: Database, clock: FrozenClock
) -> None:
    body = body_of(accounts())
    for database in (db, second_db):
        await load_suppliers(database, clock)
    in_process = await load(db, body, clock, workers=0)
    in_worker = await load(second_db, body, clock, workers=1)
    assert in_worker == in_process
    assert (in_worker.inserted, in_worker.separator, in_worker.encoding) == (ROWS, ",", "utf-8")
    rows, phones = await stored(second_db)
    assert (rows, phones) == await stored(db)
    assert len(rows) == ROWS and len(phones) == 2 * ROWS
    assert ("30001000", 'г. Тверь, ул. Советская, д. 31, подъезд 2, "код 12"',
            "Иванов Иван Иванович", None, None) in rows  # fmt: skip


async def test_a_bad_row_in_the_second_chunk_leaves_nothing_and_names_its_line(
    db: Database, clock: FrozenClock
) -> None:
    await load_suppliers(db, clock)
    rows = accounts()
    rows[1_500] = account("1500", phones="8 (916) 123-45-67")  # not the pattern \d{8}
    expected = [  # line 1 is the header
        r"a.csv:1502: account_number: '1500' does not match the pattern of supplier 'uk' (\d{8})"
    ]
    assert await rejected(db, body_of(rows), clock, workers=1) == expected
    assert await count(db, Account) == 0  # the first chunk's 1,000 accounts too
    assert await count(db, AccountPhone) == 0
    assert await rejected(db, body_of(rows), clock, workers=0) == expected


async def test_duplicates_and_errors_across_chunks_are_reported_alike(
    db: Database, clock: FrozenClock
) -> None:
    await load_suppliers(db, clock)
    # rows over two lines at the end of the first chunk (of records: lines 2–1001)
    rows = accounts(broken=(998, 999, 1_000, 3_000))
    rows[6_000] = dict(rows[3])  # the key of the 4th row again, five chunks later
    rows[4_200]["phones"] = "не телефон"
    in_worker = await rejected(db, body_of(rows), clock, workers=1)
    assert in_worker == await rejected(db, body_of(rows), clock, workers=0)
    control = "address: contains control characters"
    assert in_worker == [
        f"a.csv:1000: {control}",
        f"a.csv:1002: {control}",
        f"a.csv:1004: {control}",
        f"a.csv:3005: {control}",
        "a.csv:4206: phones: not a phone number: 'не телефон'",
        "a.csv:6006: key: duplicate of line 5 (uk, 30000003)",
    ]
    assert await count(db, Account) == 0


async def test_a_bad_byte_far_into_the_file_stops_the_reading_there(
    db: Database, clock: FrozenClock
) -> None:
    await load_suppliers(db, clock)
    lines = body_of(accounts()).split(b"\n")
    lines[5_500] = lines[5_500].replace("Иван".encode(), b"\xc8\xe2\xe0\xed", 1)  # cp1251
    lines[6_000] = b"bad,row"  # never read: the reading stopped at line 5,501
    body = b"\n".join(lines)
    in_worker = await rejected(db, body, clock, workers=1)
    assert in_worker == await rejected(db, body, clock, workers=0)
    assert len(in_worker) == 1 and in_worker[0].startswith("a.csv:5501: file: not valid UTF-8")
    assert await count(db, Account) == 0
    # a text stream decodes ahead: it fails on an earlier line, the same one either way
    in_worker = await rejected(db, body, clock, workers=1, text=True)
    assert in_worker == await rejected(db, body, clock, workers=0, text=True)
    assert in_worker[-1].endswith(": file: not valid UTF-8 text (save the file as UTF-8)")
    assert await count(db, Account) == 0


# ------------------------------------------------------------------ chunks of records
_PIECES = ["a", "б", ",", ",", '"', '"', '""', "\n", "\r\n", "\r", " ", "x,y", '"q,\n"']


def _random_csv(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randrange(0, 60)))


def _read(layout: CsvLayout, chunks: list[tuple[int, list[str]]]) -> list[RawRow | RowError]:
    out: list[RawRow | RowError] = []
    for first_line, lines in chunks:
        reading = CsvReading(layout, first_line - 1)
        out.extend(reading.rows(lines))
        if reading.stopped:
            break
    return out


@pytest.mark.parametrize("separator", [",", ";"])
def test_chunks_of_records_read_alone_exactly_as_the_whole_text(separator: str) -> None:
    """Any text — quoted fields over lines, doubled quotes, a quote inside an unquoted
    field, broken quoting — read chunk by chunk gives the rows, errors and lines that one
    reader of the whole text gives (up to the first error that stops the reading)."""
    rng = random.Random(13)
    layout = CsvLayout(Kind.ACCOUNTS, separator, ("a", "b"), None)
    for _ in range(3_000):
        text = "\n".join(
            _random_csv(rng).replace(",", separator) for _ in range(rng.randrange(1, 8))
        )
        lines = io.StringIO(text, newline="").readlines()
        whole = _read(layout, [(2, lines)])
        for size in (1, 2, 3):
            chunks = record_chunks(layout, iter(lines), 2, size)
            pieces = [(c.first_line, list(c.lines)) for c in chunks]
            assert _read(layout, pieces) == whole, (text, size)
            assert [line for _, part in pieces for line in part] == lines


def test_a_chunk_never_ends_inside_a_quoted_field() -> None:
    layout = CsvLayout(Kind.ACCOUNTS, ",", ("a", "b"), None)
    text = 'a,"1\n2\n3"\nb,x"y\nc,"z"""\n'
    chunks = list(record_chunks(layout, iter(io.StringIO(text, newline="").readlines()), 2, 1))
    assert [(c.first_line, c.lines) for c in chunks] == [
        (2, ['a,"1\n', "2\n", '3"\n']),
        (5, ['b,x"y\n']),
        (6, ['c,"z"""\n']),
    ]
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["a", "1\n2\n3"], ["b", 'x"y'], ["c", 'z"'],
    ]  # fmt: skip
