"""The rules of a meter reading, as pure functions (no database, no Telegram).

Each check of a typed reading has its own outcome, so the resident is told exactly what
is wrong and how to fix it (README, "Meter readings"):

- `parse_value`: a number (comma or dot, digits of any script, spaces between digit
  groups), not negative, at most the meter's integer digits and decimals;
- `against_last`: not less than the last accepted reading, unless the meter rolled over
  (the last value in the top tenth of the dial and the new one in the bottom tenth):
  then the consumption runs across the rollover and the resident confirms it;
- `unusual`: consumption per month above READING_SPIKE_FACTOR × the average monthly
  consumption of at least six months of history, or — with less history — above the
  service's monthly ceiling; the resident confirms, an operator reviews;
- `window_state`: the supplier's window `start..end`; with start > end it runs over the
  month end. A reading belongs to the period (month) in which its window OPENED: in a
  28..5 window, a reading of 3 December belongs to November;
- `verification_overdue`: the meter's verification (поверка) date has passed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.services import textnorm
from bot.services.enums import ReminderKind

#: a reading typed longer than this is not a reading
MAX_INPUT = 40
#: rollover: the last value in the top tenth of what the digits allow, the new one in the
#: bottom tenth
ROLLOVER_NEAR = Decimal("0.9")
ROLLOVER_SMALL = Decimal("0.1")
#: months of history the average needs; with less, the service's ceiling applies
HISTORY_MONTHS = 6
#: below this share of the service's ceiling nothing is a spike (an empty flat's tiny
#: average must not make every ordinary reading suspicious)
SPIKE_FLOOR_SHARE = Decimal("0.1")
#: a reminder before the window closes, this many days before its last day
END_REMINDER_DAYS = 2


class ServiceKind(enum.StrEnum):
    WATER = "water"
    HEAT = "heat"
    GAS = "gas"
    ELECTRICITY = "electricity"
    OTHER = "other"


#: words of a meter's service name (billing writes it in Russian, sometimes English)
_KIND_WORDS: tuple[tuple[ServiceKind, tuple[str, ...]], ...] = (
    (ServiceKind.HEAT, ("тепл", "отопл", "гкал", "heat")),
    (ServiceKind.ELECTRICITY, ("электр", "electr", "квт", "kwh")),
    (ServiceKind.GAS, ("газ", "gas")),
    (ServiceKind.WATER, ("вод", "хвс", "гвс", "water")),
)


def service_kind(service: str) -> ServiceKind:
    """What a meter measures, from its service name («Холодная вода» → water)."""
    name = service.casefold()
    for kind, words in _KIND_WORDS:
        if any(word in name for word in words):
            return kind
    return ServiceKind.OTHER


DEFAULT_CEILINGS: Mapping[ServiceKind, Decimal] = {
    ServiceKind.WATER: Decimal(30),  # m³ a month, per meter
    ServiceKind.HEAT: Decimal(5),  # Gcal a month
    ServiceKind.GAS: Decimal(1000),  # m³ a month (a house heated with gas in winter)
    ServiceKind.ELECTRICITY: Decimal(3000),  # kWh a month, per zone
}


@dataclass(frozen=True)
class ReadingRules:
    """The settings the checks use (built from Settings by the middleware)."""

    spike_factor: Decimal = Decimal(5)
    ceilings: Mapping[ServiceKind, Decimal] = field(default_factory=lambda: DEFAULT_CEILINGS)
    early_days: int = 0  # readings accepted this many days before a window opens
    refuse_unverified: bool = False  # refuse readings of meters past verification


# --------------------------------------------------------------------------- the number
class Problem(enum.StrEnum):
    """A reading that cannot be taken as typed (the resident types it again)."""

    NOT_A_NUMBER = "not_a_number"
    NEGATIVE = "negative"
    TOO_MANY_DIGITS = "too_many_digits"
    TOO_MANY_DECIMALS = "too_many_decimals"
    LESS_THAN_LAST = "less_than_last"
    UNVERIFIED = "unverified"  # past verification, and REFUSE_UNVERIFIED is on


class Caution(enum.StrEnum):
    """A reading that may be right: the resident confirms it."""

    ROLLOVER = "rollover"
    SPIKE = "spike"  # far above the resident's usual consumption (operator reviews)
    CEILING = "ceiling"  # above the service's monthly ceiling, little history (reviews)


#: cautions that send the reading to an operator once confirmed
REVIEWED = frozenset({Caution.SPIKE, Caution.CEILING})

_DIGITS = re.compile(r"[0-9]*")
_GROUPED = re.compile(r"[0-9]{1,3}(?: [0-9]{3})+")
_MINUS = ("-", "−", "–", "—")


# digits of any script and odd spaces: the project's one rule (bot/services/textnorm.py)
ascii_digits = textnorm.ascii_digits


def parse_value(raw: str, digits: int, decimals: int) -> Decimal | Problem:
    """A typed reading → its value, or what is wrong with it.

    «123,456», «123.456», «12 345,6» (spaces between groups), «００１２３» (leading zeros
    are on every dial) are numbers; trailing zeros after the point do not count as
    decimals («5,10» on a one-decimal dial is 5.1).
    """
    text = ascii_digits(raw or "").replace("\u066b", ",").strip()  # ٫ Arabic decimal sign
    if not text:
        return Problem.NOT_A_NUMBER
    if len(text) > MAX_INPUT:  # a long run of digits is a number with too many of them
        return Problem.TOO_MANY_DIGITS if _DIGITS.fullmatch(text) else Problem.NOT_A_NUMBER
    negative = text.startswith(_MINUS)
    if negative:
        text = text[1:].strip()
    if text.count(",") + text.count(".") > 1:
        return Problem.NOT_A_NUMBER
    whole, _, fraction = text.replace(",", ".").partition(".")
    whole, fraction = whole.strip(), fraction.strip()
    if " " in whole and _GROUPED.fullmatch(whole):  # «12 345,6»: groups of three
        whole = whole.replace(" ", "")
    if not (_DIGITS.fullmatch(whole) and _DIGITS.fullmatch(fraction)) or not (whole or fraction):
        return Problem.NOT_A_NUMBER
    fraction = fraction.rstrip("0")
    value = Decimal(f"{whole or '0'}.{fraction or '0'}")
    if negative and value != 0:
        return Problem.NEGATIVE
    if len(whole.lstrip("0")) > digits:
        return Problem.TOO_MANY_DIGITS
    if len(fraction) > decimals:
        return Problem.TOO_MANY_DECIMALS
    return value.quantize(Decimal(1).scaleb(-decimals)) if decimals else value.quantize(1)


def largest(digits: int, decimals: int) -> Decimal:
    """The largest value a dial shows (99999.999 for 5 + 3)."""
    return Decimal(10) ** digits - Decimal(1).scaleb(-decimals)


# --------------------------------------------------------------------------- the last value
@dataclass(frozen=True)
class Progress:
    consumption: Decimal
    rollover: bool = False


def against_last(value: Decimal, last: Decimal, digits: int) -> Progress | Problem:
    """Consumption since the last accepted value; LESS_THAN_LAST unless it is a rollover."""
    if value >= last:
        return Progress(value - last)
    dial = Decimal(10) ** digits
    if last >= dial * ROLLOVER_NEAR and value < dial * ROLLOVER_SMALL:
        return Progress(dial - last + value, rollover=True)
    return Problem.LESS_THAN_LAST


def step(previous: Decimal, current: Decimal, digits: int) -> Decimal | None:
    """Consumption between two accepted values of history (None: not comparable, e.g. a
    meter replaced without a new serial)."""
    found = against_last(current, previous, digits)
    return found.consumption if isinstance(found, Progress) else None


# --------------------------------------------------------------------------- periods
def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(earlier: str, later: str) -> int:
    return (int(later[:4]) * 12 + int(later[5:7])) - (int(earlier[:4]) * 12 + int(earlier[5:7]))


# --------------------------------------------------------------------------- consumption
def monthly_average(points: Sequence[tuple[str, Decimal]], digits: int) -> Decimal | None:
    """The average monthly consumption over at least HISTORY_MONTHS months ending at the
    last point; None with less history.

    `points` are accepted values by period (one per period), oldest first. The start is
    the newest point at least six months before the last one, so a missing month inside
    does not throw the history away.
    """
    if not points:
        return None
    end_period = points[-1][0]
    starts = [i for i, (p, _) in enumerate(points) if months_between(p, end_period) >= 6]
    if not starts:
        return None
    first = starts[-1]
    total = Decimal(0)
    for (_, before), (_, after) in zip(points[first:], points[first + 1 :], strict=False):
        used = step(before, after, digits)
        if used is None:
            return None
        total += used
    return total / months_between(points[first][0], end_period)


@dataclass(frozen=True)
class Limit:
    """The monthly consumption above which a reading is unusual, and why."""

    caution: Caution
    per_month: Decimal


def limit_of(average: Decimal | None, ceiling: Decimal | None, factor: Decimal) -> Limit | None:
    """SPIKE above factor × the average (never below a tenth of the ceiling); with no
    average, CEILING above the ceiling; None when neither is known."""
    if average is not None:
        floor = ceiling * SPIKE_FLOOR_SHARE if ceiling is not None else Decimal(0)
        return Limit(Caution.SPIKE, max(factor * average, floor))
    if ceiling is not None:
        return Limit(Caution.CEILING, ceiling)
    return None


def unusual(consumption: Decimal, months: int, limit: Limit | None) -> Caution | None:
    """The caution when the consumption per month is above the limit."""
    if limit is None:
        return None
    return limit.caution if consumption / max(months, 1) > limit.per_month else None


def verification_overdue(due: dt.date | None, today: dt.date) -> bool:
    """Past the verification date (the date itself is still fine)."""
    return due is not None and due < today


# --------------------------------------------------------------------------- windows
@dataclass(frozen=True)
class Window:
    """A window of one period: readings of `period` are taken from `opens_on` to
    `closes_on`, both days included."""

    period: str
    opens_on: dt.date
    closes_on: dt.date

    @property
    def wraps(self) -> bool:
        return self.closes_on.month != self.opens_on.month

    def open_on(self, day: dt.date) -> bool:
        return self.opens_on <= day <= self.closes_on


def _day(year: int, month: int, day: int) -> dt.date:
    """The day of a month, or its last day when the month is shorter (31 → 30 April)."""
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def window_of(period: str, start_day: int, end_day: int) -> Window:
    """The window of a period: start..end of its month, or — when start > end — from the
    start day of its month to the end day of the next month."""
    year, month = int(period[:4]), int(period[5:7])
    opens = _day(year, month, start_day)
    if start_day <= end_day:
        return Window(period, opens, _day(year, month, end_day))
    following = shift(period, 1)
    return Window(period, opens, _day(int(following[:4]), int(following[5:7]), end_day))


@dataclass(frozen=True)
class WindowState:
    """Whether readings are taken today and for which window.

    Open: `window` is the one readings go to (`early` when it opens later and early
    readings are allowed). Closed: `window` is the next one.
    """

    open: bool
    window: Window
    early: bool = False


def window_state(
    today: dt.date, start_day: int, end_day: int, *, early_days: int = 0
) -> WindowState:
    this = period_of(today)
    windows = [window_of(shift(this, n), start_day, end_day) for n in (-1, 0, 1)]
    current = [w for w in windows if w.open_on(today)]
    if current:  # two only when a wrapped window meets the next one: the closing one first
        return WindowState(True, current[0])
    upcoming = min((w for w in windows if w.opens_on > today), key=lambda w: w.opens_on)
    if early_days > 0 and (upcoming.opens_on - today).days <= early_days:
        return WindowState(True, upcoming, early=True)
    return WindowState(False, upcoming)


def reminder_due(today: dt.date, window: Window) -> ReminderKind | None:
    """Which reminder of the window is due today: START from the first day, END from two
    days before the last day (a day missed while the bot was down is caught up later)."""
    if not window.open_on(today):
        return None
    end_from = window.closes_on - dt.timedelta(days=END_REMINDER_DAYS)
    if end_from > window.opens_on and today >= end_from:
        return ReminderKind.END
    return ReminderKind.START
