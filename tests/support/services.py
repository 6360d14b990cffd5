"""Services as the middleware builds them, with recording stand-ins for the ports.

Unit tests of services reach Telegram only through the ports; these record what the
service asked of them (the Telegram implementations are covered by the handler and e2e
tests, which run the real ones against a recording session or sandbox/)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

from bot.integrations import LogSmsGateway, SmsGateway
from bot.services.balance import BalanceService
from bot.services.clock import Clock
from bot.services.codes import CodesService
from bot.services.linking import LinkCard, LinkingService
from bot.services.ports import (
    Delivery,
    DeskUnavailable,
    EditResult,
    NoticeMessage,
    NoticeProgress,
    NoticeRecipient,
    PostedCard,
    ThreadGone,
)
from bot.services.readings import ReadingCard, ReadingsService
from bot.services.readings_reminders import Reminder
from bot.services.readings_rules import ReadingRules
from bot.services.registration import RegistrationService
from bot.services.representatives import RepresentativeCard, RepresentativesService
from bot.services.support import ResidentCard, SupportService, TicketHeader, parse_hours
from storage.locks import KeyedLock, LocalKeyedLock
from storage.uow import UnitOfWork

STAFF_CHAT = -1001234567890


@dataclass
class RecordingDesk:
    """A StaffDesk that keeps the cards; `fail` makes posting refuse like Telegram would."""

    fail: bool = False
    first_message_id: int = 1001
    posted: list[LinkCard] = field(default_factory=list)
    shown: list[tuple[LinkCard, Delivery | None]] = field(default_factory=list)
    withdrawn: list[tuple[int, int]] = field(default_factory=list)
    erased: list[tuple[int, int]] = field(default_factory=list)
    erased_topics: list[tuple[int, int]] = field(default_factory=list)
    representatives_posted: list[RepresentativeCard] = field(default_factory=list)
    representatives_shown: list[tuple[RepresentativeCard, Delivery | None]] = field(
        default_factory=list
    )

    async def post_link_card(self, card: LinkCard) -> PostedCard:
        if self.fail:
            raise DeskUnavailable("Forbidden: bot was kicked from the supergroup chat")
        self.posted.append(card)
        return PostedCard(STAFF_CHAT, self.first_message_id + len(self.posted) - 1)

    async def show_link_card(self, card: LinkCard, *, delivery: Delivery | None = None) -> None:
        self.shown.append((card, delivery))

    async def mark_withdrawn(self, chat_id: int, message_id: int) -> None:
        self.withdrawn.append((chat_id, message_id))

    async def erase_card(self, chat_id: int, message_id: int) -> None:
        self.erased.append((chat_id, message_id))

    async def erase_topic(self, chat_id: int, thread_id: int) -> None:
        self.erased_topics.append((chat_id, thread_id))

    def use_threads(self, threads: object) -> None:
        """Escalations in topics are the Telegram desk's concern (e2e tests cover them)."""
        return None

    # organisations (issue 14)
    async def post_representative_card(self, card: RepresentativeCard) -> PostedCard:
        if self.fail:
            raise DeskUnavailable("Forbidden: bot was kicked from the supergroup chat")
        self.representatives_posted.append(card)
        return PostedCard(
            STAFF_CHAT, self.first_message_id + 500 + len(self.representatives_posted)
        )

    async def show_representative_card(
        self, card: RepresentativeCard, *, delivery: Delivery | None = None
    ) -> None:
        self.representatives_shown.append((card, delivery))


@dataclass
class RecordingNotifier:
    result: Delivery = Delivery.SENT
    told: list[tuple[int, str | None, LinkCard]] = field(default_factory=list)
    representatives_told: list[tuple[int, str | None, RepresentativeCard]] = field(
        default_factory=list
    )

    async def link_decided(
        self, resident_id: int, language: str | None, card: LinkCard
    ) -> Delivery:
        self.told.append((resident_id, language, card))
        return self.result

    async def representative_decided(
        self, resident_id: int, language: str | None, card: RepresentativeCard
    ) -> Delivery:
        self.representatives_told.append((resident_id, language, card))
        return self.result


