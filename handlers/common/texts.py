"""Sentences and button labels written once, for every feature.

`N_` marks a string for extraction into the catalogs without translating it here; it is
translated where it is shown, with `_()` in the resident's language.
"""

from __future__ import annotations

import datetime as dt
import html

from aiogram.utils.i18n import gettext as _

from bot.services.codes import DAY_ZONE, CodeProblem
from bot.services.linking import AccountInfo


def N_(msgid: str) -> str:
    return msgid


BTN_BALANCE = N_("💳 Balance")
BTN_READINGS = N_("📟 Meter readings")
BTN_ACCOUNTS = N_("🏠 My accounts")
BTN_SUPPORT = N_("💬 Contact support")
BTN_SETTINGS = N_("⚙️ Settings")
BTN_SHARE_PHONE = N_("📱 Share my phone number")
BTN_CANCEL = N_("✖️ Cancel")
BTN_BACK = N_("⬅️ Back")
BTN_KEEP = N_("No, keep it")
BTN_LINK = N_("➕ Link an account")
BTN_RESEND = N_("🔁 Send the code again")
BTN_SEND_READINGS = N_("📟 Send readings")

#: the main menu, in its order on the keyboard (the main-menu exit reads it too)
MAIN_MENU = (BTN_BALANCE, BTN_READINGS, BTN_ACCOUNTS, BTN_SUPPORT, BTN_SETTINGS)

#: preset reasons for rejecting a link request (shown to operators and to the resident)
REJECT_REASONS = {
    "mismatch": N_("The name or address does not match our records"),
    "no_proof": N_("We could not confirm that the account is yours"),
    "unreadable": N_("The photo of the receipt is unreadable"),
}

#: the same presets for a representative's request: it proves a power of attorney, not a
#: receipt (shown to operators on the card's reasons and to the representative)
REP_REJECT_REASONS = {
    "mismatch": N_("The power of attorney does not match the organisation or the person"),
    "no_proof": N_("The power of attorney does not give the right to act for the organisation"),
    "unreadable": N_("The copy of the power of attorney is unreadable"),
}

MOSCOW_FORMAT = "%d.%m.%Y %H:%M"


def esc(value: str | None, limit: int | None = None) -> str:
    """User or billing data made safe for HTML parse mode, cut to `limit` characters (with
    an ellipsis) first, so a text built from data stays within Telegram's limits."""
    return html.escape(cut(value, limit) if limit else (value or ""))


def cut(value: str | None, limit: int) -> str:
    """`value` stripped and, when longer than `limit` characters, cut with an ellipsis."""
    text = (value or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: accounts offered in one message, each with its button: the text stays far below
#: Telegram's 4,096 characters and the keyboard below its 100 buttons
OFFER_LIMIT = 8

#: how much of a datum a list shows (a supplier's name, an address, a reason)
NAME_LIMIT = 80
ADDRESS_LIMIT = 160
REASON_LIMIT = 300


def moscow_time(moment: dt.datetime) -> str:
    """A moment as the residents and operators read it: Moscow time."""
    return moment.astimezone(DAY_ZONE).strftime(MOSCOW_FORMAT)


def reason_text(
    reason: str | None,
    limit: int | None = None,
    preset_prefix: str = "preset:",
    presets: dict[str, str] = REJECT_REASONS,
) -> str:
    """A stored rejection reason in the current language: presets (of a link request by
    default; REP_REJECT_REASONS for a representative) translated, an operator's own text
    escaped (and cut to `limit` characters)."""
    if not reason:
        return "—"
    if reason.startswith(preset_prefix):
        msgid = presets.get(reason.removeprefix(preset_prefix))
        if msgid:
            return _(msgid)
    return esc(reason, limit)


# --------------------------------------------------------------------------- shared sentences
def stale_button() -> str:
    """A button of an old message, a forged one, or one whose step has passed."""
    return _("This button is not valid any more.")


def not_available() -> str:
    """Something the presser may not act on (someone else's account, a removed one)."""
    return _("Not available.")


def start_again() -> str:
    return _("This is not available. Please start again.")


def too_old(place: str) -> str:
    """Telegram no longer gives the message the button is under; `place` says where to go."""
    return place


def main_menu_prompt() -> str:
    return _("Main menu. Choose what you need.")


def office(support_contact: str | None) -> str:
    """Where a person answers (SUPPORT_CONTACT), as a paragraph to add; empty when unset."""
    if not support_contact:
        return ""
    return "\n\n" + _("To reach a person: {contact}").format(contact=esc(support_contact))


def something_went_wrong() -> str:
    return _("Something went wrong on our side. Nothing was changed; please try again.")


def code_problem_text(problem: CodeProblem | None, attempts_left: int | None) -> str:
    """Why a one-time code was refused (SMS and e-mail codes alike)."""
    if problem is CodeProblem.MALFORMED:
        return _("The code is six digits. Please type the digits you received.")
    if problem is CodeProblem.WRONG:
        return _("Wrong code. Attempts left for this code: {left}.").format(
            left=attempts_left if attempts_left is not None else "?"
        )
    if problem is CodeProblem.EXPIRED:
        return _("The code has expired. Press «Send the code again» for a new one.")
    if problem is CodeProblem.USED:
        return _("This code was already used. Press «Send the code again» for a new one.")
    if problem is CodeProblem.EXHAUSTED:
        return _(
            "Too many wrong attempts for this code. Press «Send the code again» for a new one."
        )
    return _("No code was sent yet. Press «Send the code again».")


def wait_text(seconds: int) -> str:
    return _("A new code can be sent in {seconds} s.").format(seconds=seconds)


def offer_text(found: list[AccountInfo]) -> str:
    """The accounts offered for one-tap linking (at most OFFER_LIMIT listed, as many as
    the keyboard has buttons): after registration, and redrawn after each tap."""
    lines = [_("Your phone is on file for these personal accounts:")]
    for account in found[:OFFER_LIMIT]:
        lines.append(
            _("• {supplier}, № {number}, {address}").format(
                supplier=esc(account.supplier_name, NAME_LIMIT),
                number=esc(account.number),
                address=esc(account.address, ADDRESS_LIMIT) or "—",
            )
        )
    if len(found) > OFFER_LIMIT:
        lines.append(
            _(
                "…and {count} more. Link them in «My accounts» → «Link an account» by their "
                "numbers: your phone links each at once."
            ).format(count=len(found) - OFFER_LIMIT)
        )
    lines.insert(min(len(found), OFFER_LIMIT) + 1, _("Link them with one tap:"))
    return "\n".join(lines)
