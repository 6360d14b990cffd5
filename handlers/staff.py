"""The staff supergroup: cards of account-link requests, Approve / Reject with a reason.

Only updates from STAFF_CHAT_ID count (ChatId filter), and only presses of its current
members (getChatMember, cached for a minute). Two operators deciding at once: the first
decision wins (an atomic UPDATE in the service), the other is told who decided.
Staff texts are in the company's default language (DEFAULT_LOCALE); the resident is told
the outcome in their own language.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import time

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services import linking
from bot.services.clock import Clock
from bot.services.codes import DAY_ZONE
from bot.services.linking import DecisionOutcome, LinkCard
from handlers import keyboards
from handlers.callbacks import StaffLinkCb
from handlers.filters import ChatId
from handlers.states import StaffReject
from handlers.texts import N_
from storage.models import LinkStatus
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.staff")

MEMBER_STATUSES = {"creator", "administrator", "member"}
MEMBERSHIP_TTL = 60.0  # seconds a getChatMember answer is trusted

#: preset reasons for rejecting a link request (shown to operators and to the resident)
REJECT_REASONS = {
    "mismatch": N_("The name or address does not match our records"),
    "no_proof": N_("We could not confirm that the account is yours"),
    "unreadable": N_("The photo of the receipt is unreadable"),
}
assert set(REJECT_REASONS) == set(linking.REJECT_PRESETS)

MOSCOW_FORMAT = "%d.%m.%Y %H:%M"
PROMPTS_KEY = "prompts"  # FSM data of an operator: {prompt message id: link id}


def moscow_time(moment: dt.datetime) -> str:
    """A moment as the residents and operators read it: Moscow time."""
    return moment.astimezone(DAY_ZONE).strftime(MOSCOW_FORMAT)


def reason_text(reason: str | None) -> str:
    """A stored reason in the current language (presets translated, own text escaped)."""
    if not reason:
        return "—"
    if reason.startswith(linking.PRESET_PREFIX):
        msgid = REJECT_REASONS.get(reason.removeprefix(linking.PRESET_PREFIX))
        if msgid:
            return _(msgid)
    return html.escape(reason)


def _card_reason(reason: str | None, scale: float = 1.0) -> str:
    if reason and not reason.startswith(linking.PRESET_PREFIX):
        return _cut(reason, int(200 * scale))
    return reason_text(reason)


def _cut(value: str, limit: int) -> str:
    value = value.strip()
    return html.escape(value if len(value) <= limit else value[: limit - 1] + "…")


CAPTION_LIMIT = 1024  # Telegram refuses a longer caption (in UTF-16 units, markup aside)
_TAG = re.compile(r"<[^>]*>")


def _visible_length(text: str) -> int:
    """What Telegram counts: the text without our tags, entities decoded, in UTF-16 units."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


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


def operator_name(user: User) -> str:
    name = user.full_name
    return f"{name} (@{user.username})" if user.username else name


async def post_link_card(bot: Bot, chat_id: int, card: LinkCard) -> Message:
    """Send the card of a new request; the caller records it (linking.record_card)."""
    markup = keyboards.staff_link_card(card.link_id)
    if card.photo_file_id:
        return await bot.send_photo(
            chat_id, card.photo_file_id, caption=card_text(card), reply_markup=markup
        )
    return await bot.send_message(chat_id, card_text(card), reply_markup=markup)


async def _edit_card(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    *,
    photo: bool,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    try:
        if photo:
            await bot.edit_message_caption(
                chat_id=chat_id, message_id=message_id, caption=text, reply_markup=markup
            )
        else:
            await bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
    except TelegramAPIError as exc:  # a deleted card, a bot removed from the group…
        if "message is not modified" in str(exc):
            return  # the card already shows this outcome (e.g. the other operator's press)
        log.warning("could not edit the card %s/%s: %s", chat_id, message_id, exc)


async def mark_withdrawn(
    bot: Bot, i18n: I18n, settings: Settings, chat_id: int, message_id: int
) -> None:
    """The resident withdrew a pending request: say so under its card, drop the buttons."""
    with i18n.use_locale(settings.default_locale):
        text = _("↩️ The resident withdrew this request.")
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
        await bot.send_message(chat_id, text, reply_to_message_id=message_id)
    except TelegramAPIError as exc:
        log.warning("could not mark the card %s/%s withdrawn: %s", chat_id, message_id, exc)


async def erase_card(
    bot: Bot, i18n: I18n, settings: Settings, chat_id: int, message_id: int
) -> None:
    """The resident deleted their data: take their card (name, address, photo) off the chat.

    Deleting is what 152-FZ asks for; when Telegram refuses (a card older than 48 hours),
    the card is edited down to a neutral line without buttons instead.
    """
    try:
        await bot.delete_message(chat_id, message_id)
        return
    except TelegramAPIError as exc:
        log.info(
            "could not delete the card %s/%s (%s): editing it instead", chat_id, message_id, exc
        )
    with i18n.use_locale(settings.default_locale):
        text = _("🗑 The resident deleted their data; this request is closed.")
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id)
    except TelegramAPIError:  # a photo card has a caption, not a text
        try:
            await bot.edit_message_caption(caption=text, chat_id=chat_id, message_id=message_id)
        except TelegramAPIError as exc:
            log.warning("could not clear the card %s/%s: %s", chat_id, message_id, exc)


