"""Meter readings: submission with checks, review by operators, correction, history.

The rules of one value are pure functions in `readings_rules`; this service reads what
they need (the meter, the last accepted readings, the supplier's window) and stores what
the resident sends. Built per update by ServicesMiddleware (`readings: ReadingsService`).

- Nothing is stored before Send: the conversation keeps the typed values (FSM) and asks
  `check()` about each one; `submit()` checks them all again against the data as it is
  now and stores the whole batch in one transaction, once per batch key (a double press
  or a redelivered update stores nothing more).
- A confirmed unusual value (SPIKE or CEILING) is stored "pending" and posted to the staff
  chat (StaffDesk) with Accept / Reject; the resident is told the decision
  (ResidentNotifier). Without a staff chat there is nobody to review: it is accepted.
- A second value of the same meter zone in a period is a correction: the first one
  becomes "corrected" (kept, shown in the history, audited), the new one links to it.
- Only accepted readings reach billing (`export-readings`, the API).
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from bot.services import readings_rules as rules
from bot.services.clock import Clock
from bot.services.codes import DAY_ZONE
from bot.services.enums import LinkStatus, ReadingSource, ReadingStatus, RepresentativeRole
from bot.services.ports import Delivery, DeskUnavailable, ResidentNotifier, StaffDesk
from bot.services.readings_rules import (
    REVIEWED,
    Caution,
    Problem,
    ReadingRules,
    ServiceKind,
    Window,
    WindowState,
)
from storage.models import Account, Meter, Reading
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("kabinet.readings")

# audit actions
SUBMITTED = "reading_submitted"
CORRECTED = "reading_corrected"
DECIDED = "reading_decided"

#: readings (submissions) of a meter shown in its history, and periods in its chart
HISTORY_SIZE = 12
#: months of readings read for the checks and the chart
LOOKBACK_MONTHS = 14
#: a photo's file_id as stored
MAX_FILE_ID = 255
#: batch keys are made by the conversation; anything longer is not one of ours
MAX_BATCH = 32


def rules_from(settings: Settings) -> ReadingRules:
    return ReadingRules(
        spike_factor=Decimal(str(settings.reading_spike_factor)),
        ceilings={
            ServiceKind.WATER: settings.reading_ceiling_water,
            ServiceKind.HEAT: settings.reading_ceiling_heat,
            ServiceKind.GAS: settings.reading_ceiling_gas,
            ServiceKind.ELECTRICITY: settings.reading_ceiling_electricity,
        },
        early_days=settings.reading_early_days,
        refuse_unverified=settings.reading_refuse_unverified,
    )


# --------------------------------------------------------------------------- what leaves
@dataclass(frozen=True)
class AccountRef:
    id: int
    number: str
    supplier_name: str
    address: str
    window_start_day: int
    window_end_day: int


@dataclass(frozen=True)
class Known:
    """A stored reading of one zone."""

    id: int
    value: Decimal
    taken_on: dt.date | None
    period: str
    status: ReadingStatus
    source: ReadingSource
    submitted_at: dt.datetime


@dataclass(frozen=True)
class MeterView:
    id: int
    serial: str
    service: str
    kind: ServiceKind
    zones: int
    digits: int
    decimals: int
    verification_due: dt.date | None
    overdue: bool  # past its verification date
    refused: bool  # overdue and READING_REFUSE_UNVERIFIED: its readings are not taken
    last: tuple[Known | None, ...]  # the last accepted reading, per zone
    sent: tuple[Known | None, ...]  # the resident's live reading of the period, per zone

    @property
    def done(self) -> bool:
        return all(self.sent)


@dataclass(frozen=True)
class Submission:
    """An account's meters as the submission sees them today."""

    account: AccountRef
    state: WindowState
    meters: tuple[MeterView, ...]

    @property
    def period(self) -> str:
        return self.state.window.period

    def meter(self, meter_id: int) -> MeterView | None:
        return next((m for m in self.meters if m.id == meter_id), None)

    def steps(self, meter_ids: Sequence[int] | None = None) -> list[tuple[int, int]]:
        """(meter, zone) to ask for: the given meters, or every zone not sent yet."""
        if meter_ids is not None:
            chosen = [self.meter(i) for i in meter_ids]
            return [(m.id, z) for m in chosen if m and not m.refused for z in range(1, m.zones + 1)]
        return [
            (m.id, z)
            for m in self.meters
            if not m.refused
            for z in range(1, m.zones + 1)
            if m.sent[z - 1] is None
        ]


