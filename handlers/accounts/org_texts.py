"""Texts and keyboards of «I represent an organisation» (issue 14) and of its decisions."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.enums import RepresentativeRole, RepresentativeStatus
from bot.services.inn import InnProblem
from bot.services.representatives import (
    MAX_DOCUMENT_BYTES,
    MAX_PAGES,
    Branch,
    DocProblem,
    RepresentativeCard,
)
from handlers.accounts.callbacks import OrgAction, OrgBranchCb, OrgCb
from handlers.common.callbacks import CancelCb
from handlers.common.texts import (
    BTN_CANCEL,
    N_,
    NAME_LIMIT,
    REP_REJECT_REASONS,
    cut,
    esc,
    reason_text,
)

BTN_ORGANISATION = N_("🏢 I represent an organisation")
#: accounts a message lists (the rest are counted)
SHOWN = 10


def role_name(role: RepresentativeRole | None) -> str:
    if role is RepresentativeRole.ACCOUNTANT:
        return _("accountant (balance, receipts and history)")
    if role is RepresentativeRole.MANAGER:
        return _("manager (everything for the organisation's accounts)")
    return "—"


# --------------------------------------------------------------------------- the steps
def inn_prompt() -> str:
    return _(
        "You will link the accounts of an organisation as its representative.\n\n"
        "Enter the organisation's <b>ИНН</b>: 10 digits for a company, 12 digits for an "
        "individual entrepreneur (ИП)."
    )


def bad_inn(problem: InnProblem | None) -> str:
    if problem is InnProblem.NOT_DIGITS:
        return _("An ИНН is digits only, with no letters or other signs. Please type it again.")
    if problem is InnProblem.LENGTH:
        return _(
            "An ИНН has 10 digits (a company) or 12 digits (an ИП). Please check the number "
            "of digits and type it again."
        )
    if problem is InnProblem.CHECKSUM:
        return _(
            "This ИНН has a wrong control digit: there is a typo somewhere. Please check it "
            "against the contract and type it again."
        )
    return _("Please type the organisation's ИНН as text: 10 or 12 digits.")


def org_not_found(left: int | None) -> str:
    text = _(
        "There is no organisation with this ИНН among our customers. Check the ИНН on the "
        "contract, or contact the office."
    )
    return text + (" " + _("Attempts left today: {left}.").format(left=left) if left else "")


def branch_prompt(name: str, branches: tuple[Branch, ...]) -> str:
    return _(
        "{name} has several branches on file. Choose the branch (КПП) whose contract you represent:"
    ).format(name=esc(name, NAME_LIMIT))


def branch_expected() -> str:
    return _("Please choose the branch with the buttons above, or press «Cancel».")


def bad_name() -> str:
    return _("Please type your full name in letters (up to 255 characters).")


def reference_prompt(name: str, kpp: str | None) -> str:
    org = esc(name, NAME_LIMIT) + (" " + _("(КПП {kpp})").format(kpp=kpp) if kpp else "")
    return _(
        "Organisation: <b>{org}</b>.\nNow the number of the contract with us, or one "
        "personal account number of the organisation."
    ).format(org=org)


def reference_not_found(left: int | None) -> str:
    text = _(
        "I did not find this contract or account among the organisation's. Please check "
        "the number on the contract or the invoice and type it again."
    )
    return text + (" " + _("Attempts left today: {left}.").format(left=left) if left else "")


def already() -> str:
    return _(
        "You already represent this organisation for this contract, or your request is "
        "with an operator. See «My accounts»."
    )


def too_many() -> str:
    return _(
        "You already have requests waiting for an operator. Please wait for their "
        "decisions before sending another one."
    )


def name_prompt(accounts: tuple[str, ...]) -> str:
    listed = ", ".join(accounts[:SHOWN]) + ("…" if len(accounts) > SHOWN else "")
    return _(
        "Accounts of this contract: {accounts}.\n\nAn operator checks the power of "
        "attorney. Your full name, please (as in the power of attorney)."
    ).format(accounts=esc(listed))


def position_prompt() -> str:
    return _("Your position in the organisation (for example, «главный бухгалтер»).")


def bad_position() -> str:
    return _("Please type your position in letters (up to 255 characters).")


def pages_prompt() -> str:
    return _(
        "Now the <b>power of attorney</b> (доверенность): a scan as a PDF file, or photos "
        "of its pages. Up to {pages} pages, each at most {mb} MB; several pages may go as "
        "one album. Press «Send the request» when all pages are here."
    ).format(pages=MAX_PAGES, mb=MAX_DOCUMENT_BYTES // (1024 * 1024))


def page_taken(count: int) -> str:
    return _(
        "Received: pages so far — {count}. Send more pages, or press «Send the request»."
    ).format(count=count)


def page_refused(problem: DocProblem, count: int) -> str:
    if problem is DocProblem.TOO_MANY:
        text = _("A power of attorney may have at most {pages} pages: this one was not taken.")
    elif problem is DocProblem.TOO_BIG:
        text = _("This file is larger than {mb} MB: please send a smaller scan.")
    else:
        text = _("This file is neither a PDF nor an image. Please send a PDF or a photo.")
    text = text.format(pages=MAX_PAGES, mb=MAX_DOCUMENT_BYTES // (1024 * 1024))
    if count:
        text += "\n" + _("Pages taken: {count}.").format(count=count)
    return text


def not_a_page(count: int) -> str:
    text = _(
        "Please send the power of attorney as a PDF file or as photos of its pages "
        "(not a video, a voice message or a sticker)."
    )
    if count:
        text += "\n" + _("Pages taken: {count}.").format(count=count)
    return text


def no_pages() -> str:
    return _("Please send at least one page of the power of attorney first.")


def submitted() -> str:
    return _(
        "Your request has been sent to the operators with the power of attorney. Checking "
        "may take up to three days; I will send you the decision here."
    )


def desk_failed() -> str:
    return _(
        "I could not pass your request to the operators right now. Nothing was saved; "
        "please try again later."
    )


def desk_disabled() -> str:
    return _(
        "Requests to operators are not available right now: please bring the power of "
        "attorney to the office."
    )


def decision_text(card: RepresentativeCard) -> str:
    """The representative's news of an operator's decision (sent by the ResidentNotifier)."""
    org = esc(card.org_name, NAME_LIMIT)
    if card.status is RepresentativeStatus.ACTIVE:
        return _(
            "✅ An operator confirmed your power of attorney: you represent {org} as "
            "{role}. The organisation's accounts are in «My accounts»."
        ).format(org=org, role=role_name(card.role))
    if card.status is RepresentativeStatus.REVOKED:
        return _(
            "🚫 An operator withdrew your right to represent {org}: its accounts are no "
            "longer in your cabinet."
        ).format(org=org)
    return _(
        "❌ Your request to represent {org} was rejected.\nReason: {reason}\n\nYou can send "
        "a new request with a clear copy of the power of attorney."
    ).format(org=org, reason=reason_text(card.reason, presets=REP_REJECT_REASONS))


# --------------------------------------------------------------------------- withdrawing
def withdraw_button(name: str) -> str:
    """A button: plain text (no HTML), cut so the keyboard stays readable."""
    return _("✖️ Withdraw the request for {org}").format(org=cut(name, 40))


def confirm_withdraw(name: str) -> str:
    return _(
        "Withdraw your request to represent {org}? Operators will not check this power of "
        "attorney; you can send a new request later."
    ).format(org=esc(name, NAME_LIMIT))


def withdrawn(name: str) -> str:
    return _("Your request to represent {org} is withdrawn.").format(org=esc(name, NAME_LIMIT))


def not_waiting() -> str:
    """An alert (≤ 200 characters): the request was decided or withdrawn meanwhile."""
    return _("This request is no longer waiting: an operator has decided it, or it was withdrawn.")


# --------------------------------------------------------------------------- keyboards
def start_button(kb: InlineKeyboardBuilder) -> None:
    """«I represent an organisation» under the first step of linking."""
    kb.button(text=_(BTN_ORGANISATION), callback_data=OrgCb(action=OrgAction.START))


def branches(found: tuple[Branch, ...]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for branch in found[:20]:
        label = _("КПП {kpp} — {name}").format(kpp=branch.kpp, name=branch.name)
        kb.button(
            text=label if len(label) <= 60 else label[:59] + "…",
            callback_data=OrgBranchCb(account_id=branch.account_id),
        )
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def pages_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📨 Send the request"), callback_data=OrgCb(action=OrgAction.SEND))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()
