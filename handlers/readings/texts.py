"""Texts of meter readings: numbers, meters, windows, the checks' messages, results.

Numbers and dates are written as the resident's language writes them (Babel: «12 034,5»
in Russian, «12,034.5» in English). Staff cards use these too, in DEFAULT_LOCALE.
"""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from bot.services.enums import ReadingSource, ReadingStatus
from bot.services.readings import AccountRef, Known, MeterView, ValueCheck
from bot.services.readings_rules import Caution, Problem, Window, WindowState
from handlers.common.meters import (  # noqa: F401 - re-exported for the feature's modules
    UNITS,
    ZONES,
    amount,
    day,
    locale,
    month,
    number,
    unit,
    zone_name,
)
from handlers.common.texts import N_, esc


def meter_title(meter: MeterView, zone: int | None = None) -> str:
    """«Холодная вода № 123456» (and the zone of a multi-tariff meter)."""
    title = _("{service} № {serial}").format(service=esc(meter.service), serial=esc(meter.serial))
    if zone is not None and meter.zones > 1:
        title += ", " + zone_name(zone, meter.zones)
    return title


def account_line(account: AccountRef) -> str:
    return _("Account № {number} ({supplier})").format(
        number=esc(account.number), supplier=esc(account.supplier_name)
    )


# --------------------------------------------------------------------------- windows
def window_rule(account: AccountRef) -> str:
    start, end = account.window_start_day, account.window_end_day
    if start <= end:
        return _("from day {start} to day {end} of each month").format(start=start, end=end)
    return _("from day {start} of a month to day {end} of the next one").format(
        start=start, end=end
    )


def window_span(window: Window) -> str:
    return f"{day(window.opens_on)} – {day(window.closes_on)}"


def open_window_line(state: WindowState) -> str:
    window = state.window
    if state.early:
        return _(
            "Early readings for {month}: the window opens on {opens}, they are accepted "
            "until {closes}."
        ).format(
            month=month(window.period), opens=day(window.opens_on), closes=day(window.closes_on)
        )
    return _("Readings for {month} are accepted until {closes}.").format(
        month=month(window.period), closes=day(window.closes_on)
    )


def closed_text(account: AccountRef, state: WindowState) -> str:
    return _(
        "📟 {account}\n\nReadings are taken {rule}. Now is not that time: the next "
        "window is {span} (readings for {month}). I will remind you when it opens."
    ).format(
        account=account_line(account),
        rule=window_rule(account),
        span=window_span(state.window),
        month=month(state.window.period),
    )


def no_meters_text(account: AccountRef) -> str:
    return _(
        "📟 {account}\n\nNo meters are registered for this account. If you have meters, "
        "ask your supplier to register them (with their verification certificates)."
    ).format(account=account_line(account))


# --------------------------------------------------------------------------- the walk
def last_line(meter: MeterView, zone: int) -> str:
    last = meter.last[zone - 1]
    if last is None:
        return _("no readings of it yet")
    when = day(last.taken_on) if last.taken_on else day(last.submitted_at.date())
    return _("last {value} of {date}").format(
        value=amount(last.value, meter.decimals, meter.kind), date=when
    )


def verification_note(meter: MeterView) -> str:
    if not meter.overdue or meter.verification_due is None:
        return ""
    if meter.refused:
        return _(
            "⛔ {meter}: its verification (поверка) was due on {date}. Readings of meters "
            "past verification are not accepted; billing uses the norm until it is "
            "verified. Give the verification certificate to your supplier."
        ).format(meter=meter_title(meter), date=day(meter.verification_due))
    return _(
        "⚠️ The verification (поверка) of this meter was due on {date}: billing may switch "
        "to the norm until it is verified. The reading is still accepted."
    ).format(date=day(meter.verification_due))


def prompt(meter: MeterView, zone: int) -> str:
    """«Холодная вода № 123456, последнее 123,456 м³ от 24.10.2026 — пришлите новое показание»."""
    lines = [
        _("{meter}, {last} — send the new reading.").format(
            meter="<b>" + meter_title(meter, zone) + "</b>", last=last_line(meter, zone)
        )
    ]
    sent = meter.sent[zone - 1]
    if sent is not None:
        lines.append(
            _("Sent this period: {value}. A new value corrects it; «Skip» keeps it.").format(
                value=amount(sent.value, meter.decimals, meter.kind)
            )
        )
    if zone == 1 and meter.overdue:
        lines.append(verification_note(meter))
    return "\n".join(lines)


