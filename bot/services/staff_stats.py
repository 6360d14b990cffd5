"""/stats: what the desk has on its plate, as a list of labelled counts.

`COUNTS` is the list: each entry is a label (a gettext msgid, translated by the handler)
and a function of the unit of work and the current period; one more count is one more
line there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.services.clock import Clock
from bot.services.codes import DAY_ZONE
from bot.services.enums import LinkStatus, ReadingStatus
from storage.uow import UnitOfWork


def N_(msgid: str) -> str:
    """Marks a label for the catalogs (translated where it is shown)."""
    return msgid


@dataclass(frozen=True)
class Stat:
    label: str  # msgid
    count: Callable[[UnitOfWork, str], Awaitable[int]]


COUNTS: tuple[Stat, ...] = (
    Stat(N_("Registered residents"), lambda uow, period: uow.staff.count_residents()),
    Stat(N_("Link requests waiting"), lambda uow, p: uow.staff.count_links(LinkStatus.PENDING)),
    Stat(N_("Readings sent this period"), lambda uow, period: uow.staff.count_readings(period)),
    Stat(
        N_("Readings waiting for review"),
        lambda uow, period: uow.staff.count_readings(period, ReadingStatus.PENDING),
    ),
    Stat(N_("Open support tickets"), lambda uow, period: uow.support.count_open()),
    Stat(N_("Banned residents"), lambda uow, period: uow.staff.count_banned()),
)


@dataclass(frozen=True)
class StatLine:
    label: str  # msgid
    value: int


@dataclass(frozen=True)
class StaffStats:
    period: str  # YYYY-MM (Moscow)
    lines: tuple[StatLine, ...]


class StaffStatsService:
    def __init__(self, uow: UnitOfWork, clock: Clock, counts: tuple[Stat, ...] = COUNTS) -> None:
        self.uow = uow
        self.clock = clock
        self.counts = counts

    async def stats(self) -> StaffStats:
        period = self.clock.now().astimezone(DAY_ZONE).strftime("%Y-%m")
        lines = [StatLine(s.label, await s.count(self.uow, period)) for s in self.counts]
        return StaffStats(period, tuple(lines))
