from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import TicketStatus
from storage.models import AuditLog, Representative, Ticket, TicketMessage, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def get_or_create(self, user_id: int) -> User:
        user = await self.get(user_id)
        if user is None:
            user = User(id=user_id)
            self.session.add(user)
            await self.session.flush()
        return user

    async def language_of(self, user_id: int) -> tuple[bool, str | None]:
        """(whether the user is registered, the language stored for them or None)."""
        row = (await self.session.execute(select(User.language).where(User.id == user_id))).first()
        return (False, None) if row is None else (True, row[0])

    async def adopt_language(self, user_id: int, language: str) -> None:
        """Store `language` for a user who has none stored yet; a stored one is kept."""
        await self.session.execute(
            update(User)
            .where(User.id == user_id, User.language.is_(None))
            .values(language=language)
        )

    async def by_phone(self, phone: str) -> list[User]:
        result = await self.session.execute(select(User).where(User.phone == phone))
        return list(result.scalars())

    async def close_tickets(self, user_id: int, at: dt.datetime) -> list[tuple[int, int]]:
        """Close the resident's open escalations; return the staff cards (chat, message) of
        all their escalations, open or decided — every card shows their name and address."""
        tickets = (
            await self.session.execute(select(Ticket).where(Ticket.user_id == user_id))
        ).scalars()
        cards = []
        for ticket in tickets:
            if ticket.status == TicketStatus.OPEN.value:
                ticket.status = TicketStatus.CLOSED.value
                ticket.closed_at = at
            if ticket.staff_chat_id is not None and ticket.staff_message_id is not None:
                cards.append((ticket.staff_chat_id, ticket.staff_message_id))
        # a representative's card and the pages of the power of attorney (issue 14)
        reps = await self.session.execute(
            select(Representative).where(Representative.user_id == user_id)
        )
        for rep in reps.scalars():
            if rep.staff_chat_id is not None and rep.staff_message_id is not None:
                for message_id in [rep.staff_message_id, *(rep.staff_page_ids or [])]:
                    cards.append((rep.staff_chat_id, message_id))
        return cards

    async def erase(self, user_id: int) -> None:
        """Delete the resident's row (links, codes go with it; tickets and readings lose it)
        and every other trace of their Telegram id: the audit trail keeps what happened,
        not who; the message map of their escalations forgets their chat."""
        await self.session.execute(
            update(AuditLog)
            .where(AuditLog.actor_kind == "resident", AuditLog.actor_id == user_id)
            .values(actor_id=None)
        )
        await self.session.execute(
            update(AuditLog)
            .where(AuditLog.object_type == "user", AuditLog.object_id == str(user_id))
            .values(object_id=None)
        )
        decided = await self.session.execute(
            select(AuditLog).where(AuditLog.details["resident_id"].as_integer() == user_id)
        )
        for row in decided.scalars():
            row.details = {k: v for k, v in row.details.items() if k != "resident_id"}
        await self.session.execute(
            update(TicketMessage)
            .where(TicketMessage.user_chat_id == user_id)
            .values(user_chat_id=None, user_message_id=None)
        )
        await self.session.execute(delete(User).where(User.id == user_id))
