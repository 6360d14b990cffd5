"""Registration: consent to the processing of personal data (152-ФЗ), the phone, the profile.

No aiogram here: handlers translate Telegram events into these calls. `Resident` is what
the layers above know of a registered user (no ORM row leaves this module).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from bot.services.clock import Clock
from bot.services.phones import InvalidPhone, contact_phone_to_e164
from bot.services.ports import StaffDesk
from storage.models import User
from storage.uow import UnitOfWork

SUPPORTED_LANGUAGES = ("ru", "en")


class Step(enum.StrEnum):
    """Where a resident stands in registration."""

    CONSENT = "consent"  # no consent, or consent to an older version
    PHONE = "phone"  # consent given, phone not shared yet
    DONE = "done"


@dataclass(frozen=True)
class ContactCheck:
    ok: bool
    reason: str = ""  # "not_own" | "invalid" when not ok
    phone: str | None = None


@dataclass(frozen=True)
class Resident:
    """A user as handlers see them: who, where in registration, how to talk to them."""

    id: int
    step: Step
    phone: str | None  # E.164
    language: str | None  # chosen in Settings (or remembered), None: Telegram's decides
    email: str | None  # verified addresses only
    first_name: str | None
    reminders: bool = True  # meter-reading reminders wanted (Settings)


def step_of(user: User | None, consent_version: str) -> Step:
    if user is None or user.consented_at is None or user.consent_version != consent_version:
        return Step.CONSENT
    if not user.phone:
        return Step.PHONE
    return Step.DONE


def check_contact(
    *, sender_id: int, contact_user_id: int | None, phone_number: str
) -> ContactCheck:
    """Only the sender's own contact counts (a forwarded card or someone else's does not)."""
    if contact_user_id is None or contact_user_id != sender_id:
        return ContactCheck(ok=False, reason="not_own")
    try:
        return ContactCheck(ok=True, phone=contact_phone_to_e164(phone_number))
    except InvalidPhone:
        return ContactCheck(ok=False, reason="invalid")


class ResidentCache:
    """Registered residents by Telegram id, remembered in this process for `ttl` seconds,
    so the gate in front of every menu feature costs no query for a resident whose profile
    did not change. The services that change a profile forget its entry; another process
    sees a change at most `ttl` seconds late (a deleted resident's buttons then answer "not
    available": every service re-reads what it acts on)."""

    def __init__(self, ttl: float = 60.0, max_size: int = 100_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._items: dict[int, tuple[Resident, float]] = {}

    def get(self, user_id: int) -> Resident | None:
        item = self._items.get(user_id)
        if item is None or item[1] < time.monotonic():
            return None
        return item[0]

    def put(self, resident: Resident) -> None:
        if len(self._items) >= self.max_size:
            self._items.clear()
        self._items[resident.id] = (resident, time.monotonic() + self.ttl)

    def forget(self, user_id: int) -> None:
        self._items.pop(user_id, None)


def resident_of(user: User, consent_version: str) -> Resident:
    return Resident(
        id=user.id,
        step=step_of(user, consent_version),
        phone=user.phone,
        language=user.language,
        email=user.email if user.email and user.email_verified_at else None,
        first_name=user.first_name,
        reminders=user.reading_reminders is not False,
    )


class RegistrationService:
    """Registration and the resident's own data, for one update.

    `consent_version` is Settings.consent_version: consent to an older version is asked
    again. `desk` takes the resident's cards off the staff chat when they delete their
    data (None without a staff chat).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        consent_version: str,
        desk: StaffDesk | None,
        cache: ResidentCache | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.consent_version = consent_version
        self.desk = desk
        self.cache = cache or ResidentCache(ttl=0)

    async def resident(self, user_id: int) -> Resident | None:
        """The user as handlers see them; registered ones come from the cache when known."""
        cached = self.cache.get(user_id)
        if cached is not None:
            return cached
        user = await self.uow.users.get(user_id)
        if user is None:
            return None
        resident = resident_of(user, self.consent_version)
        if resident.step is Step.DONE:
            self.cache.put(resident)
        return resident

    async def step(self, user_id: int) -> Step:
        return step_of(await self.uow.users.get(user_id), self.consent_version)

    async def give_consent(self, user_id: int, *, first_name: str | None = None) -> None:
        """Consent to the current version (audited "consent_given")."""
        now = self.clock.now()
        self.cache.forget(user_id)
        user = await self.uow.users.get_or_create(user_id)
        user.consent_version = self.consent_version
        user.consented_at = now
        if first_name:
            user.first_name = first_name[:128]
        self.uow.audit.add(
            "consent_given",
            actor_kind="resident",
            actor_id=user_id,
            object_type="user",
            object_id=user_id,
            details={"version": self.consent_version},
            at=now,
        )

    async def save_phone(self, user_id: int, phone: str, *, locale: str | None = None) -> None:
        """The resident's own phone (E.164, from `check_contact`). PermissionError before
        consent. `locale` is the language the resident registers in (their Telegram's),
        remembered when they never chose one: what reaches them outside their own updates
        (notices, reminders, an operator's answers) must be in it too."""
        user = await self.uow.users.get(user_id)
        if user is None or user.consented_at is None:
            raise PermissionError("consent first")
        self.cache.forget(user_id)
        changed = user.phone != phone
        user.phone = phone
        if user.language is None and locale:
            user.language = locale
        if changed:
            self.uow.audit.add(
                "phone_shared",
                actor_kind="resident",
                actor_id=user_id,
                object_type="user",
                object_id=user_id,
                at=self.clock.now(),
            )

    async def set_language(self, user_id: int, language: str) -> Resident:
        """ValueError for a language the bot does not speak (SUPPORTED_LANGUAGES)."""
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        self.cache.forget(user_id)
        user = await self.uow.users.get_or_create(user_id)
        user.language = language
        return resident_of(user, self.consent_version)

    async def delete_my_data(self, user_id: int) -> int:
        """Withdraw consent and erase the resident (152-ФЗ): phone, e-mail, name, links,
        codes, and their Telegram id wherever it was kept.

        What must be kept (the audit trail of decisions, submitted readings) stays without
        the resident's id. Their open escalations are closed, the deletion is committed
        (named point), then the cards of all their escalations — which show the name,
        address and receipt photo — are taken off the staff chat (edited down to a neutral
        line where Telegram no longer lets the bot delete them), and so is their support
        topic (its title is their name). Returns the number of cards.
        """
        users = self.uow.users
        self.cache.forget(user_id)
        if await users.get(user_id) is None:
            return 0
        cards = await users.close_tickets(user_id, self.clock.now())
        topics = await self.uow.support.topics_of(user_id)
        await users.erase(user_id)
        self.uow.audit.add(
            "data_deleted",
            actor_kind="system",
            actor_id=None,
            object_type="user",
            details={"escalations_closed": len(cards)},
            at=self.clock.now(),
        )
        await self.uow.commit()  # named point: erased before the staff chat is cleaned
        if self.desk is not None:
            for chat_id, message_id in cards:
                await self.desk.erase_card(chat_id, message_id)
            for chat_id, thread_id in topics:
                await self.desk.erase_topic(chat_id, thread_id)
        return len(cards)
