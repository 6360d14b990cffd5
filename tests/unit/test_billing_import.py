"""Billing imports through the service: validation, all-or-nothing, idempotency, export."""

# ruff: noqa: E501  (tables of expected messages read best one per line)
from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services.billing import (
    ImportRejected,
    ImportSummary,
    Kind,
    accepted_readings,
    csv_rows,
    import_rows,
    json_rows,
)
from bot.services.billing.keyset import KeySet
from bot.services.clock import FrozenClock
from bot.services.hashing import verify_secret
from storage.db import Database
from storage.models import (
    Account,
    AccountPhone,
    AuditLog,
    Base,
    Charge,
    Meter,
    Payment,
    Reading,
    Supplier,
)
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


async def load(
    db: Database, kind: Kind, rows: list[dict[str, str]], clock: FrozenClock, **kw: Any
) -> ImportSummary:
    text = csv_text(kind, rows, kw.pop("columns", None))
    async with UnitOfWork(db.session_maker) as uow:
        return await import_rows(uow, kind, csv_rows(kind, io.StringIO(text)), clock=clock, **kw)


async def rejected(
    db: Database, kind: Kind, rows: list[dict[str, str]], clock: FrozenClock, **kw: Any
) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        await load(db, kind, rows, clock, **kw)
    return info.value.lines("f.csv")


async def count(db: Database, model: type[Base]) -> int:
    async with db.session_maker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.fixture
async def base(db: Database, clock: FrozenClock) -> Database:
    await load(db, Kind.SUPPLIERS, [supplier(), gas_supplier()], clock)
    await load(db, Kind.ACCOUNTS, [account("10000001"), account("10000002", phones="")], clock)
    return db


# ------------------------------------------------------------------ happy paths
async def test_every_kind_imports_and_a_second_import_changes_nothing(
    base: Database, clock: FrozenClock
) -> None:
    files: list[tuple[Kind, list[dict[str, str]]]] = [
        (Kind.SUPPLIERS, [supplier(), gas_supplier()]),
        (Kind.ACCOUNTS, [account("10000001"), account("10000002", phones="")]),
        (Kind.CHARGES, [charge(), charge(period="2026-11", charged="1 200,50", paid="0")]),
        (Kind.PAYMENTS, [payment(), payment(paid_at="2026-10-05", amount="100")]),
        (Kind.METERS, [meter(), meter(serial="Э1", service="Электроэнергия", zones=2,
                                      last_t1="1000.5", last_t2="400")]),
    ]  # fmt: skip
    first = [await load(base, kind, rows, clock) for kind, rows in files]
    assert [s.inserted for s in first[2:]] == [2, 2, 2]
    assert first[4].readings_inserted == 3
    again = [await load(base, kind, rows, clock) for kind, rows in files]
    for summary, (_, rows) in zip(again, files, strict=True):
        assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, len(rows))
    assert again[4].readings_inserted == again[4].readings_updated == 0
    assert await count(base, Charge) == 2
    assert await count(base, Payment) == 2
    assert await count(base, Meter) == 2
    assert await count(base, Reading) == 3
    async with base.session_maker() as session:
        amounts = sorted((await session.execute(select(Charge.charged))).scalars())
    assert amounts == [Decimal("312.45"), Decimal("1200.50")]


async def test_changed_rows_are_updated_and_counted(base: Database, clock: FrozenClock) -> None:
    await load(base, Kind.CHARGES, [charge(), charge(service="Отопление")], clock)
    summary = await load(base, Kind.CHARGES, [charge(paid="0"), charge(service="Отопление")], clock)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    async with base.session_maker() as session:
        paid = (
            await session.execute(select(Charge.paid).where(Charge.service != "Отопление"))
        ).scalar_one()
    assert paid == Decimal("0")


