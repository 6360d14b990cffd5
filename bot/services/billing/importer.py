"""Importing a billing file: validate every row, apply all of it or nothing.

One streaming pass in one transaction (the caller's UnitOfWork): rows are parsed in
batches (in a worker thread, so a big file does not stall the bot's event loop), each
batch is checked against the database (does the account exist?) and, while no error has
been seen, written with a few executemany statements. After the first error nothing more
is written but validation goes on to the end, so the report lists every error (the first
50 kept); then `ImportRejected` is raised and the caller's unit of work rolls back.

Memory is bounded by the batch size plus the duplicate-key set (about 25 MB for 1M rows,
see keyset.py); the file is never held whole.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass
from typing import Any

from bot.services.billing.formats import (
    AccountRecord,
    ChargeRecord,
    Kind,
    MeterRecord,
    ParseContext,
    PaymentRecord,
    Record,
    SupplierRecord,
    period_of,
)
from bot.services.billing.keyset import KeySet
from bot.services.billing.parsing import Parsed, cyclic_gc_paused, parsed_batches
from bot.services.billing.sources import CsvSource, RawRow, RowError
from bot.services.clock import Clock, SystemClock
from bot.services.enums import ReadingSource, ReadingStatus
from bot.services.hashing import hash_secret, verify_secret
from bot.services.textnorm import compile_account_pattern
from storage.models import Account, Charge, Meter, Payment, Reading, Supplier
from storage.repositories.audit import AuditRepository
from storage.repositories.billing import BillingRepository, SupplierRef
from storage.uow import UnitOfWork

MAX_REPORTED_ERRORS = 50
BATCH_SIZE = 10_000  # rows parsed and written at a time (bench/README.md: fewer round trips)

Progress = Callable[[int], None]


@dataclass(slots=True)
class ImportSummary:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    readings_inserted: int = 0  # meters only: last_t* → Reading rows
    readings_updated: int = 0
    separator: str | None = None  # a CSV file (CsvFile): what it was read as
    encoding: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.kind != Kind.METERS:
            data.pop("readings_inserted")
            data.pop("readings_updated")
        for name in ("separator", "encoding"):
            if data[name] is None:
                data.pop(name)
        return data

    def text(self) -> str:
        line = (
            f"{self.kind}: {self.rows} rows — {self.inserted} inserted, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.kind == Kind.METERS:
            line += f"; readings {self.readings_inserted} inserted, {self.readings_updated} updated"
        read_as = [f"separator {self.separator!r}"] if self.separator else []
        read_as += [f"encoding {self.encoding}"] if self.encoding else []
        return line + (f" ({', '.join(read_as)})" if read_as else "")


class ImportRejected(Exception):
    """The input has errors; nothing of it was applied."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        super().__init__(f"{total} error(s)")
        self.errors = errors
        self.total = total

    def lines(self, name: str) -> list[str]:
        out = [err.format(name) for err in self.errors]
        if self.total > len(self.errors):
            out.append(f"… and {self.total - len(self.errors)} more errors")
        return out


class UnknownKind(ValueError):
    pass


def parse_kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise UnknownKind(f"unknown kind {value!r} (one of: {known})") from None


class _Errors:
    """The errors found so far: how many, and the first ones by their place in the file."""

    def __init__(self) -> None:
        self.kept: list[RowError] = []
        self.total = 0

    def add(self, error: RowError) -> None:
        self.total += 1
        self.kept.append(error)
        if len(self.kept) > 4 * MAX_REPORTED_ERRORS:
            self.kept = self.sorted()

    def sorted(self) -> list[RowError]:
        """The first MAX_REPORTED_ERRORS by line (item); a row's own errors in column order."""
        return sorted(self.kept, key=lambda e: (e.line or 0, e.item or 0))[:MAX_REPORTED_ERRORS]


@dataclass(slots=True)
class _Item:
    line: int | None
    item: int | None
    record: Record
    account_id: int = 0

    def error(self, column: str, reason: str) -> RowError:
        return RowError(self.line, self.item, column, reason)


