"""Representatives of organisations in the staff chat (issue 14): the card, its buttons and
the operator's decisions — approve as manager / as accountant, reject with a preset reason
(or the operator's own: rep_reason.py), and revoke an approved one with the 🚫 button that
stays on the decided card (asked to confirm first: «Yes, revoke» / «Back»).

Rules: bot/services/representatives.py. The card is drawn by the StaffDesk
(bot/telegram/desk.py); the power of attorney is posted under it as documents or photos.
Registered into the staff router by `register(router)` (its filters and members-only
middleware apply).
"""

from __future__ import annotations

import enum

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services import linking
from bot.services.enums import RepresentativeRole, RepresentativeStatus
from bot.services.ports import Delivery
from bot.services.representatives import (
    Outcome,
    RepresentativeCard,
    RepresentativesService,
    Result,
)
from handlers.common.callbacks import DbId
from handlers.common.texts import (
    BTN_BACK,
    REP_REJECT_REASONS,
    cut,
    esc,
    moscow_time,
    reason_text,
)
from handlers.staff.access import DECISION


class RepAction(enum.StrEnum):
    MANAGER = "m"  # approve as manager
    ACCOUNTANT = "a"  # approve as accountant
    REJECT = "r"  # open the reasons
    BACK = "b"  # close them
    OTHER = "o"  # the operator's own reason, by reply (rep_reason.py)
    REVOKE = "x"  # ask to confirm revoking an approved one
    REVOKE_YES = "xy"  # an approved one loses the right
    REVOKE_BACK = "xb"  # not revoked: the card's button again


class StaffRepCb(CallbackData, prefix="srep"):
    action: RepAction
    rep_id: DbId


class RepReason(enum.StrEnum):
    MISMATCH = "mismatch"
    NO_PROOF = "no_proof"
    UNREADABLE = "unreadable"


assert {r.value for r in RepReason} == set(REP_REJECT_REASONS)


class StaffRepRejectCb(CallbackData, prefix="srepr"):
    rep_id: DbId
    reason: RepReason


# --------------------------------------------------------------------------- the card
def _role(role: RepresentativeRole | None) -> str:
    if role is RepresentativeRole.ACCOUNTANT:
        return _("accountant")
    return _("manager") if role is RepresentativeRole.MANAGER else "—"


def _decided(card: RepresentativeCard) -> str | None:
    who = esc(card.decided_by_name or "?", 60)
    when = moscow_time(card.decided_at) if card.decided_at else "?"
    if card.status is RepresentativeStatus.ACTIVE:
        return _("✅ Approved as {role} by {who}, {when}").format(
            role=_role(card.role), who=who, when=when
        )
    if card.status is RepresentativeStatus.REJECTED:
        return _("❌ Rejected by {who}, {when}. Reason: {reason}").format(
            who=who, when=when, reason=reason_text(card.reason, 200, presets=REP_REJECT_REASONS)
        )
    if card.status is RepresentativeStatus.REVOKED:
        return _("🚫 Revoked by {who}, {when}").format(who=who, when=when)
    if card.status is RepresentativeStatus.WITHDRAWN:
        return _("↩️ The resident withdrew this request.")
    return None


def card_text(card: RepresentativeCard, *, delivery: Delivery | None = None) -> str:
    """The card (a text message, far below 4,096 characters: every datum is cut)."""
    accounts = ", ".join(card.accounts) or "—"
    lines = [
        _("🏢 <b>Representative request #{id}</b>").format(id=card.rep_id),
        _("Organisation on file: <b>{name}</b>").format(name=esc(card.org_name, 160) or "—"),
        _("ИНН {inn}, КПП {kpp}").format(inn=card.inn, kpp=card.kpp or "—"),
        _("Contract or account given: <code>{ref}</code>").format(ref=esc(card.reference, 64)),
        _("Accounts: {accounts}").format(accounts=esc(accounts, 300)),
        _("Representative: {name}, {position}").format(
            name=esc(card.name, 100), position=esc(card.position, 100)
        ),
        _("Telegram id {user_id}, phone {phone}").format(
            user_id=card.user_id, phone=card.masked_phone
        ),
        _("Power of attorney: {pages} page(s), below").format(pages=len(card.pages)),
        _("Other active representatives of this organisation: {count}").format(
            count=card.other_representatives
        ),
    ]
    decided = _decided(card)
    if decided:
        lines.append("\n" + decided)
    if delivery is Delivery.BLOCKED:
        lines.append(_("⚠️ The resident has blocked the bot and was not notified."))
    elif delivery is Delivery.FAILED:
        lines.append(_("⚠️ The resident could not be notified."))
    return "\n".join(lines)


