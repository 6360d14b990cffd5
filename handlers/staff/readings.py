"""Meter readings to review in the staff chat: the card, its buttons and their handlers.

A confirmed unusual reading (far above the resident's usual consumption, or above the
service's ceiling with little history) is posted by the StaffDesk (bot/telegram/desk.py)
with the last readings and the meter's photo. Accept / Reject decide it (the first press
wins); the resident is told in their language. Registered on the staff router (ChatId,
members only, DEFAULT_LOCALE) by `register`.
"""

from __future__ import annotations

import enum

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.enums import ReadingStatus
from bot.services.ports import Delivery
from bot.services.readings import DecisionOutcome, ReadingCard, ReadingsService
from bot.services.readings_rules import Caution
from handlers.common.callbacks import DbId
from handlers.common.meters import amount, day, month, zone_name
from handlers.common.texts import esc, moscow_time
from handlers.staff.access import DECISION
from handlers.staff.cards import CAPTION_LIMIT, _cut, _visible_length, delivery_note


class ReadingAction(enum.StrEnum):
    ACCEPT = "a"
    REJECT = "r"


class StaffReadingCb(CallbackData, prefix="srd"):
    action: ReadingAction
    reading_id: DbId


def _consumption(card: ReadingCard) -> str:
    if card.consumption is None:
        return _("Consumption: — (the meter's first reading)")
    used = amount(card.consumption, card.decimals, card.kind)
    line = _("Consumption: {used} over {months} month(s)").format(used=used, months=card.months)
    if card.flag is Caution.SPIKE and card.average is not None and card.limit is not None:
        line += "; " + _("usual {average} a month, limit {limit} a month").format(
            average=amount(card.average, card.decimals, card.kind),
            limit=amount(card.limit.per_month, card.decimals, card.kind),
        )
    elif card.flag is Caution.CEILING and card.limit is not None:
        line += "; " + _(
            "above the ceiling of {limit} a month (less than six months of history)"
        ).format(limit=amount(card.limit.per_month, card.decimals, card.kind))
    return line


def _outcome(card: ReadingCard, scale: float) -> str | None:
    who = _cut(card.decided_by_name or "?", max(1, int(60 * scale)))
    when = moscow_time(card.decided_at) if card.decided_at else "?"
    if card.status is ReadingStatus.ACCEPTED and card.decided_at:
        return _("✅ Accepted by {who}, {when}").format(who=who, when=when)
    if card.status is ReadingStatus.REJECTED:
        return _("❌ Rejected by {who}, {when}").format(who=who, when=when)
    if card.status is ReadingStatus.CORRECTED:
        return _("✏️ The resident sent a corrected value instead of this one.")
    return None


def _card_text(card: ReadingCard, note: str | None, scale: float) -> str:
    def cut(value: str, limit: int) -> str:
        return _cut(value, max(1, int(limit * scale)))

    meter = _("{service} № {serial}").format(
        service=cut(card.service, 40), serial=cut(card.serial, 30)
    )
    if card.zones > 1:
        meter += ", " + zone_name(card.zone, card.zones)
    lines = [
        _("🔎 <b>Meter reading to check #{id}</b>").format(id=card.reading_id),
        _("{supplier}, account <code>{number}</code>, {address}").format(
            supplier=cut(card.supplier_name, 60),
            number=esc(card.account_number),
            address=cut(card.address, 120) or "—",
        ),
        _("Meter: {meter}").format(meter=meter),
        _("New: <b>{value}</b> of {date} (for {month})").format(
            value=amount(card.value, card.decimals, card.kind),
            date=day(card.submitted_at.date()),
            month=month(card.period),
        ),
    ]
    if card.last is not None:
        lines.append(
            _("Last accepted: {value} of {date}").format(
                value=amount(card.last.value, card.decimals, card.kind),
                date=day(card.last.taken_on or card.last.submitted_at.date()),
            )
        )
    lines.append(_consumption(card))
    if card.rolled_over:
        lines.append(_("🔄 The resident confirmed the dial rolled over past its largest value."))
    if card.recent:
        earlier = "; ".join(
            day(k.taken_on or k.submitted_at.date())
            + " "
            + amount(k.value, card.decimals, card.kind)
            for k in card.recent
        )
        lines.append(_("Earlier: {readings}").format(readings=earlier))
    lines.append(_("Photo of the meter: attached") if card.photo_file_id else _("Photo: none"))
    outcome = _outcome(card, scale)
    if outcome:
        lines.append("\n" + outcome)
    if note:
        lines.append(note)
    return "\n".join(lines)


def card_text(card: ReadingCard, *, delivery: Delivery | None = None) -> str:
    """The card (≤ 1024 characters: it may be a photo's caption)."""
    text = ""
    for scale in (1.0, 0.5, 0.2):
        text = _card_text(card, delivery_note(delivery), scale)
        if _visible_length(text) <= CAPTION_LIMIT:
            break
    return text


def card_keyboard(card: ReadingCard) -> InlineKeyboardMarkup | None:
    if card.status is not ReadingStatus.PENDING:
        return None
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Accept"),
        callback_data=StaffReadingCb(action=ReadingAction.ACCEPT, reading_id=card.reading_id),
    )
    kb.button(
        text=_("❌ Reject"),
        callback_data=StaffReadingCb(action=ReadingAction.REJECT, reading_id=card.reading_id),
    )
    kb.adjust(2)
    return kb.as_markup()


def _who(user: User) -> str:
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


def decision_answer(outcome: DecisionOutcome, card: ReadingCard | None, accept: bool) -> str:
    if outcome is DecisionOutcome.GONE or card is None:
        return _("This reading is no longer there.")
    if outcome is DecisionOutcome.ALREADY_DECIDED:
        if card.status is ReadingStatus.CORRECTED:
            return _("The resident has corrected this reading meanwhile.")
        who = card.decided_by_name or "?"
        if card.status is ReadingStatus.ACCEPTED:
            return _("Already accepted by {who}.").format(who=who)
        return _("Already rejected by {who}.").format(who=who)
    return _("Accepted.") if accept else _("Rejected.")


async def decide(
    query: CallbackQuery, callback_data: StaffReadingCb, readings: ReadingsService
) -> None:
    """Accept or Reject (the first press wins). The decision is stored, the press answered,
    then the resident told and the card redrawn (those may take a while)."""
    accept = callback_data.action is ReadingAction.ACCEPT
    decision = await readings.decide(
        reading_id=callback_data.reading_id,
        accept=accept,
        operator_id=query.from_user.id,
        operator_name=_who(query.from_user),
    )
    decided = decision.outcome is DecisionOutcome.DECIDED
    await query.answer(
        decision_answer(decision.outcome, decision.card, accept), show_alert=not decided
    )
    if decision.outcome is DecisionOutcome.GONE and isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await readings.announce(decision)


def register(router: Router) -> None:
    router.callback_query.register(decide, StaffReadingCb.filter(), flags={DECISION: True})
