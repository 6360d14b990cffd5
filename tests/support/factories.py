"""Seed data straight through the models (suppliers, accounts, phones, residents)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.hashing import hash_secret
from bot.services.textnorm import normalize_access_code
from storage.db import Database
from storage.models import Account, AccountLink, AccountPhone, Meter, Reading, Supplier, User

CONSENTED_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def supplier(
    *,
    code: str = "VODA",
    name: str = "Водоканал",
    pattern: str = r"\d{10}",
    hint: str = "10 цифр, например 1234567890",
    window: tuple[int, int] = (15, 25),
) -> Supplier:
    return Supplier(
        code=code,
        name=name,
        account_pattern=pattern,
        account_hint=hint,
        window_start_day=window[0],
        window_end_day=window[1],
    )


def account(
    of: Supplier,
    number: str,
    *,
    address: str = "ул. Ленина, д. 1, кв. 1",
    holder: str = "Иванова А. П.",
    phones: tuple[str, ...] = (),
    access_code: str | None = None,
) -> Account:
    return Account(
        supplier=of,
        number=number,
        address=address,
        holder_name=holder,
        phones=[AccountPhone(phone=p) for p in phones],
        access_code_hash=hash_secret(normalize_access_code(access_code)) if access_code else None,
    )


def resident(
    user_id: int, phone: str | None = "+79161234567", *, language: str | None = None
) -> User:
    """A registered resident (consent version "1", as the test settings)."""
    return User(
        id=user_id,
        phone=phone,
        language=language,
        first_name="Resident",
        consent_version="1",
        consented_at=CONSENTED_AT,
    )


def meter(
    of: Account,
    serial: str,
    service: str = "Холодная вода",
    *,
    zones: int = 1,
    digits: int = 5,
    decimals: int = 3,
    due: dt.date | None = None,
) -> Meter:
    return Meter(
        account_id=of.id,
        serial=serial,
        service=service,
        zones=zones,
        digits=digits,
        decimals=decimals,
        verification_due=due,
    )


def billing_reading(of: Meter, period: str, value: str | Decimal, zone: int = 1) -> Reading:
    """An accepted reading from billing, taken on the 20th of `period`."""
    taken = dt.date(int(period[:4]), int(period[5:7]), 20)
    return Reading(
        meter_id=of.id,
        zone=zone,
        value=Decimal(value),
        period=period,
        taken_on=taken,
        submitted_at=dt.datetime.combine(taken, dt.time(), tzinfo=dt.UTC),
        source="billing",
        status="accepted",
    )


def link(user_id: int, account_id: int, status: str, method: str | None = None) -> AccountLink:
    return AccountLink(user_id=user_id, account_id=account_id, status=status, method=method)


async def add(db: Database, *objects: object) -> None:
    """Insert and commit; ids are filled in on the objects."""
    async with db.session_maker() as session:
        session.add_all(objects)
        await session.commit()


async def add_in(session: AsyncSession, *objects: object) -> None:
    session.add_all(objects)
    await session.flush()
