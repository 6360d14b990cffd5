"""Texts made of several readings: the summary before Send, the result, the history, the
operator's decision and the reminders (the last two are sent by bot/telegram/notifier.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.services.enums import ReadingStatus, ReminderKind
from bot.services.readings import MeterHistory, ReadingCard, Submission, SubmitResult
from bot.services.readings_reminders import Reminder
from handlers.common.texts import esc
from handlers.readings.texts import (
    SOURCES,
    STATUSES,
    account_line,
    amount,
    day,
    meter_title,
    month,
    status_legend,
    zone_name,
)

#: Telegram's limit of a message (4096) with room for the markup
TEXT_LIMIT = 3900


def _key(meter_id: int, zone: int) -> str:
    return f"{meter_id}:{zone}"


def _cut(lines: list[str]) -> str:
    text = "\n".join(lines)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def summary_text(sub: Submission, values: dict[str, dict[str, Any]]) -> str:
    """Each meter zone: the value typed (with its consumption), kept, or skipped."""
    lines = [
        _("📋 <b>Check before sending</b>"),
        _("{account}, readings for {month}:").format(
            account=account_line(sub.account), month=month(sub.period)
        ),
    ]
    for meter in sub.meters:
        for zone in range(1, meter.zones + 1):
            item = values.get(_key(meter.id, zone))
            title = meter_title(meter, zone)
            sent = meter.sent[zone - 1]
            if item is not None:
                value = amount(Decimal(item["v"]), meter.decimals, meter.kind)
                line = f"• {title}: <b>{value}</b>"
                if item.get("u") is not None:
                    line += " (+" + amount(Decimal(item["u"]), meter.decimals, meter.kind) + ")"
                if sent is not None:
                    line += " — " + _("a correction")
                if {"spike", "ceiling"} & set(item.get("c") or ()):
                    line += "\n  ⏳ " + _("an operator will check it")
            elif sent is not None:
                line = f"• {title}: " + _("sent earlier, {value}").format(
                    value=amount(sent.value, meter.decimals, meter.kind)
                )
            else:
                line = f"• {title}: " + _("skipped")
            lines.append(line)
    lines.append("\n" + _("Nothing is saved until you press «Send»."))
    return _cut(lines)


def sent_text(sub: Submission) -> str:
    """Every meter of the period is sent already: what, and that it may be corrected."""
    lines = [
        _("✅ {account}: the readings for {month} are sent.").format(
            account=account_line(sub.account), month=month(sub.period)
        )
    ]
    for meter in sub.meters:
        for zone in range(1, meter.zones + 1):
            sent = meter.sent[zone - 1]
            if sent is not None:
                mark = STATUSES.get(sent.status, "")
                value = amount(sent.value, meter.decimals, meter.kind)
                lines.append(f"{mark} {meter_title(meter, zone)}: {value}")
    lines.append(
        _("You can correct them until {closes}.").format(closes=day(sub.state.window.closes_on))
    )
    return _cut(lines)


def stored_text(sub: Submission, result: SubmitResult) -> str:
    lines = [
        _("✅ Sent — {account}, readings for {month}:").format(
            account=account_line(sub.account), month=month(sub.period)
        )
    ]
    review = False
    for item in result.stored:
        meter = sub.meter(item.meter_id)
        title = meter_title(meter, item.zone) if meter else esc(item.serial)
        value = amount(item.value, item.decimals, item.kind)
        line = f"{STATUSES.get(item.status, '')} {title}: {value}"
        if item.corrected:
            line += " — " + _("corrected")
        review = review or item.status is ReadingStatus.PENDING
        lines.append(line)
    if review:
        lines.append(_("⏳ An operator will check the marked values; I will tell you the result."))
    if result.window is not None:
        lines.append(
            _("You can correct them until {closes}.").format(closes=day(result.window.closes_on))
        )
    return _cut(lines)


# --------------------------------------------------------------------------- history
def history_text(history: MeterHistory) -> str:
    meter = history.meter
    lines = [
        _("📈 <b>{meter}</b>").format(meter=meter_title(meter)),
        account_line(history.account),
    ]
    if not history.entries:
        lines.append(_("No readings of this meter yet."))
    for entry in history.entries:
        when = day(entry.taken_on) if entry.taken_on else day(entry.submitted_at.date())
        values = "; ".join(
            (zone_name(zone, meter.zones) + " " if meter.zones > 1 else "")
            + amount(value, meter.decimals, meter.kind)
            + " "
            + STATUSES.get(status, "")
            for zone, value, status in entry.values
        )
        lines.append(f"{when} · {values} · {_(SOURCES[entry.source])}")
    if history.entries:
        lines.append(status_legend())
    return _cut(lines)


# --------------------------------------------------------------------------- told later
def decision_text(card: ReadingCard) -> str:
    """The operator's decision, in the resident's language."""
    value = amount(card.value, card.decimals, card.kind)
    meter = _("{service} № {serial}").format(service=esc(card.service), serial=esc(card.serial))
    if card.zones > 1:
        meter += ", " + zone_name(card.zone, card.zones)
    where = _("account № {number}, {month}").format(
        number=esc(card.account_number), month=month(card.period)
    )
    if card.status is ReadingStatus.ACCEPTED:
        return _("✅ The operator accepted your reading {value} of {meter} ({where}).").format(
            value=value, meter=meter, where=where
        )
    return _(
        "❌ The operator did not accept your reading {value} of {meter} ({where}). Please "
        "check the meter and send the reading again — with a photo of the dial — while "
        "readings for {month} are taken (until {closes})."
    ).format(
        value=value,
        meter=meter,
        where=where,
        month=month(card.period),
        closes=day(card.window.closes_on),
    )


def reminder_text(reminder: Reminder) -> str:
    where = _("account № {number} ({supplier}), {address}").format(
        number=esc(reminder.account_number),
        supplier=esc(reminder.supplier_name),
        address=esc(reminder.address) or "—",
    )
    if reminder.kind is ReminderKind.END:
        text = _(
            "⏰ Two days left to send meter readings for {month}: {where}. They are accepted "
            "until {closes} inclusive."
        )
    else:
        text = _(
            "📟 Time to send meter readings for {month}: {where}. They are accepted until {closes}."
        )
    body = text.format(month=month(reminder.period), where=where, closes=day(reminder.closes_on))
    return body + "\n\n" + _("Reminders can be turned off in ⚙️ Settings.")
