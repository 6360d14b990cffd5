"""The resident's profile: the e-mail address, verified by a code sent to it.

The address becomes the resident's only when the code is confirmed: until then the pending
address lives in the conversation (FSM data) and the User row is not touched, so an
abandoned change never loses a verified address. Validation: no `email-validator` package
is installed, so a careful pattern (RFC 5321 lengths, dot-atom local part, LDH domain
labels, IDN domains converted to punycode).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.integrations import DeliveryError, EmailGateway
from bot.services import codes
from bot.services.clock import Clock
from bot.services.codes import CodeRejected, CodesService
from bot.services.enums import CodePurpose
from bot.services.registration import ResidentCache
from storage.models import User
from storage.uow import UnitOfWork

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD_RE = re.compile(r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})")


class InvalidEmail(ValueError):
    pass


class EmailOutcome(enum.StrEnum):
    SENT = "sent"
    INVALID = "invalid"  # not an address
    ALREADY_VERIFIED = "already_verified"  # the resident's confirmed address is this one
    WAIT = "wait"  # a code went to this address less than a minute ago (.wait_seconds)
    TOO_MANY = "too_many"  # the day's codes for this address are used up
    DELIVERY_FAILED = "delivery_failed"  # the letter could not be sent; nothing was kept
    DISABLED = "disabled"  # e-mail is off in this bot


@dataclass(frozen=True)
class EmailCode:
    outcome: EmailOutcome
    address: str | None = None  # normalised, when it is one
    wait_seconds: int = 0


@dataclass(frozen=True)
class Letter:
    """The confirmation letter in the resident's language: `body` has {code} and {minutes}."""

    subject: str
    body: str


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


class ProfileService:
    """The resident's e-mail, for one update. `email` is None when e-mail is off."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        codes: CodesService,
        email: EmailGateway | None,
        residents: ResidentCache | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.codes = codes
        self.email = email
        self.residents = residents or ResidentCache(ttl=0)

    @property
    def email_enabled(self) -> bool:
        return self.email is not None

    async def send_code(self, user_id: int, raw_address: str, letter: Letter) -> EmailCode:
        """Validate the address, issue a code, commit, send the letter (the User row is not
        changed until the code is confirmed). A failed delivery discards the code."""
        if self.email is None:
            return EmailCode(EmailOutcome.DISABLED)
        try:
            address = normalize_email(raw_address)
        except InvalidEmail:
            return EmailCode(EmailOutcome.INVALID)
        user = await self.uow.users.get(user_id)
        if user is None:
            raise PermissionError("register first")
        if verified_email(user) == address:
            return EmailCode(EmailOutcome.ALREADY_VERIFIED, address)
        try:
            issued = await self.codes.issue(
                purpose=CodePurpose.EMAIL_VERIFY, target=address, user_id=user_id, subject=None
            )
        except codes.ResendTooSoon as exc:
            return EmailCode(EmailOutcome.WAIT, address, wait_seconds=exc.wait_seconds)
        except codes.TooManyCodes:
            return EmailCode(EmailOutcome.TOO_MANY, address)
        await self.uow.commit()  # named point: the code is durable before the letter leaves
        try:
            await self.email.send_email(
                address,
                letter.subject,
                letter.body.format(code=issued.code, minutes=self.codes.ttl_minutes),
            )
        except DeliveryError:
            await self.codes.discard(issued.id)
            return EmailCode(EmailOutcome.DELIVERY_FAILED, address)
        return EmailCode(EmailOutcome.SENT, address)

    async def seconds_until_resend(self, address: str) -> int:
        return await self.codes.seconds_until_resend(
            purpose=CodePurpose.EMAIL_VERIFY, target=address, subject=None
        )

    async def confirm_email(self, user_id: int, address: str, code: str) -> CodeRejected | None:
        """Check the code sent to `address`; on success it becomes the resident's e-mail.

        Returns the rejection (problem, attempts left) instead of raising it, so the counted
        wrong attempt commits with the update.
        """
        try:
            await self.codes.verify(
                purpose=CodePurpose.EMAIL_VERIFY,
                target=address,
                user_id=user_id,
                subject=None,
                code=code,
            )
        except CodeRejected as rejected:
            return rejected
        user = await self.uow.users.get(user_id)
        if user is None:
            raise PermissionError("register first")
        user.email = address
        user.email_verified_at = self.clock.now()
        self.residents.forget(user_id)
        self.uow.audit.add(
            "email_verified",
            actor_kind="resident",
            actor_id=user_id,
            object_type="user",
            object_id=user_id,
            details={"email": codes.mask_target(address)},
            at=self.clock.now(),
        )
        return None

    async def remove_email(self, user_id: int) -> bool:
        """Forget the resident's e-mail; False when there was none."""
        user = await self.uow.users.get(user_id)
        if user is None or user.email is None:
            return False
        user.email = None
        user.email_verified_at = None
        self.residents.forget(user_id)
        self.uow.audit.add(
            "email_removed",
            actor_kind="resident",
            actor_id=user_id,
            object_type="user",
            object_id=user_id,
            at=self.clock.now(),
        )
        return True
