"""Registration: consent to the processing of personal data (152-ФЗ), the phone, the profile.

No aiogram here: handlers translate Telegram events into these calls.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.services.clock import Clock
from bot.services.phones import InvalidPhone, normalize_phone
from storage.models import User
from storage.repositories.audit import AuditRepository
from storage.repositories.users import UserRepository
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


def step_of(user: User | None, consent_version: str) -> Step:
    if user is None or user.consented_at is None or user.consent_version != consent_version:
        return Step.CONSENT
    if not user.phone:
        return Step.PHONE
    return Step.DONE


async def get_user(uow: UnitOfWork, user_id: int) -> User | None:
    return await UserRepository(uow.session).get(user_id)


async def current_step(uow: UnitOfWork, user_id: int, consent_version: str) -> Step:
    return step_of(await get_user(uow, user_id), consent_version)


async def give_consent(
    uow: UnitOfWork,
    user_id: int,
    *,
    version: str,
    clock: Clock,
    first_name: str | None = None,
) -> User:
    user = await UserRepository(uow.session).get_or_create(user_id)
    user.consent_version = version
    user.consented_at = clock.now()
    if first_name:
        user.first_name = first_name[:128]
    AuditRepository(uow.session).add(
        "consent_given",
        actor_kind="resident",
        actor_id=user_id,
        object_type="user",
        object_id=user_id,
        details={"version": version},
        at=clock.now(),
    )
    return user


def check_contact(
    *, sender_id: int, contact_user_id: int | None, phone_number: str
) -> ContactCheck:
    """Only the sender's own contact counts (a forwarded card or someone else's does not)."""
    if contact_user_id is None or contact_user_id != sender_id:
        return ContactCheck(ok=False, reason="not_own")
    try:
        return ContactCheck(ok=True, phone=normalize_phone(phone_number))
    except InvalidPhone:
        return ContactCheck(ok=False, reason="invalid")


async def save_phone(uow: UnitOfWork, user_id: int, phone: str, *, clock: Clock) -> User:
    user = await UserRepository(uow.session).get(user_id)
    if user is None or user.consented_at is None:
        raise PermissionError("consent first")
    changed = user.phone != phone
    user.phone = phone
    if changed:
        AuditRepository(uow.session).add(
            "phone_shared",
            actor_kind="resident",
            actor_id=user_id,
            object_type="user",
            object_id=user_id,
            at=clock.now(),
        )
    return user


async def set_language(uow: UnitOfWork, user_id: int, language: str) -> User:
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    user = await UserRepository(uow.session).get_or_create(user_id)
    user.language = language
    return user


async def delete_my_data(uow: UnitOfWork, user_id: int, *, clock: Clock) -> list[tuple[int, int]]:
    """Withdraw consent and erase the resident: phone, e-mail, name, links, codes.

    What must be kept (the audit trail of decisions, submitted readings) stays, with the
    resident's id removed from it. Their open escalations are closed; the staff cards of
    those (chat id, message id) are returned, for the caller to remove from the staff chat —
    they show the resident's name, address and receipt photo.
    """
    users = UserRepository(uow.session)
    if await users.get(user_id) is None:
        return []
    cards = await users.close_open_tickets(user_id, clock.now())
    await users.erase(user_id)
    AuditRepository(uow.session).add(
        "data_deleted",
        actor_kind="system",
        actor_id=None,
        object_type="user",
        details={"escalations_closed": len(cards)},
        at=clock.now(),
    )
    return cards
