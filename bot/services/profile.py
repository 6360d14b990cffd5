"""The resident's profile: the e-mail address, verified by a code sent to it.

The address becomes the resident's only when the code is confirmed: until then the pending
address lives in the conversation (FSM data) and the User row is not touched, so an
abandoned change never loses a verified address. Validation: no `email-validator` package
is installed, so a careful pattern (RFC 5321 lengths, dot-atom local part, LDH domain
labels, IDN domains converted to punycode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services import codes
from bot.services.clock import Clock
from storage.models import CodePurpose, User
from storage.repositories.audit import AuditRepository
from storage.repositories.users import UserRepository
from storage.uow import UnitOfWork

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD_RE = re.compile(r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})")


class InvalidEmail(ValueError):
    pass


class AlreadyVerified(Exception):
    """The resident's verified address is this one already."""


@dataclass(frozen=True)
class PendingEmail:
    address: str
    code: codes.IssuedCode


def normalize_email(raw: str) -> str:
    """A typed address → the form we store and send to; InvalidEmail when it is not one.

    The domain is lower-cased (and an internationalised one turned into punycode); the
    local part is kept as typed, since mail servers may treat its case as significant.
    """
    text = (raw or "").strip()
    if not text or len(text) > MAX_EMAIL_LENGTH or text.count("@") != 1:
        raise InvalidEmail("not an address")
    local, domain = text.split("@")
    if not local or len(local) > MAX_LOCAL_LENGTH or not _LOCAL_RE.fullmatch(local):
        raise InvalidEmail("bad local part")
    domain = domain.rstrip(".").lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidEmail("bad domain") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise InvalidEmail("bad domain")
    if not _TLD_RE.fullmatch(labels[-1]):
        raise InvalidEmail("bad top-level domain")
    address = f"{local}@{domain}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("too long")
    return address


def verified_email(user: User) -> str | None:
    return user.email if user.email and user.email_verified_at else None


async def set_email_pending(
    uow: UnitOfWork, user_id: int, raw_address: str, *, clock: Clock, ttl_minutes: int
) -> PendingEmail:
    """Validate the address and issue a code for it (the User row is not changed).

    Raises InvalidEmail, AlreadyVerified, codes.ResendTooSoon, codes.TooManyCodes. The
    caller commits, sends `code.code` to `address`, and on DeliveryError calls
    `codes.discard_code(uow, code.id, clock=clock)`.
    """
    address = normalize_email(raw_address)
    user = await UserRepository(uow.session).get(user_id)
    if user is None:
        raise PermissionError("register first")
    if verified_email(user) == address:
        raise AlreadyVerified(address)
    issued = await codes.issue_code(
        uow,
        purpose=CodePurpose.EMAIL_VERIFY,
        target=address,
        user_id=user_id,
        subject=None,
        clock=clock,
        ttl_minutes=ttl_minutes,
    )
    return PendingEmail(address=address, code=issued)


async def seconds_until_resend(uow: UnitOfWork, address: str, *, clock: Clock) -> int:
    return await codes.seconds_until_resend(
        uow, purpose=CodePurpose.EMAIL_VERIFY, target=address, subject=None, clock=clock
    )


async def confirm_email(
    uow: UnitOfWork, user_id: int, address: str, code: str, *, clock: Clock
) -> User:
    """Check the code sent to `address`; on success it becomes the resident's e-mail.

    Raises codes.CodeRejected — catch it in the handler so that the counted wrong attempt
    is committed (see codes.verify_code).
    """
    await codes.verify_code(
        uow,
        purpose=CodePurpose.EMAIL_VERIFY,
        target=address,
        user_id=user_id,
        subject=None,
        code=code,
        clock=clock,
    )
    user = await UserRepository(uow.session).get(user_id)
    if user is None:
        raise PermissionError("register first")
    user.email = address
    user.email_verified_at = clock.now()
    AuditRepository(uow.session).add(
        "email_verified",
        actor_kind="resident",
        actor_id=user_id,
        object_type="user",
        object_id=user_id,
        details={"email": codes.mask_target(address)},
        at=clock.now(),
    )
    return user


async def remove_email(uow: UnitOfWork, user_id: int, *, clock: Clock) -> User | None:
    user = await UserRepository(uow.session).get(user_id)
    if user is None or user.email is None:
        return user
    user.email = None
    user.email_verified_at = None
    AuditRepository(uow.session).add(
        "email_removed",
        actor_kind="resident",
        actor_id=user_id,
        object_type="user",
        object_id=user_id,
        at=clock.now(),
    )
    return user
