"""Accounts, suppliers, resident ↔ account links and staff tickets (queries only, no commits)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import LinkStatus, TicketKind, TicketStatus
from storage.models import Account, AccountLink, AccountPhone, Supplier, Ticket, TicketMessage
from storage.repositories.columns import read_columns

#: built once: the account picker runs it on every press (see `active_accounts_of`)
_ACTIVE_ACCOUNTS = (
    select(Account.id, Supplier.name, Account.number, Account.address)
    .join(AccountLink, AccountLink.account_id == Account.id)
    .join(Supplier, Supplier.id == Account.supplier_id)
    .where(
        AccountLink.user_id == bindparam("user_id"),
        AccountLink.status == LinkStatus.ACTIVE.value,
    )
    .order_by(AccountLink.id)
)


class LinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ suppliers, accounts
    async def suppliers(self) -> list[Supplier]:
        result = await self.session.execute(select(Supplier).order_by(Supplier.name, Supplier.id))
        return list(result.scalars())

    async def supplier(self, supplier_id: int) -> Supplier | None:
        return await self.session.get(Supplier, supplier_id)

    async def account(self, account_id: int) -> Account | None:
        return await self.session.get(Account, account_id)

    async def find_account(self, supplier_id: int, number: str) -> Account | None:
        result = await self.session.execute(
            select(Account).where(Account.supplier_id == supplier_id, Account.number == number)
        )
        return result.scalar_one_or_none()

    async def accounts_by_phone(self, phone: str) -> list[Account]:
        result = await self.session.execute(
            select(Account)
            .join(AccountPhone, AccountPhone.account_id == Account.id)
            .where(AccountPhone.phone == phone)
            .order_by(Account.id)
        )
        return list(result.scalars().unique())

    async def phones_of(self, account_id: int) -> list[str]:
        result = await self.session.execute(
            select(AccountPhone.phone)
            .where(AccountPhone.account_id == account_id)
            .order_by(AccountPhone.phone)
        )
        return list(result.scalars())

    async def phone_on_file(self, account_id: int, phone: str) -> bool:
        result = await self.session.execute(
            select(AccountPhone.account_id).where(
                AccountPhone.account_id == account_id, AccountPhone.phone == phone
            )
        )
        return result.first() is not None

    # ------------------------------------------------------------------ links
    async def link(self, link_id: int) -> AccountLink | None:
        result = await self.session.execute(
            select(AccountLink)
            .where(AccountLink.id == link_id)
            .options(selectinload(AccountLink.user))
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def link_of(self, user_id: int, account_id: int) -> AccountLink | None:
        result = await self.session.execute(
            select(AccountLink).where(
                AccountLink.user_id == user_id, AccountLink.account_id == account_id
            )
        )
        return result.scalar_one_or_none()

    async def links_of_user(self, user_id: int) -> list[AccountLink]:
        result = await self.session.execute(
            select(AccountLink).where(AccountLink.user_id == user_id).order_by(AccountLink.id)
        )
        return list(result.scalars())

    async def active_accounts_of(self, user_id: int) -> list[tuple[int, str, str, str]]:
        """(account id, supplier's name, number, address) of the accounts the user has an
        ACTIVE link to, in the order they were linked. Columns only, one SELECT: the
        account picker of balance and readings asks on every press."""
        return list(await read_columns(self.session, _ACTIVE_ACCOUNTS, {"user_id": user_id}))

    async def links_of_account(self, account_id: int) -> list[AccountLink]:
        result = await self.session.execute(
            select(AccountLink).where(AccountLink.account_id == account_id).order_by(AccountLink.id)
        )
        return list(result.scalars())

    async def upsert_link(self, user_id: int, account_id: int) -> AccountLink:
        """The one row of this pair (created if missing); the caller sets its status."""
        link = await self.link_of(user_id, account_id)
        if link is None:
            link = AccountLink(user_id=user_id, account_id=account_id)
            self.session.add(link)
        return link

    async def delete_link(self, link_id: int) -> None:
        await self.session.execute(delete(AccountLink).where(AccountLink.id == link_id))

    async def decide(
        self,
        link_id: int,
        *,
        status: LinkStatus,
        operator_id: int,
        operator_name: str,
        reason: str | None,
        at: dt.datetime,
    ) -> bool:
        """Atomically move a pending link to `status`; False when someone decided first."""
        result = await self.session.execute(
            update(AccountLink)
            .where(AccountLink.id == link_id, AccountLink.status == LinkStatus.PENDING.value)
            .values(
                status=status.value,
                decided_at=at,
                decided_by=operator_id,
                decided_by_name=operator_name[:255],
                reason=reason,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    # ------------------------------------------------------------------ tickets
    def add_ticket(
        self,
        *,
        kind: TicketKind,
        user_id: int,
        link_id: int | None,
        staff_chat_id: int,
        staff_message_id: int,
        staff_thread_id: int | None = None,
    ) -> Ticket:
        ticket = Ticket(
            kind=kind.value,
            user_id=user_id,
            link_id=link_id,
            staff_chat_id=staff_chat_id,
            staff_message_id=staff_message_id,
            staff_thread_id=staff_thread_id,
        )
        self.session.add(ticket)
        return ticket

    def add_ticket_message(
        self, ticket: Ticket, *, staff_chat_id: int, staff_message_id: int, direction: str
    ) -> None:
        self.session.add(
            TicketMessage(
                ticket_id=ticket.id,
                staff_chat_id=staff_chat_id,
                staff_message_id=staff_message_id,
                direction=direction,
            )
        )

    async def ticket_of_link(self, link_id: int) -> Ticket | None:
        result = await self.session.execute(
            select(Ticket)
            .where(Ticket.link_id == link_id, Ticket.kind == TicketKind.LINK.value)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def close_ticket(self, ticket: Ticket, at: dt.datetime) -> None:
        ticket.status = TicketStatus.CLOSED.value
        ticket.closed_at = at
