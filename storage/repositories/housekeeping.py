"""Bulk deletes of what is no longer needed (see bot/services/housekeeping.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConfirmationCode, FsmRecord, ReminderLog


class HousekeepingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def delete_codes_created_before(self, moment: dt.datetime) -> int:
        result = await self.session.execute(
            delete(ConfirmationCode).where(ConfirmationCode.created_at < moment)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_conversations_idle_since(self, moment: dt.datetime) -> int:
        result = await self.session.execute(delete(FsmRecord).where(FsmRecord.updated_at < moment))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_reminders_created_before(self, moment: dt.datetime) -> int:
        result = await self.session.execute(
            delete(ReminderLog).where(ReminderLog.created_at < moment)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
