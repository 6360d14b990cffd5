"""One-time confirmation codes for every purpose (linking by SMS, e-mail verification).

Rules:
- 6 digits from a CSPRNG (`secrets`), stored only as a salted scrypt hash
  (`bot.services.hashing`), compared in constant time;
- valid for `ttl_minutes` (Settings.code_ttl_minutes);
- dead after `MAX_ATTEMPTS` wrong attempts (the attempt that reaches the limit is answered
  `EXHAUSTED`, and so is every later one, even with the right digits);
- a new code may be sent `RESEND_AFTER_S` seconds after the previous one of the same
  purpose/target/subject, and at most `MAX_PER_DAY` codes go to one target (a phone or an
  address, all purposes together) per calendar day in Moscow time (`DAY_ZONE`, Europe/Moscow:
  the day the residents live in);
- a new code supersedes the older unused ones of the same purpose/target/subject (they
  expire at once).

Delivery is the caller's job, in this order (nothing half-written, no unsendable code):
``issued = await codes.issue(...)``, ``await uow.commit()``, send ``issued.code``; when the
gateway raises DeliveryError, ``await codes.discard(issued.id)`` and tell the resident to
try later.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import secrets
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.clock import Clock
from bot.services.enums import CodePurpose
from bot.services.hashing import hash_secret, verify_secret
from bot.services.phones import mask_phone
from bot.services.textnorm import compact_number
from storage.uow import UnitOfWork

CODE_LENGTH = 6
MAX_ATTEMPTS = 5
RESEND_AFTER_S = 60
MAX_PER_DAY = 5

try:
    DAY_ZONE: dt.tzinfo = ZoneInfo("Europe/Moscow")
except ZoneInfoNotFoundError:  # no tz database on the host: Moscow has kept UTC+3 since 2014
    DAY_ZONE = dt.timezone(dt.timedelta(hours=3), "MSK")

_CODE_RE = re.compile(rf"[0-9]{{{CODE_LENGTH}}}")


class CodeProblem(enum.StrEnum):
    WRONG = "wrong"  # six digits, not the code; an attempt was counted
    MALFORMED = "malformed"  # not six digits (letters, a short number): not counted
    EXPIRED = "expired"  # too old, or superseded by a newer code
    USED = "used"  # already used once
    EXHAUSTED = "exhausted"  # too many wrong attempts: request a new code
    MISSING = "missing"  # no code was ever sent for this purpose/target/subject


class CodeRejected(Exception):
    def __init__(self, problem: CodeProblem, attempts_left: int | None = None) -> None:
        super().__init__(f"code rejected: {problem.value}")
        self.problem = problem
        self.attempts_left = attempts_left


class ResendTooSoon(Exception):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__(f"a new code can be sent in {wait_seconds} s")
        self.wait_seconds = wait_seconds


class TooManyCodes(Exception):
    """The daily limit of codes to this target is reached; `retry_at` is the next day (UTC)."""

    def __init__(self, retry_at: dt.datetime) -> None:
        super().__init__(f"daily limit of codes reached; retry at {retry_at.isoformat()}")
        self.retry_at = retry_at


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str = field(repr=False)  # the plain digits, for delivery only: never log them
    expires_at: dt.datetime


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def day_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start of the Moscow calendar day of `moment` and of the next one, both in UTC."""
    local = moment.astimezone(DAY_ZONE)
    start = dt.datetime.combine(local.date(), dt.time(), tzinfo=DAY_ZONE)
    following = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), DAY_ZONE)
    return start.astimezone(dt.UTC), following.astimezone(dt.UTC)


def mask_target(target: str) -> str:
    """What the audit trail keeps of a phone or an address (it outlives the resident)."""
    if "@" in target:
        local, _, domain = target.rpartition("@")
        return f"{local[:1]}***@{domain}"
    return mask_phone(target)


def _purpose(purpose: CodePurpose | str) -> str:
    return CodePurpose(purpose).value


