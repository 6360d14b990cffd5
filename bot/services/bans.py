"""Bans: an operator bans a resident (/ban), nothing they send goes on; /unban lifts it.

A ban is stored on the resident (users.banned_at, banned_reason, banned_by) and audited.
The gate in front of every private-chat update (handlers/common/gate.py `BannedResidents`)
asks `BanService.is_banned`, answered from a process-wide `BanList` (no query per update;
another process sees a ban within `BanList.ttl` seconds). The banned resident is told once
(`tell_once`), then nothing they send is answered.
"""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass

from bot.services.clock import Clock
from bot.services.phones import InvalidPhone, typed_phone_to_e164
from bot.services.textnorm import ascii_digits
from storage.models import User
from storage.uow import UnitOfWork

MAX_REASON = 500
#: a resident named by phone may be written with spaces: `+7 916 123-45-67 spam`
_PHONE_CHARS = re.compile(r"^[+0-9()\-.]+$")
_USER_ID = re.compile(r"^(?:id:?)?([0-9]{1,20})$", re.IGNORECASE)


class BanList:
    """The banned residents' ids, remembered in this process for `ttl` seconds."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._ids: set[int] = set()
        self._until = 0.0

    def fresh(self) -> bool:
        return self._until > time.monotonic()

    def load(self, ids: set[int]) -> None:
        self._ids = ids
        self._until = time.monotonic() + self.ttl

    def __contains__(self, user_id: int) -> bool:
        return user_id in self._ids

    def add(self, user_id: int) -> None:
        self._ids.add(user_id)

    def discard(self, user_id: int) -> None:
        self._ids.discard(user_id)


class BanOutcome(enum.StrEnum):
    BANNED = "banned"
    UNBANNED = "unbanned"
    ALREADY_BANNED = "already_banned"
    NOT_BANNED = "not_banned"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"  # a phone several residents registered with
    USERNAME = "username"  # @username: Telegram usernames are not stored


@dataclass(frozen=True)
class BanResult:
    outcome: BanOutcome
    user_id: int | None = None
    name: str | None = None
    reason: str | None = None
    candidates: tuple[int, ...] = ()


@dataclass(frozen=True)
class Target:
    """Who an operator named: a Telegram id, a phone (E.164) or a @username."""

    user_id: int | None = None
    phone: str | None = None
    username: str | None = None


def split_target(text: str) -> tuple[Target | None, str]:
    """`/ban` arguments → (the resident named, the rest: the reason). None: no resident.

    The resident is a Telegram id (`123456789`, `id123456789`), a @username, or a phone
    in any format, spaces included (`+7 916 123-45-67`, `8 916 1234567`, `+44 20 …`).
    """
    words = ascii_digits(text).split()
    if not words:
        return None, ""
    if words[0].startswith("@") and len(words[0]) > 1:
        return Target(username=words[0][1:]), " ".join(words[1:])
    rest = " ".join(words[1:])
    named = _USER_ID.match(words[0])
    if named and not words[0].isdigit():  # id123456789
        return Target(user_id=int(named.group(1))), rest
    taken = 0
    while taken < len(words) and _PHONE_CHARS.match(words[taken]):
        taken += 1
    for count in range(taken, 0, -1):  # the longest run of number-like words that names one
        written = " ".join(words[:count])
        user_id = int(written) if count == 1 and written.isdigit() and len(written) < 19 else None
        try:
            phone: str | None = typed_phone_to_e164(written)
        except InvalidPhone:
            phone = None
        if phone is not None or user_id is not None:
            return Target(user_id=user_id, phone=phone), " ".join(words[count:])
    return None, rest


class BanService:
    def __init__(self, uow: UnitOfWork, clock: Clock, banned: BanList) -> None:
        self.uow = uow
        self.clock = clock
        self.banned = banned

    async def is_banned(self, user_id: int) -> bool:
        """Cheap: a query at most every `BanList.ttl` seconds per process."""
        if not self.banned.fresh():
            self.banned.load(await self.uow.staff.banned_ids())
        return user_id in self.banned

    async def tell_once(self, user_id: int) -> str | None:
        """The ban's reason (or "") the first time a banned resident writes; None after."""
        if not await self.uow.staff.mark_told(user_id, self.clock.now()):
            return None
        user = await self.uow.staff.user(user_id)
        return (user.banned_reason or "") if user is not None else ""

    async def _resolve(self, target: Target) -> tuple[User | None, BanResult | None]:
        if target.username is not None:
            return None, BanResult(BanOutcome.USERNAME)
        repo = self.uow.staff
        if target.user_id is not None:
            user = await repo.user(target.user_id)
            if user is not None:
                return user, None
        if target.phone is not None:
            found = await repo.by_phone(target.phone)
            if len(found) == 1:
                return found[0], None
            if len(found) > 1:
                ids = tuple(sorted(u.id for u in found))
                return None, BanResult(BanOutcome.AMBIGUOUS, candidates=ids)
        return None, BanResult(BanOutcome.NOT_FOUND)

    async def ban(self, target: Target, reason: str, *, operator_id: int) -> BanResult:
        user, problem = await self._resolve(target)
        if user is None:
            assert problem is not None
            return problem
        if user.banned_at is not None:
            return BanResult(
                BanOutcome.ALREADY_BANNED, user.id, user.first_name, user.banned_reason
            )
        reason = reason.strip()[:MAX_REASON]
        user.banned_at = self.clock.now()
        user.banned_reason = reason
        user.banned_by = operator_id
        user.ban_told_at = None
        self.uow.audit.add(
            "resident_banned",
            actor_kind="operator",
            actor_id=operator_id,
            object_type="user",
            object_id=user.id,
            details={"reason": reason},
        )
        self.banned.add(user.id)
        return BanResult(BanOutcome.BANNED, user.id, user.first_name, reason)

    async def unban(self, target: Target, *, operator_id: int) -> BanResult:
        user, problem = await self._resolve(target)
        if user is None:
            assert problem is not None
            return problem
        if user.banned_at is None:
            return BanResult(BanOutcome.NOT_BANNED, user.id, user.first_name)
        reason = user.banned_reason
        user.banned_at = None
        user.banned_reason = None
        user.banned_by = None
        user.ban_told_at = None
        self.uow.audit.add(
            "resident_unbanned",
            actor_kind="operator",
            actor_id=operator_id,
            object_type="user",
            object_id=user.id,
            details={"reason": reason or ""},
        )
        self.banned.discard(user.id)
        return BanResult(BanOutcome.UNBANNED, user.id, user.first_name, reason)