def representatives_service(
    uow: UnitOfWork,
    clock: Clock,
    *,
    limit: int = 10,
    desk: RecordingDesk | None = None,
    notifier: RecordingNotifier | None = None,
) -> RepresentativesService:
    return RepresentativesService(
        uow,
        clock,
        limit=limit,
        desk=desk if desk is not None else RecordingDesk(),
        notifier=notifier or RecordingNotifier(),
    )


def linking_service(
    uow: UnitOfWork,
    clock: Clock,
    *,
    limit: int = 10,
    sms: SmsGateway | None = None,
    desk: RecordingDesk | None = None,
    notifier: RecordingNotifier | None = None,
    ttl_minutes: int = 30,
) -> LinkingService:
    return LinkingService(
        uow,
        clock,
        limit=limit,
        code_ttl_minutes=ttl_minutes,
        sms=sms or LogSmsGateway(),
        desk=desk if desk is not None else RecordingDesk(),
        notifier=notifier or RecordingNotifier(),
    )


def codes_service(uow: UnitOfWork, clock: Clock, ttl_minutes: int = 30) -> CodesService:
    return CodesService(uow, clock, ttl_minutes=ttl_minutes)


def registration_service(
    uow: UnitOfWork, clock: Clock, *, consent_version: str = "1", desk: RecordingDesk | None = None
) -> RegistrationService:
    return RegistrationService(uow, clock, consent_version=consent_version, desk=desk)


# --------------------------------------------------------------------------- readings
@dataclass
class RecordingReadingDesk(RecordingDesk):
    """RecordingDesk with the reading cards too."""

    reading_cards: list[ReadingCard] = field(default_factory=list)
    reading_shown: list[tuple[ReadingCard, Delivery | None]] = field(default_factory=list)

    async def post_reading_card(self, card: ReadingCard) -> PostedCard:
        if self.fail:
            raise DeskUnavailable("Forbidden: bot was kicked from the supergroup chat")
        self.reading_cards.append(card)
        return PostedCard(STAFF_CHAT, self.first_message_id + 500 + len(self.reading_cards))

    async def show_reading_card(
        self, card: ReadingCard, *, delivery: Delivery | None = None
    ) -> None:
        self.reading_shown.append((card, delivery))


@dataclass
class RecordingReadingNotifier(RecordingNotifier):
    decided: list[tuple[int, str | None, ReadingCard]] = field(default_factory=list)
    reminded: list[Reminder] = field(default_factory=list)
    #: what each resident's reminder gets (SENT when absent)
    outcomes: dict[int, Delivery] = field(default_factory=dict)

    async def reading_decided(
        self, resident_id: int, language: str | None, card: ReadingCard
    ) -> Delivery:
        self.decided.append((resident_id, language, card))
        return self.result

    async def remind_readings(
        self, reminders: Sequence[Reminder]
    ) -> AsyncIterator[tuple[Reminder, Delivery]]:
        for reminder in reminders:
            self.reminded.append(reminder)
            yield reminder, self.outcomes.get(reminder.resident_id, Delivery.SENT)

    # --- staff: notices ---
    #: the notices' recipients who blocked the bot; after `stop_after` messages the rest
    #: come back DEFERRED (the sender stopping)
    blocked: set[int] = field(default_factory=set)
    stop_after: int | None = None
    noticed: list[int] = field(default_factory=list)

    async def send_notice(
        self, notice: NoticeMessage, recipients: Sequence[NoticeRecipient]
    ) -> AsyncIterator[tuple[NoticeRecipient, Delivery]]:
        for r in recipients:
            if self.stop_after is not None and len(self.noticed) >= self.stop_after:
                yield r, Delivery.DEFERRED
                continue
            self.noticed.append(r.resident_id)
            yield r, Delivery.BLOCKED if r.resident_id in self.blocked else Delivery.SENT


@dataclass
class RecordingNoticeBoard:
    """The progress line of a notice: every state it was shown in (message id 500)."""

    shown: list[NoticeProgress] = field(default_factory=list)

    async def show_progress(self, progress: NoticeProgress) -> int | None:
        self.shown.append(progress)
        return 500