async def test_phones_are_normalised_and_replaced(base: Database, clock: FrozenClock) -> None:
    await load(base, Kind.ACCOUNTS, [account(phones="8 (916) 123-45-67; +7 925 111 22 33")], clock)
    async with base.session_maker() as session:
        phones = sorted((await session.execute(select(AccountPhone.phone))).scalars())
    assert phones == ["+79161234567", "+79251112233"]
    summary = await load(base, Kind.ACCOUNTS, [account(phones="+79251112233")], clock)
    assert summary.updated == 1
    async with base.session_maker() as session:
        phones = sorted((await session.execute(select(AccountPhone.phone))).scalars())
    assert phones == ["+79251112233"]


async def test_access_code_is_stored_hashed_and_an_unchanged_code_is_unchanged(
    base: Database, clock: FrozenClock
) -> None:
    summary = await load(base, Kind.ACCOUNTS, [account(access_code="73190482")], clock)
    assert summary.updated == 1
    async with base.session_maker() as session:
        stored = (
            await session.execute(
                select(Account.access_code_hash).where(Account.number == "10000001")
            )
        ).scalar_one()
    assert stored is not None and "73190482" not in stored
    assert verify_secret("73190482", stored)

    summary = await load(base, Kind.ACCOUNTS, [account(access_code="73190482")], clock)
    assert (summary.updated, summary.unchanged) == (0, 1)
    async with base.session_maker() as session:
        again = (
            await session.execute(
                select(Account.access_code_hash).where(Account.number == "10000001")
            )
        ).scalar_one()
    assert again == stored  # not re-hashed

    summary = await load(base, Kind.ACCOUNTS, [account(access_code="00001111")], clock)
    assert summary.updated == 1


async def test_a_new_month_of_meter_readings_adds_a_reading(
    base: Database, clock: FrozenClock
) -> None:
    await load(base, Kind.METERS, [meter(last_date="2026-10-20", last_t1="100")], clock)
    summary = await load(base, Kind.METERS, [meter(last_date="2026-11-20", last_t1="105.5")], clock)
    assert (summary.updated, summary.readings_inserted) == (1, 1)
    corrected = await load(
        base, Kind.METERS, [meter(last_date="2026-11-20", last_t1="105.25")], clock
    )
    assert (corrected.updated, corrected.readings_updated) == (1, 1)
    assert await count(base, Reading) == 2
    async with base.session_maker() as session:
        rows = (await session.execute(select(Reading).order_by(Reading.period))).scalars().all()
    assert [(r.period, r.value, r.source, r.status) for r in rows] == [
        ("2026-10", Decimal("100"), "billing", "accepted"),
        ("2026-11", Decimal("105.25"), "billing", "accepted"),
    ]


async def test_import_then_export_round_trip(base: Database, clock: FrozenClock) -> None:
    rows = [
        meter(),
        meter(serial="Э1", service="Электроэнергия", zones=2, last_t1="1000,5", last_t2="400"),
        meter(serial="OLD", last_date="2026-10-20", last_t1="1"),
    ]
    await load(base, Kind.METERS, rows, clock)
    async with UnitOfWork(base.session_maker) as uow:
        out = [r async for r in await accepted_readings(uow, "2026-11")]
        gas_only = [r async for r in await accepted_readings(uow, "2026-11", "gas")]
    assert gas_only == []
    assert [(r["serial"], r["zone"], r["value"], r["source"]) for r in out] == [
        ("ХВ1234567", 1, "123.456", "billing"),
        ("Э1", 1, "1000.5", "billing"),
        ("Э1", 2, "400", "billing"),
    ]
    assert {(r["supplier_code"], r["account_number"]) for r in out} == {("uk", "10000001")}
    assert out[0]["submitted_at"] == "2026-11-10T00:00:00+00:00"


async def test_bom_and_header_case_are_accepted(db: Database, clock: FrozenClock) -> None:
    text = "\ufeff" + csv_text(Kind.SUPPLIERS, [supplier()]).replace("code,", "Code,", 1)
    async with UnitOfWork(db.session_maker) as uow:
        summary = await import_rows(
            uow, Kind.SUPPLIERS, csv_rows(Kind.SUPPLIERS, io.StringIO(text)), clock=clock
        )
    assert summary.inserted == 1