async def _notify_resident(
    bot: Bot, i18n: I18n, decision: linking.Decision, default_locale: str
) -> str | None:
    """Tell the resident; return a note for the card when they could not be told."""
    assert decision.resident_id is not None and decision.card is not None
    card = decision.card
    with i18n.use_locale(decision.resident_language or default_locale):
        if card.status is LinkStatus.ACTIVE:
            text = _(
                "✅ An operator confirmed your request: account № {number} ({supplier}) is "
                "linked. You can see it in «My accounts»."
            ).format(number=html.escape(card.number), supplier=html.escape(card.supplier_name))
        else:
            text = _(
                "❌ Your request to link account № {number} ({supplier}) was rejected.\n"
                "Reason: {reason}\n\n"
                "You can try again in «My accounts» — with the access code from the "
                "receipt, an SMS code, or a new request with a clear photo of the receipt."
            ).format(
                number=html.escape(card.number),
                supplier=html.escape(card.supplier_name),
                reason=reason_text(card.reason),
            )
    try:
        await bot.send_message(decision.resident_id, text)
    except TelegramForbiddenError:
        return _("⚠️ The resident has blocked the bot and was not notified.")
    except TelegramAPIError as exc:
        log.warning("could not notify resident %s: %s", decision.resident_id, exc)
        return _("⚠️ The resident could not be notified.")
    return None


async def _apply_decision(
    *,
    bot: Bot,
    uow: UnitOfWork,
    clock: Clock,
    i18n: I18n,
    settings: Settings,
    operator: User,
    link_id: int,
    approve: bool,
    reason: str | None,
) -> tuple[linking.Decision, str]:
    """Decide, commit, tell the resident, edit the card; return the operator's short answer."""
    decision = await linking.decide(
        uow,
        link_id=link_id,
        approve=approve,
        operator_id=operator.id,
        operator_name=operator_name(operator),
        reason=reason,
        clock=clock,
    )
    card = decision.card
    if decision.outcome is DecisionOutcome.WITHDRAWN:
        return decision, _("The resident withdrew this request.")
    assert card is not None
    if decision.outcome is DecisionOutcome.ALREADY_DECIDED:
        if card.status is LinkStatus.ACTIVE:
            answer = _("Already approved by {who}.")
        else:
            answer = _("Already rejected by {who}.")
        if card.staff_chat_id and card.staff_message_id:
            await _edit_card(
                bot,
                card.staff_chat_id,
                card.staff_message_id,
                card_text(card),
                photo=bool(card.photo_file_id),
            )
        return decision, answer.format(who=card.decided_by_name or "?")
    await uow.commit()  # the decision is durable before anyone is told
    note = await _notify_resident(bot, i18n, decision, settings.default_locale)
    if card.staff_chat_id and card.staff_message_id:
        await _edit_card(
            bot,
            card.staff_chat_id,
            card.staff_message_id,
            card_text(card, note=note),
            photo=bool(card.photo_file_id),
        )
    return decision, _("Approved.") if approve else _("Rejected.")