def readings_service(
    uow: UnitOfWork,
    clock: Clock,
    *,
    rules: ReadingRules | None = None,
    desk: RecordingReadingDesk | None = None,
    notifier: RecordingReadingNotifier | None = None,
    no_desk: bool = False,
) -> ReadingsService:
    return ReadingsService(
        uow,
        clock,
        rules=rules or ReadingRules(),
        desk=None if no_desk else (desk if desk is not None else RecordingReadingDesk()),
        notifier=notifier or RecordingReadingNotifier(),
    )


# --------------------------------------------------------------------------- support
@dataclass
class RecordingSupportDesk:
    """A SupportDesk that records; `forum` picks the staff chat's kind, `gone` lists topics
    Telegram no longer has, `slow` makes createForumTopic take a while (races)."""

    forum: bool = True
    chat_id: int = STAFF_CHAT
    slow: float = 0.0
    gone: set[int] = field(default_factory=set)
    out: Delivery = Delivery.SENT
    edit_result: EditResult = EditResult.EDITED
    topics: dict[int, str] = field(default_factory=dict)
    closed: dict[int, bool] = field(default_factory=dict)
    cards: list[tuple[int | None, ResidentCard, int | None]] = field(default_factory=list)
    copied_in: list[tuple[int, int, int | None, TicketHeader | None]] = field(default_factory=list)
    copied_out: list[tuple[int, int]] = field(default_factory=list)
    quoted: list[int | None] = field(default_factory=list)  # the resident's message answered
    edits: list[tuple[int, int, str | None, str | None]] = field(default_factory=list)
    asked: list[tuple[int, str | None, int]] = field(default_factory=list)
    ratings: list[tuple[int | None, int, int]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(500))

    async def is_forum(self) -> bool:
        return self.forum

    async def open_topic(self, title: str) -> int:
        await asyncio.sleep(self.slow)
        thread = next(self._ids)
        self.topics[thread] = title
        return thread

    def _check(self, thread_id: int | None) -> None:
        if thread_id is not None and (thread_id in self.gone or thread_id not in self.topics):
            raise ThreadGone("Bad Request: message thread not found")

    async def retitle_topic(self, thread_id: int, title: str, *, closed: bool | None) -> None:
        self._check(thread_id)
        self.topics[thread_id] = title
        if closed is not None:
            self.closed[thread_id] = closed

    async def post_card(
        self, thread_id: int | None, card: ResidentCard, *, ticket_id: int | None
    ) -> int:
        self._check(thread_id)
        self.cards.append((thread_id, card, ticket_id))
        return next(self._ids)

    async def copy_in(
        self, resident_id: int, message_id: int, thread_id: int | None, header: TicketHeader | None
    ) -> list[int]:
        self._check(thread_id)
        self.copied_in.append((resident_id, message_id, thread_id, header))
        return [next(self._ids) for _ in range(2 if header else 1)]

    async def copy_out(
        self, resident_id: int, from_chat_id: int, message_id: int, reply_to: int | None = None
    ) -> tuple[Delivery, int | None]:
        self.copied_out.append((resident_id, message_id))
        self.quoted.append(reply_to)
        return self.out, (next(self._ids) if self.out is Delivery.SENT else None)

    async def edit_out(
        self, resident_id: int, message_id: int, *, text: str | None, caption: str | None
    ) -> EditResult:
        self.edits.append((resident_id, message_id, text, caption))
        return self.edit_result

    async def ask_rating(self, resident_id: int, language: str | None, ticket_id: int) -> Delivery:
        self.asked.append((resident_id, language, ticket_id))
        return self.out

    async def note_rating(self, thread_id: int | None, ticket_id: int, stars: int) -> None:
        self.ratings.append((thread_id, ticket_id, stars))


def support_service(
    uow: UnitOfWork,
    clock: Clock,
    *,
    desk: RecordingSupportDesk | None = None,
    locks: KeyedLock | None = None,
    hours: str | None = None,
    full_phone: bool = False,
    no_desk: bool = False,
) -> SupportService:
    return SupportService(
        uow,
        clock,
        desk=None if no_desk else (desk if desk is not None else RecordingSupportDesk()),
        locks=locks or LocalKeyedLock(),
        hours=parse_hours(hours),
        balance=BalanceService(uow, clock),
        full_phone=full_phone,
    )
