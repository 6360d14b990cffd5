"""How a link request looks in the staff chat: the card's text, its buttons, their data.

Drawn by the StaffDesk (bot/telegram/desk.py) when a card is posted or redrawn, and by the
staff router when an operator opens the reasons. Staff texts are in the company's
language (DEFAULT_LOCALE): the caller sets the locale.
"""

from __future__ import annotations

import enum
import html
import re

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services import linking
from bot.services.enums import LinkStatus
from bot.services.linking import LinkCard
from bot.services.ports import Delivery
from handlers.common.callbacks import DbId
from handlers.common.texts import BTN_BACK, REJECT_REASONS, moscow_time, reason_text

assert set(REJECT_REASONS) == set(linking.REJECT_PRESETS)


class StaffAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"  # open the reasons
    BACK = "back"  # close the reasons
    OTHER = "other"  # the operator's own reason, by reply


class StaffLinkCb(CallbackData, prefix="slk"):
    action: StaffAction
    link_id: DbId


class RejectPreset(enum.StrEnum):
    MISMATCH = "mismatch"
    NO_PROOF = "no_proof"
    UNREADABLE = "unreadable"


assert {p.value for p in RejectPreset} == set(REJECT_REASONS)


class StaffRejectCb(CallbackData, prefix="srj"):
    """A preset reason chosen: reject with it."""

    link_id: DbId
    reason: RejectPreset


CAPTION_LIMIT = 1024  # Telegram refuses a longer caption (in UTF-16 units, markup aside)
_TAG = re.compile(r"<[^>]*>")


def _cut(value: str, limit: int) -> str:
    value = value.strip()
    return html.escape(value if len(value) <= limit else value[: limit - 1] + "…")


def _visible_length(text: str) -> int:
    """What Telegram counts: the text without our tags, entities decoded, in UTF-16 units."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


def delivery_note(delivery: Delivery | None) -> str | None:
    if delivery is Delivery.BLOCKED:
        return _("⚠️ The resident has blocked the bot and was not notified.")
    if delivery is Delivery.FAILED:
        return _("⚠️ The resident could not be notified.")
    return None


def card_text(card: LinkCard, *, note: str | None = None) -> str:
    """The card in the staff chat (≤ 1024 characters: it may be a photo caption).

    The free-text fields are cut to fit; when long names and addresses in wide characters
    (emoji count twice) still make it too long, they are cut shorter.
    """
    text = ""
    for scale in (1.0, 0.6, 0.3):
        text = _card_text(card, note=note, scale=scale)
        if _visible_length(text) <= CAPTION_LIMIT:
            break
    return text


def _card_reason(reason: str | None, scale: float) -> str:
    if reason and not reason.startswith(linking.PRESET_PREFIX):
        return _cut(reason, int(200 * scale))
    return reason_text(reason)


def _card_text(card: LinkCard, *, note: str | None, scale: float) -> str:
    def cut(value: str, limit: int) -> str:
        return _cut(value, max(1, int(limit * scale)))

    lines = [
        _("📝 <b>Account link request #{id}</b>").format(id=card.link_id),
        _("Resident: {name} (id {user_id}), phone {phone}").format(
            name=cut(card.name, 80), user_id=card.user_id, phone=card.masked_phone
        ),
        _("Supplier: {supplier}").format(supplier=cut(card.supplier_name, 60)),
        _("Account: <code>{number}</code>").format(number=html.escape(card.number)),
        _("Address given: {address}").format(address=cut(card.address_given, 160)),
        _("On file: {address}; holder: {holder}").format(
            address=cut(card.address_on_file, 160) or "—",
            holder=cut(card.holder_on_file, 60) or "—",
        ),
        _("Phones on file: {phones}").format(phones=", ".join(card.phones_on_file[:3]) or "—"),
        _("Other residents linked to this account: {count}").format(count=card.other_residents),
        _("Photo of the receipt: attached") if card.photo_file_id else _("Photo: none"),
    ]
    if card.status is LinkStatus.ACTIVE and card.decided_at:
        lines.append(
            "\n"
            + _("✅ Approved by {who}, {when}").format(
                who=cut(card.decided_by_name or "?", 60), when=moscow_time(card.decided_at)
            )
        )
    elif card.status is LinkStatus.REJECTED and card.decided_at:
        lines.append(
            "\n"
            + _("❌ Rejected by {who}, {when}. Reason: {reason}").format(
                who=cut(card.decided_by_name or "?", 60),
                when=moscow_time(card.decided_at),
                reason=_card_reason(card.reason, scale),
            )
        )
    if note:
        lines.append(note)
    return "\n".join(lines)


def card_keyboard(link_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Approve"), callback_data=StaffLinkCb(action=StaffAction.APPROVE, link_id=link_id)
    )
    kb.button(
        text=_("❌ Reject"), callback_data=StaffLinkCb(action=StaffAction.REJECT, link_id=link_id)
    )
    kb.adjust(2)
    return kb.as_markup()


def reasons_keyboard(link_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, msgid in REJECT_REASONS.items():
        kb.button(
            text=_(msgid), callback_data=StaffRejectCb(link_id=link_id, reason=RejectPreset(code))
        )
    kb.button(
        text=_("✍️ Other reason (reply with text)"),
        callback_data=StaffLinkCb(action=StaffAction.OTHER, link_id=link_id),
    )
    kb.button(text=_(BTN_BACK), callback_data=StaffLinkCb(action=StaffAction.BACK, link_id=link_id))
    kb.adjust(1)
    return kb.as_markup()