@dataclass(frozen=True)
class ValueCheck:
    """What the checks say about one typed value."""

    value: Decimal | None
    problem: Problem | None = None
    cautions: tuple[Caution, ...] = ()
    consumption: Decimal | None = None
    last: Known | None = None
    average: Decimal | None = None
    limit: rules.Limit | None = None
    months: int = 1

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Entry:
    """One value the resident sends (the conversation's note of it)."""

    meter_id: int
    zone: int
    value: str
    confirmed: frozenset[Caution] = frozenset()
    photo_file_id: str | None = None


class SubmitOutcome(enum.StrEnum):
    STORED = "stored"
    ALREADY_STORED = "already_stored"  # this batch was stored before (double press)
    CLOSED = "closed"  # the window closed meanwhile: nothing stored
    CHANGED = "changed"  # the data changed meanwhile (a new caution, a meter gone)
    REFUSED = "refused"  # a value is wrong against the data as it is now (.problem)
    NOTHING = "nothing"  # every meter was skipped
    UNAVAILABLE = "unavailable"  # not the resident's account (any more)


@dataclass(frozen=True)
class StoredReading:
    reading_id: int
    meter_id: int
    serial: str
    kind: ServiceKind
    zone: int
    zones: int
    value: Decimal
    decimals: int
    status: ReadingStatus
    corrected: bool
    consumption: Decimal | None


@dataclass(frozen=True)
class SubmitResult:
    outcome: SubmitOutcome
    stored: tuple[StoredReading, ...] = ()
    window: Window | None = None
    problem: tuple[int, int, Problem] | None = None  # meter, zone, what


@dataclass(frozen=True)
class ReadingCard:
    """What the staff card of a reading to review shows (and the resident is told)."""

    reading_id: int
    status: ReadingStatus
    supplier_name: str
    account_number: str
    address: str
    serial: str
    service: str
    kind: ServiceKind
    zone: int
    zones: int
    value: Decimal
    decimals: int
    period: str
    submitted_at: dt.datetime
    consumption: Decimal | None
    rolled_over: bool
    flag: Caution | None
    last: Known | None
    average: Decimal | None
    limit: rules.Limit | None
    months: int
    recent: tuple[Known, ...]  # accepted readings before it, newest first (≤ 3)
    photo_file_id: str | None
    resident_id: int | None
    resident_language: str | None
    window: Window
    decided_by_name: str | None = None
    decided_at: dt.datetime | None = None
    staff_chat_id: int | None = None
    staff_message_id: int | None = None


class DecisionOutcome(enum.StrEnum):
    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"  # another operator, or the resident corrected it
    GONE = "gone"  # no such reading


@dataclass(frozen=True)
class ReadingDecision:
    outcome: DecisionOutcome
    card: ReadingCard | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One submission (every zone of it) in a meter's history."""

    submitted_at: dt.datetime
    taken_on: dt.date | None
    source: ReadingSource
    values: tuple[tuple[int, Decimal, ReadingStatus], ...]  # zone, value, status


@dataclass(frozen=True)
class MeterHistory:
    account: AccountRef
    meter: MeterView
    entries: tuple[HistoryEntry, ...]  # newest first, ≤ HISTORY_SIZE
    #: (period, consumption per zone) of the accepted readings, oldest first
    consumption: tuple[tuple[str, tuple[Decimal | None, ...]], ...] = field(default=())


