"""What operators look up and decide in the staff chat: residents found by phone, account,
name or address; counts for /stats; bans (queries only, no commits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import LinkStatus, ReadingStatus
from storage.models import Account, AccountLink, AccountPhone, Charge, Reading, User


def contains(column: Any, variants: Iterable[str]) -> ColumnElement[bool]:
    """`column` contains one of `variants` (case-insensitive for ASCII everywhere and for
    every script on PostgreSQL; the caller passes case variants for SQLite's sake)."""
    return or_(*(column.ilike(f"%{_like(v)}%", escape="\\") for v in variants))


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ look-up
    def _matches(
        self, *, phone: str | None, number: str | None, words: Sequence[str]
    ) -> tuple[Select[Any], Select[Any]]:
        """(users, accounts) that match: users by phone or name, accounts by phone on
        file, number, holder or address."""
        users: list[ColumnElement[bool]] = []
        accounts: list[ColumnElement[bool]] = []
        if phone:
            users.append(User.phone == phone)
            on_file = select(AccountPhone.account_id).where(AccountPhone.phone == phone)
            accounts.append(Account.id.in_(on_file))
        if number:
            accounts.append(Account.number.contains(number, autoescape=True))
        if words:
            users.append(contains(User.first_name, words))
            accounts.append(contains(Account.holder_name, words))
            accounts.append(contains(Account.address, words))
        return (
            select(User.id).where(or_(false(), *users)),
            select(Account.id).where(or_(false(), *accounts)),
        )

    async def find(
        self, *, phone: str | None, number: str | None, words: Sequence[str]
    ) -> tuple[list[int], list[int]]:
        """Ids of the residents found (directly, or linked to an account found) and of the
        accounts found that no resident is linked to; both in a stable order."""
        user_q, account_q = self._matches(phone=phone, number=number, words=words)
        linked = select(AccountLink.user_id).where(AccountLink.account_id.in_(account_q))
        residents = select(User.id).where(User.id.in_(union(user_q, linked))).order_by(User.id)
        user_ids = list((await self.session.execute(residents)).scalars())
        lonely = (
            select(Account.id)
            .where(Account.id.in_(account_q))
            .where(~Account.id.in_(select(AccountLink.account_id)))
            .order_by(Account.id)
        )
        account_ids = list((await self.session.execute(lonely)).scalars())
        return user_ids, account_ids

    async def users(self, ids: Sequence[int]) -> list[User]:
        rows = await self.session.execute(select(User).where(User.id.in_(ids)))
        by_id = {u.id: u for u in rows.scalars()}
        return [by_id[i] for i in ids if i in by_id]

    async def links_of(self, user_ids: Sequence[int]) -> list[AccountLink]:
        rows = await self.session.execute(
            select(AccountLink)
            .where(AccountLink.user_id.in_(user_ids))
            .order_by(AccountLink.user_id, AccountLink.id)
        )
        return list(rows.scalars().unique())

    async def accounts(self, ids: Sequence[int]) -> list[Account]:
        rows = await self.session.execute(select(Account).where(Account.id.in_(ids)))
        by_id = {a.id: a for a in rows.scalars().unique()}
        return [by_id[i] for i in ids if i in by_id]

    async def balances(self, account_ids: Iterable[int]) -> dict[int, Decimal]:
        """Billing's balance of each account: Σ(charged − paid), a debt when positive."""
        rows = await self.session.execute(
            select(Charge.account_id, func.sum(Charge.charged - Charge.paid))
            .where(Charge.account_id.in_(list(account_ids)))
            .group_by(Charge.account_id)
        )
        return {account_id: Decimal(total or 0) for account_id, total in rows.all()}

    # ------------------------------------------------------------------ counts
    async def count_residents(self) -> int:
        query = select(func.count()).select_from(User).where(User.phone.is_not(None))
        return int((await self.session.execute(query)).scalar_one())

    async def count_links(self, status: LinkStatus) -> int:
        query = (
            select(func.count()).select_from(AccountLink).where(AccountLink.status == status.value)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def count_readings(self, period: str, status: ReadingStatus | None = None) -> int:
        """Readings of `period` residents sent (not billing's), of one status or any."""
        query = (
            select(func.count())
            .select_from(Reading)
            .where(Reading.period == period, Reading.batch.is_not(None))
        )
        if status is not None:
            query = query.where(Reading.status == status.value)
        return int((await self.session.execute(query)).scalar_one())

    async def count_banned(self) -> int:
        query = select(func.count()).select_from(User).where(User.banned_at.is_not(None))
        return int((await self.session.execute(query)).scalar_one())

    # ------------------------------------------------------------------ bans
    async def user(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def by_phone(self, phone: str) -> list[User]:
        rows = await self.session.execute(select(User).where(User.phone == phone))
        return list(rows.scalars())

    async def banned_ids(self) -> set[int]:
        rows = await self.session.execute(select(User.id).where(User.banned_at.is_not(None)))
        return set(rows.scalars())

    async def mark_told(self, user_id: int, at: dt.datetime) -> bool:
        """Whether this call is the one that marks the banned resident told (the first)."""
        result = await self.session.execute(
            update(User)
            .where(User.id == user_id, User.banned_at.is_not(None), User.ban_told_at.is_(None))
            .values(ban_told_at=at)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1
