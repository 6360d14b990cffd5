"""Exporting accepted readings of a period for the billing system (CSV or JSON rows)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from bot.services.billing.formats import BadValue, period
from bot.services.textnorm import ascii_digits
from storage.repositories.billing import BillingRepository, ExportedReading
from storage.uow import UnitOfWork

EXPORT_COLUMNS = (
    "supplier_code",
    "account_number",
    "serial",
    "zone",
    "value",
    "submitted_at",
    "source",
)


class ExportError(ValueError):
    """A bad period or an unknown supplier; the message says which."""


async def _supplier_id(uow: UnitOfWork, supplier: str | None) -> int | None:
    if supplier is None:
        return None
    supplier = ascii_digits(supplier).strip()  # as the import stored it
    found = await BillingRepository(uow.session).supplier_by_code(supplier)
    if found is None:
        raise ExportError(f"unknown supplier {supplier!r}")
    return found.id


def check_period(value: str) -> str:
    try:
        return period(value)
    except BadValue as exc:
        raise ExportError(str(exc)) from None


def _plain(value: Any) -> str:
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)


def reading_fields(row: ExportedReading) -> dict[str, Any]:
    return {
        "supplier_code": row.supplier_code,
        "account_number": row.account_number,
        "serial": row.serial,
        "zone": row.zone,
        "value": _plain(row.value),
        "submitted_at": row.submitted_at.isoformat(),
        "source": row.source,
    }


async def accepted_readings(
    uow: UnitOfWork, period_text: str, supplier: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """The accepted readings of a period as dicts of EXPORT_COLUMNS (value as plain text).

    Checks the arguments before the first row: ExportError for a bad period or supplier.
    """
    month = check_period(period_text)
    supplier_id = await _supplier_id(uow, supplier)
    return _rows(uow, month, supplier_id)


async def _rows(
    uow: UnitOfWork, month: str, supplier_id: int | None
) -> AsyncIterator[dict[str, Any]]:
    async for row in BillingRepository(uow.session).stream_readings(month, supplier_id):
        yield reading_fields(row)


async def csv_chunks(
    rows: AsyncIterator[dict[str, Any]], *, every: int = 500
) -> AsyncIterator[str]:
    """The CSV text (header first) in chunks of `every` rows."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    async for row in rows:
        writer.writerow(row)
        count += 1
        if count % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
