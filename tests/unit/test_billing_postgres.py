"""The billing import on PostgreSQL: upserts, idempotency, all-or-nothing, export, demo."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.services.billing import (
    CsvFile,
    ImportRejected,
    ImportSummary,
    Kind,
    accepted_readings,
    csv_rows,
    import_rows,
)
from bot.services.clock import FrozenClock
from bot.services.demo import seed_demo
from storage.db import Database
from storage.models import Account, AccountPhone, Base, Charge, Meter, Payment, Reading
from storage.uow import UnitOfWork
from tests.support.billing_files import (
    account,
    charge,
    csv_text,
    gas_supplier,
    meter,
    payment,
    supplier,
)

pytestmark = pytest.mark.postgres


async def load(
    db: Database, kind: Kind, rows: list[dict[str, str]], clock: FrozenClock
) -> ImportSummary:
    text = csv_text(kind, rows)
    async with UnitOfWork(db.session_maker) as uow:
        return await import_rows(uow, kind, csv_rows(kind, io.StringIO(text)), clock=clock)


async def count(db: Database, model: type[Base]) -> int:
    async with db.session_maker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


FILES: list[tuple[Kind, list[dict[str, str]]]] = [
    (Kind.SUPPLIERS, [supplier(), gas_supplier()]),
    (Kind.ACCOUNTS, [account("10000001", access_code="4321x"),
                     account("10000002", phones="+79161234567; 8 925 111-22-33")]),
    (Kind.CHARGES, [charge(), charge("10000002", charged="99,99")]),
    (Kind.PAYMENTS, [payment(), payment("10000002")]),
    (Kind.METERS, [meter(), meter(serial="Э1", zones=2, last_t1="10", last_t2="5,5")]),
]  # fmt: skip


async def test_upserts_are_idempotent(pg: Database, clock: FrozenClock) -> None:
    first = [await load(pg, kind, rows, clock) for kind, rows in FILES]
    assert [s.inserted for s in first] == [2, 2, 2, 2, 2]
    again = [await load(pg, kind, rows, clock) for kind, rows in FILES]
    assert [(s.inserted, s.updated, s.unchanged) for s in again] == [(0, 0, 2)] * 5
    counts = [await count(pg, m) for m in (Account, AccountPhone, Charge, Payment, Meter, Reading)]
    assert counts == [2, 3, 2, 2, 2, 3]

    changed = await load(
        pg, Kind.CHARGES, [charge(paid="0"), charge("10000002", charged="99,99")], clock
    )
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    async with pg.session_maker() as session:
        paid = sorted((await session.execute(select(Charge.paid))).scalars())
    assert paid == [Decimal("0.00"), Decimal("312.45")]


async def test_a_bad_file_leaves_nothing(pg: Database, clock: FrozenClock) -> None:
    for kind, rows in FILES[:2]:
        await load(pg, kind, rows, clock)
    rows = [charge(period=f"2026-{m:02d}") for m in range(1, 13)] + [charge("99999999")]
    with pytest.raises(ImportRejected) as info:
        async with UnitOfWork(pg.session_maker) as uow:
            text = io.StringIO(csv_text(Kind.CHARGES, rows))
            rows_in = csv_rows(Kind.CHARGES, text)
            await import_rows(uow, Kind.CHARGES, rows_in, clock=clock, batch_size=5)
    assert info.value.lines("c.csv") == [
        "c.csv:14: account_number: no account '99999999' of supplier 'uk' "
        "(import the accounts first)"
    ]
    assert await count(pg, Charge) == 0


async def test_export_round_trip(pg: Database, clock: FrozenClock) -> None:
    for kind, rows in FILES:
        await load(pg, kind, rows, clock)
    async with UnitOfWork(pg.session_maker) as uow:
        out = [r async for r in await accepted_readings(uow, "2026-11", "uk")]
    assert sorted((r["serial"], r["zone"], r["value"]) for r in out) == [
        ("ХВ1234567", 1, "123.456"),
        ("Э1", 1, "10"),
        ("Э1", 2, "5.5"),
    ]


async def test_demo_twice(pg: Database, clock: FrozenClock) -> None:
    await seed_demo(pg, clock)
    before = [await count(pg, m) for m in (Account, Charge, Payment, Meter, Reading)]
    second = await seed_demo(pg, clock)
    assert all(s.inserted == s.updated == 0 for s in second.imports)
    assert [await count(pg, m) for m in (Account, Charge, Payment, Meter, Reading)] == before


async def test_a_big_file_through_the_worker_and_again(pg: Database, clock: FrozenClock) -> None:
    """7,000 accounts parsed in a worker process (over the in-process limit), phones
    attached by number in the database; a second import changes only what changed."""
    await load(pg, Kind.SUPPLIERS, [supplier()], clock)
    rows = [
        account(f"{40_000_000 + i}", phones=f"8 916 {i % 1000:03d}-00-{i % 100:02d}; +74822120000")
        for i in range(7_000)
    ]

    async def big(rows: list[dict[str, str]]) -> ImportSummary:
        source = CsvFile(Kind.ACCOUNTS, io.BytesIO(csv_text(Kind.ACCOUNTS, rows).encode()))
        async with UnitOfWork(pg.session_maker) as uow:
            return await import_rows(
                uow, Kind.ACCOUNTS, source, clock=clock, batch_size=1_000, workers=1
            )

    assert (await big(rows)).inserted == 7_000
    assert (await count(pg, Account), await count(pg, AccountPhone)) == (7_000, 14_000)
    rows[6_500] = account("40006500", phones="+7 925 111-22-33")
    again = await big(rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 6_999)
    async with pg.session_maker() as session:
        phones = await session.execute(
            select(Account.number, AccountPhone.phone)
            .join(AccountPhone, AccountPhone.account_id == Account.id)
            .where(Account.number.in_(["40000001", "40006500"]))
            .order_by(Account.number, AccountPhone.phone)
        )
        assert [tuple(r) for r in phones] == [
            ("40000001", "+74822120000"),
            ("40000001", "+79160010001"),
            ("40006500", "+79251112233"),
        ]
