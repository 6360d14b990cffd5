"""Support conversations: question tickets, the residents' forum topics, the message map
(queries only, no commits)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import TicketKind, TicketStatus
from storage.models import SupportTopic, Ticket, TicketMessage

QUESTION = TicketKind.QUESTION.value
OPEN = TicketStatus.OPEN.value


class SupportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ tickets
    async def ticket(self, ticket_id: int) -> Ticket | None:
        ticket = await self.session.get(Ticket, ticket_id)
        return ticket if ticket is not None and ticket.kind == QUESTION else None

    async def open_ticket(self, user_id: int) -> Ticket | None:
        result = await self.session.execute(
            select(Ticket)
            .where(Ticket.user_id == user_id, Ticket.kind == QUESTION, Ticket.status == OPEN)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def count_open(self) -> int:
        """Support conversations (kind "question") waiting for an operator to close them."""
        result = await self.session.execute(
            select(func.count()).where(Ticket.kind == QUESTION, Ticket.status == OPEN)
        )
        return int(result.scalar_one())

    async def last_ticket(self, user_id: int) -> Ticket | None:
        result = await self.session.execute(
            select(Ticket)
            .where(Ticket.user_id == user_id, Ticket.kind == QUESTION)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def new_ticket(self, user_id: int, staff_chat_id: int) -> Ticket:
        ticket = Ticket(kind=QUESTION, status=OPEN, user_id=user_id, staff_chat_id=staff_chat_id)
        self.session.add(ticket)
        await self.session.flush()
        return ticket

    async def close_ticket(self, ticket_id: int, at: dt.datetime) -> bool:
        """Close it if open: True for the one update that closed it (two operators at once)."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.kind == QUESTION, Ticket.status == OPEN)
            .values(status=TicketStatus.CLOSED.value, closed_at=at)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    async def rate(self, ticket_id: int, user_id: int, stars: int, at: dt.datetime) -> bool:
        """The rating of a closed ticket of this resident, once: True when it was stored."""
        result = await self.session.execute(
            update(Ticket)
            .where(
                Ticket.id == ticket_id,
                Ticket.kind == QUESTION,
                Ticket.user_id == user_id,
                Ticket.status == TicketStatus.CLOSED.value,
                Ticket.rating.is_(None),
            )
            .values(rating=stars, rated_at=at)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    async def refresh(self, ticket: Ticket) -> None:
        """Read the row again (after an UPDATE that bypassed the session)."""
        await self.session.refresh(ticket)

    # ------------------------------------------------------------------ topics
    async def topic(self, user_id: int, staff_chat_id: int) -> int | None:
        result = await self.session.execute(
            select(SupportTopic.thread_id).where(
                SupportTopic.user_id == user_id, SupportTopic.staff_chat_id == staff_chat_id
            )
        )
        return result.scalar_one_or_none()

    async def topics_of(self, user_id: int) -> list[tuple[int, int]]:
        """(staff chat id, thread id) of every topic the resident has."""
        result = await self.session.execute(
            select(SupportTopic.staff_chat_id, SupportTopic.thread_id).where(
                SupportTopic.user_id == user_id
            )
        )
        return [(int(chat), int(thread)) for chat, thread in result.all()]

    async def set_topic(self, user_id: int, staff_chat_id: int, thread_id: int) -> None:
        row = await self.session.get(SupportTopic, (user_id, staff_chat_id))
        if row is None:
            self.session.add(
                SupportTopic(user_id=user_id, staff_chat_id=staff_chat_id, thread_id=thread_id)
            )
        else:
            row.thread_id = thread_id
        await self.session.flush()

    async def drop_topic(self, user_id: int, staff_chat_id: int, thread_id: int) -> None:
        await self.session.execute(
            delete(SupportTopic).where(
                SupportTopic.user_id == user_id,
                SupportTopic.staff_chat_id == staff_chat_id,
                SupportTopic.thread_id == thread_id,
            )
        )

    async def resident_of_topic(self, staff_chat_id: int, thread_id: int) -> int | None:
        result = await self.session.execute(
            select(SupportTopic.user_id).where(
                SupportTopic.staff_chat_id == staff_chat_id, SupportTopic.thread_id == thread_id
            )
        )
        return result.scalar_one_or_none()

    # ------------------------------------------------------------------ message map
    async def map_message(
        self,
        ticket_id: int,
        *,
        staff_chat_id: int,
        staff_message_id: int,
        user_chat_id: int,
        user_message_id: int | None,
        direction: str,
    ) -> None:
        self.session.add(
            TicketMessage(
                ticket_id=ticket_id,
                staff_chat_id=staff_chat_id,
                staff_message_id=staff_message_id,
                user_chat_id=user_chat_id,
                user_message_id=user_message_id,
                direction=direction,
            )
        )
        await self.session.flush()

    async def by_staff_message(
        self, staff_chat_id: int, staff_message_id: int
    ) -> TicketMessage | None:
        result = await self.session.execute(
            select(TicketMessage)
            .join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .where(
                TicketMessage.staff_chat_id == staff_chat_id,
                TicketMessage.staff_message_id == staff_message_id,
                Ticket.kind == QUESTION,
            )
            .order_by(TicketMessage.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()
