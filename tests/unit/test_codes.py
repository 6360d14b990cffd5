"""Confirmation codes: issue, verify, limits — on a fresh SQLite file, with a frozen clock."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import codes, hashing, profile
from bot.services.clock import FrozenClock
from bot.services.codes import (
    CodeProblem,
    CodeRejected,
    ResendTooSoon,
    TooManyCodes,
)
from storage.db import Database
from storage.enums import CodePurpose
from storage.models import AuditLog, ConfirmationCode, User
from storage.uow import UnitOfWork
from tests.support.services import codes_service


class RecordingMail:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send_email(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


PHONE = "+79161234567"
EMAIL = "anna@example.org"
USER = 701


@pytest.fixture
async def resident(db: Database) -> int:
    async with UnitOfWork(db.session_maker) as uow:
        uow.session.add(User(id=USER, phone=PHONE))
    return USER


async def issue(
    db: Database,
    clock: FrozenClock,
    *,
    target: str = PHONE,
    subject: str | None = "42",
    purpose: CodePurpose = CodePurpose.LINK_SMS,
    user_id: int | None = USER,
) -> codes.IssuedCode:
    async with UnitOfWork(db.session_maker) as uow:
        return await codes_service(uow, clock).issue(
            purpose=purpose, target=target, user_id=user_id, subject=subject
        )


async def verify(
    db: Database,
    clock: FrozenClock,
    code: str,
    *,
    target: str = PHONE,
    subject: str | None = "42",
    purpose: CodePurpose = CodePurpose.LINK_SMS,
    user_id: int | None = USER,
) -> CodeRejected | None:
    """Like a handler: catch the rejection, and the unit of work commits."""
    async with UnitOfWork(db.session_maker) as uow:
        try:
            await codes_service(uow, clock).verify(
                purpose=purpose, target=target, user_id=user_id, subject=subject, code=code
            )
        except CodeRejected as exc:
            return exc
    return None


async def rows(db: Database) -> list[ConfirmationCode]:
    async with db.session_maker() as s:
        return list(
            (await s.execute(select(ConfirmationCode).order_by(ConfirmationCode.id))).scalars()
        )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_issue_and_verify_once(db: Database, clock: FrozenClock, resident: int) -> None:
    issued = await issue(db, clock)
    assert len(issued.code) == 6 and issued.code.isdigit()
    assert issued.expires_at == clock.now() + dt.timedelta(minutes=30)
    assert issued.code not in repr(issued)

    clock.advance(minutes=29)
    assert await verify(db, clock, f" {issued.code[:3]} {issued.code[3:]} ") is None
    [row] = await rows(db)
    assert row.used_at == clock.now() and row.attempts == 0

    rejected = await verify(db, clock, issued.code)
    assert rejected is not None and rejected.problem is CodeProblem.USED


async def test_codes_are_stored_hashed(db: Database, clock: FrozenClock, resident: int) -> None:
    issued = await issue(db, clock)
    [row] = await rows(db)
    assert row.code_hash.startswith("scrypt$")
    assert issued.code not in row.code_hash
    for value in (row.target, row.subject, row.purpose):
        assert issued.code not in str(value)
    assert hashing.verify_secret(issued.code, row.code_hash)
    async with db.session_maker() as s:
        [audit] = list((await s.execute(select(AuditLog))).scalars())
    assert audit.action == "code_sent"
    assert issued.code not in repr(audit.details)
    assert PHONE not in repr(audit.details)  # the trail outlives the resident: masked
    assert audit.details["target"] == "+7 *** ***-45-67"


async def test_constant_time_compare_is_used(
    db: Database, clock: FrozenClock, resident: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hashing.hmac, "compare_digest", spy)
    issued = await issue(db, clock)
    assert (await verify(db, clock, wrong(issued.code))) is not None
    assert await verify(db, clock, issued.code) is None
    assert len(seen) == 2


async def test_expiry(db: Database, clock: FrozenClock, resident: int) -> None:
    issued = await issue(db, clock)
    clock.advance(minutes=30)
    rejected = await verify(db, clock, issued.code)
    assert rejected is not None and rejected.problem is CodeProblem.EXPIRED
    [row] = await rows(db)
    assert row.used_at is None


async def test_five_wrong_attempts_exhaust_the_code(
    db: Database, clock: FrozenClock, resident: int
) -> None:
    issued = await issue(db, clock)
    # not six digits: a typo, not a guess — refused without counting
    for typo in ("abc", "12345", "1234567", "абвгде"):
        rejected = await verify(db, clock, typo)
        assert rejected is not None and rejected.problem is CodeProblem.MALFORMED
    guesses = [f"{(int(issued.code) + k) % 10**6:06d}" for k in range(1, 6)]
    for n, attempt in enumerate(guesses[:4], start=1):
        rejected = await verify(db, clock, attempt)
        assert rejected is not None
        assert rejected.problem is CodeProblem.WRONG
        assert rejected.attempts_left == 5 - n
    rejected = await verify(db, clock, guesses[4])
    assert rejected is not None and rejected.problem is CodeProblem.EXHAUSTED
    # dead: even the right digits are refused now, and the counter stays at the limit
    rejected = await verify(db, clock, issued.code)
    assert rejected is not None and rejected.problem is CodeProblem.EXHAUSTED
    [row] = await rows(db)
    assert row.attempts == 5 and row.used_at is None


async def test_wrong_attempt_is_counted_although_verify_raises(
    db: Database, clock: FrozenClock, resident: int
) -> None:
    issued = await issue(db, clock)
    await verify(db, clock, wrong(issued.code))
    [row] = await rows(db)
    assert row.attempts == 1


async def test_missing_and_other_users_code(
    db: Database, clock: FrozenClock, resident: int
) -> None:
    rejected = await verify(db, clock, "123456")
    assert rejected is not None and rejected.problem is CodeProblem.MISSING
    issued = await issue(db, clock)
    async with UnitOfWork(db.session_maker) as uow:
        uow.session.add(User(id=702))
    rejected = await verify(db, clock, issued.code, user_id=702)
    assert rejected is not None and rejected.problem is CodeProblem.MISSING
    rejected = await verify(db, clock, issued.code, subject="43")
    assert rejected is not None and rejected.problem is CodeProblem.MISSING


async def test_resend_too_soon(db: Database, clock: FrozenClock, resident: int) -> None:
    await issue(db, clock)
    clock.advance(seconds=15)
    with pytest.raises(ResendTooSoon) as info:
        await issue(db, clock)
    assert info.value.wait_seconds == 45
    async with UnitOfWork(db.session_maker) as uow:
        wait = await codes_service(uow, clock).seconds_until_resend(
            purpose=CodePurpose.LINK_SMS, target=PHONE, subject="42"
        )
        assert wait == 45
        clock.advance(seconds=45)
        wait = await codes_service(uow, clock).seconds_until_resend(
            purpose=CodePurpose.LINK_SMS, target=PHONE, subject="42"
        )
        assert wait == 0
    await issue(db, clock)
    assert len(await rows(db)) == 2


async def test_new_code_supersedes_the_older_one(
    db: Database, clock: FrozenClock, resident: int
) -> None:
    first = await issue(db, clock)
    clock.advance(seconds=60)
    second = await issue(db, clock)
    old, new = await rows(db)
    assert old.expires_at == clock.now() and new.expires_at > clock.now()
    if first.code != second.code:
        rejected = await verify(db, clock, first.code)
        assert rejected is not None and rejected.problem is CodeProblem.WRONG
    assert await verify(db, clock, second.code) is None


async def test_sixth_code_of_a_day_is_refused(
    db: Database, clock: FrozenClock, resident: int
) -> None:
    # 2026-11-20 09:00 UTC = 12:00 in Moscow; the Moscow day ends at 21:00 UTC
    for n in range(5):
        await issue(db, clock, subject=str(n) if n % 2 else "42")
        clock.advance(minutes=2)
    with pytest.raises(TooManyCodes) as info:
        await issue(db, clock, subject="99")
    assert info.value.retry_at == dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)
    # other purposes to the same target count too
    with pytest.raises(TooManyCodes):
        await issue(db, clock, purpose=CodePurpose.EMAIL_VERIFY, subject=None)
    assert len(await rows(db)) == 5
    # another target is not affected
    await issue(db, clock, target="+79160000001")
    clock.set(dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC))  # midnight in Moscow
    await issue(db, clock, subject="99")


async def test_day_boundary_is_moscow() -> None:
    start, end = codes.day_bounds(dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC))
    assert start == dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 11, 21, 21, 0, tzinfo=dt.UTC)


async def test_discard_after_failed_delivery(
    db: Database, clock: FrozenClock, resident: int
) -> None:
    issued = await issue(db, clock, target=EMAIL, purpose=CodePurpose.EMAIL_VERIFY, subject=None)
    async with UnitOfWork(db.session_maker) as uow:
        await codes_service(uow, clock).discard(issued.id)
    assert await rows(db) == []
    rejected = await verify(
        db, clock, issued.code, target=EMAIL, purpose=CodePurpose.EMAIL_VERIFY, subject=None
    )
    assert rejected is not None and rejected.problem is CodeProblem.MISSING
    async with db.session_maker() as s:
        actions = [a.action for a in (await s.execute(select(AuditLog))).scalars()]
        details = [a.details for a in (await s.execute(select(AuditLog))).scalars()]
    assert actions == ["code_sent", "code_send_failed"]
    assert all(d["target"] == "a***@example.org" for d in details)


async def test_codes_look_random(db: Database, clock: FrozenClock, resident: int) -> None:
    values = {codes.generate_code() for _ in range(200)}
    assert len(values) > 190
    assert all(len(v) == 6 and v.isdigit() for v in values)


# --------------------------------------------------------------------------- e-mail (profile)
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Anna.Petrova+bills@Example.ORG ", "Anna.Petrova+bills@example.org"),
        ("ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
        ("a@mail.example.co.uk.", "a@mail.example.co.uk"),
    ],
)
def test_normalize_email_accepts(raw: str, expected: str) -> None:
    assert profile.normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "anna",
        "anna@",
        "@example.org",
        "an na@example.org",
        "anna@@example.org",
        "anna@example",
        "anna@example.o",
        "anna@-example.org",
        "anna@exa_mple.org",
        ".anna@example.org",
        "an..na@example.org",
        "anna@example.org\r\nBcc: eve@example.org",
        "<b>@example.org",
        "x" * 65 + "@example.org",
        "a@" + "b" * 250 + ".org",
    ],
)
def test_normalize_email_refuses(raw: str) -> None:
    with pytest.raises(profile.InvalidEmail):
        profile.normalize_email(raw)


async def test_email_verified_only_after_the_code(
    db: Database, clock: FrozenClock, resident: int
) -> None:
    mail = RecordingMail()
    letter = profile.Letter(subject="Code", body="{code} for {minutes} min")

    def service(uow: UnitOfWork) -> profile.ProfileService:
        return profile.ProfileService(uow, clock, codes=codes_service(uow, clock), email=mail)

    async with UnitOfWork(db.session_maker) as uow:
        sent = await service(uow).send_code(USER, "Anna@Example.org", letter)
    assert (sent.outcome, sent.address) == (profile.EmailOutcome.SENT, "Anna@example.org")
    [(to, _subject, body)] = mail.sent
    code = body.split()[0]
    assert to == "Anna@example.org" and body == f"{code} for 30 min"
    async with db.session_maker() as s:
        user = await s.get(User, USER)
        assert user is not None and user.email is None
    async with UnitOfWork(db.session_maker) as uow:
        assert await service(uow).confirm_email(USER, "other@example.org", code) is not None
        assert await service(uow).confirm_email(USER, "Anna@example.org", code) is None
    async with db.session_maker() as s:
        user = await s.get(User, USER)
        assert user is not None and user.email == "Anna@example.org"
        assert user.email_verified_at == clock.now()
    clock.advance(seconds=61)
    async with UnitOfWork(db.session_maker) as uow:
        again = await service(uow).send_code(USER, "Anna@example.org", letter)
        assert again.outcome is profile.EmailOutcome.ALREADY_VERIFIED and len(mail.sent) == 1
        assert await service(uow).remove_email(USER)
    async with db.session_maker() as s:
        user = await s.get(User, USER)
        assert user is not None and user.email is None and user.email_verified_at is None
