"""Texts of support conversations: the resident's (their language) and the staff chat's
(DEFAULT_LOCALE). `.format()` after translation; user data escaped."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.services.support import ResidentCard, SupportHours, TicketHeader
from handlers.common.texts import N_, esc, moscow_time

#: accounts listed on a card (the text stays far below 4096 characters)
CARD_ACCOUNTS = 10
LANGUAGES = {"ru": "русский", "en": "English"}
DAY_NAMES = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


# --------------------------------------------------------------------------- resident
def intro(hours: SupportHours, working_now: bool) -> str:
    text = _(
        "💬 <b>Contact support</b>\n"
        "Write your question: text, a photo (or several), a document, a voice message or "
        "a video. Operators answer right here, in this chat.\n"
        "To leave, press any menu button or send /cancel."
    )
    return text + hours_note(hours, working_now)


def hours_text(hours: SupportHours) -> str:
    """«Mon–Fri 09:00–18:00; Sat 10:00–14:00» with the days in the reader's language."""
    parts = []
    for shift in hours.shifts:
        first, last = _(DAY_NAMES[shift.days[0]]), _(DAY_NAMES[shift.days[-1]])
        days = first if first == last else f"{first}–{last}"
        end = "24:00" if shift.end.hour == 23 and shift.end.minute == 59 else f"{shift.end:%H:%M}"
        parts.append(f"{days} {shift.start:%H:%M}–{end}")
    return "; ".join(parts)


def hours_note(hours: SupportHours, working_now: bool) -> str:
    if hours.always or working_now:
        return ""
    return "\n\n" + _(
        "🕘 Operators work {hours} (Moscow time) and will answer when they are back."
    ).format(hours=hours_text(hours))


def passed_on(ticket_id: int, hours: SupportHours, working_now: bool) -> str:
    return _("✅ Passed on to the operators (ticket #{id}). The answer will come here.").format(
        id=ticket_id
    ) + hours_note(hours, working_now)


def not_passed() -> str:
    return _("⚠️ Could not pass your message on right now. Please try again in a few minutes.")


def disabled() -> str:
    return _("Writing to operators is not available right now. Please try again later.")


def what_is_accepted() -> str:
    return _(
        "Operators receive text, photos, documents, voice messages and videos. "
        "Stickers, locations, contacts and polls do not reach them: please write in words."
    )


def edit_not_passed() -> str:
    return _(
        "✏️ Operators keep your message as it was first sent: please send the correction "
        "as a new message."
    )


def closed_for_resident(ticket_id: int) -> str:
    return _(
        "✅ Ticket #{id} is closed. If you have another question, press «Contact support» "
        "again.\n\nHow did we help you? Rate from 1 to 5:"
    ).format(id=ticket_id)


def thanks_for_rating(ticket_id: int, stars: int) -> str:
    return _("Thank you! Your rating of ticket #{id}: {stars}").format(
        id=ticket_id, stars="⭐" * stars
    )


def already_rated() -> str:
    return _("You have already rated this ticket.")


# --------------------------------------------------------------------------- staff
def card_text(card: ResidentCard, ticket_id: int | None) -> str:
    lines = []
    if ticket_id is not None:
        lines.append(_("🟢 <b>Ticket #{id}</b>").format(id=ticket_id))
    lines.append(_("👤 <b>{name}</b>").format(name=esc(card.name, 100)))
    lines.append(_("📱 Phone: {phone}").format(phone=esc(card.phone)))
    language = LANGUAGES.get(card.language or "", card.language or "—")
    lines.append(_("🌐 Language: {language}").format(language=esc(language)))
    if card.registered_at is not None:
        lines.append(_("📅 Registered: {date}").format(date=moscow_time(card.registered_at)))
    if not card.accounts:
        lines.append(_("🏠 No linked accounts."))
    else:
        lines.append(_("🏠 Accounts:"))
    for account in card.accounts[:CARD_ACCOUNTS]:
        if account.balance is None:
            balance = _("no charges yet")
        elif account.balance > 0:
            balance = _("owes {sum} ₽").format(sum=f"{account.balance:.2f}")
        else:
            balance = _("advance {sum} ₽").format(sum=f"{-account.balance:.2f}")
        supplier, number = esc(account.supplier, 60), esc(account.number, 40)
        lines.append(f"• {supplier} № {number}, {esc(account.address, 120)} — {balance}")
    if len(card.accounts) > CARD_ACCOUNTS:
        lines.append(_("… and {n} more").format(n=len(card.accounts) - CARD_ACCOUNTS))
    return "\n".join(lines)


def header_text(header: TicketHeader) -> str:
    return _("👤 {name} · #{id} — reply to the message below to answer").format(
        name=esc(header.name, 60), id=header.ticket_id
    )


def rated_note(ticket_id: int, stars: int) -> str:
    return _("⭐ The resident rated ticket #{id}: {stars} of 5").format(id=ticket_id, stars=stars)


def closed_note(ticket_id: int) -> str:
    return _("✅ Ticket #{id} is closed; the resident was asked to rate the help.").format(
        id=ticket_id
    )


def closed_blocked(ticket_id: int) -> str:
    return _(
        "✅ Ticket #{id} is closed. The resident has blocked the bot and was not told."
    ).format(id=ticket_id)


def already_closed(ticket_id: int | None) -> str:
    if ticket_id is None:
        return _("There is no ticket to close here.")
    return _("Ticket #{id} is already closed.").format(id=ticket_id)


def nothing_to_close() -> str:
    return _(
        "There is no ticket here: use /close in a resident's topic, or as a reply to their message."
    )


def blocked() -> str:
    return _("⛔ The resident has blocked the bot: they did not get this message.")


def not_delivered() -> str:
    return _("⚠️ Telegram did not deliver this message to the resident. Try again later.")


def kept_among_staff() -> str:
    return _(
        "🔒 Not sent to the resident: this replies to the bot's message. To answer the "
        "resident, write in the topic without a reply, or reply to their message."
    )


def resident_gone() -> str:
    return _("🗑 This resident has deleted their data: nothing was sent to them.")


def reopened(ticket_id: int) -> str:
    return _("🟢 Ticket #{id} opened by this answer.").format(id=ticket_id)


def not_editable() -> str:
    return _(
        "✏️ Telegram does not let the bot change this in the resident's chat "
        "(only a text or a caption can be edited): send a new message instead."
    )


def edit_failed() -> str:
    return _("⚠️ The resident's copy could not be changed.")