class CodesService:
    """One-time codes of one update: `ttl_minutes` is Settings.code_ttl_minutes."""

    def __init__(self, uow: UnitOfWork, clock: Clock, *, ttl_minutes: int) -> None:
        self.uow = uow
        self.clock = clock
        self.ttl_minutes = ttl_minutes

    async def seconds_until_resend(
        self,
        *,
        purpose: CodePurpose,
        target: str,
        subject: str | None,
    ) -> int:
        """Seconds until a new code of purpose/target/subject may be sent; 0 when allowed now."""
        latest = await self.uow.codes.latest(
            purpose=_purpose(purpose), target=target, subject=subject
        )
        if latest is None:
            return 0
        elapsed = (self.clock.now() - latest.created_at).total_seconds()
        return max(0, math.ceil(RESEND_AFTER_S - elapsed))

    async def issue(
        self,
        *,
        purpose: CodePurpose,
        target: str,
        user_id: int | None,
        subject: str | None,
    ) -> IssuedCode:
        """Store a new code (hashed) and return its plain digits for delivery.

        Raises ResendTooSoon (the previous code is younger than RESEND_AFTER_S) or TooManyCodes
        (MAX_PER_DAY codes already went to `target` today). Older unused codes of the same
        purpose/target/subject expire. Audited as "code_sent" with the target masked and
        without the code. The caller commits, then sends (see the module docstring).
        """
        now = self.clock.now()
        repo = self.uow.codes
        wait = await self.seconds_until_resend(purpose=purpose, target=target, subject=subject)
        if wait > 0:
            raise ResendTooSoon(wait)
        day_start, next_day = day_bounds(now)
        if await repo.count_for_target(target, since=day_start) >= MAX_PER_DAY:
            raise TooManyCodes(next_day)
        await repo.expire_unused(purpose=_purpose(purpose), target=target, subject=subject, now=now)
        plain = generate_code()
        row = await repo.add(
            purpose=_purpose(purpose),
            target=target,
            user_id=user_id,
            subject=subject,
            code_hash=hash_secret(plain),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=self.ttl_minutes),
        )
        self.uow.audit.add(
            "code_sent",
            actor_kind="resident" if user_id is not None else "system",
            actor_id=user_id,
            object_type="confirmation_code",
            object_id=row.id,
            details={
                "purpose": _purpose(purpose),
                "target": mask_target(target),
                "subject": subject,
            },
            at=now,
        )
        return IssuedCode(id=row.id, code=plain, expires_at=row.expires_at)

    async def discard(self, code_id: int) -> None:
        """Delivery failed: the code never existed for the resident (deleted, audited)."""
        repo = self.uow.codes
        row = await repo.get(code_id)
        if row is None:
            return
        self.uow.audit.add(
            "code_send_failed",
            actor_kind="resident" if row.user_id is not None else "system",
            actor_id=row.user_id,
            object_type="confirmation_code",
            object_id=code_id,
            details={"purpose": row.purpose, "target": mask_target(row.target)},
            at=self.clock.now(),
        )
        await repo.delete(code_id)

    async def verify(
        self,
        *,
        purpose: CodePurpose,
        target: str,
        user_id: int | None,
        subject: str | None,
        code: str,
    ) -> None:
        """Check `code` against the newest code of purpose/target/subject issued to `user_id`.

        Returns None on success and marks the code used. Otherwise raises CodeRejected with
        `.problem` (MISSING, USED, EXHAUSTED, EXPIRED, WRONG) and, for WRONG, `.attempts_left`.
        Digits of any script count as digits, spaces and dashes are ignored;
        input that is not then exactly 6 digits is MALFORMED and costs no attempt (a typo,
        not a guess); the attempt that reaches MAX_ATTEMPTS is answered EXHAUSTED.

        IMPORTANT: a wrong attempt is written to the session (the counter is incremented) and
        then CodeRejected is raised; it becomes durable only when the unit of work commits.
        Handlers must therefore CATCH CodeRejected and answer the resident — no exception
        leaves the handler, so the update's unit of work commits the counter. Callers outside
        a handler must commit after catching it too. Letting it propagate would roll the
        counter back and allow unlimited guessing.
        """
        repo = self.uow.codes
        row = await repo.latest(
            purpose=_purpose(purpose),
            target=target,
            subject=subject,
            user_id=user_id,
            any_user=False,
        )
        if row is None:
            raise CodeRejected(CodeProblem.MISSING)
        if row.used_at is not None:
            raise CodeRejected(CodeProblem.USED)
        if row.attempts >= MAX_ATTEMPTS:
            raise CodeRejected(CodeProblem.EXHAUSTED, attempts_left=0)
        now = self.clock.now()
        if row.expires_at <= now:
            raise CodeRejected(CodeProblem.EXPIRED)
        candidate = compact_number(code or "")  # any script's digits, spaces and dashes
        if not _CODE_RE.fullmatch(candidate):
            raise CodeRejected(CodeProblem.MALFORMED)  # letters, too few digits: not counted
        if verify_secret(candidate, row.code_hash):
            if await repo.mark_used(row.id, now=now, limit=MAX_ATTEMPTS):
                return
            raise CodeRejected(CodeProblem.USED)  # used by a concurrent update meanwhile
        attempts = await repo.add_failure(row.id, limit=MAX_ATTEMPTS)
        left = 0 if attempts is None else MAX_ATTEMPTS - attempts
        if left <= 0:
            raise CodeRejected(CodeProblem.EXHAUSTED, attempts_left=0)
        raise CodeRejected(CodeProblem.WRONG, attempts_left=left)