def _keyed(kind: Kind, parsed: Parsed, keys: KeySet, errors: _Errors) -> list[_Item]:
    """The batch's records whose key was not seen before in the file; the rest are errors."""
    for error in parsed.errors:
        errors.add(error)
    items: list[_Item] = []
    for line, item, record in parsed.records(kind):
        key = record.key()
        first = keys.add(key, line if line is not None else item or 0)
        if first is None:
            items.append(_Item(line, item, record))
        else:
            where = f"line {first}" if line is not None else f"item {first}"
            errors.add(RowError(line, item, "key", f"duplicate of {where} ({', '.join(key)})"))
    return items


async def import_rows(
    uow: UnitOfWork,
    kind: Kind,
    source: Iterable[RawRow | RowError],
    *,
    clock: Clock | None = None,
    progress: Progress | None = None,
    actor: str = "system",
    batch_size: int = BATCH_SIZE,
    workers: int = 0,
) -> ImportSummary:
    """Validate and upsert the rows of one file in the unit of work's transaction.

    `source`: `csv_rows(...)`, `json_rows(...)` or a `CsvFile` (whose separator and
    encoding the summary then states). `workers`: processes that parse a CSV of more than
    a few thousand rows (`IMPORT_WORKERS`); 0 parses it in a thread of this process.

    Raises `ImportRejected` (after which the caller must roll back — `async with
    UnitOfWork(...)` does) when anything is wrong; otherwise the caller commits.
    """
    clock = clock or SystemClock()
    now = clock.now()
    repo = BillingRepository(uow.session)
    refs = await repo.supplier_refs()
    ctx = ParseContext(
        patterns={code: compile_account_pattern(ref.account_pattern) for code, ref in refs.items()},
        today=now.date(),
    )
    applier = _Applier(repo, kind, refs, now)
    keys = KeySet()
    errors = _Errors()
    summary = ImportSummary(kind=kind.value)
    # the next batches are parsed (a thread or worker processes) while this one is written
    batches = parsed_batches(source, kind, ctx, size=batch_size, workers=workers)
    with cyclic_gc_paused():
        async with aclosing(batches):
            async for parsed in batches:
                items = _keyed(kind, parsed, keys, errors)
                if items and kind != Kind.SUPPLIERS and kind != Kind.ACCOUNTS:
                    items = await applier.resolve_accounts(items, errors)
                if items and errors.total == 0:
                    await applier.apply(items, summary)
                if progress is not None and parsed.seen:
                    progress(parsed.seen)
    if errors.total:
        raise ImportRejected(errors.sorted(), errors.total)
    if isinstance(source, CsvSource):
        summary.separator = source.format.separator
        summary.encoding = source.format.encoding
    summary.rows = summary.inserted + summary.updated + summary.unchanged
    AuditRepository(uow.session).add(
        "billing.import",
        actor_kind=actor,
        actor_id=None,
        object_type="billing",
        object_id=kind.value,
        details=summary.as_dict(),
        at=now,
    )
    return summary


def _by_supplier(items: Sequence[_Item], refs: dict[str, SupplierRef]) -> dict[int, list[_Item]]:
    groups: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        code = item.record.supplier_code  # type: ignore[union-attr]
        groups[refs[code].id].append(item)
    return groups


