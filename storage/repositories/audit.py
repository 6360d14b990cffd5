from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
        self,
        action: str,
        *,
        actor_kind: str,
        actor_id: int | None,
        object_type: str | None = None,
        object_id: str | int | None = None,
        details: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> AuditLog:
        entry = AuditLog(
            action=action,
            actor_kind=actor_kind,
            actor_id=actor_id,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            details=details or {},
        )
        if at is not None:
            entry.at = at
        self.session.add(entry)
        return entry

    async def count(self, *, actor_id: int, actions: tuple[str, ...], since: dt.datetime) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.actor_id == actor_id,
                AuditLog.action.in_(actions),
                AuditLog.at >= since,
            )
        )
        return int(result.scalar_one())

    async def list(
        self, *, action: str | None = None, object_type: str | None = None, limit: int = 100
    ) -> list[AuditLog]:
        query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if action:
            query = query.where(AuditLog.action == action)
        if object_type:
            query = query.where(AuditLog.object_type == object_type)
        return list((await self.session.execute(query)).scalars())