async def test_optional_columns_may_be_left_out(db: Database, clock: FrozenClock) -> None:
    rows = [{"code": "x", "name": "X", "account_pattern": r"\d+"}]
    summary = await load(
        db, Kind.SUPPLIERS, rows, clock, columns=["code", "name", "account_pattern"]
    )
    assert summary.inserted == 1
    async with db.session_maker() as session:
        row = (await session.execute(select(Supplier))).scalar_one()
    assert (row.window_start_day, row.window_end_day, row.inn) == (15, 25, "")


async def test_a_successful_import_is_audited(base: Database, clock: FrozenClock) -> None:
    async with base.session_maker() as session:
        actions = (await session.execute(select(AuditLog.action, AuditLog.object_id))).all()
    assert ("billing.import", "accounts") in [tuple(a) for a in actions]


async def test_json_rows_import_and_report_items(base: Database, clock: FrozenClock) -> None:
    items = [
        {**charge(), "charged": Decimal("10.5"), "paid": 0},
        {**charge(period="2026-09"), "charged": True},
        {**charge(period="2026-08"), "colour": "red"},
        "not an object",
    ]
    with pytest.raises(ImportRejected) as info:
        async with UnitOfWork(base.session_maker) as uow:
            await import_rows(uow, Kind.CHARGES, json_rows(Kind.CHARGES, items), clock=clock)
    assert info.value.lines("body") == [
        "body[1]: charged: true/false is not a valid value here",
        "body[2]: colour: unknown field",
        "body[3]: item: expected an object",
    ]
    async with UnitOfWork(base.session_maker) as uow:
        summary = await import_rows(
            uow, Kind.CHARGES, json_rows(Kind.CHARGES, items[:1]), clock=clock
        )
    assert summary.inserted == 1


# ------------------------------------------------------------------ all or nothing
async def test_one_bad_row_rejects_the_whole_file(base: Database, clock: FrozenClock) -> None:
    rows = [charge(period=f"2026-{m:02d}") for m in range(1, 11)] + [charge(period="2026-13")]
    lines = await rejected(base, Kind.CHARGES, rows, clock, batch_size=3)
    assert lines == ["f.csv:12: period: not a period YYYY-MM: '2026-13'"]
    assert await count(base, Charge) == 0  # the first batches were written, then rolled back


async def test_at_most_50_errors_are_listed(base: Database, clock: FrozenClock) -> None:
    rows = [charge(period="bad", service=f"s{i}") for i in range(70)]
    lines = await rejected(base, Kind.CHARGES, rows, clock)
    assert len(lines) == 51
    assert lines[0] == "f.csv:2: period: not a period YYYY-MM: 'bad'"
    assert lines[-1] == "… and 20 more errors"


async def test_progress_is_reported_per_batch(base: Database, clock: FrozenClock) -> None:
    seen: list[int] = []
    rows = [charge(period=f"2026-{m:02d}") for m in range(1, 11)]
    await load(base, Kind.CHARGES, rows, clock, batch_size=4, progress=seen.append)
    assert seen == [4, 4, 2]


