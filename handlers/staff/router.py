"""The staff supergroup: operators decide link requests (rules: bot/services/linking.py).

Only updates from STAFF_CHAT_ID count (ChatId filter), and only from its current members
(getChatMember, cached for a minute; decisions by its administrators only with
STAFF_ADMINS_ONLY: handlers/staff/access.py). The staff commands live beside it
(commands.py: /find /stats /ban /unban; notice.py: /notice).
Two operators deciding at once: the first decision wins (an atomic UPDATE in the
service), the other is told who decided. Staff texts are in the company's default
language (DEFAULT_LOCALE): `StaffLocale` sets it for the whole router; the resident is
told the outcome in their own language by the service.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services import linking as linking_rules
from bot.services.enums import LinkStatus
from bot.services.linking import MAX_REASON_LENGTH, Decision, DecisionOutcome, LinkingService
from handlers.common.filters import ChatId
from handlers.common.staff_locale import StaffLocale
from handlers.common.states import StaffReject
from handlers.common.texts import cut
from handlers.staff import commands, notice, outside, rep_reason, representatives
from handlers.staff import readings as reading_cards
from handlers.staff.access import DECISION, StaffAccess, StaffMembers
from handlers.staff.cards import (
    StaffAction,
    StaffLinkCb,
    StaffRejectCb,
    card_keyboard,
    reasons_keyboard,
)
from handlers.staff.representatives import operator_name

log = logging.getLogger("kabinet.staff")

PROMPTS_KEY = rep_reason.LINK_PROMPTS_KEY  # an operator's FSM data: {prompt id: link id}


def decision_answer(decision: Decision, approve: bool) -> str:
    """The operator's short answer to their press or reply."""
    if decision.outcome is DecisionOutcome.WITHDRAWN:
        return _("The resident withdrew this request.")
    if decision.outcome is DecisionOutcome.ALREADY_DECIDED:
        assert decision.card is not None
        who = cut(decision.card.decided_by_name or "?", 60)  # an alert holds 200 characters
        if decision.card.status is LinkStatus.ACTIVE:
            return _("Already approved by {who}.").format(who=who)
        return _("Already rejected by {who}.").format(who=who)
    return _("Approved.") if approve else _("Rejected.")


async def _decide(
    query: CallbackQuery, linking: LinkingService, link_id: int, reason: str | None
) -> None:
    approve = reason is None

    async def acknowledge(decision: Decision) -> None:
        decided = decision.outcome is DecisionOutcome.DECIDED
        await query.answer(decision_answer(decision, approve), show_alert=not decided)

    decision = await linking.decide(
        link_id=link_id,
        approve=approve,
        operator_id=query.from_user.id,
        operator_name=operator_name(query.from_user),
        reason=reason,
        acknowledge=acknowledge,  # answered before the resident and the card are updated
    )
    if decision.outcome is DecisionOutcome.WITHDRAWN and isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def approve(
    query: CallbackQuery, callback_data: StaffLinkCb, linking: LinkingService
) -> None:
    await _decide(query, linking, callback_data.link_id, None)


async def reject_with_preset(
    query: CallbackQuery, callback_data: StaffRejectCb, linking: LinkingService
) -> None:
    reason = linking_rules.PRESET_PREFIX + callback_data.reason.value
    await _decide(query, linking, callback_data.link_id, reason)


async def _still_pending(query: CallbackQuery, linking: LinkingService, link_id: int) -> bool:
    current = await linking.card(link_id)
    if current is not None and current.status is LinkStatus.PENDING:
        return True
    await query.answer(_("This request is already closed."), show_alert=True)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    return False


async def show_reasons(
    query: CallbackQuery, callback_data: StaffLinkCb, linking: LinkingService
) -> None:
    if not await _still_pending(query, linking, callback_data.link_id):
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=reasons_keyboard(callback_data.link_id))