def create_router(staff_chat_id: int) -> Router:
    router = Router(name="staff")
    router.message.filter(ChatId(staff_chat_id))
    router.callback_query.filter(ChatId(staff_chat_id))
    membership: dict[int, tuple[bool, float]] = {}

    async def is_member(bot: Bot, user_id: int) -> bool:
        cached = membership.get(user_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            member = await bot.get_chat_member(staff_chat_id, user_id)
            ok = member.status in MEMBER_STATUSES or (
                member.status == "restricted" and bool(getattr(member, "is_member", False))
            )
        except TelegramAPIError as exc:
            log.warning("getChatMember %s failed: %s", user_id, exc)
            return False
        if len(membership) > 10_000:
            membership.clear()
        membership[user_id] = (ok, time.monotonic() + MEMBERSHIP_TTL)
        return ok

    @router.callback_query(StaffLinkCb.filter())
    async def link_button(
        query: CallbackQuery,
        callback_data: StaffLinkCb,
        bot: Bot,
        uow: UnitOfWork,
        clock: Clock,
        i18n: I18n,
        settings: Settings,
        state: FSMContext,
    ) -> None:
        with i18n.use_locale(settings.default_locale):
            if query.from_user.is_bot or not await is_member(bot, query.from_user.id):
                await query.answer(
                    _("Only members of the staff chat can decide requests."), show_alert=True
                )
                return
            message = query.message
            action = callback_data.action
            link_id = callback_data.link_id
            if action in ("approve", "other") or action.startswith("r_"):
                reason: str | None = None
                if action.startswith("r_"):
                    code = action.removeprefix("r_")
                    if code not in REJECT_REASONS:
                        await query.answer(_("Unknown action."), show_alert=True)
                        return
                    reason = linking.PRESET_PREFIX + code
                if action == "other":
                    current = await linking.card(uow, link_id)
                    if current is None or current.status is not LinkStatus.PENDING:
                        await query.answer(_("This request is already closed."), show_alert=True)
                        return
                    await state.set_state(StaffReject.reason)
                    await state.update_data(link_id=link_id)
                    await query.answer()
                    who = query.from_user.mention_html()  # selective ForceReply: a mention
                    if isinstance(message, Message):
                        prompt = await message.reply(
                            _(
                                "{who}, reply to this message with the reason for rejecting "
                                "request #{id} (it is sent to the resident). /cancel — do not "
                                "reject."
                            ).format(who=who, id=link_id),
                            reply_markup=ForceReply(selective=True),
                        )
                        # several prompts may be open: a reply goes to its own request
                        prompts = (await state.get_data()).get(PROMPTS_KEY) or {}
                        prompts[str(prompt.message_id)] = link_id
                        await state.update_data({PROMPTS_KEY: prompts})
                    return
                decision, answer = await _apply_decision(
                    bot=bot,
                    uow=uow,
                    clock=clock,
                    i18n=i18n,
                    settings=settings,
                    operator=query.from_user,
                    link_id=link_id,
                    approve=action == "approve",
                    reason=reason,
                )
                decided = decision.outcome is DecisionOutcome.DECIDED
                await query.answer(answer, show_alert=not decided)
                if decision.outcome is DecisionOutcome.WITHDRAWN and isinstance(message, Message):
                    await message.edit_reply_markup(reply_markup=None)
            elif action in ("reject", "back"):
                current = await linking.card(uow, link_id)
                if current is None or current.status is not LinkStatus.PENDING:
                    await query.answer(_("This request is already closed."), show_alert=True)
                    if isinstance(message, Message):
                        await message.edit_reply_markup(reply_markup=None)
                    return
                await query.answer()
                if isinstance(message, Message):
                    markup = (
                        keyboards.staff_reject_reasons(
                            link_id, [(code, _(msgid)) for code, msgid in REJECT_REASONS.items()]
                        )
                        if action == "reject"
                        else keyboards.staff_link_card(link_id)
                    )
                    await message.edit_reply_markup(reply_markup=markup)
            else:
                await query.answer(_("Unknown action."), show_alert=True)

    @router.message(StaffReject.reason, Command("cancel"))
    async def cancel_reason(
        message: Message, state: FSMContext, i18n: I18n, settings: Settings
    ) -> None:
        await state.clear()
        with i18n.use_locale(settings.default_locale):
            await message.reply(_("OK, the request stays open."))

    @router.message(StaffReject.reason)
    async def reason_given(
        message: Message,
        state: FSMContext,
        bot: Bot,
        uow: UnitOfWork,
        clock: Clock,
        i18n: I18n,
        settings: Settings,
    ) -> None:
        assert message.from_user is not None
        with i18n.use_locale(settings.default_locale):
            text = (message.text or "").strip()
            if not text:
                await message.reply(_("Please write the reason as text, or /cancel."))
                return
            data = await state.get_data()
            prompts: dict[str, int] = data.get(PROMPTS_KEY) or {}
            replied = message.reply_to_message
            link_id = data.get("link_id")  # the last prompt, when the reason is not a reply
            if replied is not None and str(replied.message_id) in prompts:
                link_id = prompts[str(replied.message_id)]
            prompts = {k: v for k, v in prompts.items() if v != link_id}
            if prompts:  # the other open prompts still take their replies
                await state.update_data({PROMPTS_KEY: prompts, "link_id": [*prompts.values()][-1]})
            else:
                await state.clear()
            if not isinstance(link_id, int):
                return
            _decision, answer = await _apply_decision(
                bot=bot,
                uow=uow,
                clock=clock,
                i18n=i18n,
                settings=settings,
                operator=message.from_user,
                link_id=link_id,
                approve=False,
                reason=text,
            )
            await message.reply(answer)

    return router
