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


# --------------------------------------------------------------------------- account linking
# (My accounts, the linking conversation and the staff-chat cards: handlers/accounts.py,
# handlers/staff.py)
from handlers.callbacks import AccountCb, LinkMethodCb, StaffLinkCb, SupplierCb  # noqa: E402


def my_accounts(
    links: list[tuple[int, str, str]], *, page: int = 0, pages: int = 1
) -> InlineKeyboardMarkup:
    """`links`: (account_id, number, status) of the resident's own links on this page."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("➕ Link an account"), callback_data=AccountCb(action="link"))
    for account_id, number, status in links:
        if status == "active":
            text = _("✖️ Unlink № {number}").format(number=number)
        elif status == "pending":
            text = _("✖️ Withdraw the request for № {number}").format(number=number)
        else:
            text = _("🗑 Remove № {number} from the list").format(number=number)
        kb.button(text=text, callback_data=AccountCb(action="unlink", account_id=account_id))
    kb.adjust(1)
    if pages > 1:
        nav = InlineKeyboardBuilder()
        if page > 0:
            nav.button(text="◀️", callback_data=AccountCb(action="page", account_id=page - 1))
        if page < pages - 1:
            nav.button(text="▶️", callback_data=AccountCb(action="page", account_id=page + 1))
        kb.attach(nav)
    return kb.as_markup()


def confirm_unlink(account_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, unlink"), callback_data=AccountCb(action="unlink_yes", account_id=account_id)
    )
    kb.button(
        text=_("No, keep it"), callback_data=AccountCb(action="unlink_no", account_id=account_id)
    )
    kb.adjust(1)
    return kb.as_markup()


def suggested_accounts(accounts: list[tuple[int, str, str]]) -> InlineKeyboardMarkup:
    """`accounts`: (account_id, supplier name, number) found by the resident's phone."""
    kb = InlineKeyboardBuilder()
    for account_id, supplier_name, number in accounts:
        kb.button(
            text=_("✅ Link № {number} ({supplier})").format(number=number, supplier=supplier_name),
            callback_data=AccountCb(action="suggest", account_id=account_id),
        )
    kb.adjust(1)
    return kb.as_markup()


def link_suppliers(suppliers: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for supplier_id, name in suppliers:
        kb.button(text=name, callback_data=SupplierCb(supplier_id=supplier_id))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def link_routes() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🔑 Enter the access code from the receipt"),
        callback_data=LinkMethodCb(method="access_code"),
    )
    kb.button(
        text=_("📱 Get a code by SMS to the phone on file"),
        callback_data=LinkMethodCb(method="sms"),
    )
    kb.button(text=_("👤 Ask an operator"), callback_data=LinkMethodCb(method="operator"))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def link_step(*, resend: bool = False) -> InlineKeyboardMarkup:
    """Under a verification step: (resend), ask an operator, other ways, cancel."""
    kb = InlineKeyboardBuilder()
    if resend:
        kb.button(text=_("🔁 Send the code again"), callback_data=LinkMethodCb(method="resend"))
    kb.button(text=_("👤 Ask an operator"), callback_data=LinkMethodCb(method="operator"))
    kb.button(text=_("⬅️ Other ways"), callback_data=LinkMethodCb(method="back"))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def skip_photo() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⏭ Send without a photo"), callback_data=LinkMethodCb(method="skip_photo"))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def link_again() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("➕ Link an account"), callback_data=AccountCb(action="link"))
    return kb.as_markup()


def staff_link_card(link_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Approve"), callback_data=StaffLinkCb(action="approve", link_id=link_id))
    kb.button(text=_("❌ Reject"), callback_data=StaffLinkCb(action="reject", link_id=link_id))
    kb.adjust(2)
    return kb.as_markup()


def staff_reject_reasons(link_id: int, presets: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """`presets`: (code, label) of the preset reasons."""
    kb = InlineKeyboardBuilder()
    for code, label in presets:
        kb.button(text=label, callback_data=StaffLinkCb(action=f"r_{code}", link_id=link_id))
    kb.button(
        text=_("✍️ Other reason (reply with text)"),
        callback_data=StaffLinkCb(action="other", link_id=link_id),
    )
    kb.button(text=_("⬅️ Back"), callback_data=StaffLinkCb(action="back", link_id=link_id))
    kb.adjust(1)
    return kb.as_markup()
