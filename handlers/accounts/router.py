"""My accounts: the list, unlinking, the one-tap offer; and the router of the feature."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services.linking import LinkingService, Outcome
from bot.services.registration import Resident
from bot.services.representatives import PendingRequest, RepresentativesService
from handlers.accounts import conversation, keyboards, org_texts, organisation, routes, texts
from handlers.accounts.callbacks import (
    AccountAction,
    AccountCb,
    AccountsPageCb,
    LinkRoute,
    LinkRouteCb,
    OrgAction,
    OrgBranchCb,
    OrgCb,
    OrgRequestAction,
    OrgRequestCb,
    SupplierCb,
)
from handlers.common import keyboards as common_keyboards
from handlers.common.callbacks import LinkAccountCb, SuggestedAccountCb
from handlers.common.filters import PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.main_menu import MenuItem
from handlers.common.states import Linking, Representing
from handlers.common.texts import BTN_ACCOUNTS, not_available, offer_text


async def show_accounts(
    message: Message,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
    *,
    edit: bool,
    page: int = 0,
    head: str = "",
) -> None:
    """The list (`head` above it: what was just done), the organisations whose power of
    attorney waits for operators, each with its «Withdraw» button."""
    views = await linking.my_links(resident.id)
    shown, page, pages = texts.page_of(views, page)
    text = head + texts.accounts_text(views, page)
    waiting = (await representatives.pending_of(resident.id))[:5]
    for request in waiting:
        text += "\n\n" + texts.organisation_waiting(request.org_name)
    markup = keyboards.my_accounts(shown, page=page, pages=pages, waiting=waiting)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


async def my_accounts(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
) -> None:
    await state.clear()
    await show_accounts(message, linking, representatives, resident, edit=False)


async def _message_of(query: CallbackQuery) -> Message | None:
    if isinstance(query.message, Message):
        return query.message
    await query.answer(_("This message is too old. Open «My accounts» again."), show_alert=True)
    return None


async def _redraw(
    query: CallbackQuery,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
    *,
    note: str | None = None,
    page: int = 0,
) -> None:
    """The press answered (with `note`), the list redrawn in the pressed message."""
    message = await _message_of(query)
    if message is None:
        return
    await query.answer(note)
    await show_accounts(message, linking, representatives, resident, edit=True, page=page)


async def page(
    query: CallbackQuery,
    callback_data: AccountsPageCb,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
) -> None:
    await _redraw(query, linking, representatives, resident, page=callback_data.page)


async def link(
    query: CallbackQuery,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    await query.answer()
    await conversation.begin(message, state, linking, resident, settings)


async def ask_unlink(
    query: CallbackQuery, callback_data: AccountCb, linking: LinkingService, resident: Resident
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    view = await linking.link_view(resident.id, callback_data.account_id)
    if view is None:
        await query.answer(not_available(), show_alert=True)
        return
    await query.answer()
    await message.edit_text(
        texts.confirm_unlink_text(view),
        reply_markup=keyboards.confirm_unlink(view),
    )


async def unlink(
    query: CallbackQuery,
    callback_data: AccountCb,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    if await linking.link_view(resident.id, callback_data.account_id) is None:
        await query.answer(not_available(), show_alert=True)
        return
    await query.answer(_("Done."))  # before the staff chat is told: it may be slow
    unlinked = await linking.unlink(user_id=resident.id, account_id=callback_data.account_id)
    if unlinked.view is None:
        return  # unlinked by a concurrent press meanwhile
    head = texts.unlinked_text(unlinked.view) + "\n\n"
    await show_accounts(message, linking, representatives, resident, edit=True, head=head)


async def keep(
    query: CallbackQuery,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
) -> None:
    await _redraw(query, linking, representatives, resident, note=_("Nothing was changed."))


async def _still_pending(
    query: CallbackQuery,
    message: Message,
    callback_data: OrgRequestCb,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
) -> PendingRequest | None:
    """The resident's own pending request the button names; otherwise (decided, withdrawn,
    forged) an alert and the list drawn again as it stands, and None."""
    request = await representatives.pending_request(resident.id, callback_data.rep_id)
    if request is None:
        await query.answer(org_texts.not_waiting(), show_alert=True)
        await show_accounts(message, linking, representatives, resident, edit=True)
    return request


async def ask_withdraw(
    query: CallbackQuery,
    callback_data: OrgRequestCb,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
) -> None:
    """«Withdraw the request for ORG»: asked to confirm (only the resident's own, pending)."""
    message = await _message_of(query)
    if message is None:
        return
    request = await _still_pending(
        query, message, callback_data, linking, representatives, resident
    )
    if request is None:
        return
    await query.answer()
    await message.edit_text(
        org_texts.confirm_withdraw(request.org_name),
        reply_markup=keyboards.confirm_withdraw(request.rep_id),
    )


async def withdraw(
    query: CallbackQuery,
    callback_data: OrgRequestCb,
    linking: LinkingService,
    representatives: RepresentativesService,
    resident: Resident,
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    if (
        await _still_pending(query, message, callback_data, linking, representatives, resident)
        is None
    ):
        return
    await query.answer(_("Done."))  # before the staff chat is told: it may be slow
    done = await representatives.withdraw(user_id=resident.id, rep_id=callback_data.rep_id)
    head = org_texts.withdrawn(done.org_name) if done else org_texts.not_waiting()
    await show_accounts(message, linking, representatives, resident, edit=True, head=head + "\n\n")


async def suggested(
    query: CallbackQuery,
    callback_data: SuggestedAccountCb,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    result = await linking.link_by_phone(user_id=resident.id, account_id=callback_data.account_id)
    if result.outcome is Outcome.UNAVAILABLE:
        await query.answer(not_available(), show_alert=True)
        return
    await query.answer()
    remaining = await linking.suggest_by_phone(resident.id, resident.phone or "")
    if remaining:  # the list and its buttons stay one: what is left to link
        await message.edit_text(
            offer_text(remaining), reply_markup=common_keyboards.suggested_accounts(remaining)
        )
    else:
        await message.edit_reply_markup(reply_markup=None)
    await conversation.answer_result(message, state, result, settings)


#: the main-menu item of this feature (handlers/common/main_menu.py)
MENU_ITEM: MenuItem = (BTN_ACCOUNTS, my_accounts)


def create_router() -> Router:
    router = Router(name="accounts")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())
    msg, cb = router.message.register, router.callback_query.register

    cb(page, AccountsPageCb.filter())
    cb(link, LinkAccountCb.filter())
    cb(suggested, SuggestedAccountCb.filter())
    cb(ask_unlink, AccountCb.filter(F.action == AccountAction.UNLINK))
    cb(unlink, AccountCb.filter(F.action == AccountAction.UNLINK_YES))
    cb(keep, AccountCb.filter(F.action == AccountAction.UNLINK_NO))
    cb(ask_withdraw, OrgRequestCb.filter(F.action == OrgRequestAction.WITHDRAW))
    cb(withdraw, OrgRequestCb.filter(F.action == OrgRequestAction.WITHDRAW_YES))
    cb(keep, OrgRequestCb.filter(F.action == OrgRequestAction.KEEP))

    # the conversation
    cb(conversation.supplier_chosen, SupplierCb.filter())
    msg(conversation.supplier_expected, StateFilter(Linking.supplier))
    msg(conversation.number_given, StateFilter(Linking.number))
    cb(routes.back, LinkRouteCb.filter(F.route == LinkRoute.BACK))
    cb(routes.access_code, LinkRouteCb.filter(F.route == LinkRoute.ACCESS_CODE))
    cb(routes.sms, LinkRouteCb.filter(F.route.in_({LinkRoute.SMS, LinkRoute.RESEND})))
    cb(routes.operator, LinkRouteCb.filter(F.route == LinkRoute.OPERATOR))
    cb(routes.skip_photo, LinkRouteCb.filter(F.route == LinkRoute.SKIP_PHOTO))
    msg(conversation.route_expected, StateFilter(Linking.method))
    msg(conversation.access_code_given, StateFilter(Linking.access_code))
    msg(conversation.sms_code_given, StateFilter(Linking.sms_code))
    msg(conversation.name_given, StateFilter(Linking.request_name))
    msg(conversation.address_given, StateFilter(Linking.request_address))
    msg(conversation.photo_given, StateFilter(Linking.request_photo))

    # «I represent an organisation» (issue 14)
    cb(organisation.start, OrgCb.filter(F.action == OrgAction.START))
    cb(organisation.send, OrgCb.filter(F.action == OrgAction.SEND))
    cb(organisation.branch_chosen, OrgBranchCb.filter())
    msg(organisation.inn_given, StateFilter(Representing.inn))
    msg(organisation.branch_expected, StateFilter(Representing.branch))
    msg(organisation.reference_given, StateFilter(Representing.reference))
    msg(organisation.name_given, StateFilter(Representing.name))
    msg(organisation.position_given, StateFilter(Representing.position))
    msg(organisation.page_given, StateFilter(Representing.pages))
    return router
