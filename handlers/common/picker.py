"""One account picker («which account?») for the features that show one account at a time.

`pick_account` answers at once with the account when the resident has exactly one; with
several it draws a paged keyboard of `AccountPickCb(purpose, account_id)` buttons and the
feature that opened it handles the press with
`AccountPickCb.filter(F.purpose == PickPurpose.X)` (re-checking the account is the
presser's with `LinkingService.active_account`). Pages turn here (`create_router`).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.linking import AccountInfo, LinkingService
from bot.services.registration import Resident
from handlers.common import keyboards
from handlers.common.callbacks import AccountPickCb, PickPageCb, PickPurpose
from handlers.common.filters import PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.texts import stale_button

#: buttons per page: well under Telegram's 100 inline buttons and readable on a phone
PAGE_SIZE = 8
#: characters of a button's label (Telegram shows about this much on a phone)
LABEL_LIMIT = 60


def _label(account: AccountInfo) -> str:
    label = _("№ {number}, {address}").format(number=account.number, address=account.address)
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def picker_keyboard(
    accounts: list[AccountInfo], purpose: PickPurpose, page: int = 0
) -> InlineKeyboardMarkup:
    pages = max(1, -(-len(accounts) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    kb = InlineKeyboardBuilder()
    for account in accounts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        kb.button(
            text=_label(account),
            callback_data=AccountPickCb(purpose=purpose, account_id=account.id),
        )
    kb.adjust(1)
    if pages > 1:
        nav = InlineKeyboardBuilder()
        if page > 0:
            nav.button(text="◀️", callback_data=PickPageCb(purpose=purpose, page=page - 1))
        nav.button(text=f"{page + 1}/{pages}", callback_data=PickPageCb(purpose=purpose, page=page))
        if page < pages - 1:
            nav.button(text="▶️", callback_data=PickPageCb(purpose=purpose, page=page + 1))
        kb.attach(nav)
    return kb.as_markup()


def picker_text() -> str:
    return _("Which personal account?")


async def pick_account(
    message: Message, linking: LinkingService, resident: Resident, purpose: PickPurpose
) -> AccountInfo | None:
    """The resident's only account, or None after asking which one (or after saying that
    no account is linked yet, with the way to link one)."""
    accounts = await linking.active_accounts(resident.id)
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        await message.answer(
            _(
                "No personal account is linked to you yet. Link one in «My accounts»: have "
                "your receipt at hand."
            ),
            reply_markup=keyboards.link_again(),
        )
        return None
    await message.answer(picker_text(), reply_markup=picker_keyboard(accounts, purpose))
    return None


async def turn_page(
    query: CallbackQuery, callback_data: PickPageCb, linking: LinkingService, resident: Resident
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(stale_button(), show_alert=True)
        return
    accounts = await linking.active_accounts(resident.id)
    pages = -(-len(accounts) // PAGE_SIZE)
    if not 0 <= callback_data.page < pages or pages < 2:
        # a forged page, or the accounts changed since the keyboard was drawn
        await query.answer(stale_button(), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(
        reply_markup=picker_keyboard(accounts, callback_data.purpose, callback_data.page)
    )


def create_router() -> Router:
    router = Router(name="account-picker")
    router.callback_query.filter(PrivateChat())
    router.callback_query.middleware(RegisteredOnly())
    router.callback_query.register(turn_page, PickPageCb.filter())
    return router


__all__ = ["PAGE_SIZE", "create_router", "pick_account", "picker_keyboard"]