def header(account: AccountRef, state: WindowState, meters: tuple[MeterView, ...]) -> str:
    """The account and its window; the meters whose readings are refused; how to type."""
    lines = [f"📟 <b>{account_line(account)}</b>", open_window_line(state)]
    lines += [verification_note(m) for m in meters if m.refused]
    if all(m.refused for m in meters):
        lines.append(_("There is no meter to send readings of."))
    else:
        lines.append(
            _("Type each value as on the dial (e.g. 123,456); you may attach a photo of the meter.")
        )
    return "\n".join(lines)


def photo_kept() -> str:
    return _("📷 Photo kept with this meter's reading. Now type the value.")


def type_value() -> str:
    return _("Please type the reading as a number, or press «Skip».")


def problem_text(
    problem: Problem, meter: MeterView, zone: int, check: ValueCheck | None = None
) -> str:
    top = number(Decimal(10) ** meter.digits - Decimal(1).scaleb(-meter.decimals), meter.decimals)
    if problem is Problem.NOT_A_NUMBER:
        return _(
            "This is not a number. Send the reading as on the dial, e.g. {example}: digits, "
            "a comma or a dot before the decimals."
        ).format(example=number(Decimal("123.456"), meter.decimals))
    if problem is Problem.NEGATIVE:
        return _("A reading cannot be negative. Send the number shown on the dial.")
    if problem is Problem.TOO_MANY_DIGITS:
        return _(
            "This meter has {digits} digits before the comma (at most {top}). Check the "
            "number: perhaps an extra digit slipped in."
        ).format(digits=meter.digits, top=top)
    if problem is Problem.TOO_MANY_DECIMALS:
        if meter.decimals == 0:
            return _("This meter shows whole numbers only: send the value without decimals.")
        return _(
            "This meter shows {decimals} digits after the comma: send at most {decimals}."
        ).format(decimals=meter.decimals)
    last = check.last if check is not None else meter.last[zone - 1]
    if problem is Problem.LESS_THAN_LAST and last is not None:
        return _(
            "This is less than the last accepted reading, {last}. A meter never goes back: "
            "check the number. If the meter was replaced, tell your supplier."
        ).format(last=amount(last.value, meter.decimals, meter.kind))
    return verification_note(meter)


def caution_text(cautions: tuple[Caution, ...], meter: MeterView, check: ValueCheck) -> str:
    """Why the value needs the resident's confirmation (one message for all reasons)."""
    lines = []
    used = amount(check.consumption or Decimal(0), meter.decimals, meter.kind)
    if Caution.ROLLOVER in cautions and check.last is not None:
        lines.append(
            _(
                "🔄 The value is less than the last one, {last}. Did the meter pass its "
                "largest value and start again from zero? Then the consumption is {used}."
            ).format(last=amount(check.last.value, meter.decimals, meter.kind), used=used)
        )
    if Caution.SPIKE in cautions and check.average is not None:
        lines.append(
            _(
                "📈 The consumption, {used}, is far above your usual {usual} a month. "
                "Check the number."
            ).format(used=used, usual=amount(check.average, meter.decimals, meter.kind))
        )
    if Caution.CEILING in cautions and check.limit is not None:
        lines.append(
            _("📈 The consumption, {used}, is unusually high (over {limit} a month).").format(
                used=used, limit=amount(check.limit.per_month, meter.decimals, meter.kind)
            )
        )
    if {Caution.SPIKE, Caution.CEILING} & set(cautions):
        lines.append(_("If it is right, confirm: an operator will check it."))
    else:
        lines.append(_("If it is right, confirm."))
    return "\n".join(lines)


# --------------------------------------------------------------------------- history
SOURCES = {
    ReadingSource.BILLING: N_("from the supplier"),
    ReadingSource.BOT: N_("via the bot"),
    ReadingSource.OPERATOR: N_("by an operator"),
    ReadingSource.API: N_("via the API"),
}
STATUSES = {
    ReadingStatus.ACCEPTED: "✅",
    ReadingStatus.PENDING: "⏳",
    ReadingStatus.REJECTED: "❌",
    ReadingStatus.CORRECTED: "✏️",
}


def status_legend() -> str:
    return _("✅ accepted · ⏳ being checked · ❌ rejected · ✏️ corrected later")


def known_value(known: Known, meter: MeterView) -> str:
    return amount(known.value, meter.decimals, meter.kind)


def accountant_refused() -> str:
    """An organisation's accountant asked to send readings (issue 14: the role forbids it)."""
    return _(
        "You are this organisation's accountant: you can see the balance, receipts and "
        "history, but meter readings are sent by its manager. Ask an operator if your "
        "role should change."
    )
