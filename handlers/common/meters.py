"""How meter values, units, zones and periods are written — shared by the readings feature
and the staff chat's reading cards (handlers/staff/readings.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.services.readings_rules import ServiceKind
from handlers.common.texts import N_

UNITS = {
    ServiceKind.WATER: N_("m³"),
    ServiceKind.GAS: N_("m³"),
    ServiceKind.HEAT: N_("Gcal"),
    ServiceKind.ELECTRICITY: N_("kWh"),
}
ZONES = {1: N_("T1 (day)"), 2: N_("T2 (night)"), 3: N_("T3 (peak)")}


def locale() -> str:
    try:
        return get_i18n().current_locale
    except LookupError:  # outside an update (a test rendering a text)
        return "ru"


def number(value: Decimal, decimals: int) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale())


def unit(kind: ServiceKind) -> str:
    msgid = UNITS.get(kind)
    return _(msgid) if msgid else ""


def amount(value: Decimal, decimals: int, kind: ServiceKind) -> str:
    """A value with its unit: «123,456 м³»."""
    return f"{number(value, decimals)} {unit(kind)}".strip()


def day(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def month(period: str) -> str:
    first = dt.date(int(period[:4]), int(period[5:7]), 1)
    return format_date(first, "LLLL yyyy", locale=locale())


def zone_name(zone: int, zones: int) -> str:
    return _(ZONES[zone]) if zones > 1 else ""
