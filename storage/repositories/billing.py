"""Billing data: batch reads and writes for the importer, the readings export, lookups.

The importer works in batches of a few hundred rows inside one transaction: it reads the
existing rows of a batch by their keys, decides in Python what is new / changed / the
same, then writes with executemany statements (Core-level, so the session's identity map
stays empty however big the file). Everything here is portable between SQLite and
PostgreSQL: no dialect-specific upsert, only SELECT / INSERT ... RETURNING / UPDATE by id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
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


class BillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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
        """One executemany INSERT (Core: no ORM bookkeeping; Python-side defaults apply)."""
        if values:
            await self.session.execute(insert(cast(Table, model.__table__)), list(values))

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
        rows = await self.session.execute(
            select(
                Account.id,
                Account.number,
                Account.address,
                Account.holder_name,
                Account.access_code_hash,
                Account.holder_inn,
                Account.holder_kpp,
                Account.contract_number,
            ).where(Account.supplier_id == supplier_id, Account.number.in_(list(numbers)))
        )
        return list(rows)

    async def account_ids(self, supplier_id: int, numbers: Iterable[str]) -> dict[str, int]:
        rows = await self.session.execute(
            select(Account.number, Account.id).where(
                Account.supplier_id == supplier_id, Account.number.in_(list(numbers))
            )
        )
        return {r.number: r.id for r in rows}

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
                AccountPhone.account_id.in_(list(account_ids))
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
        await self.insert_many(AccountPhone, [{"account_id": a, "phone": p} for a, p in phones])

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
