"""Services as the middleware builds them, with recording stand-ins for the ports.

Unit tests of services reach Telegram only through the ports; these record what the
service asked of them (the Telegram implementations are covered by the handler and e2e
tests, which run the real ones against a recording session or sandbox/)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from bot.integrations import LogSmsGateway, SmsGateway
from bot.services.clock import Clock
from bot.services.codes import CodesService
from bot.services.linking import LinkCard, LinkingService
from bot.services.ports import Delivery, DeskUnavailable, PostedCard
from bot.services.readings import ReadingCard, ReadingsService
from bot.services.readings_reminders import Reminder
from bot.services.readings_rules import ReadingRules
from bot.services.registration import RegistrationService
from bot.services.representatives import RepresentativeCard, RepresentativesService
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
