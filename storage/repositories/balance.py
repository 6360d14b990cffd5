"""What a resident's balance is made of: an account's charges and payments (no commits)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import LinkStatus
from storage.models import Account, AccountLink, AuditLog, Charge, Payment, Supplier
from storage.repositories.columns import read_columns

#: the audit action and object of a billing import (bot/services/billing/importer.py)
IMPORT_ACTION = "billing.import"
CHARGES_KIND = "charges"


@dataclass(frozen=True, slots=True)
class ChargeRow:
    id: int
    period: str
    service: str
    charged: Decimal
    paid: Decimal


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """An account's charges as a balance screen needs them: one period's lines, and the
    sums that make the rest (money in roubles, kopecks exact)."""

    periods: tuple[str, ...]  # months with charges (YYYY-MM), newest first
    period: str | None  # the period of `lines`: the one asked when it has charges, else the latest
    lines: tuple[ChargeRow, ...]  # its charges by service
    opening: Decimal  # Σ(charged − paid) of the months before `period`
    everything: Decimal  # Σ(charged − paid) of every month


@dataclass(frozen=True, slots=True)
class MonthRow:
    period: str  # YYYY-MM
    charged: Decimal
    paid: Decimal


@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: int
    paid_at: dt.date
    amount: Decimal
    source: str
    telegram_charge_id: str | None
    recorded_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account with what a receipt needs of its supplier (the payee's details)."""

    id: int
    number: str
    address: str
    holder_name: str
    holder_inn: str | None
    supplier_id: int
    supplier_name: str
    inn: str
    kpp: str
    bank_name: str
    bic: str
    corr_account: str
    settlement_account: str


#: the columns of an AccountRow, in its fields' order (one SELECT, no ORM objects: the
#: balance screen is the bot's busiest read — bench/README.md, "Latency")
_ACCOUNT_COLUMNS = (
    Account.id,
    Account.number,
    Account.address,
    Account.holder_name,
    Account.holder_inn,
    Supplier.id,
    Supplier.name,
    Supplier.inn,
    Supplier.kpp,
    Supplier.bank_name,
    Supplier.bic,
    Supplier.corr_account,
    Supplier.settlement_account,
)


def account_row(account: Account) -> AccountRow:
    """The same row from an account already loaded (with its supplier)."""
    s = account.supplier
    return AccountRow(
        account.id, account.number, account.address, account.holder_name, account.holder_inn,
        s.id, s.name, s.inn, s.kpp, s.bank_name, s.bic, s.corr_account, s.settlement_account,
    )  # fmt: skip


_PAYMENT_COLUMNS = (
    Payment.id,
    Payment.paid_at,
    Payment.amount,
    Payment.source,
    Payment.telegram_charge_id,
    Payment.recorded_at,
)


def _payment_row(p: Payment) -> PaymentRow:
    return PaymentRow(p.id, p.paid_at, p.amount, p.source, p.telegram_charge_id, p.recorded_at)


# The balance screen's reads, built once (bindparams): a press of «💳 Баланс» runs them all,
# and building a SELECT costs more CPU than SQLite's answer to it (bench/README.md, "Latency").
# The accounts (with their suppliers) a resident has an ACTIVE link to.
_ACTIVE_LINKED = (
    select(*_ACCOUNT_COLUMNS)
    .join(Supplier, Supplier.id == Account.supplier_id)
    .join(AccountLink, AccountLink.account_id == Account.id)
    .where(
        AccountLink.user_id == bindparam("user_id"),
        AccountLink.status == LinkStatus.ACTIVE.value,
    )
)
# one of them, by id (a button's account)
_LINKED_ACCOUNT = _ACTIVE_LINKED.where(AccountLink.account_id == bindparam("account_id"))
# at most two of them: a resident with one account (most) gets the balance from this read,
# without the picker's
_ACTIVE_ACCOUNT_ROWS = _ACTIVE_LINKED.order_by(AccountLink.id).limit(2)
# An account's months with what each left owing (Σ charged − paid). A sum keeps its columns'
# Numeric(14, 2): on SQLite, where money is stored as REAL, it comes back rounded to the
# kopeck as each value does (tests/unit/test_balance_sums.py sums a thousand awkward amounts).
_MONTHS = (
    select(
        Charge.period.label("period"),
        func.sum(Charge.charged - Charge.paid).label("owed"),
    )
    .where(Charge.account_id == bindparam("account_id"))
    .group_by(Charge.period)
    .cte("months")
)
# the month shown: the one asked when it has charges, else the latest
_SHOWN = func.coalesce(
    select(_MONTHS.c.period).where(_MONTHS.c.period == bindparam("period")).scalar_subquery(),
    select(func.max(_MONTHS.c.period)).scalar_subquery(),
)
# One row per month, newest first, with the shown month's charges joined (one row per
# service): the rows grow by one a month, not by every service of every month, and only
# the shown month's amounts are converted to Decimal in Python.
_PERIOD_SUMMARY = (
    select(_MONTHS.c.period, _MONTHS.c.owed, Charge.id, Charge.service, Charge.charged, Charge.paid)
    .select_from(
        _MONTHS.outerjoin(
            Charge,
            and_(
                Charge.account_id == bindparam("account_id"),
                Charge.period == _MONTHS.c.period,
                _MONTHS.c.period == _SHOWN,
            ),
        )
    )
    .order_by(_MONTHS.c.period.desc(), Charge.service, Charge.id)
)
# Charged and paid per month, oldest first (the history chart)
_MONTH_TOTALS = (
    select(
        Charge.period,
        func.sum(Charge.charged),
        func.sum(Charge.paid),
    )
    .where(Charge.account_id == bindparam("account_id"))
    .group_by(Charge.period)
    .order_by(Charge.period)
)
# The moment of the last import as a one-row table, joined to the account's payments a
# balance needs: its last one (by the date paid) and those made in Telegram since that
# import (not in billing's figures yet). One statement answers both; one row with no
# payment when there is none; the rows stay few however many years of payments there are.
_AS_OF = (
    select(func.max(AuditLog.at).label("at"))
    .where(AuditLog.action == IMPORT_ACTION, AuditLog.object_id == CHARGES_KIND)
    .subquery()
)
_LAST_PAYMENT_ID = (
    select(Payment.id)
    .where(Payment.account_id == bindparam("account_id"))
    .order_by(Payment.paid_at.desc(), Payment.id.desc())
    .limit(1)
    .scalar_subquery()
)
_PAYMENTS_AS_OF = (
    select(_AS_OF.c.at, *_PAYMENT_COLUMNS)
    .select_from(
        _AS_OF.outerjoin(
            Payment,
            and_(
                Payment.account_id == bindparam("account_id"),
                or_(
                    Payment.id == _LAST_PAYMENT_ID,
                    and_(
                        Payment.telegram_charge_id.is_not(None),
                        or_(_AS_OF.c.at.is_(None), Payment.recorded_at > _AS_OF.c.at),
                    ),
                ),
            ),
        )
    )
    .order_by(Payment.paid_at.desc(), Payment.id.desc())
)


