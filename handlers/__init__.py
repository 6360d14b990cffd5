"""Telegram-facing routers: one package per feature (router.py with module-level handlers
and `create_router()`, texts, keyboards and callback data beside it), and `common/` for what
several features share. No feature package imports another."""

from __future__ import annotations

from aiogram import Router

from bot.config import Settings


def create_routers(settings: Settings) -> list[Router]:
    """In the order they are tried: errors, staff chat, always-available commands,
    registration, features, fallback."""
    from handlers.accounts import router as accounts
    from handlers.balance import router as balance
    from handlers.common import main_menu, picker
    from handlers.common import router as common
    from handlers.email import router as email
    from handlers.errors import router as errors
    from handlers.readings import router as readings
    from handlers.registration import router as registration
    from handlers.settings import router as settings_feature
    from handlers.setup import router as setup
    from handlers.staff import router as staff
    from handlers.support import router as support
    from handlers.support import staff as support_staff

    routers: list[Router] = [errors.create_router()]
    if settings.staff_chat_id is not None:
        routers.append(
            staff.create_router(
                settings.staff_chat_id,
                settings.default_locale,
                admins_only=settings.staff_admins_only,
            )
        )
        routers.append(support_staff.create_router(settings.staff_chat_id, settings.default_locale))
    routers.append(staff.create_outside_router(settings.staff_chat_id))
    menu_items = [
        accounts.MENU_ITEM,
        balance.MENU_ITEM,
        readings.MENU_ITEM,
        support.MENU_ITEM,
        settings_feature.MENU_ITEM,
    ]
    routers += [
        balance.create_payments_router(),  # a payment is never an answer to a step
        main_menu.create_router(menu_items),
        setup.create_router(),
        common.create_router(),
        registration.create_router(),
        accounts.create_router(),
        balance.create_router(),
        email.create_router(),
        settings_feature.create_router(),
        picker.create_router(),
        readings.create_router(),
        support.create_router(),
        common.create_fallback_router(),
    ]
    return routers