async def hide_reasons(
    query: CallbackQuery, callback_data: StaffLinkCb, linking: LinkingService
) -> None:
    if not await _still_pending(query, linking, callback_data.link_id):
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=card_keyboard(callback_data.link_id))


async def ask_own_reason(
    query: CallbackQuery, callback_data: StaffLinkCb, state: FSMContext, linking: LinkingService
) -> None:
    link_id = callback_data.link_id
    if not await _still_pending(query, linking, link_id):
        return
    await state.set_state(StaffReject.reason)
    await state.update_data(link_id=link_id)
    await query.answer()
    text = _(
        "{who}, reply to this message with the reason for rejecting "
        "request #{id} (it is sent to the resident). /cancel — do not "
        "reject."
    ).format(who=query.from_user.mention_html(), id=link_id)
    # several prompts may be open: a reply goes to its own request
    await rep_reason.open_prompt(query, state, text, PROMPTS_KEY, link_id)


async def cancel_reason(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.reply(_("OK, the request stays open."))


async def reason_given(
    message: Message, state: FSMContext, linking: LinkingService, link_prompt: tuple[str, int]
) -> None:
    assert message.from_user is not None
    text = (message.text or "").strip()
    if not text:
        await message.reply(_("Please write the reason as text, or /cancel."))
        return
    link_id = link_prompt[1]
    left = await rep_reason.close_prompts(state, PROMPTS_KEY, link_id)
    if await state.get_state() is not None:  # the latest link prompt left, if any
        await state.update_data(link_id=[*left.values()][-1] if left else None)
    if not isinstance(link_id, int):
        return
    decision = await linking.decide(
        link_id=link_id,
        approve=False,
        operator_id=message.from_user.id,
        operator_name=operator_name(message.from_user),
        reason=text,
    )
    answer = decision_answer(decision, False)
    if decision.outcome is DecisionOutcome.DECIDED and len(text) > MAX_REASON_LENGTH:
        answer += " " + _(
            "The reason was longer than {limit} characters: the resident got its first {limit}."
        ).format(limit=MAX_REASON_LENGTH)
    await message.reply(answer)


def create_router(staff_chat_id: int, default_locale: str, *, admins_only: bool = False) -> Router:
    router = Router(name="staff")
    router.message.filter(ChatId(staff_chat_id))
    router.callback_query.filter(ChatId(staff_chat_id))
    router.message.middleware(StaffLocale(default_locale))
    router.callback_query.middleware(StaffLocale(default_locale))
    access = StaffAccess(StaffMembers(staff_chat_id), admins_only=admins_only)
    router.message.middleware(access)
    router.callback_query.middleware(access)
    decision = {DECISION: True}
    on = router.callback_query.register
    on(approve, StaffLinkCb.filter(F.action == StaffAction.APPROVE), flags=decision)
    on(show_reasons, StaffLinkCb.filter(F.action == StaffAction.REJECT), flags=decision)
    on(hide_reasons, StaffLinkCb.filter(F.action == StaffAction.BACK), flags=decision)
    on(ask_own_reason, StaffLinkCb.filter(F.action == StaffAction.OTHER), flags=decision)
    on(reject_with_preset, StaffRejectCb.filter(), flags=decision)
    reading_cards.register(router)
    commands.register(router)
    notice.register(router)
    representatives.register(router)  # organisations' representatives (issue 14)
    router.message.register(cancel_reason, StateFilter(StaffReject.reason), Command("cancel"))
    rep_reason.register(router)  # a representative's own reject reason (issue 14)
    router.message.register(
        reason_given,
        StateFilter(StaffReject.reason),
        rep_reason.PromptReason(PROMPTS_KEY, "link_prompt"),  # a link's, unless a resident's
        flags=decision,
    )
    return router


def create_outside_router(staff_chat_id: int | None) -> Router:
    """Staff commands and buttons anywhere but the staff chat: refused, clearly."""
    return outside.create_router(staff_chat_id)
