"""SUPPORT_HOURS: when operators work, in Moscow time.

Format: one or more groups separated by `;` or `,`, each `DAYS HH:MM-HH:MM`, where DAYS is
a day (`Mon`) or a range (`Mon-Fri`) of Mon Tue Wed Thu Fri Sat Sun, e.g.
`Mon-Fri 09:00-18:00; Sat 10:00-14:00`. Unset or empty: around the clock (nothing is said).
An end before the start is refused (night shifts: two groups).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GROUP = re.compile(
    r"^(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)


class HoursError(ValueError):
    """SUPPORT_HOURS does not follow the format (the message says how)."""


@dataclass(frozen=True)
class Shift:
    days: tuple[int, ...]  # 0 = Monday
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class SupportHours:
    shifts: tuple[Shift, ...] = ()
    text: str = ""  # as configured, normalised (shown to residents)

    @property
    def always(self) -> bool:
        return not self.shifts

    def open_at(self, moment: dt.datetime) -> bool:
        """Whether operators work at this moment (an aware datetime)."""
        if self.always:
            return True
        local = moment.astimezone(MOSCOW)
        now = local.time()
        return any(
            local.weekday() in shift.days and shift.start <= now < shift.end
            for shift in self.shifts
        )


def _time(value: str) -> dt.time:
    hours, minutes = (int(part) for part in value.split(":"))
    if hours == 24 and minutes == 0:
        return dt.time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise HoursError(f"{value} is not a time of day (00:00–24:00)")
    return dt.time(hours, minutes)


def _group(raw: str) -> Shift:
    found = _GROUP.match(raw.strip().lower())
    if found is None:
        raise HoursError(
            f"{raw.strip()!r} is not like 'Mon-Fri 09:00-18:00' "
            "(days Mon Tue Wed Thu Fri Sat Sun, times HH:MM, Moscow time)"
        )
    first, last = found["first"], found["last"] or found["first"]
    if first not in DAYS or last not in DAYS:
        raise HoursError(f"{raw.strip()!r}: days are Mon Tue Wed Thu Fri Sat Sun")
    a, b = DAYS.index(first), DAYS.index(last)
    if b < a:
        raise HoursError(f"{raw.strip()!r}: the days run backwards (write Mon-Fri, not Fri-Mon)")
    start, end = _time(found["start"]), _time(found["end"])
    if end <= start:
        raise HoursError(f"{raw.strip()!r}: the end is not after the start")
    return Shift(tuple(range(a, b + 1)), start, end)


def parse_hours(value: str | None) -> SupportHours:
    """SUPPORT_HOURS → SupportHours; raises HoursError saying what is wrong."""
    if value is None or not value.strip():
        return SupportHours()
    groups = [g for g in re.split(r"[;,]", value) if g.strip()]
    shifts = tuple(_group(g) for g in groups)
    text = "; ".join(" ".join(g.split()) for g in groups)
    return SupportHours(shifts, text)
