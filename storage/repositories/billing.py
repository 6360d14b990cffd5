"""Billing data: batch reads and writes for the importer, the readings export, lookups.

The importer works in batches of a few hundred rows inside one transaction: it reads the
existing rows of a batch by their keys, decides in Python what is new / changed / the
same, then writes with executemany statements (Core-level, so the session's identity map
stays empty however big the file). Everything here is portable between SQLite and
PostgreSQL: no dialect-specific upsert, only SELECT / INSERT ... RETURNING / UPDATE by id.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ReadingSource, ReadingStatus
from storage.models import Account, AccountPhone, Base, Charge, Meter, Payment, Reading, Supplier


@dataclass(frozen=True, slots=True)
class SupplierRef:
    id: int
    code: str
    account_pattern: str


@dataclass(frozen=True, slots=True)
class ExportedReading:
    supplier_code: str
    account_number: str
    serial: str
    zone: int
    value: Decimal
    submitted_at: dt.datetime
    source: str


def _processed(processor: Callable[[Any], Any] | None, value: Any) -> Any:
    return value if processor is None else processor(value)


class _BulkInsert:
    """`INSERT INTO table (columns…)` compiled for the dialect, and its driver parameters."""

    def __init__(self, table: Table, columns: list[str], dialect: Dialect) -> None:
        defaults: dict[str, Any] = {}
        for column in table.columns:  # Python-side defaults, computed once per batch
            default = column.default
            if column.name in columns or default is None:
                continue
            if default.is_scalar:
                defaults[column.name] = default.arg  # type: ignore[attr-defined]
            elif default.is_callable:  # utcnow(): SQLAlchemy wraps it to take a context
                defaults[column.name] = default.arg(None)  # type: ignore[attr-defined]
            else:
                raise NotImplementedError(f"{table.name}.{column.name}: a SQL default")
        names = columns + [n for n in defaults if n not in columns]
        compiled = insert(table).values({n: bindparam(n) for n in names}).compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = compiled.positional
        order = list(compiled.positiontup or names) if compiled.positional else names
        processors = {n: table.c[n].type.bind_processor(dialect) for n in order}
        constant = {n: _processed(processors[n], defaults[n]) for n in defaults}
        self._order = order
        self._varying = [n for n in order if n not in constant]
        self._processors = [(n, processors[n]) for n in self._varying if processors[n]]
        # a row's values in statement order: the varying ones, then the batch's constants
        self._plain = self._varying + [n for n in order if n in constant] == order
        self._constant = tuple(constant[n] for n in order if n in constant)
        self._constants = constant

    def tuples(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        """The driver parameters of rows given as tuples in the order of `columns`: on
        SQLite and asyncpg (positional, no conversion needed) the tuples themselves with
        the batch's constants appended — no dict a row."""
        plain = self.positional and self._plain and not self._processors
        if plain and self._varying == list(columns):
            constant = self._constant
            return [row + constant for row in rows] if constant else list(rows)
        return self.parameters([dict(zip(columns, row, strict=True)) for row in rows])

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        if self._processors:  # e.g. Decimal → text on SQLite, dates
            rows = [
                {**row, **{n: p(row[n]) for n, p in self._processors}}  # type: ignore[misc]
                for row in rows
            ]
        if not self.positional:  # named parameters (psycopg): dicts
            return [{**self._constants, **{n: row[n] for n in self._varying}} for row in rows]
        if not self._plain:
            merged = [{**self._constants, **row} for row in rows]
            return [tuple(row[n] for n in self._order) for row in merged]
        varying = self._varying
        if len(varying) == 1:
            key = varying[0]
            return [(row[key], *self._constant) for row in rows]
        get = operator.itemgetter(*varying)
        constant = self._constant
        return [get(row) + constant for row in rows]


class BillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _among(self, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
        """`column IN (values…)` as ONE parameter: a batch of thousands of keys costs one
        bind, not thousands (SQLAlchemy renders and binds every element of an IN list in
        Python). SQLite: `IN (SELECT value FROM json_each(?))`; PostgreSQL: `= ANY(?)`;
        both use the column's index. Other databases: a plain IN list."""
        items = list(values)
        dialect = self.session.get_bind().dialect.name
        if dialect == "sqlite":
            each = func.json_each(json.dumps(items, ensure_ascii=False)).table_valued("value")
            return cast(ColumnElement[bool], column.in_(select(each.c.value)))
        if dialect == "postgresql":
            kind = Integer if isinstance(column.type, Integer) else String
            return cast(ColumnElement[bool], column == any_(sql_cast(items, ARRAY(kind))))
        return cast(ColumnElement[bool], column.in_(items))

    # ------------------------------------------------------------------ lookups
    async def supplier_refs(self) -> dict[str, SupplierRef]:
        rows = await self.session.execute(
            select(Supplier.id, Supplier.code, Supplier.account_pattern)
        )
        return {r.code: SupplierRef(r.id, r.code, r.account_pattern) for r in rows}

    async def supplier_by_code(self, code: str) -> Supplier | None:
        result = await self.session.execute(select(Supplier).where(Supplier.code == code))
        return result.scalar_one_or_none()

    async def account_by_number(self, supplier_id: int, number: str) -> Account | None:
        """One account by supplier + number (the unique index uq_accounts_supplier_id_number)."""
        result = await self.session.execute(
            select(Account).where(Account.supplier_id == supplier_id, Account.number == number)
        )
        return result.scalar_one_or_none()

    async def count(self, model: type[Base]) -> int:
        result = await self.session.execute(select(func.count()).select_from(model))
        return int(result.scalar_one())

    # ------------------------------------------------------------------ generic writes
    async def insert_many(self, model: type[Base], values: Sequence[dict[str, Any]]) -> None:
        """One executemany INSERT of rows that all hold the same columns.

        The bulk path of the importer: the statement is compiled once per batch and run by
        the driver itself (`exec_driver_sql`: sqlite3's and asyncpg's executemany), with
        the values converted by the columns' own bind processors, and the Python-side
        defaults (created_at, updated_at) computed once per batch, not once per row —
        SQLAlchemy's per-row parameter processing cost more than SQLite's insert itself.
        """
        if not values:
            return
        table = cast(Table, model.__table__)
        connection = await self.session.connection()
        bulk = _BulkInsert(table, list(values[0]), connection.dialect)
        await connection.exec_driver_sql(bulk.sql, bulk.parameters(values))

    async def insert_rows(
        self, model: type[Base], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """`insert_many` of rows given as tuples in the order of `columns` (the import's
        bulk path: no dict is built for a row)."""
        if not rows:
            return
        table = cast(Table, model.__table__)
        connection = await self.session.connection()
        bulk = _BulkInsert(table, list(columns), connection.dialect)
        await connection.exec_driver_sql(bulk.sql, bulk.tuples(columns, rows))

    async def update_many(self, model: type[Base], values: Sequence[dict[str, Any]]) -> None:
        """UPDATE by primary key; every dict holds `id` and the same set of columns."""
        if not values:
            return
        table = cast(Table, model.__table__)
        columns = [k for k in values[0] if k != "id"]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(f"_{c}") for c in columns})
        )
        params = [{f"_{k}": v for k, v in row.items()} for row in values]
        await self.session.execute(stmt, params)

    # ------------------------------------------------------------------ suppliers
    async def existing_suppliers(self, codes: Iterable[str]) -> dict[str, Any]:
        rows = await self.session.execute(
            select(Supplier.__table__).where(Supplier.code.in_(list(codes)))
        )
        return {r.code: r for r in rows}

    # ------------------------------------------------------------------ accounts
    async def existing_accounts(self, supplier_id: int, numbers: Iterable[str]) -> list[Any]:
        connection = await self.session.connection()  # Core rows: no ORM processing a row
        rows = await connection.execute(
            select(
                Account.id,
                Account.number,
                Account.address,
                Account.holder_name,
                Account.access_code_hash,
                Account.holder_inn,
                Account.holder_kpp,
                Account.contract_number,
            ).where(Account.supplier_id == supplier_id, self._among(Account.number, numbers))
        )
        return list(rows)

    async def has_accounts(self, supplier_id: int) -> bool:
        found = await self.session.execute(
            select(Account.id).where(Account.supplier_id == supplier_id).limit(1)
        )
        return found.first() is not None

    async def account_ids(self, supplier_id: int, numbers: Iterable[str]) -> dict[str, int]:
        connection = await self.session.connection()  # Core rows: no ORM processing a row
        rows = await connection.execute(
            select(Account.number, Account.id).where(
                Account.supplier_id == supplier_id, self._among(Account.number, numbers)
            )
        )
        return dict(rows.all())

    async def meter_ids(
        self, account_ids: Iterable[int], serials: Iterable[str]
    ) -> dict[tuple[int, str], int]:
        rows = await self.session.execute(
            select(Meter.account_id, Meter.serial, Meter.id).where(
                Meter.account_id.in_(list(account_ids)), Meter.serial.in_(list(serials))
            )
        )
        return {(r.account_id, r.serial): r.id for r in rows}

    async def phones_of(self, account_ids: Iterable[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        rows = await self.session.execute(
            select(AccountPhone.account_id, AccountPhone.phone).where(
                self._among(AccountPhone.account_id, account_ids)
            )
        )
        for r in rows:
            out.setdefault(r.account_id, set()).add(r.phone)
        return out

    async def replace_phones(
        self, account_ids: Sequence[int], phones: Sequence[tuple[int, str]]
    ) -> None:
        if account_ids:
            await self.session.execute(
                delete(AccountPhone).where(AccountPhone.account_id.in_(list(account_ids)))
            )
        await self.insert_rows(AccountPhone, ("account_id", "phone"), phones)

    async def add_phones_by_number(
        self, supplier_id: int, phones: Sequence[tuple[str, str]]
    ) -> None:
        """Phones of accounts given by number: `(account number, phone)`. The database finds
        the ids (the supplier + number index) in the INSERT itself: no SELECT of the ids
        into Python first (SQLite: the pairs as one JSON parameter; PostgreSQL: two arrays)."""
        if not phones:
            return
        dialect = self.session.get_bind().dialect.name
        if dialect == "sqlite":
            await self.session.execute(
                text(
                    "INSERT INTO account_phones (account_id, phone) "
                    "SELECT a.id, json_extract(p.value, '$[1]') FROM json_each(:pairs) AS p "
                    "CROSS JOIN accounts AS a "  # CROSS: the pairs drive, accounts is probed
                    "WHERE a.supplier_id = :supplier "
                    "AND a.number = json_extract(p.value, '$[0]')"
                ),
                {"pairs": json.dumps(phones, ensure_ascii=False), "supplier": supplier_id},
            )
        elif dialect == "postgresql":
            await self.session.execute(
                text(
                    "INSERT INTO account_phones (account_id, phone) SELECT a.id, p.phone "
                    "FROM unnest(CAST(:numbers AS VARCHAR[]), CAST(:phones AS VARCHAR[])) "
                    "AS p(number, phone) "
                    "JOIN accounts AS a ON a.supplier_id = :supplier AND a.number = p.number"
                ),
                {
                    "numbers": [n for n, _ in phones],
                    "phones": [p for _, p in phones],
                    "supplier": supplier_id,
                },
            )
        else:
            ids = await self.account_ids(supplier_id, {n for n, _ in phones})
            await self.insert_rows(
                AccountPhone, ("account_id", "phone"), [(ids[n], p) for n, p in phones]
            )

    # ------------------------------------------------------------------ charges, payments
    async def existing_charges(
        self, account_ids: Iterable[int], periods: Iterable[str]
    ) -> list[Any]:
        rows = await self.session.execute(
            select(
                Charge.id,
                Charge.account_id,
                Charge.period,
                Charge.service,
                Charge.charged,
                Charge.paid,
            ).where(Charge.account_id.in_(list(account_ids)), Charge.period.in_(list(periods)))
        )
        return list(rows)

    async def existing_payments(
        self, account_ids: Iterable[int], dates: Iterable[dt.date]
    ) -> list[Any]:
        rows = await self.session.execute(
            select(
                Payment.id, Payment.account_id, Payment.paid_at, Payment.amount, Payment.source
            ).where(Payment.account_id.in_(list(account_ids)), Payment.paid_at.in_(list(dates)))
        )
        return list(rows)

    # ------------------------------------------------------------------ meters, readings
    async def existing_meters(
        self, account_ids: Iterable[int], serials: Iterable[str]
    ) -> list[Any]:
        rows = await self.session.execute(
            select(
                Meter.id,
                Meter.account_id,
                Meter.serial,
                Meter.service,
                Meter.zones,
                Meter.digits,
                Meter.decimals,
                Meter.verification_due,
            ).where(Meter.account_id.in_(list(account_ids)), Meter.serial.in_(list(serials)))
        )
        return list(rows)

    async def existing_billing_readings(
        self, meter_ids: Iterable[int], periods: Iterable[str]
    ) -> list[Any]:
        rows = await self.session.execute(
            select(
                Reading.id,
                Reading.meter_id,
                Reading.zone,
                Reading.period,
                Reading.value,
                Reading.taken_on,
                Reading.status,
            ).where(
                Reading.meter_id.in_(list(meter_ids)),
                Reading.period.in_(list(periods)),
                Reading.source == ReadingSource.BILLING.value,
            )
        )
        return list(rows)

    # ------------------------------------------------------------------ export
    async def stream_readings(
        self, period: str, supplier_id: int | None = None, *, chunk: int = 1000
    ) -> AsyncIterator[ExportedReading]:
        """Accepted readings of a period, in a stable order, fetched in chunks."""
        query = (
            select(
                Supplier.code,
                Account.number,
                Meter.serial,
                Reading.zone,
                Reading.value,
                Reading.submitted_at,
                Reading.source,
            )
            .join(Meter, Reading.meter_id == Meter.id)
            .join(Account, Meter.account_id == Account.id)
            .join(Supplier, Account.supplier_id == Supplier.id)
            .where(Reading.period == period, Reading.status == ReadingStatus.ACCEPTED.value)
            .order_by(Supplier.code, Account.number, Meter.serial, Reading.zone, Reading.id)
            .execution_options(yield_per=chunk)
        )
        if supplier_id is not None:
            query = query.where(Account.supplier_id == supplier_id)
        result = await self.session.stream(query)
        try:
            async for r in result:
                yield ExportedReading(
                    supplier_code=r[0],
                    account_number=r[1],
                    serial=r[2],
                    zone=r[3],
                    value=r[4],
                    submitted_at=r[5],
                    source=r[6],
                )
        finally:
            await result.close()