class _Applier:
    def __init__(
        self, repo: BillingRepository, kind: Kind, refs: dict[str, SupplierRef], now: dt.datetime
    ) -> None:
        self.repo = repo
        self.kind = kind
        self.refs = refs
        self.now = now
        #: supplier id → whether it had accounts when this import started: if not, every
        #: account of the file is new (a repeated number is a duplicate-key error), so
        #: there is nothing to look up before inserting
        self._had_accounts: dict[int, bool] = {}

    async def _existing_accounts(self, supplier_id: int, numbers: list[str]) -> dict[str, Any]:
        had = self._had_accounts.get(supplier_id)
        if had is None:
            had = self._had_accounts[supplier_id] = await self.repo.has_accounts(supplier_id)
        if not had:
            return {}
        return {r.number: r for r in await self.repo.existing_accounts(supplier_id, numbers)}

    async def resolve_accounts(self, items: list[_Item], errors: _Errors) -> list[_Item]:
        """Fill in account ids; a row whose account is not in the database is an error."""
        found: list[_Item] = []
        for supplier_id, group in _by_supplier(items, self.refs).items():
            numbers = {item.record.number for item in group}  # type: ignore[union-attr]
            ids = await self.repo.account_ids(supplier_id, numbers)
            for item in group:
                record = item.record
                account_id = ids.get(record.number)  # type: ignore[union-attr]
                if account_id is None:
                    errors.add(
                        item.error(
                            "account_number",
                            f"no account {record.number!r} of supplier "  # type: ignore[union-attr]
                            f"{record.supplier_code!r} (import the accounts first)",  # type: ignore[union-attr]
                        )
                    )
                else:
                    item.account_id = account_id
                    found.append(item)
        found.sort(key=lambda i: (i.line or 0, i.item or 0))
        return found

    async def apply(self, items: list[_Item], summary: ImportSummary) -> None:
        if self.kind == Kind.SUPPLIERS:
            await self._suppliers([i.record for i in items], summary)  # type: ignore[misc]
        elif self.kind == Kind.ACCOUNTS:
            await self._accounts(items, summary)
        elif self.kind == Kind.CHARGES:
            await self._charges(items, summary)
        elif self.kind == Kind.PAYMENTS:
            await self._payments(items, summary)
        else:
            await self._meters(items, summary)

    # ------------------------------------------------------------------ suppliers
    async def _suppliers(self, records: list[SupplierRecord], summary: ImportSummary) -> None:
        existing = await self.repo.existing_suppliers(r.code for r in records)
        new, changed = [], []
        for rec in records:
            values = rec.values()
            old = existing.get(rec.code)
            if old is None:
                new.append(values)
            elif any(getattr(old, k) != v for k, v in values.items()):
                changed.append({"id": old.id, **values, "updated_at": self.now})
            else:
                summary.unchanged += 1
        await self.repo.insert_many(Supplier, new)
        await self.repo.update_many(Supplier, changed)
        summary.inserted += len(new)
        summary.updated += len(changed)

    # ------------------------------------------------------------------ accounts
    async def _accounts(self, items: list[_Item], summary: ImportSummary) -> None:
        for supplier_id, group in _by_supplier(items, self.refs).items():
            records: list[AccountRecord] = [i.record for i in group]  # type: ignore[misc]
            existing = await self._existing_accounts(supplier_id, [r.number for r in records])
            phones = await self.repo.phones_of(r.id for r in existing.values()) if existing else {}
            hashes = await _access_hashes(records, existing)
            new: list[tuple[Any, ...]] = []
            new_records: list[AccountRecord] = []
            changed: list[dict[str, Any]] = []
            phones_changed: list[tuple[int, tuple[str, ...]]] = []
            for rec, code_hash in zip(records, hashes, strict=True):
                old = existing.get(rec.number)
                if old is None:
                    new.append(
                        (supplier_id, rec.number, rec.address, rec.holder_name, code_hash,
                         rec.holder_inn, rec.holder_kpp, rec.contract_number)
                    )  # fmt: skip
                    new_records.append(rec)
                    continue
                same_phones = phones.get(old.id, set()) == set(rec.phones)
                if not same_phones:
                    phones_changed.append((old.id, rec.phones))
                if (
                    same_phones
                    and old.address == rec.address
                    and old.holder_name == rec.holder_name
                    and old.access_code_hash == code_hash
                    and _same_organisation(old, rec)
                ):
                    summary.unchanged += 1
                    continue
                changed.append(
                    {
                        "id": old.id,
                        "address": rec.address,
                        "holder_name": rec.holder_name,
                        "access_code_hash": code_hash,
                        **rec.organisation(),
                        "updated_at": self.now,
                    }
                )
            await self.repo.insert_rows(Account, _ACCOUNT_COLUMNS, new)
            await self.repo.add_phones_by_number(
                supplier_id, [(rec.number, p) for rec in new_records for p in rec.phones]
            )
            await self.repo.update_many(Account, changed)
            await self.repo.replace_phones(
                [a for a, _ in phones_changed], [(a, p) for a, ps in phones_changed for p in ps]
            )
            summary.inserted += len(new)
            summary.updated += len(changed)

    # ------------------------------------------------------------------ charges
    async def _charges(self, items: list[_Item], summary: ImportSummary) -> None:
        records: list[tuple[int, ChargeRecord]] = [(i.account_id, i.record) for i in items]  # type: ignore[misc]
        existing = {
            (r.account_id, r.period, r.service): r
            for r in await self.repo.existing_charges(
                {a for a, _ in records}, {rec.period for _, rec in records}
            )
        }
        new, changed = [], []
        for account_id, rec in records:
            old = existing.get((account_id, rec.period, rec.service))
            if old is None:
                new.append(
                    {
                        "account_id": account_id,
                        "period": rec.period,
                        "service": rec.service,
                        "charged": rec.charged,
                        "paid": rec.paid,
                    }
                )
            elif old.charged != rec.charged or old.paid != rec.paid:
                changed.append({"id": old.id, "charged": rec.charged, "paid": rec.paid})
            else:
                summary.unchanged += 1
        await self.repo.insert_many(Charge, new)
        await self.repo.update_many(Charge, changed)
        summary.inserted += len(new)
        summary.updated += len(changed)

    # ------------------------------------------------------------------ payments
    async def _payments(self, items: list[_Item], summary: ImportSummary) -> None:
        records: list[tuple[int, PaymentRecord]] = [(i.account_id, i.record) for i in items]  # type: ignore[misc]
        existing = {
            (r.account_id, r.paid_at, r.amount): r
            for r in await self.repo.existing_payments(
                {a for a, _ in records}, {rec.paid_at for _, rec in records}
            )
        }
        new, changed = [], []
        for account_id, rec in records:
            old = existing.get((account_id, rec.paid_at, rec.amount))
            if old is None:
                new.append(
                    {
                        "account_id": account_id,
                        "paid_at": rec.paid_at,
                        "amount": rec.amount,
                        "source": rec.source,
                    }
                )
            elif old.source != rec.source:
                changed.append({"id": old.id, "source": rec.source})
            else:
                summary.unchanged += 1
        await self.repo.insert_many(Payment, new)
        await self.repo.update_many(Payment, changed)
        summary.inserted += len(new)
        summary.updated += len(changed)

    # ------------------------------------------------------------------ meters + readings
    async def _meters(self, items: list[_Item], summary: ImportSummary) -> None:
        records: list[tuple[int, MeterRecord]] = [(i.account_id, i.record) for i in items]  # type: ignore[misc]
        touched = [False] * len(records)
        meter_ids, inserted = await self._upsert_meters(records, touched)
        await self._last_readings(records, meter_ids, touched, summary)
        summary.inserted += inserted
        summary.updated += sum(touched) - inserted
        summary.unchanged += len(records) - sum(touched)

    async def _upsert_meters(
        self, records: list[tuple[int, MeterRecord]], touched: list[bool]
    ) -> tuple[list[int], int]:
        """Insert or update the meters; their ids by position and how many were new."""
        existing = {
            (r.account_id, r.serial): r
            for r in await self.repo.existing_meters(
                {a for a, _ in records}, {rec.serial for _, rec in records}
            )
        }
        new: list[dict[str, Any]] = []
        new_positions: list[int] = []
        changed: list[dict[str, Any]] = []
        meter_ids: list[int] = [0] * len(records)
        for pos, (account_id, rec) in enumerate(records):
            values = {
                "service": rec.service,
                "zones": rec.zones,
                "digits": rec.digits,
                "decimals": rec.decimals,
                "verification_due": rec.verification_due,
            }
            old = existing.get((account_id, rec.serial))
            if old is None:
                new.append({"account_id": account_id, "serial": rec.serial, **values})
                new_positions.append(pos)
                touched[pos] = True
                continue
            meter_ids[pos] = old.id
            if any(getattr(old, k) != v for k, v in values.items()):
                changed.append({"id": old.id, **values, "updated_at": self.now})
                touched[pos] = True
        await self.repo.insert_many(Meter, new)
        if new:
            ids = await self.repo.meter_ids(
                {records[p][0] for p in new_positions},
                {records[p][1].serial for p in new_positions},
            )
            for pos in new_positions:
                meter_ids[pos] = ids[(records[pos][0], records[pos][1].serial)]
        await self.repo.update_many(Meter, changed)
        return meter_ids, len(new)

    async def _last_readings(
        self,
        records: list[tuple[int, MeterRecord]],
        meter_ids: list[int],
        touched: list[bool],
        summary: ImportSummary,
    ) -> None:
        """The last readings: one billing Reading per meter, zone and period."""
        with_reading = [pos for pos, (_, rec) in enumerate(records) if rec.last_date]
        old_readings = {
            (r.meter_id, r.zone, r.period): r
            for r in await self.repo.existing_billing_readings(
                {meter_ids[p] for p in with_reading},
                {period_of(records[p][1].last_date) for p in with_reading},  # type: ignore[arg-type]
            )
        }
        add: list[dict[str, Any]] = []
        fix: list[dict[str, Any]] = []
        for pos in with_reading:
            rec = records[pos][1]
            assert rec.last_date is not None
            period = period_of(rec.last_date)
            submitted = dt.datetime.combine(rec.last_date, dt.time(), tzinfo=dt.UTC)
            for zone, value in enumerate(rec.last, start=1):
                old = old_readings.get((meter_ids[pos], zone, period))
                if old is None:
                    add.append(
                        {
                            "meter_id": meter_ids[pos],
                            "zone": zone,
                            "value": value,
                            "period": period,
                            "taken_on": rec.last_date,
                            "submitted_at": submitted,
                            "user_id": None,
                            "source": ReadingSource.BILLING.value,
                            "status": ReadingStatus.ACCEPTED.value,
                        }
                    )
                    touched[pos] = True
                elif old.value != value or old.taken_on != rec.last_date:
                    fix.append(
                        {
                            "id": old.id,
                            "value": value,
                            "taken_on": rec.last_date,
                            "submitted_at": submitted,
                        }
                    )
                    touched[pos] = True
        await self.repo.insert_many(Reading, add)
        await self.repo.update_many(Reading, fix)
        summary.readings_inserted += len(add)
        summary.readings_updated += len(fix)