# ------------------------------------------------------------------ each validation error
BAD_ROWS: list[tuple[Kind, dict[str, str], str]] = [
    (Kind.SUPPLIERS, supplier(code="у к"), "code: 1 to 32 latin letters, digits, '-' or '_'"),
    (Kind.SUPPLIERS, supplier(name=""), "name: required, but empty"),
    (Kind.SUPPLIERS, supplier(account_pattern="(\\d"), "account_pattern: not a valid regular expression"),
    (Kind.SUPPLIERS, supplier(window_start_day="0"), "window_start_day: must be from 1 to 31, got 0"),
    (Kind.SUPPLIERS, supplier(window_end_day="32"), "window_end_day: must be from 1 to 31, got 32"),
    (Kind.SUPPLIERS, supplier(window_end_day="x"), "window_end_day: not a whole number: 'x'"),
    (Kind.SUPPLIERS, supplier(inn="123"), "inn: INN must be 10 or 12 digits"),
    (Kind.SUPPLIERS, supplier(bic="04452522"), "bic: BIC must be 9 digits"),
    (Kind.SUPPLIERS, supplier(settlement_account="4070"), "settlement_account: a settlement account must be 20 digits"),
    (Kind.ACCOUNTS, account(supplier_code="nope"), "supplier_code: unknown supplier 'nope' (import the suppliers first)"),
    (Kind.ACCOUNTS, account("1234"), "account_number: '1234' does not match the pattern of supplier 'uk' (\\d{8})"),
    (Kind.ACCOUNTS, account(phones="12345"), "phones: not a phone number: '12345'"),
    (Kind.ACCOUNTS, account(phones="+79161234567;abc"), "phones: not a phone number: 'abc'"),
    (Kind.ACCOUNTS, account(access_code="12"), "access_code: an access code is 4 to 64 characters without spaces"),
    (Kind.ACCOUNTS, account(address="x" * 513), "address: longer than 512 characters"),
    (Kind.ACCOUNTS, account(account_number=""), "account_number: required, but empty"),
    (Kind.CHARGES, charge(period="2026-1"), "period: not a period YYYY-MM: '2026-1'"),
    (Kind.CHARGES, charge(period="2026-00"), "period: not a period YYYY-MM: '2026-00'"),
    (Kind.CHARGES, charge(charged="12.345"), "charged: more than 2 digits after the decimal point"),
    (Kind.CHARGES, charge(charged="1e5"), "charged: not a number: '1e5' (write 1234.56 or 1234,56)"),
    (Kind.CHARGES, charge(charged="1000000000000"), "charged: too large"),
    (Kind.CHARGES, charge(paid="-1"), "paid: must not be negative"),
    (Kind.CHARGES, charge(service=""), "service: required, but empty"),
    (Kind.CHARGES, charge("99999999"), "account_number: no account '99999999' of supplier 'uk' (import the accounts first)"),
    (Kind.PAYMENTS, payment(paid_at="05.11.2026"), "paid_at: not a date YYYY-MM-DD: '05.11.2026'"),
    (Kind.PAYMENTS, payment(paid_at="2026-02-30"), "paid_at: no such date: '2026-02-30'"),
    (Kind.PAYMENTS, payment(paid_at="2026-12-25"), "paid_at: in the future: 2026-12-25"),
    (Kind.PAYMENTS, payment(amount="0"), "amount: must be at least 0.01"),
    (Kind.PAYMENTS, payment(amount="-5"), "amount: must be at least 0.01"),
    (Kind.METERS, meter(zones="4"), "zones: must be from 1 to 3, got 4"),
    (Kind.METERS, meter(digits="0"), "digits: must be from 1 to 10, got 0"),
    (Kind.METERS, meter(decimals="7"), "decimals: must be from 0 to 4, got 7"),
    (Kind.METERS, meter(verification_due="2030-13-01"), "verification_due: no such date: '2030-13-01'"),
    (Kind.METERS, meter(last_t1="123456"), "last_t1: too large (must be below 100 000)"),
    (Kind.METERS, meter(last_t1="1.2345"), "last_t1: more than 3 digits after the decimal point"),
    (Kind.METERS, meter(last_t1="-1"), "last_t1: must not be negative"),
    (Kind.METERS, meter(last_t2="5"), "last_t2: the meter has 1 zone(s), so no value for zone 2"),
    (Kind.METERS, meter(zones="2"), "last_t2: required when last_date is given"),
    (Kind.METERS, meter(last_date=""), "last_date: required when a last reading is given"),
    (Kind.METERS, meter(last_date="2027-01-01"), "last_date: in the future: 2027-01-01"),
    (Kind.METERS, meter(serial=""), "serial: required, but empty"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "row", "reason"),
    BAD_ROWS,
    ids=[r[2].split(":")[0] + "-" + str(i) for i, r in enumerate(BAD_ROWS)],
)
async def test_each_validation_error_is_reported_with_line_and_column(
    base: Database, clock: FrozenClock, kind: Kind, row: dict[str, str], reason: str
) -> None:
    good = {
        Kind.SUPPLIERS: gas_supplier(code="other"),
        Kind.ACCOUNTS: account("10000003"),
        Kind.CHARGES: charge(service="Отопление"),
        Kind.PAYMENTS: payment(amount="1"),
        Kind.METERS: meter(serial="OTHER"),
    }[kind]
    before = await count(base, Supplier), await count(base, Account)
    lines = await rejected(base, kind, [good, row], clock)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"f.csv:3: {reason}"), lines
    assert (await count(base, Supplier), await count(base, Account)) == before
    assert await count(base, Charge) + await count(base, Payment) + await count(base, Meter) == 0