# --------------------------------------------------------------------------- helpers
def _plain(value: Decimal) -> str:
    """A value as text without the column's trailing zeros (133.000000 → 133)."""
    return format(Decimal(value).normalize(), "f")


def _known(row: Reading) -> Known:
    return Known(
        id=row.id,
        value=Decimal(row.value),
        taken_on=row.taken_on,
        period=row.period,
        status=ReadingStatus(row.status),
        source=ReadingSource(row.source),
        submitted_at=row.submitted_at,
    )


def _account_ref(account: Account) -> AccountRef:
    return AccountRef(
        id=account.id,
        number=account.number,
        supplier_name=account.supplier.name,
        address=account.address,
        window_start_day=account.supplier.window_start_day,
        window_end_day=account.supplier.window_end_day,
    )


def _own(row: Reading, period: str) -> bool:
    """A resident's submission of this period (what a new value of the period corrects)."""
    return row.source == ReadingSource.BOT.value and row.period == period


def _order(row: Reading) -> tuple[dt.date, dt.datetime, int]:
    return (row.taken_on or row.submitted_at.date(), row.submitted_at, row.id)


@dataclass(frozen=True)
class _Basis:
    """What a new value of a zone is checked against."""

    last: Known | None
    average: Decimal | None
    months: int


def _basis_of(rows: Sequence[Reading], zone: int, period: str, digits: int) -> _Basis:
    """The last accepted reading (not the period's own submission) and the average."""
    accepted = sorted(
        (
            r
            for r in rows
            if r.zone == zone and r.status == ReadingStatus.ACCEPTED.value and not _own(r, period)
        ),
        key=_order,
    )
    if not accepted:
        return _Basis(None, None, 1)
    by_period: dict[str, Decimal] = {}
    for row in accepted:
        by_period[row.period] = Decimal(row.value)
    points = sorted(by_period.items())
    last = _known(accepted[-1])
    months = max(1, rules.months_between(last.period, period))
    return _Basis(last, rules.monthly_average(points, digits), months)


def _sent_of(rows: Sequence[Reading], zone: int, period: str) -> Known | None:
    live = [
        r
        for r in rows
        if r.zone == zone
        and _own(r, period)
        and r.status in (ReadingStatus.ACCEPTED.value, ReadingStatus.PENDING.value)
    ]
    return _known(max(live, key=_order)) if live else None


def consumption_series(
    rows: Sequence[Reading], zones: int, digits: int
) -> list[tuple[str, tuple[Decimal | None, ...]]]:
    """Consumption per period from accepted readings (the latest of each period); a gap of
    several months counts in the period of the reading that ends it."""
    values: dict[str, dict[int, Decimal]] = {}
    for row in sorted(rows, key=_order):
        if row.status == ReadingStatus.ACCEPTED.value:
            values.setdefault(row.period, {})[row.zone] = Decimal(row.value)
    periods = sorted(values)
    series: list[tuple[str, tuple[Decimal | None, ...]]] = []
    for before, after in itertools.pairwise(periods):
        used: list[Decimal | None] = []
        for zone in range(1, zones + 1):
            a, b = values[before].get(zone), values[after].get(zone)
            used.append(rules.step(a, b, digits) if a is not None and b is not None else None)
        series.append((after, tuple(used)))
    return series


def _entries(rows: Sequence[Reading], limit: int) -> tuple[HistoryEntry, ...]:
    """Rows (newest first) grouped into submissions: one per moment and source."""
    groups: list[HistoryEntry] = []
    for row in rows:
        key = (row.submitted_at, ReadingSource(row.source))
        item = (row.zone, Decimal(row.value), ReadingStatus(row.status))
        if groups and (groups[-1].submitted_at, groups[-1].source) == key:
            last = groups[-1]
            groups[-1] = HistoryEntry(
                last.submitted_at, last.taken_on, last.source, tuple(sorted((*last.values, item)))
            )
            continue
        if len(groups) == limit:
            break
        groups.append(HistoryEntry(key[0], row.taken_on, key[1], (item,)))
    return tuple(groups)


