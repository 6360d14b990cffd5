"""Keyboards and callback data of Settings → E-mail."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.common.callbacks import CancelCb, SettingsAction, SettingsCb
from handlers.common.texts import BTN_BACK, BTN_CANCEL, BTN_RESEND


class EmailAction(enum.StrEnum):
    SET = "set"
    REMOVE = "remove"
    RESEND = "resend"


class EmailCb(CallbackData, prefix="eml"):
    action: EmailAction


def email_menu(has_email: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if has_email:
        kb.button(text=_("✏️ Change e-mail"), callback_data=EmailCb(action=EmailAction.SET))
        kb.button(text=_("🗑 Remove e-mail"), callback_data=EmailCb(action=EmailAction.REMOVE))
    else:
        kb.button(text=_("➕ Add e-mail"), callback_data=EmailCb(action=EmailAction.SET))
    kb.button(text=_(BTN_BACK), callback_data=SettingsCb(action=SettingsAction.OPEN))
    kb.adjust(1)
    return kb.as_markup()


def code_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_(BTN_RESEND), callback_data=EmailCb(action=EmailAction.RESEND))
    kb.button(text=_("✏️ Another address"), callback_data=EmailCb(action=EmailAction.SET))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()