def card_keyboard(card: RepresentativeCard) -> InlineKeyboardMarkup | None:
    """Pending: approve as manager / as accountant, reject; approved: revoke; else none."""
    kb = InlineKeyboardBuilder()
    rep_id = card.rep_id
    if card.status is RepresentativeStatus.PENDING:
        kb.button(
            text=_("✅ Approve: manager"),
            callback_data=StaffRepCb(action=RepAction.MANAGER, rep_id=rep_id),
        )
        kb.button(
            text=_("✅ Approve: accountant"),
            callback_data=StaffRepCb(action=RepAction.ACCOUNTANT, rep_id=rep_id),
        )
        kb.button(
            text=_("❌ Reject"), callback_data=StaffRepCb(action=RepAction.REJECT, rep_id=rep_id)
        )
        kb.adjust(2, 1)
        return kb.as_markup()
    if card.status is RepresentativeStatus.ACTIVE:
        kb.button(
            text=_("🚫 Revoke"), callback_data=StaffRepCb(action=RepAction.REVOKE, rep_id=rep_id)
        )
        return kb.as_markup()
    return None


def reasons_keyboard(rep_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, msgid in REP_REJECT_REASONS.items():
        kb.button(
            text=_(msgid), callback_data=StaffRepRejectCb(rep_id=rep_id, reason=RepReason(code))
        )
    kb.button(
        text=_("✍️ Other reason (reply with text)"),
        callback_data=StaffRepCb(action=RepAction.OTHER, rep_id=rep_id),
    )
    kb.button(text=_(BTN_BACK), callback_data=StaffRepCb(action=RepAction.BACK, rep_id=rep_id))
    kb.adjust(1)
    return kb.as_markup()


def revoke_question(card: RepresentativeCard) -> str:
    return _(
        "<b>Revoke {name}'s right to act for {org}?</b> They lose the organisation's accounts "
        "at once."
    ).format(name=esc(card.name, 100), org=esc(card.org_name, 160) or card.inn)


def revoke_keyboard(rep_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, revoke"), callback_data=StaffRepCb(action=RepAction.REVOKE_YES, rep_id=rep_id)
    )
    kb.button(
        text=_(BTN_BACK), callback_data=StaffRepCb(action=RepAction.REVOKE_BACK, rep_id=rep_id)
    )
    kb.adjust(2)
    return kb.as_markup()


# --------------------------------------------------------------------------- decisions
def operator_name(user: User) -> str:
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


def gone() -> str:
    return _("This request no longer exists (the resident deleted their data).")


def answer_text(outcome: Outcome, done: str) -> str:
    """The operator's short answer (≤ 200 characters: it may be an alert)."""
    if outcome.result is Result.GONE:
        return gone()
    if outcome.result is Result.WITHDRAWN:
        return _("The resident withdrew this request.")
    if outcome.result is Result.ALREADY:
        card = outcome.card
        who = cut(card.decided_by_name or "?", 60) if card else "?"
        return _("Already decided by {who}.").format(who=who)
    return done


async def _decide(
    query: CallbackQuery,
    representatives: RepresentativesService,
    rep_id: int,
    role: RepresentativeRole | None,
    reason: str | None,
    done: str,
) -> None:
    async def acknowledge(outcome: Outcome) -> None:
        await query.answer(answer_text(outcome, done), show_alert=outcome.result is not Result.DONE)

    outcome = await representatives.decide(
        rep_id=rep_id,
        role=role,
        operator_id=query.from_user.id,
        operator_name=operator_name(query.from_user),
        reason=reason,
        acknowledge=acknowledge,
    )
    if outcome.result is Result.GONE and isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def approve_manager(
    query: CallbackQuery, callback_data: StaffRepCb, representatives: RepresentativesService
) -> None:
    await _decide(
        query,
        representatives,
        callback_data.rep_id,
        RepresentativeRole.MANAGER,
        None,
        _("Approved as manager."),
    )


async def approve_accountant(
    query: CallbackQuery, callback_data: StaffRepCb, representatives: RepresentativesService
) -> None:
    await _decide(
        query,
        representatives,
        callback_data.rep_id,
        RepresentativeRole.ACCOUNTANT,
        None,
        _("Approved as accountant."),
    )


async def reject(
    query: CallbackQuery, callback_data: StaffRepRejectCb, representatives: RepresentativesService
) -> None:
    reason = linking.PRESET_PREFIX + callback_data.reason.value
    await _decide(query, representatives, callback_data.rep_id, None, reason, _("Rejected."))


async def still_pending(
    query: CallbackQuery, representatives: RepresentativesService, rep_id: int
) -> bool:
    """The request is still pending; else the presser is told why not (an alert) and the
    pressed card shows its buttons as they stand."""
    card = await representatives.card(rep_id)
    if card is not None and card.status is RepresentativeStatus.PENDING:
        return True
    if card is None:
        text = gone()
    elif card.status is RepresentativeStatus.WITHDRAWN:
        text = _("The resident withdrew this request.")
    else:
        text = _("This request is already closed.")
    await query.answer(text, show_alert=True)
    if isinstance(query.message, Message):  # the card as it stands now
        await query.message.edit_reply_markup(reply_markup=card_keyboard(card) if card else None)
    return False


async def show_reasons(
    query: CallbackQuery, callback_data: StaffRepCb, representatives: RepresentativesService
) -> None:
    if not await still_pending(query, representatives, callback_data.rep_id):
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=reasons_keyboard(callback_data.rep_id))


