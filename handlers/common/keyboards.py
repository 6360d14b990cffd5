"""Keyboards every feature uses. Texts come translated from the catalogs."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from bot.services.linking import AccountInfo
from handlers.common.callbacks import CancelCb, LinkAccountCb, SuggestedAccountCb
from handlers.common.texts import BTN_CANCEL, BTN_LINK, BTN_SHARE_PHONE, MAIN_MENU, OFFER_LIMIT


def main_menu() -> ReplyKeyboardMarkup:
    kb = ReplyKeyboardBuilder()
    for msgid in MAIN_MENU:
        kb.button(text=_(msgid))
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


def cancel_inline() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    return kb.as_markup()


def link_again() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_(BTN_LINK), callback_data=LinkAccountCb())
    return kb.as_markup()


def suggested_accounts(accounts: list[AccountInfo]) -> InlineKeyboardMarkup:
    """A button for each of the first OFFER_LIMIT accounts found by the resident's phone
    (handled by accounts)."""
    kb = InlineKeyboardBuilder()
    for account in accounts[:OFFER_LIMIT]:
        kb.button(
            text=_("✅ Link № {number} ({supplier})").format(
                number=account.number, supplier=account.supplier_name
            ),
            callback_data=SuggestedAccountCb(account_id=account.id),
        )
    kb.adjust(1)
    return kb.as_markup()
