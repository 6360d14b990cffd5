"""Seed data straight through the models (suppliers, accounts, phones, residents)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.hashing import hash_secret
from bot.services.textnorm import normalize_access_code
from storage.db import Database
from storage.models import Account, AccountLink, AccountPhone, Supplier, User

CONSENTED_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def supplier(
    *,
    code: str = "VODA",
    name: str = "Водоканал",
    pattern: str = r"\d{10}",
    hint: str = "10 цифр, например 1234567890",
) -> Supplier:
    return Supplier(code=code, name=name, account_pattern=pattern, account_hint=hint)


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
