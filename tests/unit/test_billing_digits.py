"""Billing values in other digits and with odd spaces: imported in the form the bot compares."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.billing import Kind, import_rows
from bot.services.billing import json_rows as json_source
from bot.services.clock import FrozenClock
from bot.services.hashing import verify_secret
from bot.services.textnorm import normalize_access_code
from storage.db import Database
from storage.models import Account, AccountPhone, Charge, Payment, Reading
from storage.uow import UnitOfWork
from tests.support.billing_files import (
    account,
    charge,
    meter,
    payment,
    supplier,
)
from tests.unit.test_billing_import import load, rejected


async def scalars(db: Database, column: Any) -> list[Any]:
    async with db.session_maker() as session:
        return sorted((await session.execute(select(column))).scalars())


@pytest.fixture
async def base(db: Database, clock: FrozenClock) -> Database:
    await load(db, Kind.SUPPLIERS, [supplier()], clock)
    return db


# ------------------------------------------------------------------ digits and spaces
async def test_a_full_width_account_number_imports_as_ascii(
    base: Database, clock: FrozenClock
) -> None:
    await load(base, Kind.ACCOUNTS, [account("１０２０００００"), account("10-200 001")], clock)
    assert await scalars(base, Account.number) == ["10200000", "10200001"]
    # the same account, written in ASCII, in Arabic-Indic digits: one account, found
    summary = await load(base, Kind.ACCOUNTS, [account("10200000"), account("١٠٢٠٠٠٠١")], clock)
    assert (summary.inserted, summary.unchanged) == (0, 2)
    await load(base, Kind.CHARGES, [charge("１０２０００００")], clock)
    assert len(await scalars(base, Charge.id)) == 1


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", " ", "\u2009"])
async def test_thousands_separators_of_every_kind(
    base: Database, clock: FrozenClock, space: str
) -> None:
    """U+202F is what the Russian locale of glibc (and many phones) put between digit
    groups; it was refused while U+00A0 passed."""
    await load(base, Kind.ACCOUNTS, [account()], clock)
    await load(base, Kind.CHARGES, [charge(charged=f"1{space}234,56", paid="0")], clock)
    assert await scalars(base, Charge.charged) == [Decimal("1234.56")]


async def test_amounts_dates_and_readings_in_other_digits(
    base: Database, clock: FrozenClock
) -> None:
    await load(base, Kind.ACCOUNTS, [account()], clock)
    await load(
        base, Kind.PAYMENTS, [payment(paid_at="２０２６-１１-０５", amount="３１２,４５")], clock
    )
    await load(
        base,
        Kind.METERS,
        [meter(last_t1="١٢٣٫٤٥٦".replace("٫", "."), last_date="2026-11-10")],
        clock,
    )
    assert await scalars(base, Payment.amount) == [Decimal("312.45")]
    assert await scalars(base, Reading.value) == [Decimal("123.456")]


async def test_phones_in_other_digits_and_separated_by_commas(
    base: Database, clock: FrozenClock
) -> None:
    phones = "８ (９１６) １２３-４５-６７, +84 822 123 456;\u00a08\u00a0925\u00a0111-22-33"
    await load(base, Kind.ACCOUNTS, [account(phones=phones)], clock)
    assert await scalars(base, AccountPhone.phone) == [
        "+79161234567",
        "+79251112233",
        "+84822123456",
    ]


async def test_an_access_code_is_hashed_as_the_bot_normalises_it(
    base: Database, clock: FrozenClock
) -> None:
    await load(base, Kind.ACCOUNTS, [account(access_code="ав-12 кс")], clock)
    stored = (await scalars(base, Account.access_code_hash))[0]
    for typed in ("AB12KC", "ab12kc", "АВ12КС", "ab-12-kc"):
        assert verify_secret(normalize_access_code(typed), stored), typed
    # the same code written another way is the same code: not re-hashed, not counted
    summary = await load(base, Kind.ACCOUNTS, [account(access_code="AB12KC")], clock)
    assert summary.unchanged == 1


async def test_a_pattern_is_matched_with_ascii_semantics(db: Database, clock: FrozenClock) -> None:
    lines = await rejected(db, Kind.SUPPLIERS, [supplier(account_pattern=r"(?u)\d{8}")], clock)
    assert len(lines) == 1
    assert lines[0].startswith("f.csv:2: account_pattern: not a valid regular expression")


async def test_json_values_are_normalised_too(base: Database, clock: FrozenClock) -> None:
    items = [{**account("１０２０ ００００"), "phones": ["８９１６１２３４５６７"]}]
    async with UnitOfWork(base.session_maker) as uow:
        await import_rows(uow, Kind.ACCOUNTS, json_source(Kind.ACCOUNTS, items), clock=clock)
    assert await scalars(base, Account.number) == ["10200000"]
    assert await scalars(base, AccountPhone.phone) == ["+79161234567"]