async def test_duplicate_keys_in_one_file(base: Database, clock: FrozenClock) -> None:
    rows = [charge(), charge(service="Отопление"), charge(charged="1")]
    lines = await rejected(base, Kind.CHARGES, rows, clock)
    assert lines == [
        "f.csv:4: key: duplicate of line 2 (uk, 10000001, 2026-10, Холодное водоснабжение)"
    ]


async def test_payment_amount_keys_compare_as_money(base: Database, clock: FrozenClock) -> None:
    lines = await rejected(
        base, Kind.PAYMENTS, [payment(amount="100"), payment(amount="100,00")], clock
    )
    assert lines[0].startswith("f.csv:3: key: duplicate of line 2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["f.csv:1: header: the file is empty (a header row is required)"]),
        ("code,name\n", ["f.csv:1: header: missing required column 'account_pattern'"]),
        (
            "code,name,account_pattern,colour\n",
            ["f.csv:1: header: unknown column 'colour' (expected: code, name, account_pattern, "
             "account_hint, window_start_day, window_end_day, inn, kpp, bank_name, bic, "
             "corr_account, settlement_account)"],
        ),
        ("code,name,account_pattern,name\n", ["f.csv:1: header: column 'name' appears twice"]),
        ("code,name,account_pattern\nuk,x\n", ["f.csv:2: row: 2 fields, the header has 3 (separator ',')"]),
        ('code,name,account_pattern\nuk,"x,\\d+\n', ["f.csv:2: file: not a valid CSV: unexpected end of data"]),
        ("code,name,account_pattern\nuk,x\x00,\\d+\n", ["f.csv:2: name: contains control characters"]),
    ],
)  # fmt: skip
async def test_broken_csv_structure(
    db: Database, clock: FrozenClock, text: str, expected: list[str]
) -> None:
    with pytest.raises(ImportRejected) as info:
        async with UnitOfWork(db.session_maker) as uow:
            await import_rows(
                uow, Kind.SUPPLIERS, csv_rows(Kind.SUPPLIERS, io.StringIO(text)), clock=clock
            )
    assert info.value.lines("f.csv") == expected
    assert await count(db, Supplier) == 0


async def test_blank_lines_are_skipped_and_line_numbers_stay_physical(
    base: Database, clock: FrozenClock
) -> None:
    text = (
        csv_text(Kind.CHARGES, [charge()])
        + "\n\n"
        + csv_text(Kind.CHARGES, [charge(period="2026-99")]).split("\n", 1)[1]
    )
    with pytest.raises(ImportRejected) as info:
        async with UnitOfWork(base.session_maker) as uow:
            await import_rows(
                uow, Kind.CHARGES, csv_rows(Kind.CHARGES, io.StringIO(text)), clock=clock
            )
    assert info.value.lines("f.csv") == ["f.csv:5: period: not a period YYYY-MM: '2026-99'"]


def test_key_set_finds_duplicates_and_grows() -> None:
    keys = KeySet(capacity=4)
    for i in range(10_000):
        assert keys.add(("uk", str(i)), i + 2) is None
    assert keys.add(("uk", "1234"), 99_999) == 1236
    assert keys.add(("uk", "12", "34"), 5) is None  # no confusion between key parts
    assert len(keys) == 10_001
    assert keys.nbytes < 10_001 * 40
