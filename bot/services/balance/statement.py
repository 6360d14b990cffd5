"""What the balance of one account is, as plain frozen dataclasses (no ORM, no aiogram).

Sign convention: a positive balance is a debt (owed to the supplier), a negative one an
overpayment (an advance). Per service and period, "to pay" is charged − paid.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def period_date(period: str) -> dt.date:
    """'2026-11' → 1 November 2026."""
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_before(period: str, count: int) -> list[str]:
    """The `count` months that end with `period`, oldest first."""
    index = int(period[:4]) * 12 + int(period[5:7]) - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Payee:
    """The supplier as a payment document names it (ГОСТ Р 56042-2014 fields)."""

    id: int
    name: str
    inn: str
    kpp: str
    bank_name: str
    bic: str
    corr_account: str
    settlement_account: str

    def missing(self) -> list[str]:
        """The payment details that are absent or malformed (empty: a QR code can be made)."""
        checks = {
            "name": bool(self.name.strip()),
            "inn": bool(_DIGITS.match(self.inn)) and len(self.inn) in (10, 12),
            "kpp": self.kpp == "" or (len(self.kpp) == 9 and self.kpp.isalnum()),
            "bank_name": bool(self.bank_name.strip()),
            "bic": bool(_DIGITS.match(self.bic)) and len(self.bic) == 9,
            "corr_account": bool(_DIGITS.match(self.corr_account)) and len(self.corr_account) == 20,
            "settlement_account": bool(_DIGITS.match(self.settlement_account))
            and len(self.settlement_account) == 20,
        }
        return [name for name, ok in checks.items() if not ok]


@dataclass(frozen=True)
class AccountCard:
    id: int
    number: str
    address: str
    holder_name: str
    payee: Payee
    holder_inn: str | None = None  # an organisation's (issue 14): the receipt's PayerINN


@dataclass(frozen=True)
class ServiceLine:
    charge_id: int
    service: str
    charged: Decimal
    paid: Decimal

    @property
    def due(self) -> Decimal:
        return self.charged - self.paid


@dataclass(frozen=True)
class PaymentInfo:
    paid_at: dt.date
    amount: Decimal
    source: str
    in_telegram: bool


@dataclass(frozen=True)
class Statement:
    """One account in one period, and where the account stands now."""

    account: AccountCard
    period: str | None  # None: no charges yet
    periods: tuple[str, ...]  # months with charges, newest first
    lines: tuple[ServiceLine, ...] = ()
    opening: Decimal = ZERO  # Σ(charged − paid) of the months before `period`
    #: paid in Telegram after billing's last charges import: not in `lines` yet
    pending: Decimal = ZERO
    balance_now: Decimal = ZERO  # the account's debt (> 0) or advance (< 0) today
    last_payment: PaymentInfo | None = None
    as_of: dt.datetime | None = None  # billing's last charges import

    @property
    def latest(self) -> str | None:
        return self.periods[0] if self.periods else None

    @property
    def is_latest(self) -> bool:
        return self.period is not None and self.period == self.latest

    @property
    def charged(self) -> Decimal:
        return sum((line.charged for line in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), ZERO)

    @property
    def closing(self) -> Decimal:
        """The debt (> 0) or advance (< 0) at the end of `period`; for the latest month
        the Telegram payments not yet in billing's figures count too."""
        pending = self.pending if self.is_latest else ZERO
        return self.opening + self.charged - self.paid - pending

    @property
    def to_pay(self) -> Decimal:
        """What a receipt for this period asks: the closing debt, never below zero."""
        return max(self.closing, ZERO)

    @property
    def only_recalculation(self) -> bool:
        """The month holds nothing but negative charges (перерасчёт)."""
        return bool(self.lines) and all(line.charged < 0 for line in self.lines)

    def line(self, charge_id: int) -> ServiceLine | None:
        return next((line for line in self.lines if line.charge_id == charge_id), None)


@dataclass(frozen=True)
class MonthTotals:
    period: str
    charged: Decimal
    paid: Decimal


class Trend:
    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class History:
    """Charged vs paid for the last months (oldest first), for a chart and its summary."""

    account: AccountCard
    months: tuple[MonthTotals, ...]
    #: the mean monthly charge of the last 3 months against the 3 before, in per cent
    trend_percent: Decimal | None

    @property
    def charged(self) -> Decimal:
        return sum((m.charged for m in self.months), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((m.paid for m in self.months), ZERO)

    @property
    def trend(self) -> str:
        if self.trend_percent is None:
            return Trend.UNKNOWN
        if self.trend_percent >= 5:
            return Trend.UP
        if self.trend_percent <= -5:
            return Trend.DOWN
        return Trend.FLAT
