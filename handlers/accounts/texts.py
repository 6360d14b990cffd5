"""Texts of My accounts and the linking conversation."""

from __future__ import annotations

import datetime as dt

from aiogram.utils.i18n import gettext as _

from bot.services.enums import LinkStatus
from bot.services.linking import MAX_PENDING_REQUESTS, LinkCard, LinkView, SupplierInfo
from handlers.common.texts import (
    ADDRESS_LIMIT,
    NAME_LIMIT,
    REASON_LIMIT,
    esc,
    moscow_time,
    office,
    reason_text,
)

#: accounts per page of «My accounts», and the characters a page may take: far below
#: Telegram's 4,096 a message, whatever the names and addresses on file
PAGE_SIZE = 8
PAGE_BUDGET = 3000


def _entry(view: LinkView) -> str:
    head = _("{supplier}, account № {number}").format(
        supplier=esc(view.supplier_name, NAME_LIMIT), number=esc(view.number)
    )
    if view.status is LinkStatus.ACTIVE:
        return f"\n🏠 {head}\n{esc(view.address, ADDRESS_LIMIT) or '—'}"
    if view.status is LinkStatus.PENDING:
        return f"\n⏳ {head}\n" + _("Waiting for an operator to check the request.")
    return f"\n❌ {head}\n" + _("Request rejected. Reason: {reason}").format(
        reason=reason_text(view.reason, REASON_LIMIT)
    )


def _pages(views: list[LinkView]) -> list[list[LinkView]]:
    """Pages of at most PAGE_SIZE entries and PAGE_BUDGET characters each."""
    pages: list[list[LinkView]] = [[]]
    used = 0
    for view in views:
        size = len(_entry(view))
        if pages[-1] and (len(pages[-1]) >= PAGE_SIZE or used + size > PAGE_BUDGET):
            pages.append([])
            used = 0
        pages[-1].append(view)
        used += size
    return pages


def page_of(views: list[LinkView], page: int) -> tuple[list[LinkView], int, int]:
    """The views of one page, that page (clamped) and the number of pages."""
    pages = _pages(views)
    page = min(max(page, 0), len(pages) - 1)
    return pages[page], page, len(pages)


def accounts_text(views: list[LinkView], page: int = 0) -> str:
    if not views:
        return _(
            "<b>My accounts</b>\n\nNo accounts are linked yet. Press «Link an account» and "
            "have your receipt at hand: you will need the personal account number."
        )
    shown, page, pages = page_of(views, page)
    head = _("<b>My accounts</b>")
    if pages > 1:
        head += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    lines, org = [head], None
    for view in shown:
        if view.org_inn and view.org_inn != org:  # an organisation's accounts under its name
            lines.append("\n" + org_header(view))
        org = view.org_inn
        lines.append(_entry(view))
    return "\n".join(lines)


def organisation_waiting(name: str) -> str:
    """A representative's request (issue 14) that waits for an operator."""
    return _("⏳ 🏢 {name}: your power of attorney waits for an operator's check.").format(
        name=esc(name, NAME_LIMIT)
    )


def org_header(view: LinkView) -> str:
    """🏢 the organisation's name and ИНН, and the representative's role (issue 14)."""
    role = (
        _("accountant (balance, receipts and history)")  # not «роль: бухгалтер: баланс»
        if view.role == "accountant"
        else _("manager")
    )
    return _("🏢 <b>{name}</b> (ИНН {inn}) — you are its {role}").format(
        name=esc(view.org_name, NAME_LIMIT) or "—", inn=esc(view.org_inn), role=role
    )


def confirm_unlink_text(view: LinkView) -> str:
    number, supplier = esc(view.number), esc(view.supplier_name)
    if view.status is LinkStatus.ACTIVE:
        return _("Unlink account № {number} ({supplier})?").format(number=number, supplier=supplier)
    if view.status is LinkStatus.PENDING:
        return _("Withdraw the request for account № {number} ({supplier})?").format(
            number=number, supplier=supplier
        )
    return _("Remove account № {number} ({supplier}) from your list?").format(
        number=number, supplier=supplier
    )


