"""Counts for monitoring (no personal data)."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import TicketStatus
from storage.models import Account, AccountLink, Supplier, Ticket, User


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _count(self, query: Select[int]) -> int:
        return int((await self.session.execute(query)).scalar_one())

    async def residents(self) -> dict[str, int]:
        consented = select(func.count()).select_from(User).where(User.consented_at.is_not(None))
        registered = select(func.count()).select_from(User).where(User.phone.is_not(None))
        return {
            "consented": await self._count(consented),
            "registered": await self._count(registered),
        }

    async def links_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(AccountLink.status, func.count()).group_by(AccountLink.status)
        )
        return {status: int(n) for status, n in rows.all()}

    async def open_tickets_by_kind(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(Ticket.kind, func.count())
            .where(Ticket.status == TicketStatus.OPEN.value)
            .group_by(Ticket.kind)
        )
        return {kind: int(n) for kind, n in rows.all()}

    async def billing(self) -> dict[str, int]:
        return {
            "suppliers": await self._count(select(func.count()).select_from(Supplier)),
            "accounts": await self._count(select(func.count()).select_from(Account)),
        }
