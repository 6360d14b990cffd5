"""Menu features are for registered residents only; others are led back to registration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.services.registration import RegistrationService, Step
from handlers.common.onboarding import resume


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
