"""The accounts import's bulk path: batches written by the driver's executemany, one
transaction for the whole file, the same rules as row by row (bench/README.md)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from bot.services.billing import ImportRejected, Kind, csv_rows, import_rows
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import Account, AccountPhone, AuditLog, Base
from storage.uow import UnitOfWork
from tests.support.billing_files import account, csv_text, supplier

ROWS = 5_001  # three batches of 2,000 rows, the last one short
BATCH = 2_000


def accounts(n: int) -> list[dict[str, str]]:
    return [
        account(
            f"{20_000_000 + i}",
            phones=f"8 (916) {i % 1000:03d}-00-{i % 100:02d}; +7 482 212-{i % 10_000:04d}",
        )
        for i in range(n)
    ]


async def load(db: Database, rows: list[dict[str, str]], clock: FrozenClock) -> None:
    text = csv_text(Kind.ACCOUNTS, rows)
    async with UnitOfWork(db.session_maker) as uow:
        await import_rows(
            uow,
            Kind.ACCOUNTS,
            csv_rows(Kind.ACCOUNTS, io.StringIO(text)),
            clock=clock,
            batch_size=BATCH,
        )


async def count(db: Database, model: type[Base]) -> int:
    async with db.session_maker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.fixture
async def suppliers(db: Database, clock: FrozenClock) -> Database:
    text = csv_text(Kind.SUPPLIERS, [supplier()])
    async with UnitOfWork(db.session_maker) as uow:
        await import_rows(
            uow, Kind.SUPPLIERS, csv_rows(Kind.SUPPLIERS, io.StringIO(text)), clock=clock
        )
    return db


async def test_a_bad_last_row_of_a_large_file_leaves_nothing(
    suppliers: Database, clock: FrozenClock
) -> None:
    rows = accounts(ROWS)
    rows[-1] = account("2000", phones="8 (916) 123-45-67")  # 4 digits: not the pattern \d{8}
    with pytest.raises(ImportRejected) as info:
        await load(suppliers, rows, clock)
    # the header is line 1: the last of 5,001 rows is line 5,002
    assert info.value.lines("a.csv") == [
        r"a.csv:5002: account_number: '2000' does not match the pattern of supplier 'uk' (\d{8})"
    ]
    assert await count(suppliers, Account) == 0  # the 4,000 rows of the first batches too
    assert await count(suppliers, AccountPhone) == 0
    assert await count(suppliers, AuditLog) == 1  # the suppliers import only


async def test_a_large_file_is_stored_as_given_and_a_second_import_changes_only_what_changed(
    suppliers: Database, clock: FrozenClock
) -> None:
    rows = accounts(ROWS)
    await load(suppliers, rows, clock)
    async with suppliers.session_maker() as session:
        stored = {
            a.number: (a.address, a.holder_name, a.access_code_hash, a.created_at, a.updated_at)
            for a in (await session.execute(select(Account))).scalars()
        }
        phones = {
            (r.account_id, r.phone) for r in (await session.execute(select(AccountPhone))).scalars()
        }
        last = (
            await session.execute(
                select(Account).where(Account.number == f"{20_000_000 + ROWS - 1}")
            )
        ).scalar_one()
    assert len(stored) == ROWS and len(phones) == 2 * ROWS
    address, holder, code_hash, created, updated = stored["20000007"]
    assert (address, holder, code_hash) == (
        "г. Тверь, ул. Советская, д. 1, кв. 2",
        "Иванов Иван Иванович",
        None,
    )
    assert created.tzinfo is not None and updated >= created  # the columns' defaults (utcnow)
    assert {p for a, p in phones if a == last.id} == {"+79160000000", "+74822125000"}

    later = FrozenClock(clock.now() + dt.timedelta(days=1))
    rows[7] = account("20000007", address="г. Тверь, ул. Новая, д. 3", phones="+7 916 000-00-07")
    text = csv_text(Kind.ACCOUNTS, rows)
    async with UnitOfWork(suppliers.session_maker) as uow:
        summary = await import_rows(
            uow,
            Kind.ACCOUNTS,
            csv_rows(Kind.ACCOUNTS, io.StringIO(text)),
            clock=later,
            batch_size=BATCH,
        )
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, ROWS - 1)
    async with suppliers.session_maker() as session:
        changed = (
            await session.execute(select(Account).where(Account.number == "20000007"))
        ).scalar_one()
        its_phones = (
            (
                await session.execute(
                    select(AccountPhone.phone).where(AccountPhone.account_id == changed.id)
                )
            )
            .scalars()
            .all()
        )
    assert (changed.address, changed.created_at, changed.updated_at) == (
        "г. Тверь, ул. Новая, д. 3", created, later.now()
    )  # fmt: skip
    assert its_phones == ["+79160000007"]
    assert await count(suppliers, AccountPhone) == 2 * ROWS - 1
