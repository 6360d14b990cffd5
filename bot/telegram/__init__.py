"""aiogram implementations of the ports of bot/services/ports.py."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.services.ports import ResidentNotifier, StaffDesk
from bot.telegram.desk import TelegramStaffDesk
from bot.telegram.notifier import TelegramResidentNotifier
from bot.telegram.sender import BulkSender


@dataclass(frozen=True)
class Ports:
    desk: StaffDesk | None  # None without STAFF_CHAT_ID
    notifier: ResidentNotifier


def create_ports(
    bot: Bot, i18n: I18n, settings: Settings, *, sender: BulkSender | None = None
) -> Ports:
    """The ports over one Bot (cheap: built per update, or once by a scheduler, which
    hands in its rate-limited bulk sender)."""
    desk = (
        TelegramStaffDesk(bot, i18n, settings.staff_chat_id, settings.default_locale)
        if settings.staff_chat_id is not None
        else None
    )
    notifier = TelegramResidentNotifier(bot, i18n, settings.default_locale, sender=sender)
    return Ports(desk=desk, notifier=notifier)
