"""Meters and their readings as the readings feature needs them (no business rules here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ReadingStatus, TicketKind, TicketStatus
from storage.models import Meter, Reading, Ticket, TicketMessage

#: statuses that count as "the resident sent this" (a rejected one may be sent again)
LIVE = (ReadingStatus.ACCEPTED.value, ReadingStatus.PENDING.value)


class ReadingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ meters
    async def meters_of(self, account_id: int) -> list[Meter]:
        result = await self.session.execute(
            select(Meter).where(Meter.account_id == account_id).order_by(Meter.id)
        )
        return list(result.scalars())

    async def meter(self, meter_id: int) -> Meter | None:
        return await self.session.get(Meter, meter_id)

    # ------------------------------------------------------------------ readings
    async def recent(self, meter_ids: Iterable[int], since_period: str) -> list[Reading]:
        """Readings of these meters from `since_period` on, oldest first."""
        result = await self.session.execute(
            select(Reading)
            .where(Reading.meter_id.in_(list(meter_ids)), Reading.period >= since_period)
            .order_by(Reading.taken_on, Reading.submitted_at, Reading.id)
            .execution_options(populate_existing=True)  # statuses change by UPDATE
        )
        return list(result.scalars())

    async def last_accepted_before(self, meter_id: int, zone: int, period: str) -> Reading | None:
        """The newest accepted reading of a meter's zone from a period before `period`."""
        result = await self.session.execute(
            select(Reading)
            .where(
                Reading.meter_id == meter_id,
                Reading.zone == zone,
                Reading.period < period,
                Reading.status == ReadingStatus.ACCEPTED.value,
            )
            .order_by(Reading.taken_on.desc(), Reading.submitted_at.desc(), Reading.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def history(self, meter_id: int, limit: int) -> list[Reading]:
        """The newest `limit` readings of a meter (every zone and status), newest first."""
        result = await self.session.execute(
            select(Reading)
            .where(Reading.meter_id == meter_id)
            .order_by(Reading.submitted_at.desc(), Reading.id.desc())
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return list(result.scalars())

    async def reading(self, reading_id: int) -> Reading | None:
        return await self.session.get(Reading, reading_id, populate_existing=True)

    def add(self, reading: Reading) -> None:
        self.session.add(reading)

    async def batch_stored(self, batch: str) -> bool:
        result = await self.session.execute(select(exists().where(Reading.batch == batch)))
        return bool(result.scalar())

    async def supersede(self, reading_id: int) -> bool:
        """Mark a live reading corrected; False when it is no longer live (decided, replaced)."""
        result = await self.session.execute(
            update(Reading)
            .where(Reading.id == reading_id, Reading.status.in_(LIVE))
            .values(status=ReadingStatus.CORRECTED.value)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def decide(
        self,
        reading_id: int,
        *,
        status: ReadingStatus,
        operator_id: int,
        operator_name: str,
        at: dt.datetime,
    ) -> bool:
        """Atomically move a pending reading to `status`; False when it is not pending."""
        result = await self.session.execute(
            update(Reading)
            .where(Reading.id == reading_id, Reading.status == ReadingStatus.PENDING.value)
            .values(
                status=status.value,
                decided_at=at,
                decided_by=operator_id,
                decided_by_name=operator_name[:255],
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def pending_without_card(self, limit: int = 50) -> list[int]:
        """Pending readings with no open staff card (the desk refused it, or it was erased)."""
        carded = (
            select(Ticket.id)
            .where(
                Ticket.reading_id == Reading.id,
                Ticket.kind == TicketKind.READING.value,
                Ticket.status == TicketStatus.OPEN.value,
            )
            .exists()
        )
        result = await self.session.execute(
            select(Reading.id)
            .where(Reading.status == ReadingStatus.PENDING.value, ~carded)
            .order_by(Reading.id)
            .limit(limit)
        )
        return list(result.scalars())

    # ------------------------------------------------------------------ staff cards
    async def add_ticket(
        self,
        *,
        user_id: int | None,
        reading_id: int,
        staff_chat_id: int,
        staff_message_id: int,
        staff_thread_id: int | None,
    ) -> Ticket:
        ticket = Ticket(
            kind=TicketKind.READING.value,
            user_id=user_id,
            reading_id=reading_id,
            staff_chat_id=staff_chat_id,
            staff_message_id=staff_message_id,
            staff_thread_id=staff_thread_id,
        )
        self.session.add(ticket)
        await self.session.flush()
        self.session.add(
            TicketMessage(
                ticket_id=ticket.id,
                staff_chat_id=staff_chat_id,
                staff_message_id=staff_message_id,
                direction="in",
            )
        )
        return ticket

    async def ticket_of(self, reading_id: int) -> Ticket | None:
        result = await self.session.execute(
            select(Ticket)
            .where(Ticket.reading_id == reading_id, Ticket.kind == TicketKind.READING.value)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    @staticmethod
    def close(ticket: Ticket, at: dt.datetime) -> None:
        ticket.status = TicketStatus.CLOSED.value
        ticket.closed_at = at
