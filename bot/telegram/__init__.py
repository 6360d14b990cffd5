"""aiogram implementations of the ports of bot/services/ports.py."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.services.ports import ResidentNotifier, StaffDesk, SupportDesk
from bot.telegram.desk import TelegramStaffDesk
from bot.telegram.notifier import TelegramResidentNotifier
from bot.telegram.sender import BulkSender
from bot.telegram.support import ChatKinds, TelegramSupportDesk


@dataclass(frozen=True)
class Ports:
    desk: StaffDesk | None  # None without STAFF_CHAT_ID
    notifier: ResidentNotifier
    support: SupportDesk | None = None  # None without STAFF_CHAT_ID


def create_ports(
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    *,
    sender: BulkSender | None = None,
    kinds: ChatKinds | None = None,
) -> Ports:
    """The ports over one Bot (cheap: built per update, or once by a scheduler, which
    hands in its rate-limited bulk sender). `kinds` remembers whether the staff chat is a
    forum across updates (the dispatcher makes one)."""
    desk = (
        TelegramStaffDesk(bot, i18n, settings.staff_chat_id, settings.default_locale)
        if settings.staff_chat_id is not None
        else None
    )
    notifier = TelegramResidentNotifier(bot, i18n, settings.default_locale, sender=sender)
    support = (
        TelegramSupportDesk(bot, i18n, settings.staff_chat_id, settings.default_locale, kinds=kinds)
        if settings.staff_chat_id is not None
        else None
    )
    return Ports(desk=desk, notifier=notifier, support=support)