async def hide_reasons(
    query: CallbackQuery, callback_data: StaffRepCb, representatives: RepresentativesService
) -> None:
    if not await still_pending(query, representatives, callback_data.rep_id):
        return
    card = await representatives.card(callback_data.rep_id)
    assert card is not None
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=card_keyboard(card))


def _not_active() -> str:
    return _("This representative is not active any more.")


async def ask_revoke(
    query: CallbackQuery, callback_data: StaffRepCb, representatives: RepresentativesService
) -> None:
    """«🚫 Revoke»: nothing changes yet; the card asks «Revoke X's right…?» Yes / Back."""
    card = await representatives.card(callback_data.rep_id)
    if card is None or card.status is not RepresentativeStatus.ACTIVE:
        await query.answer(gone() if card is None else _not_active(), show_alert=True)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(
                reply_markup=card_keyboard(card) if card else None
            )
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            card_text(card) + "\n\n" + revoke_question(card),
            reply_markup=revoke_keyboard(card.rep_id),
        )


async def revoke_back(
    query: CallbackQuery, callback_data: StaffRepCb, representatives: RepresentativesService
) -> None:
    """«Back»: the card as it stands (its 🚫 button when still approved)."""
    card = await representatives.card(callback_data.rep_id)
    if card is None:
        await query.answer(gone(), show_alert=True)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    active = card.status is RepresentativeStatus.ACTIVE
    await query.answer(None if active else _not_active())
    if isinstance(query.message, Message):
        await query.message.edit_text(card_text(card), reply_markup=card_keyboard(card))


async def revoke(
    query: CallbackQuery, callback_data: StaffRepCb, representatives: RepresentativesService
) -> None:
    """«Yes, revoke»: one of two operators at once wins (an atomic UPDATE)."""

    async def acknowledge(outcome: Outcome) -> None:
        text = answer_text(outcome, _("Revoked: the representative no longer sees the accounts."))
        if outcome.result is Result.ALREADY:
            text = _not_active()
        await query.answer(text, show_alert=outcome.result is not Result.DONE)

    await representatives.revoke(
        rep_id=callback_data.rep_id,
        operator_id=query.from_user.id,
        operator_name=operator_name(query.from_user),
        acknowledge=acknowledge,
    )


def register(router: Router) -> None:
    """Add the representative decisions to the staff router (its filters apply)."""
    on = router.callback_query.register
    decision = {DECISION: True}  # STAFF_ADMINS_ONLY: administrators only, like link cards
    on(approve_manager, StaffRepCb.filter(F.action == RepAction.MANAGER), flags=decision)
    on(approve_accountant, StaffRepCb.filter(F.action == RepAction.ACCOUNTANT), flags=decision)
    on(show_reasons, StaffRepCb.filter(F.action == RepAction.REJECT), flags=decision)
    on(hide_reasons, StaffRepCb.filter(F.action == RepAction.BACK), flags=decision)
    on(ask_revoke, StaffRepCb.filter(F.action == RepAction.REVOKE), flags=decision)
    on(revoke, StaffRepCb.filter(F.action == RepAction.REVOKE_YES), flags=decision)
    on(revoke_back, StaffRepCb.filter(F.action == RepAction.REVOKE_BACK), flags=decision)
    on(reject, StaffRepRejectCb.filter(), flags=decision)