_CENTS = Decimal("0.00")


def _money(total: Decimal) -> Decimal:
    """A sum the database made, without a sign on zero: on SQLite −0.10 − 0.20 + 0.30 sums
    to −5.6e-17 in floating point, rounded to Decimal('-0.00')."""
    return total + _CENTS


class BalanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def linked_account(self, user_id: int, account_id: int) -> AccountRow | None:
        """The account (with its supplier) when the user has an ACTIVE link to it."""
        rows = await read_columns(
            self.session, _LINKED_ACCOUNT, {"user_id": user_id, "account_id": account_id}
        )
        return AccountRow(*rows[0]) if rows else None

    async def only_active_account(self, user_id: int) -> AccountRow | None:
        """The account (with its supplier) when it is the only one the user has an ACTIVE
        link to; None when they have none or several."""
        rows = await read_columns(self.session, _ACTIVE_ACCOUNT_ROWS, {"user_id": user_id})
        return AccountRow(*rows[0]) if len(rows) == 1 else None

    async def period_summary(self, account_id: int, period: str | None = None) -> PeriodSummary:
        """The account's charges in `period` (YYYY-MM; None or a month without charges: the
        latest month with charges) and the sums around it. One statement, one row per
        month plus one per service of the shown month."""
        params = {"account_id": account_id, "period": period}
        rows = await read_columns(self.session, _PERIOD_SUMMARY, params)
        periods: list[str] = []
        lines: list[ChargeRow] = []
        shown: str | None = None
        opening = everything = _CENTS
        for month, owed_sum, charge_id, service, charged, paid in rows:
            owed = _money(owed_sum)
            if not periods or periods[-1] != month:
                periods.append(month)
                everything += owed
                if shown is not None:
                    opening += owed
            if charge_id is not None:
                shown = month
                lines.append(ChargeRow(charge_id, month, service, charged, paid))
        return PeriodSummary(tuple(periods), shown, tuple(lines), opening, everything)

    async def month_totals(self, account_id: int) -> list[MonthRow]:
        """Charged and paid per month with charges, oldest first."""
        rows = await read_columns(self.session, _MONTH_TOTALS, {"account_id": account_id})
        return [MonthRow(period, _money(charged), _money(paid)) for period, charged, paid in rows]

    async def payments(self, account_id: int) -> tuple[dt.datetime | None, list[PaymentRow]]:
        """When billing's charges were last imported (None: never), and the account's
        payments a balance needs, the latest first (by the date paid, then the order
        recorded): the last one, and the ones made in Telegram and recorded after that
        import. One statement: the balance screen needs both."""
        rows = await read_columns(self.session, _PAYMENTS_AS_OF, {"account_id": account_id})
        as_of = rows[0][0] if rows else None
        return as_of, [PaymentRow(*row[1:]) for row in rows if row[1] is not None]

    async def payment_by_charge_id(self, charge_id: str) -> PaymentRow | None:
        result = await self.session.execute(
            select(Payment).where(Payment.telegram_charge_id == charge_id)
        )
        payment = result.scalar_one_or_none()
        return None if payment is None else _payment_row(payment)

    async def add_telegram_payment(
        self,
        *,
        account_id: int,
        paid_at: dt.date,
        amount: Decimal,
        source: str,
        charge_id: str,
        recorded_at: dt.datetime,
    ) -> int:
        payment = Payment(
            account_id=account_id,
            paid_at=paid_at,
            amount=amount,
            source=source,
            telegram_charge_id=charge_id,
            recorded_at=recorded_at,
        )
        self.session.add(payment)
        await self.session.flush()
        return payment.id
