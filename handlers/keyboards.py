"""Keyboard builders. Texts come translated from the catalogs; callback data are typed."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from handlers.callbacks import CancelCb, ConsentCb, LangCb, SettingsCb
from handlers.texts import (
    BTN_ACCOUNTS,
    BTN_BALANCE,
    BTN_CANCEL,
    BTN_READINGS,
    BTN_SETTINGS,
    BTN_SHARE_PHONE,
    BTN_SUPPORT,
)

LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def main_menu() -> ReplyKeyboardMarkup:
    kb = ReplyKeyboardBuilder()
    kb.button(text=_(BTN_BALANCE))
    kb.button(text=_(BTN_READINGS))
    kb.button(text=_(BTN_ACCOUNTS))
    kb.button(text=_(BTN_SUPPORT))
    kb.button(text=_(BTN_SETTINGS))
    kb.adjust(2, 2, 1)
    return kb.as_markup(resize_keyboard=True, is_persistent=True)


def share_phone() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_(BTN_SHARE_PHONE), request_contact=True)],
            [KeyboardButton(text=_(BTN_CANCEL))],
        ],
        resize_keyboard=True,
        one_time_keyboard=False,
    )


def cancel_reply() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_(BTN_CANCEL))]], resize_keyboard=True
    )


def remove() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()


def consent() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ I agree"), callback_data=ConsentCb(action="agree"))
    kb.button(text=_("❌ I decline"), callback_data=ConsentCb(action="decline"))
    kb.adjust(2)
    return kb.as_markup()


def cancel_inline() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    return kb.as_markup()


def settings_menu(*, email_enabled: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🌐 Language"), callback_data=SettingsCb(action="lang"))
    if email_enabled:
        kb.button(text=_("✉️ E-mail"), callback_data=SettingsCb(action="email"))
    kb.button(text=_("🗑 Delete my data"), callback_data=SettingsCb(action="delete"))
    kb.adjust(1)
    return kb.as_markup()


def languages(current: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        mark = "• " if code == current else ""
        kb.button(text=f"{mark}{name}", callback_data=LangCb(code=code))
    kb.button(text=_("⬅️ Back"), callback_data=SettingsCb(action="open"))
    kb.adjust(2, 1)
    return kb.as_markup()


def confirm_delete() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, delete my data"), callback_data=SettingsCb(action="delete_yes"))
    kb.button(text=_("No, keep it"), callback_data=SettingsCb(action="delete_no"))
    kb.adjust(1)
    return kb.as_markup()
