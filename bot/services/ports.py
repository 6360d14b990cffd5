"""The ports: what services need from Telegram, as Protocols (implementations: bot/telegram/).

Services never import aiogram. A use case that shows something to operators or tells a
resident something calls one of these; the app factory injects the aiogram
implementations, a scheduler can build its own, tests can hand in ones that fail.

Rules the implementations keep:
- staff texts are in the company's language (DEFAULT_LOCALE), a resident's texts in the
  resident's language (the one they chose, else DEFAULT_LOCALE);
- Telegram's refusals are reported through return values or `DeskUnavailable`, never as
  aiogram exceptions, so a service can decide what is stored and what is undone.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.services.linking import LinkCard
    from bot.services.readings import ReadingCard
    from bot.services.readings_reminders import Reminder
    from bot.services.representatives import RepresentativeCard
    from bot.services.support.service import ResidentCard, TicketHeader


class DeskUnavailable(Exception):
    """The staff chat could not take a card (the bot was removed, Telegram refused…)."""


@dataclass(frozen=True)
class PostedCard:
    """Where a card landed in the staff chat."""

    chat_id: int
    message_id: int
    thread_id: int | None = None
    #: more messages that belong to the card (a representative's pages under it, issue 14)
    extra_message_ids: tuple[int, ...] = ()


class Delivery(enum.StrEnum):
    """What became of a message to a resident."""

    SENT = "sent"
    BLOCKED = "blocked"  # the resident blocked the bot (403)
    FAILED = "failed"  # any other refusal
    DEFERRED = "deferred"  # a bulk send stopped (shutdown) before this one: not attempted


# --- staff: notices ---
@dataclass(frozen=True)
class NoticeRecipient:
    resident_id: int
    language: str | None


@dataclass(frozen=True)
class NoticeMessage:
    """What a supplier's notice says (the operator's text, shown as plain text)."""

    supplier: str
    text: str


@dataclass(frozen=True)
class NoticeProgress:
    """Where a notice run stands; `message_id` None: the line is not posted yet."""

    notice_id: int
    supplier: str
    total: int
    delivered: int
    blocked: int
    failed: int
    done: bool
    chat_id: int
    thread_id: int | None = None
    message_id: int | None = None


class NoticeBoard(Protocol):
    """The one progress line of a notice run in the staff chat."""

    async def show_progress(self, progress: NoticeProgress) -> int | None:
        """Post the line (no `message_id` yet) or edit it; the message id, None when
        Telegram refused (logged, never raised: the run goes on)."""
        ...


# --- end staff ---


class StaffDesk(Protocol):
    """The operators' supergroup (STAFF_CHAT_ID)."""

    async def post_link_card(self, card: LinkCard) -> PostedCard:
        """Post the card of a new link request with Approve / Reject.

        Raises DeskUnavailable when Telegram refuses it.
        """
        ...

    async def show_link_card(self, card: LinkCard, *, delivery: Delivery | None = None) -> None:
        """Redraw a posted card as the request stands now (decided: without buttons).

        `delivery` says whether the resident was told the decision (a note when not).
        Failures are logged, not raised: the decision is already stored.
        """
        ...

    async def mark_withdrawn(self, chat_id: int, message_id: int) -> None:
        """The resident withdrew the request: drop the buttons, say so under the card."""
        ...

    async def erase_card(self, chat_id: int, message_id: int) -> None:
        """The resident deleted their data (152-ФЗ): delete the card, or edit it down to a
        neutral line when Telegram no longer lets the bot delete it (older than 48 h)."""
        ...

    async def erase_topic(self, chat_id: int, thread_id: int) -> None:
        """The resident deleted their data (152-ФЗ): delete their support topic (its title
        is their name; its messages go with it), or rename it to a neutral title and close
        it when Telegram refuses. Failures are logged, not raised."""
        ...

    async def post_reading_card(self, card: ReadingCard) -> PostedCard:
        """Post a meter reading to review with Accept / Reject (the meter's photo, if any).

        Raises DeskUnavailable when Telegram refuses it.
        """
        ...

    async def show_reading_card(
        self, card: ReadingCard, *, delivery: Delivery | None = None
    ) -> None:
        """Redraw a reading's card as it stands now (decided or corrected: no buttons).

        Failures are logged, not raised."""
        ...

    def use_threads(self, threads: ResidentThreads) -> None:
        """Post escalations in the resident's topic (forum staff chat): `threads` finds or
        creates it (the support service). Without it, cards go where they always went."""
        ...

    # ------------------------------------------------------------ organisations (issue 14)
    async def post_representative_card(self, card: RepresentativeCard) -> PostedCard:
        """Post a representative's request (the organisation on file, approve as manager /
        as accountant, reject) and its power of attorney under it (sendDocument /
        sendPhoto, or sendMediaGroup for several pages). Returns where the card is.

        Raises DeskUnavailable when Telegram refuses the card.
        """
        ...

    async def show_representative_card(
        self, card: RepresentativeCard, *, delivery: Delivery | None = None
    ) -> None:
        """Redraw it as it stands (approved: a Revoke button; rejected, revoked: none).

        Failures are logged, not raised."""
        ...


