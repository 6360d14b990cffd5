"""Notices of suppliers to their residents and who of them got one (queries only, no commits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import LinkStatus, NoticeStatus, RecipientStatus
from storage.models import Account, AccountLink, Notice, NoticeRecipient, Supplier, User


class NoticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def supplier_by_code(self, code: str) -> Supplier | None:
        rows = await self.session.execute(
            select(Supplier).where(func.upper(Supplier.code) == code.upper())
        )
        return rows.scalars().first()

    def _audience(self, supplier_id: int) -> Select[Any]:
        """Residents with an active link to an account of the supplier, not banned."""
        return (
            select(User.id)
            .join(AccountLink, AccountLink.user_id == User.id)
            .join(Account, Account.id == AccountLink.account_id)
            .where(
                Account.supplier_id == supplier_id,
                AccountLink.status == LinkStatus.ACTIVE.value,
                User.banned_at.is_(None),
            )
            .distinct()
        )

    async def audience_size(self, supplier_id: int) -> int:
        query = select(func.count()).select_from(self._audience(supplier_id).subquery())
        return int((await self.session.execute(query)).scalar_one())

    def add(self, notice: Notice) -> None:
        self.session.add(notice)

    async def get(self, notice_id: int) -> Notice | None:
        return await self.session.get(Notice, notice_id)

    async def refresh(self, notice: Notice) -> None:
        await self.session.refresh(notice)

    async def set_status(
        self, notice_id: int, old: NoticeStatus, new: NoticeStatus, **values: object
    ) -> bool:
        """Move a notice from `old` to `new` (atomic: the first of two presses wins)."""
        result = await self.session.execute(
            update(Notice)
            .where(Notice.id == notice_id, Notice.status == old.value)
            .values(status=new.value, **values)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    async def queue_audience(self, notice_id: int, supplier_id: int) -> int:
        """One queued row per resident of the audience; their number."""
        ids = list((await self.session.execute(self._audience(supplier_id))).scalars())
        rows = [
            {"notice_id": notice_id, "user_id": i, "status": RecipientStatus.QUEUED.value}
            for i in ids
        ]
        for start in range(0, len(rows), 1000):
            await self.session.execute(insert(NoticeRecipient), rows[start : start + 1000])
        return len(rows)

    async def count_recipients(self, notice_id: int, status: RecipientStatus | None = None) -> int:
        query = (
            select(func.count())
            .select_from(NoticeRecipient)
            .where(NoticeRecipient.notice_id == notice_id)
        )
        if status is not None:
            query = query.where(NoticeRecipient.status == status.value)
        return int((await self.session.execute(query)).scalar_one())

    async def queued(self, notice_id: int, limit: int) -> list[tuple[int, str | None]]:
        """(resident id, language) of the next queued recipients."""
        rows = await self.session.execute(
            select(User.id, User.language)
            .join(NoticeRecipient, NoticeRecipient.user_id == User.id)
            .where(
                NoticeRecipient.notice_id == notice_id,
                NoticeRecipient.status == RecipientStatus.QUEUED.value,
            )
            .order_by(User.id)
            .limit(limit)
        )
        return [(int(r[0]), r[1]) for r in rows.all()]

    async def mark(self, notice_id: int, user_ids: Sequence[int], status: RecipientStatus) -> None:
        if not user_ids:
            return
        await self.session.execute(
            update(NoticeRecipient)
            .where(NoticeRecipient.notice_id == notice_id, NoticeRecipient.user_id.in_(user_ids))
            .values(status=status.value)
            .execution_options(synchronize_session=False)
        )

    async def mark_inactive(self, user_ids: Sequence[int], at: dt.datetime) -> None:
        """Residents who blocked the bot (403) are inactive from now."""
        if not user_ids:
            return
        await self.session.execute(
            update(User)
            .where(User.id.in_(user_ids), User.inactive_since.is_(None))
            .values(inactive_since=at)
            .execution_options(synchronize_session=False)
        )

    async def unfinished(self) -> list[int]:
        """Notices that were sending when the process stopped."""
        rows = await self.session.execute(
            select(Notice.id).where(Notice.status == NoticeStatus.SENDING.value).order_by(Notice.id)
        )
        return list(rows.scalars())
