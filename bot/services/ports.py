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