class ResidentNotifier(Protocol):
    """Tells a resident something in their private chat, in their language."""

    async def link_decided(
        self, resident_id: int, language: str | None, card: LinkCard
    ) -> Delivery:
        """An operator approved or rejected the resident's link request."""
        ...

    async def reading_decided(
        self, resident_id: int, language: str | None, card: ReadingCard
    ) -> Delivery:
        """An operator accepted or rejected the resident's meter reading."""
        ...

    async def representative_decided(
        self, resident_id: int, language: str | None, card: RepresentativeCard
    ) -> Delivery:
        """An operator approved (with a role), rejected or revoked a representative."""
        ...

    def remind_readings(
        self, reminders: Sequence[Reminder]
    ) -> AsyncIterator[tuple[Reminder, Delivery]]:
        """Send meter-reading reminders through the one rate-limited bulk sender.

        Yields each reminder with what became of it as soon as that is known (not in
        order). When the sender is stopping, the ones not attempted come back DEFERRED.
        """
        ...

    # --- staff ---
    def send_notice(
        self, notice: NoticeMessage, recipients: Sequence[NoticeRecipient]
    ) -> AsyncIterator[tuple[NoticeRecipient, Delivery]]:
        """Send a supplier's notice through the one rate-limited bulk sender, each in the
        resident's language; yields each recipient with what became of it (not in order)."""
        ...


# --------------------------------------------------------------------------- support
class ThreadGone(DeskUnavailable):
    """The resident's topic is gone: an operator deleted it, or Telegram says
    TOPIC_ID_INVALID / "message thread not found". The caller recreates it."""


class EditResult(enum.StrEnum):
    """What became of an operator's edit in the resident's copy."""

    EDITED = "edited"
    UNCHANGED = "unchanged"  # the copy already shows it
    NOT_EDITABLE = "not_editable"  # Telegram cannot change this (media, a text ↔ caption…)
    BLOCKED = "blocked"
    FAILED = "failed"


class ResidentThreads(Protocol):
    """The resident's topic in a forum staff chat (the support service keeps them)."""

    async def thread_of(self, resident_id: int) -> int | None:
        """Their topic, created when missing; None in a plain (non-forum) staff chat."""
        ...

    async def thread_gone(self, resident_id: int, thread_id: int) -> int | None:
        """Telegram said the topic is gone: forget it and make a new one."""
        ...


class SupportDesk(Protocol):
    """Support conversations in the staff chat (STAFF_CHAT_ID) and the resident's chat.

    Posting into a topic that is gone raises ThreadGone; other refusals DeskUnavailable.
    """

    chat_id: int

    async def is_forum(self) -> bool:
        """Whether the staff chat has topics (asked of Telegram, remembered a while)."""
        ...

    async def open_topic(self, title: str) -> int:
        """createForumTopic; the new thread id."""
        ...

    async def retitle_topic(self, thread_id: int, title: str, *, closed: bool | None) -> None:
        """editForumTopic, then closeForumTopic (True) / reopenForumTopic (False)."""
        ...

    async def post_card(
        self, thread_id: int | None, card: ResidentCard, *, ticket_id: int | None
    ) -> int:
        """The resident's card (with «Close the ticket» when `ticket_id`); its message id."""
        ...

    async def copy_in(
        self, resident_id: int, message_id: int, thread_id: int | None, header: TicketHeader | None
    ) -> list[int]:
        """Copy the resident's message to the staff chat (into the topic, or under a
        one-line `header` in a plain chat); the staff chat's message ids."""
        ...

    async def copy_out(
        self, resident_id: int, from_chat_id: int, message_id: int, reply_to: int | None = None
    ) -> tuple[Delivery, int | None]:
        """Copy an operator's message to the resident (no author shown), as a reply to the
        resident's message `reply_to` when the operator answered that one."""
        ...

    async def edit_out(
        self, resident_id: int, message_id: int, *, text: str | None, caption: str | None
    ) -> EditResult:
        """Make the resident's copy say the operator's edited text or caption (HTML)."""
        ...

    async def ask_rating(self, resident_id: int, language: str | None, ticket_id: int) -> Delivery:
        """Tell the resident the ticket is closed and offer 1–5 stars."""
        ...

    async def note_rating(self, thread_id: int | None, ticket_id: int, stars: int) -> None:
        """Tell operators how the resident rated the ticket (failures logged)."""
        ...
