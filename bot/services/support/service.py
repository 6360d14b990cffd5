"""Support conversations: a resident's messages reach operators, operators' answers reach
the resident; each conversation is a ticket (kind "question": open → closed → rated).

Placement in the staff chat:
- a forum supergroup: one topic per resident (`support_topics`), created once under the
  resident's keyed lock — two first messages arriving together make one topic — and made
  again when Telegram says it is gone; at its top a card (name, phone, accounts with
  balance, language, registration date). Escalations of other features (link requests,
  readings) land in the same topic (`thread_of`, used by the StaffDesk);
- a plain supergroup: every message is copied under a one-line header; an operator answers
  by replying to it, and the stored message map says to whom.

No aiogram here: Telegram is reached through the SupportDesk port.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal

from bot.services.balance import BalanceService
from bot.services.clock import Clock
from bot.services.enums import LinkStatus
from bot.services.phones import mask_phone
from bot.services.ports import Delivery, DeskUnavailable, EditResult, SupportDesk, ThreadGone
from bot.services.support.hours import SupportHours
from storage.enums import TicketStatus
from storage.locks import KeyedLock
from storage.models import Ticket
from storage.repositories.balance import account_row
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.support")

IN, OUT = "in", "out"
NAME_LIMIT = 60  # of a topic title (Telegram: 128)


@dataclass(frozen=True)
class CardAccount:
    supplier: str
    number: str
    address: str
    balance: Decimal | None  # debt > 0, advance < 0; None: no charges yet


@dataclass(frozen=True)
class ResidentCard:
    """The card at the top of a resident's topic (and of a ticket in a plain chat)."""

    user_id: int
    name: str
    phone: str  # masked unless STAFF_SEE_FULL_PHONE
    language: str | None
    registered_at: dt.datetime | None
    accounts: tuple[CardAccount, ...]


@dataclass(frozen=True)
class TicketHeader:
    """The one line over a copied message in a plain staff chat."""

    ticket_id: int
    user_id: int
    name: str


class PassOutcome(enum.StrEnum):
    PASSED = "passed"
    DISABLED = "disabled"  # no staff chat configured
    FAILED = "failed"  # the staff chat refused it


@dataclass(frozen=True)
class Passed:
    outcome: PassOutcome
    ticket_id: int | None = None
    new_ticket: bool = False
    working_now: bool = True  # within SUPPORT_HOURS
    hours: SupportHours = field(default_factory=SupportHours)  # empty: around the clock


