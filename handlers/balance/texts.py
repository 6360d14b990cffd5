"""Texts of Balance: amounts with Babel in the resident's language, months by name."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_percent

from bot.services.balance import History, Statement, Trend
from bot.services.balance.money import SumProblem, format_money
from bot.services.balance.statement import PaymentInfo, period_date
from handlers.common.texts import esc, moscow_time

#: services listed in a message before "and N more", and the characters of a service's
#: name shown: with the longest address and supplier name a message stays below 4096
MAX_LINES = 18
SERVICE_LABEL = 60


def locale() -> str:
    return get_i18n().current_locale


def money(amount: Decimal) -> str:
    return format_money(amount, locale())


def month_in_text(period: str) -> str:
    """'2026-11' → 'ноябрь 2026' / 'November 2026' (inside a sentence)."""
    return _month_in_text(period, locale())


@lru_cache(maxsize=1024)  # every balance screen names its month: Babel takes ≈ 0.1 ms
def _month_in_text(period: str, locale: str) -> str:
    return format_date(period_date(period), "LLLL yyyy", locale=locale)


def month(period: str) -> str:
    """'2026-11' → 'Ноябрь 2026' / 'November 2026' (a heading)."""
    text = month_in_text(period)
    return text[:1].upper() + text[1:]


def short_month(period: str) -> str:
    """'2026-11' → 'нояб. 2026' (the month picker's buttons)."""
    return f"{format_date(period_date(period), 'LLL', locale=locale())} {period[:4]}"


def _head(statement: Statement) -> str:
    account = statement.account
    return _("<b>Balance</b> · account № {number}\n{supplier}\n{address}").format(
        number=esc(account.number),
        supplier=esc(account.payee.name),
        address=esc(account.address) or "—",
    )


def _line(service: str, charged: Decimal, paid: Decimal, due: Decimal) -> str:
    if len(service) > SERVICE_LABEL:
        service = service[: SERVICE_LABEL - 1] + "…"
    return _("• {service}\n   charged {charged} · paid {paid} · to pay {due}").format(
        service=esc(service), charged=money(charged), paid=money(paid), due=money(due)
    )


def _standing(amount: Decimal, *, now: bool) -> str:
    if amount > 0:
        text = _("Debt now: {amount}") if now else _("To pay: {amount}")
    elif amount < 0:
        text = _("Overpayment now: {amount}") if now else _("Overpaid: {amount}")
    else:
        return _("No debt now.") if now else _("Nothing to pay: the month is settled.")
    return "<b>" + text.format(amount=money(abs(amount))) + "</b>"


def payment_text(payment: PaymentInfo) -> str:
    where = _("in Telegram") if payment.in_telegram else esc(payment.source) or "—"
    return _("Last payment: {date}, {amount}, {where}").format(
        date=payment.paid_at.strftime("%d.%m.%Y"), amount=money(payment.amount), where=where
    )


def _footer(statement: Statement) -> list[str]:
    out = []
    if statement.pending:
        out.append(
            _("Paid in Telegram, not yet in the supplier's figures: {amount}").format(
                amount=money(statement.pending)
            )
        )
    if statement.last_payment is not None:
        out.append(payment_text(statement.last_payment))
    if statement.as_of is not None:
        out.append(_("Data as of {time} (Moscow time)").format(time=moscow_time(statement.as_of)))
    return out


def no_charges_text(statement: Statement) -> str:
    parts = [
        _head(statement),
        _(
            "Nothing has been charged to this account yet. Charges appear after the "
            "supplier's first monthly calculation, usually early next month."
        ),
    ]
    if statement.balance_now:
        parts.append(_standing(statement.balance_now, now=True))
    return "\n\n".join([*parts, "\n".join(_footer(statement))]).strip()


def balance_text(statement: Statement) -> str:
    """A month of one account: its services, the month's totals, where the account stands."""
    if statement.period is None:
        return no_charges_text(statement)
    lines = [_line(s.service, s.charged, s.paid, s.due) for s in statement.lines[:MAX_LINES]]
    if len(statement.lines) > MAX_LINES:
        more = len(statement.lines) - MAX_LINES
        lines.append(_("… and {count} more in the receipt").format(count=more))
    body = [f"<b>{month(statement.period)}</b>", *lines]
    body.append(
        _("Month total: charged {charged} · paid {paid}").format(
            charged=money(statement.charged), paid=money(statement.paid)
        )
    )
    if statement.only_recalculation:
        body.append(
            _(
                "This month holds only a recalculation (перерасчёт) in your favour: it "
                "lowers what you owe or is counted towards your next payments."
            )
        )
    if statement.opening > 0:
        body.append(_("Debt from earlier months: {amount}").format(amount=money(statement.opening)))
    elif statement.opening < 0:
        body.append(
            _("Advance from earlier months: {amount}").format(amount=money(-statement.opening))
        )
    body.append(_standing(statement.closing, now=statement.is_latest))
    if not statement.is_latest:
        body.append(_standing(statement.balance_now, now=True))
    return "\n\n".join([_head(statement), "\n".join(body), "\n".join(_footer(statement))]).strip()


def periods_text(statement: Statement) -> str:
    return _("Account № {number}: which month? Months with charges are listed.").format(
        number=esc(statement.account.number)
    )


def receipt_menu_text(statement: Statement) -> str:
    assert statement.period is not None
    return _(
        "Receipt for {month}, account № {number}: for the amount due, for one service, "
        "or for a sum of your choice. It comes as a PDF with a QR code that any Russian "
        "bank app reads («Pay by QR code»)."
    ).format(month=month_in_text(statement.period), number=esc(statement.account.number))


def nothing_due_text() -> str:
    return _(
        "There is nothing to pay for this month. You can still make a receipt for a sum "
        "of your choice."
    )


def preparing_text() -> str:
    return _("Preparing the receipt…")


def receipt_caption(number: str, period: str, amount: Decimal) -> str:
    return _("Receipt for account № {number}, {month}: {amount}.").format(
        number=esc(number), month=month_in_text(period), amount=money(amount)
    )


def qr_caption(amount: Decimal, supplier: str) -> str:
    return _(
        "QR code for payment: {amount} to {supplier}. Open your bank app → «Pay by QR "
        "code» and point the camera at this picture on another screen."
    ).format(amount=money(amount), supplier=esc(supplier))


def no_qr_text() -> str:
    return _(
        "The supplier's bank details are not on file, so this receipt has no QR code. "
        "Please pay by the details on your paper receipt; we have told the operators."
    )


def ask_sum_text() -> str:
    return _(
        "Type the sum in roubles, for example 1500 or 1 234,56 (at most two digits after "
        "the comma)."
    )


def sum_problem_text(problem: SumProblem, ceiling: Decimal) -> str:
    if problem is SumProblem.TOO_PRECISE:
        return _("At most two digits after the comma (kopecks), for example 1 234,56.")
    if problem is SumProblem.NOT_POSITIVE:
        return _("The sum must be more than zero.")
    if problem is SumProblem.TOO_LARGE:
        return _("That is more than {ceiling}. Please check the sum.").format(
            ceiling=money(ceiling)
        )
    return _("That is not a sum. Type digits, for example 1500 or 1 234,56.")


def no_charges_for_receipt() -> str:
    return _("There are no charges on this account yet, so there is no receipt to make.")


def history_caption(history: History) -> str:
    first = _("Last {count} months: charged {charged}, paid {paid}.").format(
        count=len(history.months), charged=money(history.charged), paid=money(history.paid)
    )
    if history.trend == Trend.UP:
        second = _("Charges are rising: the last 3 months are {percent} above the 3 before.")
    elif history.trend == Trend.DOWN:
        second = _("Charges are falling: the last 3 months are {percent} below the 3 before.")
    elif history.trend == Trend.FLAT:
        second = _(
            "Charges are steady: the last 3 months differ from the 3 before by less than {percent}."
        )
    else:
        second = _("Too little history yet to tell a trend.")
    percent = abs(history.trend_percent) if history.trend_percent is not None else 5
    return f"{first}\n{second.format(percent=format_percent(percent / 100, locale=locale()))}"


def charged_label() -> str:
    return _("Charged")


def paid_label() -> str:
    return _("Paid")


def chart_title(number: str) -> str:
    return _("Account № {number}: charged and paid").format(number=number)


def no_history_text() -> str:
    return _("There are no charges on this account yet, so there is no history to show.")


def too_old_text() -> str:
    return _("This message is too old. Open «Balance» again.")


# --------------------------------------------------------------------------- payments
def pay_menu_text(statement: Statement) -> str:
    return _(
        "Payment in Telegram for account № {number} ({supplier}): the debt now or a sum "
        "of your choice. Telegram shows the payment form of the bank that serves the "
        "supplier; the card details never reach this bot."
    ).format(number=esc(statement.account.number), supplier=esc(statement.account.payee.name))


def invoice_title(number: str) -> str:
    """At most 32 characters (Telegram's limit of an invoice title)."""
    return _("Account № {number}").format(number=number)[:32]


def invoice_description(supplier: str, address: str, due: bool) -> str:
    what = _("payment of the debt") if due else _("payment on account")
    return f"{supplier}, {address}: {what}"[:255]


def invoice_label() -> str:
    return _("Housing and utilities")


def nothing_to_pay_text() -> str:
    return _("There is no debt on this account now. You can still pay a sum of your choice.")


def too_small_text(minimum: Decimal) -> str:
    return _("Payments in Telegram start at {minimum}.").format(minimum=money(minimum))


def invoice_failed_text() -> str:
    return _(
        "Telegram did not accept the payment form just now. Please try again later, or "
        "pay by the receipt's QR code in your bank app."
    )


def checkout_unavailable() -> str:
    return _("This account is no longer linked to you: the payment was stopped.")


def checkout_invalid() -> str:
    return _("This payment form is not valid any more. Please open «Balance» and pay again.")


def checkout_changed() -> str:
    return _(
        "The amount due has changed since this form was made. Please open «Balance» and pay again."
    )


def paid_text(amount: Decimal, number: str, supplier: str, charge_id: str) -> str:
    return _(
        "✅ Payment received: {amount} to account № {number} ({supplier}).\n"
        "Operation number: <code>{charge_id}</code>.\n"
        "The supplier will see it in its figures within a few days; the balance here "
        "counts it already."
    ).format(
        amount=money(amount), number=esc(number), supplier=esc(supplier), charge_id=esc(charge_id)
    )


def standing_now(statement: Statement) -> str:
    return _standing(statement.balance_now, now=True)


def payment_not_matched_text() -> str:
    return _(
        "We received your payment but could not match it to an account. An operator will "
        "sort it out; keep the operation number from Telegram's message."
    )
