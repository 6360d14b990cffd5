"""Keyboards of My accounts and the linking conversation."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.enums import LinkStatus
from bot.services.linking import LinkView, SupplierInfo
from bot.services.representatives import PendingRequest
from handlers.accounts import org_texts
from handlers.accounts.callbacks import (
    AccountAction,
    AccountCb,
    AccountsPageCb,
    LinkRoute,
    LinkRouteCb,
    OrgRequestAction,
    OrgRequestCb,
    SupplierCb,
)
from handlers.common.callbacks import CancelCb, LinkAccountCb
from handlers.common.texts import BTN_CANCEL, BTN_KEEP, BTN_LINK, BTN_RESEND, N_

BTN_OPERATOR = N_("👤 Ask an operator")


def my_accounts(
    shown: list[LinkView],
    *,
    page: int = 0,
    pages: int = 1,
    waiting: Sequence[PendingRequest] = (),
) -> InlineKeyboardMarkup:
    """«Link an account», a button per link on this page, one per representative request
    waiting for operators (to withdraw it), and the page arrows."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_(BTN_LINK), callback_data=LinkAccountCb())
    for view in shown:
        if view.status is LinkStatus.ACTIVE:
            text = _("✖️ Unlink № {number}").format(number=view.number)
        elif view.status is LinkStatus.PENDING:
            text = _("✖️ Withdraw the request for № {number}").format(number=view.number)
        else:
            text = _("🗑 Remove № {number} from the list").format(number=view.number)
        kb.button(
            text=text,
            callback_data=AccountCb(action=AccountAction.UNLINK, account_id=view.account_id),
        )
    for request in waiting:
        kb.button(
            text=org_texts.withdraw_button(request.org_name),
            callback_data=OrgRequestCb(action=OrgRequestAction.WITHDRAW, rep_id=request.rep_id),
        )
    kb.adjust(1)
    if pages > 1:
        nav = InlineKeyboardBuilder()
        if page > 0:
            nav.button(text="◀️", callback_data=AccountsPageCb(page=page - 1))
        if page < pages - 1:
            nav.button(text="▶️", callback_data=AccountsPageCb(page=page + 1))
        kb.attach(nav)
    return kb.as_markup()


def confirm_unlink(view: LinkView) -> InlineKeyboardMarkup:
    """Yes / No in the words of what is undone: unlink, withdraw a request, remove a
    rejected one from the list."""
    if view.status is LinkStatus.ACTIVE:
        yes = _("Yes, unlink")
    elif view.status is LinkStatus.PENDING:
        yes = _("Yes, withdraw")
    else:
        yes = _("Yes, remove")
    kb = InlineKeyboardBuilder()
    kb.button(
        text=yes,
        callback_data=AccountCb(action=AccountAction.UNLINK_YES, account_id=view.account_id),
    )
    kb.button(
        text=_(BTN_KEEP),
        callback_data=AccountCb(action=AccountAction.UNLINK_NO, account_id=view.account_id),
    )
    kb.adjust(1)
    return kb.as_markup()


def confirm_withdraw(rep_id: int) -> InlineKeyboardMarkup:
    """Withdraw a representative request: «Yes, withdraw» / «No, keep»."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, withdraw"),
        callback_data=OrgRequestCb(action=OrgRequestAction.WITHDRAW_YES, rep_id=rep_id),
    )
    kb.button(
        text=_(BTN_KEEP), callback_data=OrgRequestCb(action=OrgRequestAction.KEEP, rep_id=rep_id)
    )
    kb.adjust(1)
    return kb.as_markup()


def suppliers(found: list[SupplierInfo]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for supplier in found:
        kb.button(text=supplier.name, callback_data=SupplierCb(supplier_id=supplier.id))
    org_texts.start_button(kb)
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def number_step() -> InlineKeyboardMarkup:
    """Under the account number prompt: «I represent an organisation», Cancel."""
    kb = InlineKeyboardBuilder()
    org_texts.start_button(kb)
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def routes() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🔑 Enter the access code from the receipt"),
        callback_data=LinkRouteCb(route=LinkRoute.ACCESS_CODE),
    )
    kb.button(
        text=_("📱 Get a code by SMS to the phone on file"),
        callback_data=LinkRouteCb(route=LinkRoute.SMS),
    )
    kb.button(text=_(BTN_OPERATOR), callback_data=LinkRouteCb(route=LinkRoute.OPERATOR))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def step(*, resend: bool = False) -> InlineKeyboardMarkup:
    """Under a verification step: (resend), ask an operator, other ways, cancel."""
    kb = InlineKeyboardBuilder()
    if resend:
        kb.button(text=_(BTN_RESEND), callback_data=LinkRouteCb(route=LinkRoute.RESEND))
    kb.button(text=_(BTN_OPERATOR), callback_data=LinkRouteCb(route=LinkRoute.OPERATOR))
    kb.button(text=_("⬅️ Other ways"), callback_data=LinkRouteCb(route=LinkRoute.BACK))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def skip_photo() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("⏭ Send without a photo"), callback_data=LinkRouteCb(route=LinkRoute.SKIP_PHOTO)
    )
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()