class AnswerOutcome(enum.StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the resident blocked the bot: marked inactive
    FAILED = "failed"
    NOT_A_CONVERSATION = "not_a_conversation"  # General, someone else's topic, a plain message
    KEPT_AMONG_STAFF = "kept_among_staff"  # a reply to the bot's card, prompt or note in a topic
    RESIDENT_GONE = "resident_gone"  # a reply to a conversation whose resident deleted their data


@dataclass(frozen=True)
class Answered:
    outcome: AnswerOutcome
    ticket_id: int | None = None
    reopened: bool = False  # the operator's message opened a new ticket


class CloseOutcome(enum.StrEnum):
    CLOSED = "closed"
    ALREADY_CLOSED = "already_closed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Closed:
    outcome: CloseOutcome
    ticket_id: int | None = None
    delivery: Delivery | None = None  # whether the resident was asked to rate
    card_message_id: int | None = None  # the ticket's card (its «Close» button goes)


class RateOutcome(enum.StrEnum):
    RATED = "rated"
    ALREADY_RATED = "already_rated"
    REFUSED = "refused"  # not theirs, not closed, not 1–5 (a forged button)


def topic_title(name: str, ticket: Ticket | None) -> str:
    """«🟢 Anna · #12» open, «✅ Anna · #12» closed, «Anna» before any ticket."""
    short = " ".join(name.split())[:NAME_LIMIT] or "—"
    if ticket is None:
        return short
    mark = "🟢" if ticket.status == TicketStatus.OPEN.value else "✅"
    return f"{mark} {short} · #{ticket.id}"


class SupportService:
    """The support use cases of one update."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        desk: SupportDesk | None,
        locks: KeyedLock,
        hours: SupportHours,
        balance: BalanceService,
        full_phone: bool = False,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.desk = desk
        self.locks = locks
        self.hours = hours
        self.balance = balance
        self.full_phone = full_phone

    @property
    def enabled(self) -> bool:
        return self.desk is not None

    def _lock(self, resident_id: int) -> AbstractAsyncContextManager[None]:
        """A resident's updates one at a time (in Redis when configured)."""
        return self.locks(f"resident:{resident_id}")

    # ------------------------------------------------------------------ residents
    async def is_open(self, ticket_id: int) -> bool:
        """A support ticket that is open (an old «Close» button: False)."""
        ticket = await self.uow.support.ticket(ticket_id)
        return ticket is not None and ticket.status == TicketStatus.OPEN.value

    async def exists(self, ticket_id: int) -> bool:
        """Whether a support ticket with this id was ever opened (a forged button: False)."""
        return await self.uow.support.ticket(ticket_id) is not None

    async def has_open_ticket(self, resident_id: int) -> bool:
        return await self.uow.support.open_ticket(resident_id) is not None

    def working_now(self) -> bool:
        return self.hours.open_at(self.clock.now())

    async def pass_on(
        self, resident_id: int, message_id: int, *, header: bool = True, locale: str | None = None
    ) -> Passed:
        """The resident's message to the staff chat, in their ticket (opened if none).
        `header=False`: no header line in a plain chat (an album's later photos). `locale`
        is the language the resident uses now, remembered when they never chose one, so
        that the card says it and the rating request (sent from an operator's update)
        reaches them in it."""
        desk = self.desk
        if desk is None:
            return Passed(PassOutcome.DISABLED)
        user = await self.uow.users.get(resident_id)
        if user is not None and user.language is None and locale:
            user.language = locale
        async with self._lock(resident_id):
            try:
                ticket, new = await self._ticket(desk, resident_id)
                staff_ids = await self._copy_in(desk, resident_id, message_id, ticket, header)
            except DeskUnavailable as exc:
                log.error("could not pass resident %s's message on: %s", resident_id, exc)
                return Passed(PassOutcome.FAILED)
            for staff_id in staff_ids:
                await self.uow.support.map_message(
                    ticket.id,
                    staff_chat_id=desk.chat_id,
                    staff_message_id=staff_id,
                    user_chat_id=resident_id,
                    user_message_id=message_id,
                    direction=IN,
                )
            await self.uow.commit()  # named point: mapped before the resident is told
        return Passed(
            PassOutcome.PASSED,
            ticket_id=ticket.id,
            new_ticket=new,
            working_now=self.working_now(),
            hours=self.hours,
        )

    async def _ticket(self, desk: SupportDesk, resident_id: int) -> tuple[Ticket, bool]:
        """The open ticket, or a new one announced in the staff chat (under the lock)."""
        repo = self.uow.support
        ticket = await repo.open_ticket(resident_id)
        if ticket is not None:
            return ticket, False
        ticket = await repo.new_ticket(resident_id, desk.chat_id)
        await self.uow.commit()  # named point: the ticket exists before its card is posted
        card = await self.card(resident_id)
        if await desk.is_forum():
            thread = await self._reopened_thread(desk, resident_id, ticket, card.name)
            try:
                posted = await desk.post_card(thread, card, ticket_id=ticket.id)
            except ThreadGone:
                thread = await self._recreate(desk, resident_id, thread, ticket)
                posted = await desk.post_card(thread, card, ticket_id=ticket.id)
            ticket.staff_thread_id = thread
        else:
            posted = await desk.post_card(None, card, ticket_id=ticket.id)
        ticket.staff_message_id = posted
        return ticket, True

    async def _reopened_thread(
        self, desk: SupportDesk, resident_id: int, ticket: Ticket, name: str
    ) -> int:
        """The topic of a new ticket: made with its title, or retitled and reopened."""
        thread = await self.uow.support.topic(resident_id, desk.chat_id)
        if thread is None:
            return await self._new_topic(desk, resident_id, ticket)
        try:
            await desk.retitle_topic(thread, topic_title(name, ticket), closed=False)
        except ThreadGone:
            return await self._recreate(desk, resident_id, thread, ticket)
        return thread

    async def _copy_in(
        self, desk: SupportDesk, resident_id: int, message_id: int, ticket: Ticket, header: bool
    ) -> list[int]:
        if not await desk.is_forum():
            line = None
            if header:
                name = (await self.card(resident_id)).name
                line = TicketHeader(ticket.id, resident_id, name)
            return await desk.copy_in(resident_id, message_id, None, line)
        thread = await self._thread(desk, resident_id, ticket)
        try:
            return await desk.copy_in(resident_id, message_id, thread, None)
        except ThreadGone:  # deleted by an operator: a new topic, the card on top again
            thread = await self._recreate(desk, resident_id, thread, ticket)
            card = await self.card(resident_id)
            ticket.staff_message_id = await desk.post_card(thread, card, ticket_id=ticket.id)
            ticket.staff_thread_id = thread
            return await desk.copy_in(resident_id, message_id, thread, None)

    # ------------------------------------------------------------------ topics
    async def _thread(self, desk: SupportDesk, resident_id: int, ticket: Ticket | None) -> int:
        """The resident's topic; created when there is none. The resident's card is posted
        when a ticket opens in it (an escalation's card already names the resident)."""
        thread = await self.uow.support.topic(resident_id, desk.chat_id)
        if thread is not None:
            return thread
        return await self._new_topic(desk, resident_id, ticket)

    async def _new_topic(self, desk: SupportDesk, resident_id: int, ticket: Ticket | None) -> int:
        card = await self.card(resident_id)
        thread = await desk.open_topic(topic_title(card.name, ticket))
        await self.uow.support.set_topic(resident_id, desk.chat_id, thread)
        await self.uow.commit()  # named point: one topic, remembered before anything else
        return thread

    async def _recreate(
        self, desk: SupportDesk, resident_id: int, gone: int, ticket: Ticket | None
    ) -> int:
        log.info("resident %s's topic %s is gone: a new one", resident_id, gone)
        await self.uow.support.drop_topic(resident_id, desk.chat_id, gone)
        return await self._new_topic(desk, resident_id, ticket)

    async def thread_of(self, resident_id: int) -> int | None:
        """ResidentThreads: the topic for an escalation card (None: a plain chat)."""
        desk = self.desk
        if desk is None or not await desk.is_forum():
            return None
        async with self._lock(resident_id):
            if await self.uow.users.get(resident_id) is None:
                return None
            return await self._thread(desk, resident_id, await self._last(resident_id))

    async def thread_gone(self, resident_id: int, thread_id: int) -> int | None:
        desk = self.desk
        if desk is None:
            return None
        async with self._lock(resident_id):
            current = await self.uow.support.topic(resident_id, desk.chat_id)
            if current is not None and current != thread_id:
                return current  # another update made the new one already
            return await self._recreate(desk, resident_id, thread_id, await self._last(resident_id))

    async def _last(self, resident_id: int) -> Ticket | None:
        return await self.uow.support.last_ticket(resident_id)

    async def card(self, resident_id: int) -> ResidentCard:
        user = await self.uow.users.get(resident_id)
        if user is None:
            return ResidentCard(resident_id, str(resident_id), "—", None, None, ())
        accounts = []
        for link in await self.uow.links.links_of_user(resident_id):
            if link.status != LinkStatus.ACTIVE.value:
                continue
            statement = await self.balance.statement_of(account_row(link.account))
            account = link.account
            accounts.append(
                CardAccount(
                    supplier=account.supplier.name,
                    number=account.number,
                    address=account.address or "",
                    balance=statement.balance_now if statement.period else None,
                )
            )
        phone = user.phone or "—"
        if user.phone and not self.full_phone:
            phone = mask_phone(user.phone)
        return ResidentCard(
            user_id=resident_id,
            name=user.first_name or str(resident_id),
            phone=phone,
            language=user.language,
            registered_at=user.consented_at or user.created_at,
            accounts=tuple(accounts),
        )

    # ------------------------------------------------------------------ operators
    async def resident_of(
        self, *, thread_id: int | None, reply_to: int | None
    ) -> tuple[int, Ticket | None] | None:
        """Whose conversation a staff-chat message belongs to: the topic's resident, or
        (plain chat) the resident of the mapped message it replies to."""
        desk, repo = self.desk, self.uow.support
        if desk is None:
            return None
        resident: int | None = None
        if thread_id is not None:
            resident = await repo.resident_of_topic(desk.chat_id, thread_id)
        if resident is None and reply_to is not None:
            mapped = await repo.by_staff_message(desk.chat_id, reply_to)
            if mapped is not None:
                ticket = await self.uow.support.ticket(mapped.ticket_id)
                resident = ticket.user_id if ticket else None
        if resident is None:
            return None
        return resident, await repo.open_ticket(resident)

    async def answer(
        self,
        message_id: int,
        *,
        thread_id: int | None,
        reply_to: int | None,
        reply_to_bot: bool = False,
    ) -> Answered:
        """An operator's message copied to the resident (a ticket opened if none is).

        In a resident's topic, a reply to one of the bot's own messages there that is not a
        copy of the resident's (a card, a reason prompt, a note) speaks to the bot or to
        colleagues: it is kept among the operators (KEPT_AMONG_STAFF), nothing is opened."""
        desk = self.desk
        found = await self.resident_of(thread_id=thread_id, reply_to=reply_to)
        if desk is not None and found is None and await self._resident_gone(reply_to):
            return Answered(AnswerOutcome.RESIDENT_GONE)
        if desk is None or found is None:
            return Answered(AnswerOutcome.NOT_A_CONVERSATION)
        if (
            reply_to_bot
            and thread_id is not None
            and await self._resident_message(reply_to) is None
        ):
            return Answered(AnswerOutcome.KEPT_AMONG_STAFF)
        resident, ticket = found
        reopened = False
        if ticket is None:
            async with self._lock(resident):
                ticket = await self.uow.support.open_ticket(resident)
                if ticket is None:
                    ticket = await self.uow.support.new_ticket(resident, desk.chat_id)
                    ticket.staff_thread_id = thread_id
                    reopened = True
            await self._show_status(desk, resident, ticket, closed=False)
            if reopened:
                await self._card_of_reopened(desk, resident, ticket, thread_id)
        await self.uow.commit()  # named point: the ticket is stored before the resident reads
        quoted = await self._resident_message(reply_to)
        delivery, copy_id = await desk.copy_out(resident, desk.chat_id, message_id, quoted)
        if delivery is Delivery.BLOCKED:
            await self._mark_inactive(resident)
            return Answered(AnswerOutcome.BLOCKED, ticket.id, reopened)
        if delivery is not Delivery.SENT:
            return Answered(AnswerOutcome.FAILED, ticket.id, reopened)
        await self._mark_active(resident)
        await self.uow.support.map_message(
            ticket.id,
            staff_chat_id=desk.chat_id,
            staff_message_id=message_id,
            user_chat_id=resident,
            user_message_id=copy_id,
            direction=OUT,
        )
        return Answered(AnswerOutcome.SENT, ticket.id, reopened)

    async def _card_of_reopened(
        self, desk: SupportDesk, resident: int, ticket: Ticket, thread_id: int | None
    ) -> None:
        """A ticket an operator's answer opened gets its card (who the resident is, their
        accounts, the close button) as one the resident opens does: in the resident's topic
        of a forum, in the chat otherwise. Without it the desk cannot close it by button."""
        card = await self.card(resident)
        thread = None
        if await desk.is_forum():
            thread = thread_id or await self.uow.support.topic(resident, desk.chat_id)
        try:
            ticket.staff_message_id = await desk.post_card(thread, card, ticket_id=ticket.id)
        except (DeskUnavailable, ThreadGone) as exc:  # the answer still goes; /close works
            log.warning("no card for ticket %s opened by an answer: %s", ticket.id, exc)

    async def _resident_gone(self, staff_message_id: int | None) -> bool:
        """The staff message belongs to a conversation whose resident deleted their data
        (152-ФЗ: the ticket stays, its resident is gone)."""
        if staff_message_id is None or self.desk is None:
            return False
        mapped = await self.uow.support.by_staff_message(self.desk.chat_id, staff_message_id)
        ticket = await self.uow.support.ticket(mapped.ticket_id) if mapped is not None else None
        return ticket is not None and ticket.user_id is None

    async def _resident_message(self, staff_message_id: int | None) -> int | None:
        """The resident's own message an operator replied to (their copy quotes it)."""
        if staff_message_id is None or self.desk is None:
            return None
        mapped = await self.uow.support.by_staff_message(self.desk.chat_id, staff_message_id)
        if mapped is None or mapped.direction != IN:
            return None
        return mapped.user_message_id

    async def edit(
        self, message_id: int, *, text: str | None, caption: str | None
    ) -> EditResult | None:
        """An operator edited an answer: the resident's copy follows (None: not an answer)."""
        desk = self.desk
        if desk is None:
            return None
        mapped = await self.uow.support.by_staff_message(desk.chat_id, message_id)
        if mapped is None or mapped.direction != OUT or mapped.user_message_id is None:
            return None
        if mapped.user_chat_id is None:
            return EditResult.FAILED  # the resident deleted their data
        result = await desk.edit_out(
            mapped.user_chat_id, mapped.user_message_id, text=text, caption=caption
        )
        if result is EditResult.BLOCKED:
            await self._mark_inactive(mapped.user_chat_id)
        return result

    async def close(
        self,
        *,
        ticket_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        operator_id: int | None = None,
    ) -> Closed:
        """Close a ticket (its button, or /close in the topic / replying in a plain chat)."""
        desk = self.desk
        if desk is None:
            return Closed(CloseOutcome.NOT_FOUND)
        ticket = await self._ticket_to_close(ticket_id, thread_id, reply_to)
        if ticket is None:
            return Closed(CloseOutcome.NOT_FOUND)
        if not await self.uow.support.close_ticket(ticket.id, self.clock.now()):
            return Closed(CloseOutcome.ALREADY_CLOSED, ticket.id)
        self.uow.audit.add(
            "ticket_closed",
            actor_kind="operator",
            actor_id=operator_id,
            object_type="ticket",
            object_id=ticket.id,
        )
        await self.uow.support.refresh(ticket)
        await self.uow.commit()  # named point: closed before the topic and resident say so
        resident = ticket.user_id
        card = ticket.staff_message_id
        if resident is None:
            return Closed(CloseOutcome.CLOSED, ticket.id, card_message_id=card)
        await self._show_status(desk, resident, ticket, closed=True)
        user = await self.uow.users.get(resident)
        delivery = await desk.ask_rating(resident, user.language if user else None, ticket.id)
        if delivery is Delivery.BLOCKED:
            await self._mark_inactive(resident)
        return Closed(CloseOutcome.CLOSED, ticket.id, delivery, card)

    async def _ticket_to_close(
        self, ticket_id: int | None, thread_id: int | None, reply_to: int | None
    ) -> Ticket | None:
        if ticket_id is not None:
            return await self.uow.support.ticket(ticket_id)
        found = await self.resident_of(thread_id=thread_id, reply_to=reply_to)
        if found is None:
            return None
        resident, ticket = found
        return ticket or await self.uow.support.last_ticket(resident)

    async def _show_status(
        self, desk: SupportDesk, resident: int, ticket: Ticket, *, closed: bool
    ) -> None:
        """The topic's title and state follow the ticket (a plain chat has none)."""
        if not await desk.is_forum():
            return
        thread = await self.uow.support.topic(resident, desk.chat_id)
        if thread is None:
            return
        name = (await self.card(resident)).name
        try:
            await desk.retitle_topic(thread, topic_title(name, ticket), closed=closed)
        except DeskUnavailable as exc:
            log.warning("could not show ticket %s in topic %s: %s", ticket.id, thread, exc)

    async def _mark_inactive(self, resident: int) -> None:
        user = await self.uow.users.get(resident)
        if user is not None and user.inactive_since is None:
            user.inactive_since = self.clock.now()

    async def _mark_active(self, resident: int) -> None:
        user = await self.uow.users.get(resident)
        if user is not None and user.inactive_since is not None:
            user.inactive_since = None

    # ------------------------------------------------------------------ rating
    async def rate(self, resident_id: int, ticket_id: int, stars: int) -> RateOutcome:
        """One rating 1–5 of the resident's own closed ticket; a forged button is refused."""
        if not 1 <= stars <= 5:
            return RateOutcome.REFUSED
        repo = self.uow.support
        if await repo.rate(ticket_id, resident_id, stars, self.clock.now()):
            ticket = await repo.ticket(ticket_id)
            await self.uow.commit()  # named point: stored before operators are told
            if self.desk is not None and ticket is not None:
                thread = ticket.staff_thread_id if await self.desk.is_forum() else None
                await self.desk.note_rating(thread, ticket_id, stars)
            return RateOutcome.RATED
        ticket = await repo.ticket(ticket_id)
        if ticket is not None and ticket.user_id == resident_id and ticket.rating is not None:
            return RateOutcome.ALREADY_RATED
        return RateOutcome.REFUSED