def _same_organisation(old: Any, rec: AccountRecord) -> bool:
    """Whether the stored ИНН/КПП/contract of an account are the row's (issue 14)."""
    return all(getattr(old, column) == value for column, value in rec.organisation().items())


#: the columns of a new account, in the order `_Applier._accounts` gives them
_ACCOUNT_COLUMNS = (
    "supplier_id", "number", "address", "holder_name", "access_code_hash",
    "holder_inn", "holder_kpp", "contract_number",
)  # fmt: skip


async def _access_hashes(
    records: Sequence[AccountRecord], existing: dict[str, Any]
) -> list[str | None]:
    """The hash to store for each record (scrypt, ~4 ms: in a thread, when there are codes)."""
    if all(rec.access_code is None for rec in records):
        return [None] * len(records)
    stored = [
        existing[r.number].access_code_hash if r.number in existing else None for r in records
    ]
    return await asyncio.to_thread(_hashes, records, stored)


def _hashes(records: Sequence[AccountRecord], stored: Sequence[str | None]) -> list[str | None]:
    """The hash to store for each record: the stored one when the code did not change."""
    out: list[str | None] = []
    for rec, old in zip(records, stored, strict=True):
        if rec.access_code is None:
            out.append(None)
        elif old is not None and verify_secret(rec.access_code, old):
            out.append(old)
        else:
            out.append(hash_secret(rec.access_code))
    return out
