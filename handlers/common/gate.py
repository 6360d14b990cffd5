"""Menu features are for registered residents only; others are led back to registration.
Banned residents reach nothing at all (`BannedResidents`, in front of every feature)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

from bot.services.bans import BanService
from bot.services.registration import RegistrationService, Step
from handlers.common.onboarding import resume
from handlers.common.texts import esc


class RegisteredOnly(BaseMiddleware):
    """Inner middleware: runs only when a handler matched; puts `resident` (a
    `bot.services.registration.Resident`) in the handler's data."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        from_user = data.get("event_from_user")
        if from_user is None:
            return None
        registration: RegistrationService = data["registration"]
        resident = await registration.resident(from_user.id)
        if resident is not None and resident.step is Step.DONE:
            data["resident"] = resident
            return await handler(event, data)
        message = event.message if isinstance(event, CallbackQuery) else event
        if isinstance(event, CallbackQuery):
            await event.answer(_("Please finish registration first."), show_alert=True)
        if isinstance(message, Message):
            await resume(message, data["state"], registration, data["settings"], from_user.id)
        return None


def banned_text(reason: str) -> str:
    """What a banned resident is told, once, in their language."""
    text = _(
        "⛔ Operators have blocked your access to this bot. Your messages are not "
        "passed on or answered."
    )
    if reason:
        text += "\n" + _("Reason: {reason}").format(reason=esc(reason, 300))
    return text


class BannedResidents(BaseMiddleware):
    """Outer middleware of every private-chat event (messages, edits, button presses),
    registered before any feature's: a resident an operator banned (/ban) is told so
    once, in their language; after that nothing they send reaches a feature, the
    support conversation or the operators. Presses are answered empty (no spinner).
    Cheap: `BanService.is_banned` reads an in-process list, refreshed every 30 s."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or (chat is not None and chat.type != "private"):
            return await handler(event, data)
        bans: BanService = data["bans"]
        if not await bans.is_banned(user.id):
            return await handler(event, data)
        reason = await bans.tell_once(user.id)
        if isinstance(event, CallbackQuery):
            await event.answer()
        if reason is not None:
            bot: Bot = data["bot"]
            await bot.send_message(user.id, banned_text(reason))
        return None
