"""The accounts file's organisation columns: holder_inn, holder_kpp, contract_number."""

# ruff: noqa: E501  (a table of expected messages reads best one per line)

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.billing import ImportRejected, Kind, csv_rows, import_rows, json_rows
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import Account
from storage.uow import UnitOfWork
from tests.support.billing_files import account, csv_text, supplier


async def load(db: Database, rows: list[dict[str, str]], clock: FrozenClock) -> Any:
    text = csv_text(Kind.ACCOUNTS, rows)
    async with UnitOfWork(db.session_maker) as uow:
        return await import_rows(
            uow, Kind.ACCOUNTS, csv_rows(Kind.ACCOUNTS, io.StringIO(text)), clock=clock
        )


async def stored(db: Database) -> dict[str, tuple[str | None, str | None, str | None]]:
    async with db.session_maker() as session:
        rows = await session.execute(
            select(Account.number, Account.holder_inn, Account.holder_kpp, Account.contract_number)
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


@pytest.fixture
async def base(db: Database, clock: FrozenClock) -> Database:
    text = csv_text(Kind.SUPPLIERS, [supplier()])
    async with UnitOfWork(db.session_maker) as uow:
        await import_rows(
            uow, Kind.SUPPLIERS, csv_rows(Kind.SUPPLIERS, io.StringIO(text)), clock=clock
        )
    return db


def org(number: str, **over: str) -> dict[str, str]:
    fields = {
        "holder_name": "ООО «Ромашка»",
        "holder_inn": "7707083893",
        "holder_kpp": "773601001",
        "contract_number": "Д-15/2024",
    }
    return account(number, **{**fields, **over})


async def test_organisation_columns_are_stored_normalised(
    base: Database, clock: FrozenClock
) -> None:
    rows = [
        org("10000001"),
        org("10000002", holder_inn="７７０７ ０８３８９３", holder_kpp="7736 02 001"),
        account("10000003", holder_inn="500100732259", contract_number="17"),  # an ИП
        account("10000004"),  # a flat
    ]
    summary = await load(base, rows, clock)
    assert summary.inserted == 4
    assert await stored(base) == {
        "10000001": ("7707083893", "773601001", "Д-15/2024"),
        "10000002": ("7707083893", "773602001", "Д-15/2024"),
        "10000003": ("500100732259", None, "17"),
        "10000004": (None, None, None),
    }
    again = await load(base, rows, clock)
    assert (again.updated, again.unchanged) == (0, 4)
    changed = await load(base, [org("10000001", holder_kpp="773603001")], clock)
    assert changed.updated == 1
    assert (await stored(base))["10000001"][1] == "773603001"


@pytest.mark.parametrize(
    ("over", "line"),
    [
        ({"holder_inn": "7707083894"}, "f.csv:3: holder_inn: INN control digit does not match (FNS algorithm): a typo?"),
        ({"holder_inn": "77070838930"}, "f.csv:3: holder_inn: INN must be 10 digits (an organisation) or 12 digits (an ИП)"),
        ({"holder_inn": "77O7083893"}, "f.csv:3: holder_inn: INN must be digits only"),
        ({"holder_kpp": "77360100"}, "f.csv:3: holder_kpp: KPP must be 9 characters: 4 digits, 2 digits or capital latin letters, 3 digits"),
        ({"holder_inn": "", "holder_kpp": "773601001"}, "f.csv:3: holder_inn: required when holder_kpp or contract_number is given"),
        ({"holder_inn": "500100732259"}, "f.csv:3: holder_kpp: an ИП (12-digit INN) has no KPP"),
        ({"contract_number": "9" * 65}, "f.csv:3: contract_number: longer than 64 characters"),
    ],
)  # fmt: skip
async def test_a_bad_line_is_named_and_nothing_is_applied(
    base: Database, clock: FrozenClock, over: dict[str, str], line: str
) -> None:
    with pytest.raises(ImportRejected) as info:
        await load(base, [org("10000001"), org("10000002", **over)], clock)
    assert info.value.lines("f.csv") == [line]
    assert await stored(base) == {}  # the good first line was not applied either


async def test_the_api_rows_take_the_same_columns(base: Database, clock: FrozenClock) -> None:
    items = [
        {**org("10000001"), "holder_inn": 7707083893},
        {**org("10000002"), "holder_inn": "1234567890"},
    ]
    with pytest.raises(ImportRejected) as info:
        async with UnitOfWork(base.session_maker) as uow:
            await import_rows(uow, Kind.ACCOUNTS, json_rows(Kind.ACCOUNTS, items), clock=clock)
    assert info.value.lines("body") == [
        "body[1]: holder_inn: INN control digit does not match (FNS algorithm): a typo?"
    ]
    async with UnitOfWork(base.session_maker) as uow:
        await import_rows(uow, Kind.ACCOUNTS, json_rows(Kind.ACCOUNTS, items[:1]), clock=clock)
    assert (await stored(base))["10000001"][0] == "7707083893"
