"""Confirmation codes: only hashes are stored. The rules live in bot/services/codes.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConfirmationCode


class CodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        purpose: str,
        target: str,
        user_id: int | None,
        subject: str | None,
        code_hash: str,
        created_at: dt.datetime,
        expires_at: dt.datetime,
    ) -> ConfirmationCode:
        row = ConfirmationCode(
            purpose=purpose,
            target=target,
            user_id=user_id,
            subject=subject,
            code_hash=code_hash,
            created_at=created_at,
            expires_at=expires_at,
            attempts=0,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, code_id: int) -> ConfirmationCode | None:
        return await self.session.get(ConfirmationCode, code_id)

    @staticmethod
    def _same(purpose: str, target: str, subject: str | None) -> list[ColumnElement[bool]]:
        return [
            ConfirmationCode.purpose == purpose,
            ConfirmationCode.target == target,
            ConfirmationCode.subject.is_(None)
            if subject is None
            else ConfirmationCode.subject == subject,
        ]

    async def latest(
        self,
        *,
        purpose: str,
        target: str,
        subject: str | None,
        user_id: int | None = None,
        any_user: bool = True,
    ) -> ConfirmationCode | None:
        """The newest code of purpose/target/subject (of `user_id` unless `any_user`)."""
        query = select(ConfirmationCode).where(*self._same(purpose, target, subject))
        if not any_user:
            query = query.where(
                ConfirmationCode.user_id.is_(None)
                if user_id is None
                else ConfirmationCode.user_id == user_id
            )
        query = query.order_by(ConfirmationCode.created_at.desc(), ConfirmationCode.id.desc())
        result = await self.session.execute(query.limit(1))
        return result.scalars().first()

    async def count_for_target(self, target: str, *, since: dt.datetime) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(ConfirmationCode)
            .where(ConfirmationCode.target == target, ConfirmationCode.created_at >= since)
        )
        return int(result.scalar_one())

    async def expire_unused(
        self, *, purpose: str, target: str, subject: str | None, now: dt.datetime
    ) -> int:
        """Supersede: unused, still valid codes of purpose/target/subject expire now."""
        result = await self.session.execute(
            update(ConfirmationCode)
            .where(
                *self._same(purpose, target, subject),
                ConfirmationCode.used_at.is_(None),
                ConfirmationCode.expires_at > now,
            )
            .values(expires_at=now)
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def add_failure(self, code_id: int, *, limit: int) -> int | None:
        """Count one wrong attempt atomically; the new count, or None when already at `limit`."""
        result = await self.session.execute(
            update(ConfirmationCode)
            .where(ConfirmationCode.id == code_id, ConfirmationCode.attempts < limit)
            .values(attempts=ConfirmationCode.attempts + 1)
            .returning(ConfirmationCode.attempts)
            .execution_options(synchronize_session="fetch")
        )
        value = result.scalar_one_or_none()
        return None if value is None else int(value)

    async def mark_used(self, code_id: int, *, now: dt.datetime, limit: int) -> bool:
        """Use the code once: False when it was used (or exhausted) meanwhile."""
        result = await self.session.execute(
            update(ConfirmationCode)
            .where(
                ConfirmationCode.id == code_id,
                ConfirmationCode.used_at.is_(None),
                ConfirmationCode.attempts < limit,
            )
            .values(used_at=now)
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def delete(self, code_id: int) -> None:
        await self.session.execute(
            delete(ConfirmationCode)
            .where(ConfirmationCode.id == code_id)
            .execution_options(synchronize_session="fetch")
        )