def unlinked_text(view: LinkView) -> str:
    number = esc(view.number)
    if view.status is LinkStatus.ACTIVE:
        return _("Account № {number} is no longer linked.").format(number=number)
    if view.status is LinkStatus.PENDING:
        return _("The request for account № {number} is withdrawn.").format(number=number)
    return _("Account № {number} is removed from your list.").format(number=number)


def locked_text(unlock_at: dt.datetime, contact: str | None) -> str:
    text = _(
        "Too many unsuccessful attempts today. For your safety, linking accounts is paused "
        "until {time} (Moscow time)."
    ).format(time=moscow_time(unlock_at))
    if contact:
        return text + office(contact)
    return (
        text
        + "\n\n"
        + _(
            "Until then, the office of your management company can link the account for you: "
            "take your receipt and an identity document."
        )
    )


def attempts_left(left: int | None) -> str:
    """How many failed attempts remain today, as a sentence to add (counted failures only)."""
    if left is None:
        return ""
    return " " + _("Attempts left today: {left}.").format(left=left)


def linked_text(number: str, supplier: str, address: str) -> str:
    return _(
        "✅ Account № {number} ({supplier}) is linked.\nAddress: {address}\n\n"
        "You will find it in «My accounts»."
    ).format(number=esc(number), supplier=esc(supplier), address=esc(address) or "—")


def already_linked(number: str | None) -> str:
    return _("Account № {number} is already linked to you.").format(number=esc(number))


def already_pending(number: str | None) -> str:
    return _(
        "Your request for account № {number} is already with an operator. "
        "I will let you know the decision."
    ).format(number=esc(number))


def too_many_requests() -> str:
    return _(
        "You already have {count} requests waiting for an operator. Please wait for "
        "their decisions before sending another one."
    ).format(count=MAX_PENDING_REQUESTS)


def routes_text(number: str) -> str:
    return _(
        "Account № <code>{number}</code>. How would you like to confirm that it is yours?\n\n"
        "• the <b>access code</b> printed on your receipt;\n"
        "• a <b>code by SMS</b> to the phone on file for the account;\n"
        "• an <b>operator</b> checks your request (up to three days)."
    ).format(number=esc(number))


def number_prompt(supplier: SupplierInfo) -> str:
    text = _("Enter the personal account number of {supplier} as printed on your receipt.").format(
        supplier=esc(supplier.name)
    )
    return text + hint(supplier)


def hint(supplier: SupplierInfo) -> str:
    """The supplier's hint on the number's format, as a line to add (or nothing)."""
    return "\n" + _("Hint: {hint}").format(hint=esc(supplier.hint)) if supplier.hint else ""


def bad_number(supplier: SupplierInfo) -> str:
    text = _("This does not look like a personal account number of {supplier}.").format(
        supplier=esc(supplier.name)
    )
    return text + hint(supplier)


def sms_template() -> str:
    """The SMS, in the resident's language; the service fills {code} and {number}."""
    return _(
        "Code {code} to link personal account {number} in the Telegram bot. Do not tell it "
        "to anyone. If you did not ask for it, ignore this message."
    )


def operators_unavailable(contact: str | None) -> str:
    return _(
        "Requests to operators are not available right now. Please confirm the account "
        "with the access code from your receipt or an SMS code, or contact the office "
        "of your management company."
    ) + office(contact)


def decision_text(card: LinkCard) -> str:
    """The resident's news of an operator's decision (sent by the ResidentNotifier)."""
    if card.status is LinkStatus.ACTIVE:
        return _(
            "✅ An operator confirmed your request: account № {number} ({supplier}) is "
            "linked. You can see it in «My accounts»."
        ).format(number=esc(card.number), supplier=esc(card.supplier_name))
    return _(
        "❌ Your request to link account № {number} ({supplier}) was rejected.\n"
        "Reason: {reason}\n\n"
        "You can try again in «My accounts» — with the access code from the "
        "receipt, an SMS code, or a new request with a clear photo of the receipt."
    ).format(
        number=esc(card.number),
        supplier=esc(card.supplier_name),
        reason=reason_text(card.reason),
    )
