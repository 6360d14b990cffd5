"""Meter-reading reminders: who may get one, and the log that makes each one happen once.

Every query is scoped to one supplier (a join, not a list of ids), so a round stays a few
statements however many residents there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import LinkStatus, ReadingSource, ReminderStatus
from storage.models import (
    Account,
    AccountLink,
    Meter,
    Reading,
    ReminderLog,
    Supplier,
    User,
)
from storage.repositories.readings import LIVE


@dataclass(frozen=True, slots=True)
class Candidate:
    """A resident with an active link who wants reminders and can be reached."""

    user_id: int
    account_id: int


@dataclass(frozen=True, slots=True)
class QueuedReminder:
    id: int
    user_id: int
    language: str | None
    account_id: int
    account_number: str
    address: str
    supplier_id: int
    supplier_name: str
    window_start_day: int
    window_end_day: int
    period: str
    kind: str
    wanted: bool  # the resident still wants reminders
    inactive_since: dt.datetime | None


def _sent_zones(period: str, where: ColumnElement[bool]) -> Subquery:
    """(account, meter, zone) with a resident's live reading of `period`, once each."""
    return (
        select(Meter.account_id, Reading.meter_id, Reading.zone)
        .join(Meter, Meter.id == Reading.meter_id)
        .join(Account, Account.id == Meter.account_id)
        .where(
            where,
            Reading.period == period,
            Reading.source == ReadingSource.BOT.value,
            Reading.status.in_(LIVE),
        )
        .distinct()
        .subquery()
    )


class RemindersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def suppliers(self) -> list[Supplier]:
        return list((await self.session.execute(select(Supplier).order_by(Supplier.id))).scalars())

    async def candidates(self, supplier_id: int, consent_version: str) -> list[Candidate]:
        result = await self.session.execute(
            select(AccountLink.user_id, AccountLink.account_id)
            .join(User, User.id == AccountLink.user_id)
            .join(Account, Account.id == AccountLink.account_id)
            .where(
                Account.supplier_id == supplier_id,
                AccountLink.status == LinkStatus.ACTIVE.value,
                # an organisation's accountant never sends readings (issue 14)
                or_(AccountLink.role.is_(None), AccountLink.role != "accountant"),
                User.reading_reminders.is_(True),
                User.inactive_since.is_(None),
                User.consent_version == consent_version,
                User.consented_at.is_not(None),
                User.phone.is_not(None),
            )
            .order_by(AccountLink.id)
        )
        return [Candidate(r.user_id, r.account_id) for r in result]

    async def zones_needed(self, supplier_id: int) -> dict[int, int]:
        """Account id → how many meter zones it has (accounts without meters are absent)."""
        result = await self.session.execute(
            select(Meter.account_id, func.sum(Meter.zones))
            .join(Account, Account.id == Meter.account_id)
            .where(Account.supplier_id == supplier_id)
            .group_by(Meter.account_id)
        )
        return {r[0]: int(r[1] or 0) for r in result}

    async def zones_sent(self, supplier_id: int, period: str) -> dict[int, int]:
        """Account id → how many meter zones have a resident's live reading of `period`."""
        sent = _sent_zones(period, Account.supplier_id == supplier_id)
        result = await self.session.execute(
            select(sent.c.account_id, func.count()).group_by(sent.c.account_id)
        )
        return {r[0]: int(r[1]) for r in result}

    async def logged(self, supplier_id: int, period: str, kind: str) -> set[tuple[int, int]]:
        """(user, account) pairs that already have this reminder (in any status)."""
        result = await self.session.execute(
            select(ReminderLog.user_id, ReminderLog.account_id)
            .join(Account, Account.id == ReminderLog.account_id)
            .where(
                Account.supplier_id == supplier_id,
                ReminderLog.period == period,
                ReminderLog.kind == kind,
            )
        )
        return {(r.user_id, r.account_id) for r in result}

    def enqueue(self, pairs: Iterable[Candidate], *, period: str, kind: str) -> int:
        rows = [
            ReminderLog(
                user_id=c.user_id,
                account_id=c.account_id,
                period=period,
                kind=kind,
                status=ReminderStatus.QUEUED.value,
            )
            for c in pairs
        ]
        self.session.add_all(rows)
        return len(rows)

    async def queued(self, limit: int) -> list[QueuedReminder]:
        result = await self.session.execute(
            select(
                ReminderLog.id,
                ReminderLog.user_id,
                User.language,
                Account.id.label("account_id"),
                Account.number.label("account_number"),
                Account.address,
                Supplier.id.label("supplier_id"),
                Supplier.name.label("supplier_name"),
                Supplier.window_start_day,
                Supplier.window_end_day,
                ReminderLog.period,
                ReminderLog.kind,
                User.reading_reminders.label("wanted"),
                User.inactive_since,
            )
            .join(User, User.id == ReminderLog.user_id)
            .join(Account, Account.id == ReminderLog.account_id)
            .join(Supplier, Supplier.id == Account.supplier_id)
            .where(ReminderLog.status == ReminderStatus.QUEUED.value)
            .order_by(ReminderLog.id)
            .limit(limit)
        )
        return [QueuedReminder(**row._mapping) for row in result]

    async def set_status(self, ids: Sequence[int], status: ReminderStatus, at: dt.datetime) -> None:
        if ids:
            await self.session.execute(
                update(ReminderLog)
                .where(ReminderLog.id.in_(list(ids)))
                .values(status=status.value, updated_at=at)
                .execution_options(synchronize_session=False)
            )

    async def count(self, status: ReminderStatus) -> int:
        result = await self.session.execute(
            select(func.count()).select_from(ReminderLog).where(ReminderLog.status == status.value)
        )
        return int(result.scalar_one())

    async def missing(self, account_id: int, period: str) -> bool:
        """Whether some meter zone of the account has no live resident reading of `period`."""
        needed = await self.session.execute(
            select(func.sum(Meter.zones)).where(Meter.account_id == account_id)
        )
        sent = _sent_zones(period, Meter.account_id == account_id)
        done = await self.session.execute(select(func.count()).select_from(sent))
        return int(needed.scalar() or 0) > int(done.scalar_one())

    async def active_link(self, user_id: int, account_id: int) -> bool:
        result = await self.session.execute(
            select(AccountLink.id).where(
                AccountLink.user_id == user_id,
                AccountLink.account_id == account_id,
                AccountLink.status == LinkStatus.ACTIVE.value,
            )
        )
        return result.first() is not None