class ReadingsService:
    """The readings use cases of one update (or of one scheduler round).

    `desk` is None without STAFF_CHAT_ID (nobody reviews: unusual values are accepted).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        rules: ReadingRules,
        desk: StaffDesk | None,
        notifier: ResidentNotifier,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.rules = rules
        self.desk = desk
        self.notifier = notifier

    def today(self) -> dt.date:
        """The residents' day: Moscow."""
        return self.clock.now().astimezone(DAY_ZONE).date()

    async def _account(
        self, user_id: int, account_id: int, *, send: bool = False
    ) -> Account | None:
        """The account when this resident has an active link to it (else None); for
        sending (`send`), not when they are an organisation's accountant (issue 14)."""
        link = await self.uow.links.link_of(user_id, account_id)
        active = link is not None and link.status == LinkStatus.ACTIVE.value
        if send and link is not None and link.role == RepresentativeRole.ACCOUNTANT.value:
            return None
        return link.account if link is not None and active else None

    async def may_send(self, user_id: int, account_id: int) -> bool:
        """False when the resident is an organisation's accountant for this account: the
        role sees balance, receipts and history, and never sends readings (issue 14)."""
        link = await self.uow.links.link_of(user_id, account_id)
        return link is None or link.role != RepresentativeRole.ACCOUNTANT.value

    def _state(self, account: Account, today: dt.date) -> WindowState:
        supplier = account.supplier
        return rules.window_state(
            today,
            supplier.window_start_day,
            supplier.window_end_day,
            early_days=self.rules.early_days,
        )

    async def _rows(self, meter_ids: Sequence[int], period: str) -> list[Reading]:
        if not meter_ids:
            return []
        return await self.uow.readings.recent(meter_ids, rules.shift(period, -LOOKBACK_MONTHS))

    async def _basis(self, meter: Meter, zone: int, period: str, rows: Sequence[Reading]) -> _Basis:
        basis = _basis_of(rows, zone, period, meter.digits)
        if basis.last is None:  # nothing recent: the last one from long ago, if any
            since = rules.shift(period, -LOOKBACK_MONTHS)
            older = await self.uow.readings.last_accepted_before(meter.id, zone, since)
            if older is not None:
                last = _known(older)
                return _Basis(last, None, max(1, rules.months_between(last.period, period)))
        return basis

    async def _meter_view(
        self, meter: Meter, rows: Sequence[Reading], period: str, today: dt.date
    ) -> MeterView:
        mine = [r for r in rows if r.meter_id == meter.id]
        zones = range(1, meter.zones + 1)
        overdue = rules.verification_overdue(meter.verification_due, today)
        return MeterView(
            id=meter.id,
            serial=meter.serial,
            service=meter.service,
            kind=rules.service_kind(meter.service),
            zones=meter.zones,
            digits=meter.digits,
            decimals=meter.decimals,
            verification_due=meter.verification_due,
            overdue=overdue,
            refused=overdue and self.rules.refuse_unverified,
            last=tuple([(await self._basis(meter, z, period, mine)).last for z in zones]),
            sent=tuple(_sent_of(mine, z, period) for z in zones),
        )

    async def submission(self, user_id: int, account_id: int) -> Submission | None:
        """The account's window today and its meters (None: not the resident's account)."""
        account = await self._account(user_id, account_id)
        if account is None:
            return None
        today = self.today()
        state = self._state(account, today)
        meters = await self.uow.readings.meters_of(account.id)
        rows = await self._rows([m.id for m in meters], state.window.period)
        views = [await self._meter_view(m, rows, state.window.period, today) for m in meters]
        return Submission(_account_ref(account), state, tuple(views))

    async def _evaluate(
        self, meter: Meter, zone: int, value: Decimal, period: str, rows: Sequence[Reading]
    ) -> ValueCheck:
        """Every check after the number itself: verification, the last value, consumption."""
        if self.rules.refuse_unverified and rules.verification_overdue(
            meter.verification_due, self.today()
        ):
            return ValueCheck(value, Problem.UNVERIFIED)
        basis = await self._basis(meter, zone, period, [r for r in rows if r.meter_id == meter.id])
        if basis.last is None:
            return ValueCheck(value)  # the first reading of the meter: nothing to compare
        found = rules.against_last(value, basis.last.value, meter.digits)
        if isinstance(found, Problem):
            return ValueCheck(value, found, last=basis.last)
        cautions = [Caution.ROLLOVER] if found.rollover else []
        ceiling = self.rules.ceilings.get(rules.service_kind(meter.service))
        limit = rules.limit_of(basis.average, ceiling, self.rules.spike_factor)
        caution = rules.unusual(found.consumption, basis.months, limit)
        if caution is not None:
            cautions.append(caution)
        return ValueCheck(
            value,
            cautions=tuple(cautions),
            consumption=found.consumption,
            last=basis.last,
            average=basis.average,
            limit=limit,
            months=basis.months,
        )

    async def _meter_of(self, account: Account, meter_id: int, zone: int) -> Meter | None:
        meter = await self.uow.readings.meter(meter_id)
        if meter is None or meter.account_id != account.id or not 1 <= zone <= meter.zones:
            return None
        return meter

    async def check(
        self, user_id: int, account_id: int, meter_id: int, zone: int, raw: str
    ) -> ValueCheck | None:
        """A typed value of a meter zone, checked (None: not the resident's meter)."""
        account = await self._account(user_id, account_id, send=True)
        meter = await self._meter_of(account, meter_id, zone) if account else None
        if account is None or meter is None:
            return None
        parsed = rules.parse_value(raw, meter.digits, meter.decimals)
        if isinstance(parsed, Problem):
            return ValueCheck(None, parsed)
        period = self._state(account, self.today()).window.period
        return await self._evaluate(
            meter, zone, parsed, period, await self._rows([meter.id], period)
        )

    # ------------------------------------------------------------------ submitting
    async def submit(
        self,
        *,
        user_id: int,
        account_id: int,
        batch: str,
        entries: Sequence[Entry],
        locale: str | None = None,
    ) -> SubmitResult:
        """Store a resident's batch (the Send button): all of it or nothing.

        Checked again against the data as it is now: the window must be open, every value
        must pass, and every caution must have been confirmed. Committed (named point)
        before the cards of values to review are posted.
        """
        batch = batch[:MAX_BATCH]
        if await self.uow.readings.batch_stored(batch):
            return SubmitResult(SubmitOutcome.ALREADY_STORED)
        account = await self._account(user_id, account_id, send=True)
        if account is None:
            return SubmitResult(SubmitOutcome.UNAVAILABLE)
        today = self.today()
        state = self._state(account, today)
        if not state.open:
            return SubmitResult(SubmitOutcome.CLOSED, window=state.window)
        entries = list({(e.meter_id, e.zone): e for e in entries}.values())  # the last wins
        if not entries:
            return SubmitResult(SubmitOutcome.NOTHING, window=state.window)
        prepared = await self._prepare(account, entries, state.window.period)
        if isinstance(prepared, SubmitResult):
            return prepared
        try:
            stored, replaced = await self._store(
                user_id, batch, prepared, state.window.period, today
            )
        except IntegrityError:  # the same batch, stored by a concurrent delivery
            await self.uow.rollback()
            return SubmitResult(SubmitOutcome.ALREADY_STORED)
        await self._remember_language(user_id, locale)
        await self.uow.commit()  # named point: stored before operators or anyone is told
        await self._after_store(stored, replaced)
        return SubmitResult(SubmitOutcome.STORED, tuple(stored), window=state.window)

    async def batch_sent(self, batch: str) -> bool:
        """Whether a batch was stored (a late second press on Send)."""
        return await self.uow.readings.batch_stored(batch[:MAX_BATCH])

    async def _prepare(
        self, account: Account, entries: Sequence[Entry], period: str
    ) -> list[tuple[Entry, Meter, ValueCheck]] | SubmitResult:
        meters: dict[int, Meter] = {}
        for entry in entries:
            meter = await self._meter_of(account, entry.meter_id, entry.zone)
            if meter is None:
                return SubmitResult(SubmitOutcome.CHANGED)
            meters[meter.id] = meter
        rows = await self._rows(list(meters), period)
        prepared = []
        for entry in entries:
            meter = meters[entry.meter_id]
            parsed = rules.parse_value(entry.value, meter.digits, meter.decimals)
            if isinstance(parsed, Problem):
                return SubmitResult(SubmitOutcome.REFUSED, problem=(meter.id, entry.zone, parsed))
            check = await self._evaluate(meter, entry.zone, parsed, period, rows)
            if check.problem is not None:
                return SubmitResult(
                    SubmitOutcome.REFUSED, problem=(meter.id, entry.zone, check.problem)
                )
            if set(check.cautions) - entry.confirmed:
                return SubmitResult(SubmitOutcome.CHANGED)
            prepared.append((entry, meter, check))
        return prepared

    async def _store(
        self,
        user_id: int,
        batch: str,
        prepared: Sequence[tuple[Entry, Meter, ValueCheck]],
        period: str,
        today: dt.date,
    ) -> tuple[list[StoredReading], list[int]]:
        """The batch's rows and their audit entries, flushed (not committed)."""
        now = self.clock.now()
        repo = self.uow.readings
        rows = await self._rows([m.id for _, m, _ in prepared], period)
        made: list[tuple[Reading, Meter, Decimal | None]] = []
        replaced: list[int] = []
        for entry, meter, check in prepared:
            old = _sent_of([r for r in rows if r.meter_id == meter.id], entry.zone, period)
            corrects = old.id if old is not None and await repo.supersede(old.id) else None
            if corrects is not None and old is not None and old.status is ReadingStatus.PENDING:
                replaced.append(corrects)
            review = REVIEWED & set(check.cautions)
            reading = Reading(
                meter_id=meter.id,
                zone=entry.zone,
                value=check.value,
                period=period,
                taken_on=today,
                submitted_at=now,
                user_id=user_id,
                source=ReadingSource.BOT.value,
                status=(
                    ReadingStatus.PENDING if review and self.desk else ReadingStatus.ACCEPTED
                ).value,
                batch=batch,
                photo_file_id=(entry.photo_file_id or None) and entry.photo_file_id[:MAX_FILE_ID],
                consumption=check.consumption,
                rolled_over=Caution.ROLLOVER in check.cautions,
                flag=next(iter(sorted(review)), None),
                corrects_id=corrects,
            )
            repo.add(reading)
            made.append((reading, meter, old.value if old else None))
        await self.uow.session.flush()
        return [self._audit_stored(user_id, r, m, old) for r, m, old in made], replaced

    def _audit_stored(
        self, user_id: int, reading: Reading, meter: Meter, old: Decimal | None
    ) -> StoredReading:
        details: dict[str, object] = {
            "meter_id": meter.id,
            "zone": reading.zone,
            "value": _plain(reading.value),
            "period": reading.period,
            "status": reading.status,
        }
        if reading.rolled_over:
            details["rollover"] = True
        if reading.flag:
            details["flag"] = reading.flag
        if reading.corrects_id is not None:
            details |= {"corrects": reading.corrects_id, "old_value": _plain(old or Decimal(0))}
        self.uow.audit.add(
            CORRECTED if reading.corrects_id is not None else SUBMITTED,
            actor_kind="resident",
            actor_id=user_id,
            object_type="reading",
            object_id=reading.id,
            details=details,
            at=self.clock.now(),
        )
        return StoredReading(
            reading_id=reading.id,
            meter_id=meter.id,
            serial=meter.serial,
            kind=rules.service_kind(meter.service),
            zone=reading.zone,
            zones=meter.zones,
            value=Decimal(reading.value),
            decimals=meter.decimals,
            status=ReadingStatus(reading.status),
            corrected=reading.corrects_id is not None,
            consumption=reading.consumption,
        )

    async def _remember_language(self, user_id: int, locale: str | None) -> None:
        """The language the resident uses now, kept when they never chose one, so the
        operator's decision reaches them in it."""
        if locale:
            user = await self.uow.users.get(user_id)
            if user is not None and user.language is None:
                user.language = locale

    async def _after_store(self, stored: Sequence[StoredReading], replaced: Sequence[int]) -> None:
        """Cards for the values to review; cards of replaced ones closed (after commit)."""
        for reading_id in replaced:
            await self._close_card(reading_id)
        for item in stored:
            if item.status is ReadingStatus.PENDING:
                await self._post_card(item.reading_id)

    async def _post_card(self, reading_id: int) -> bool:
        card = await self.card(reading_id)
        if self.desk is None or card is None:
            return False
        try:
            posted = await self.desk.post_reading_card(card)
        except DeskUnavailable as exc:  # the scheduler posts it again later
            log.error("could not post reading %s to the staff chat: %s", reading_id, exc)
            return False
        reading = await self.uow.readings.reading(reading_id)
        await self.uow.readings.add_ticket(
            user_id=reading.user_id if reading else None,
            reading_id=reading_id,
            staff_chat_id=posted.chat_id,
            staff_message_id=posted.message_id,
            staff_thread_id=posted.thread_id,
        )
        return True

    async def _close_card(self, reading_id: int) -> None:
        ticket = await self.uow.readings.ticket_of(reading_id)
        if ticket is None:
            return
        self.uow.readings.close(ticket, self.clock.now())
        card = await self.card(reading_id)
        if self.desk is not None and card is not None:
            await self.uow.commit()  # named point: closed before the card says so
            await self.desk.show_reading_card(card)

    async def repost_cards(self, limit: int = 20) -> int:
        """Post the cards the staff chat refused before (a scheduler round calls this)."""
        if self.desk is None:
            return 0
        posted = 0
        for reading_id in await self.uow.readings.pending_without_card(limit):
            if await self._post_card(reading_id):
                await self.uow.commit()  # one card, one record: never posted twice
                posted += 1
        return posted

    # ------------------------------------------------------------------ operators
    async def card(self, reading_id: int) -> ReadingCard | None:
        repo = self.uow.readings
        reading = await repo.reading(reading_id)
        meter = await repo.meter(reading.meter_id) if reading else None
        account = await self.uow.links.account(meter.account_id) if meter else None
        if reading is None or meter is None or account is None:
            return None
        rows = [
            r
            for r in await self._rows([meter.id], reading.period)
            if r.submitted_at < reading.submitted_at
        ]
        basis = await self._basis(meter, reading.zone, reading.period, rows)
        earlier = sorted(
            (
                r
                for r in rows
                if r.zone == reading.zone and r.status == ReadingStatus.ACCEPTED.value
            ),
            key=_order,
        )
        ceiling = self.rules.ceilings.get(rules.service_kind(meter.service))
        user = await self.uow.users.get(reading.user_id) if reading.user_id else None
        ticket = await repo.ticket_of(reading.id)
        supplier = account.supplier
        return ReadingCard(
            reading_id=reading.id,
            status=ReadingStatus(reading.status),
            supplier_name=supplier.name,
            account_number=account.number,
            address=account.address,
            serial=meter.serial,
            service=meter.service,
            kind=rules.service_kind(meter.service),
            zone=reading.zone,
            zones=meter.zones,
            value=Decimal(reading.value),
            decimals=meter.decimals,
            period=reading.period,
            submitted_at=reading.submitted_at,
            consumption=reading.consumption,
            rolled_over=reading.rolled_over,
            flag=Caution(reading.flag) if reading.flag else None,
            last=basis.last,
            average=basis.average,
            limit=rules.limit_of(basis.average, ceiling, self.rules.spike_factor),
            months=basis.months,
            recent=tuple(_known(r) for r in reversed(earlier[-3:])),
            photo_file_id=reading.photo_file_id,
            resident_id=user.id if user else None,
            resident_language=user.language if user else None,
            window=rules.window_of(
                reading.period, supplier.window_start_day, supplier.window_end_day
            ),
            decided_by_name=reading.decided_by_name,
            decided_at=reading.decided_at,
            staff_chat_id=ticket.staff_chat_id if ticket else None,
            staff_message_id=ticket.staff_message_id if ticket else None,
        )

    async def decide(
        self, *, reading_id: int, accept: bool, operator_id: int, operator_name: str
    ) -> ReadingDecision:
        """An operator accepts or rejects a reading to review; the first decision wins.

        Stored and committed (named point); then `announce()` tells the resident and
        redraws the card (the handler answers the press in between).
        """
        now = self.clock.now()
        won = await self.uow.readings.decide(
            reading_id,
            status=ReadingStatus.ACCEPTED if accept else ReadingStatus.REJECTED,
            operator_id=operator_id,
            operator_name=operator_name,
            at=now,
        )
        card = await self.card(reading_id)
        if card is None:
            return ReadingDecision(DecisionOutcome.GONE)
        if not won:
            return ReadingDecision(DecisionOutcome.ALREADY_DECIDED, card)
        ticket = await self.uow.readings.ticket_of(reading_id)
        if ticket is not None:
            self.uow.readings.close(ticket, now)
        self.uow.audit.add(
            DECIDED,
            actor_kind="operator",
            actor_id=operator_id,
            object_type="reading",
            object_id=reading_id,
            details={"decision": "accepted" if accept else "rejected"},
            at=now,
        )
        await self.uow.commit()  # named point: decided before anyone is told
        return ReadingDecision(DecisionOutcome.DECIDED, card)

    async def announce(self, decision: ReadingDecision) -> Delivery | None:
        """Tell the resident a decision (ResidentNotifier) and redraw the card (StaffDesk,
        with a note when the resident could not be told); a late press only redraws."""
        card = decision.card
        if card is None:
            return None
        delivery = None
        if decision.outcome is DecisionOutcome.DECIDED and card.resident_id is not None:
            delivery = await self.notifier.reading_decided(
                card.resident_id, card.resident_language, card
            )
        if self.desk is not None:
            await self.desk.show_reading_card(card, delivery=delivery)
        return delivery

    # ------------------------------------------------------------------ history
    async def history(self, user_id: int, account_id: int, meter_id: int) -> MeterHistory | None:
        account = await self._account(user_id, account_id)
        meter = await self._meter_of(account, meter_id, 1) if account else None
        if account is None or meter is None:
            return None
        today = self.today()
        period = self._state(account, today).window.period
        rows = await self._rows([meter.id], period)
        newest = await self.uow.readings.history(meter.id, HISTORY_SIZE * meter.zones * 3)
        series = consumption_series(rows, meter.zones, meter.digits)
        return MeterHistory(
            account=_account_ref(account),
            meter=await self._meter_view(meter, rows, period, today),
            entries=_entries(newest, HISTORY_SIZE),
            consumption=tuple(series[-HISTORY_SIZE:]),
        )

    # ------------------------------------------------------------------ the resident
    async def set_reminders(self, user_id: int, on: bool) -> bool:
        """Settings → reminders on or off; returns what is stored now."""
        user = await self.uow.users.get(user_id)
        if user is None:
            return False
        user.reading_reminders = on
        self.uow.audit.add(
            "reminders_on" if on else "reminders_off",
            actor_kind="resident",
            actor_id=user_id,
            object_type="user",
            at=self.clock.now(),
        )
        return on

    async def set_reachable(self, user_id: int, reachable: bool) -> None:
        """The resident blocked the bot (skipped by reminders) or came back."""
        user = await self.uow.users.get(user_id)
        if user is None:
            return
        if reachable:
            user.inactive_since = None
        elif user.inactive_since is None:
            user.inactive_since = self.clock.now()
