"""The hot reads' own path on SQLite (storage/repositories/columns.py) gives what Core gives:
the same rows with the same Python types, the same errors, and statement counters still
see each read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, event, exc, select, text
from sqlalchemy.sql import Select

from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import Account
from storage.repositories import balance, columns, links
from storage.repositories.columns import read_columns
from storage.uow import UnitOfWork
from tests.support.balance import seed_linked

CASES = ("typical", "overpaid", "debtor", "no_charges", "recalculation")


def _reads(ids: dict[str, int]) -> list[tuple[Select[*tuple[Any, ...]], dict[str, Any]]]:
    reads: list[tuple[Select[*tuple[Any, ...]], dict[str, Any]]] = [
        (links._ACTIVE_ACCOUNTS, {"user_id": 900}),
        (balance._ACTIVE_ACCOUNT_ROWS, {"user_id": 900}),
    ]
    for account in ids.values():
        reads += [
            (balance._LINKED_ACCOUNT, {"user_id": 900, "account_id": account}),
            (balance._PERIOD_SUMMARY, {"account_id": account, "period": None}),
            (balance._PERIOD_SUMMARY, {"account_id": account, "period": "2026-06"}),
            (balance._MONTH_TOTALS, {"account_id": account}),
            (balance._PAYMENTS_AS_OF, {"account_id": account}),
        ]
    return reads


async def test_every_hot_read_gives_what_core_gives(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, CASES)
    async with UnitOfWork(db.session_maker) as uow:
        await uow.balance.add_telegram_payment(
            account_id=seeded.ids["debtor"], paid_at=dt.date(2026, 11, 20),
            amount=Decimal("1000.10"), source="Telegram", charge_id="tg-1",
            recorded_at=clock.advance(minutes=1),
        )  # fmt: skip
    kinds: set[type] = set()
    async with UnitOfWork(db.session_maker) as uow:
        for statement, params in _reads(seeded.ids):
            ours = list(await read_columns(uow.session, statement, params))
            core = [tuple(row) for row in await uow.session.execute(statement, params)]
            assert ours == core, statement
            assert [[type(v) for v in row] for row in ours] == [
                [type(v) for v in row] for row in core
            ]
            kinds |= {type(v) for row in ours for v in row}
    # every kind of value the reads carry was compared: money, dates, aware datetimes …
    assert {int, str, Decimal, dt.date, dt.datetime, type(None)} <= kinds


async def test_an_aware_datetime_comes_back_aware(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, ("typical",))
    async with UnitOfWork(db.session_maker) as uow:
        rows = await read_columns(
            uow.session, balance._PAYMENTS_AS_OF, {"account_id": seeded.ids["typical"]}
        )
    as_of = rows[0][0]
    assert as_of == clock.now() and as_of.tzinfo is not None


async def test_a_failing_read_raises_as_core_does(db: Database) -> None:
    async with UnitOfWork(db.session_maker) as uow:
        await uow.session.execute(text("DROP TABLE charges"))
        with pytest.raises(exc.OperationalError, match="no such table: charges"):
            await read_columns(uow.session, balance._MONTH_TOTALS, {"account_id": 1})


async def test_a_list_parameter_takes_cores_path(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, ("typical", "debtor"))
    wanted = sorted(seeded.ids.values())
    statement = (
        select(Account.id)
        .where(Account.id.in_(bindparam("ids", expanding=True)))
        .order_by(Account.id)
    )
    async with UnitOfWork(db.session_maker) as uow:
        rows = await read_columns(uow.session, statement, {"ids": wanted})
    assert [row[0] for row in rows] == wanted


async def test_statement_counters_see_each_read(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, ("typical",))
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with UnitOfWork(db.session_maker) as uow:
            await uow.balance.payments(seeded.ids["typical"])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(seen) == 1 and "FROM payments" in seen[0]


async def test_statements_built_on_every_call_do_not_grow_the_cache(db: Database) -> None:
    async with UnitOfWork(db.session_maker) as uow:
        for n in range(3 * columns.MAX_PLANS):
            rows = await read_columns(uow.session, select(Account.id).where(Account.id == n), {})
            assert rows == []
    assert len(columns._PLANS) <= columns.MAX_PLANS
