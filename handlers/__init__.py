"""Telegram-facing routers, one per feature, each made by a factory."""

from __future__ import annotations

from aiogram import Router

from bot.config import Settings


def create_routers(settings: Settings) -> list[Router]:
    """In the order they are tried: staff chat, always-available commands, features, fallback."""
    from handlers import accounts, common, email, errors, menu, registration, setup, staff
    from handlers import settings as settings_handlers

    routers: list[Router] = [errors.create_router()]
    if settings.staff_chat_id is not None:
        routers.append(staff.create_router(settings.staff_chat_id))
    routers += [
        setup.create_router(),
        common.create_router(),
        registration.create_router(),
        accounts.create_router(),
        email.create_router(),
        settings_handlers.create_router(),
        menu.create_router(),
        common.create_fallback_router(),
    ]
    return routers
