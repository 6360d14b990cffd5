"""Keyboards of Settings."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.common.callbacks import SettingsAction, SettingsCb
from handlers.common.texts import BTN_BACK, BTN_KEEP

LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


class LangCb(CallbackData, prefix="lang"):
    code: str


def settings_menu(*, email_enabled: bool, reminders: bool = True) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🌐 Language"), callback_data=SettingsCb(action=SettingsAction.LANGUAGE))
    kb.button(
        text=_("🔕 Turn reading reminders off") if reminders else _("🔔 Turn reading reminders on"),
        callback_data=SettingsCb(action=SettingsAction.REMINDERS),
    )
    if email_enabled:
        kb.button(text=_("✉️ E-mail"), callback_data=SettingsCb(action=SettingsAction.EMAIL))
    kb.button(text=_("🗑 Delete my data"), callback_data=SettingsCb(action=SettingsAction.DELETE))
    kb.adjust(1)
    return kb.as_markup()


def languages(current: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        mark = "• " if code == current else ""
        kb.button(text=f"{mark}{name}", callback_data=LangCb(code=code))
    kb.button(text=_(BTN_BACK), callback_data=SettingsCb(action=SettingsAction.OPEN))
    kb.adjust(2, 1)
    return kb.as_markup()


def confirm_delete() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, delete my data"), callback_data=SettingsCb(action=SettingsAction.DELETE_YES)
    )
    kb.button(text=_(BTN_KEEP), callback_data=SettingsCb(action=SettingsAction.DELETE_NO))
    kb.adjust(1)
    return kb.as_markup()
