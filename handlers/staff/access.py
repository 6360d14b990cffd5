"""Who may do what in the staff chat.

Every staff handler (commands, buttons, the reason reply) is for members of the staff
chat only (getChatMember, cached `MEMBERSHIP_TTL` seconds in this process). Handlers
registered with the flag `decision` (approve / reject a link, accept / reject a reading,
ban, unban, notice) are, with STAFF_ADMINS_ONLY=true, for the chat's administrators only.
A refused press gets a clear callback answer, a refused command a reply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from handlers.staff import texts

log = logging.getLogger("kabinet.staff")

MEMBER_STATUSES = {"creator", "administrator", "member"}
ADMIN_STATUSES = {"creator", "administrator"}
MEMBERSHIP_TTL = 60.0  # seconds a getChatMember answer is trusted
DECISION = "decision"  # the handler flag of decisions


class StaffMembers:
    """A user's standing in the staff chat: None (not a member), "member" or "admin"
    (getChatMember, cached a minute in this process)."""

    def __init__(self, chat_id: int, ttl: float = MEMBERSHIP_TTL) -> None:
        self.chat_id = chat_id
        self.ttl = ttl
        self._cache: dict[int, tuple[str | None, float]] = {}

    async def standing(self, bot: Bot, user: User) -> str | None:
        if user.is_bot:
            return None
        cached = self._cache.get(user.id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            member = await bot.get_chat_member(self.chat_id, user.id)
        except TelegramAPIError as exc:
            log.warning("getChatMember %s failed: %s", user.id, exc)
            return None
        standing: str | None = None
        if member.status in ADMIN_STATUSES:
            standing = "admin"
        elif member.status in MEMBER_STATUSES or (
            member.status == "restricted" and bool(getattr(member, "is_member", False))
        ):
            standing = "member"
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[user.id] = (standing, time.monotonic() + self.ttl)
        return standing


class StaffAccess(BaseMiddleware):
    """Inner middleware of the staff router: members only; decisions admins only when
    `admins_only` (STAFF_ADMINS_ONLY)."""

    def __init__(self, members: StaffMembers, *, admins_only: bool) -> None:
        self.members = members
        self.admins_only = admins_only

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return None
        standing = await self.members.standing(data["bot"], user)
        refusal: str | None = None
        if standing is None:
            refusal = (
                texts.not_member_button()
                if isinstance(event, CallbackQuery)
                else texts.not_member()
            )
        elif self.admins_only and standing != "admin" and get_flag(data, DECISION):
            refusal = texts.not_admin()
        if refusal is None:
            data["staff_admin"] = standing == "admin"
            return await handler(event, data)
        log.info("staff: %s refused to %s", user.id, type(event).__name__)
        if isinstance(event, CallbackQuery):
            await event.answer(refusal, show_alert=True)
        elif isinstance(event, Message) and (event.text or "").startswith("/"):
            await event.reply(refusal)
        return None
