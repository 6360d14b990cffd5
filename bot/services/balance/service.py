"""The balance of a resident's account: per period, now, and the last year as a history.

Only accounts the resident has an ACTIVE link to are shown: every method takes the
resident's id and answers None for any other account (a forged button, an unlinked one).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from bot.services.balance.chart import ChartLabels, render_history
from bot.services.balance.render import Renderer
from bot.services.balance.statement import (
    ZERO,
    AccountCard,
    History,
    MonthTotals,
    Payee,
    PaymentInfo,
    ServiceLine,
    Statement,
    months_before,
)
from bot.services.clock import Clock
from storage.repositories.balance import AccountRow, PaymentRow
from storage.uow import UnitOfWork

#: months of the history chart
HISTORY_MONTHS = 12
#: months on each side of the trend's comparison
TREND_MONTHS = 3


def account_card(account: AccountRow) -> AccountCard:
    payee = Payee(
        id=account.supplier_id,
        name=account.supplier_name,
        inn=account.inn.strip(),
        kpp=account.kpp.strip(),
        bank_name=account.bank_name.strip(),
        bic=account.bic.strip(),
        corr_account=account.corr_account.strip(),
        settlement_account=account.settlement_account.strip(),
    )
    return AccountCard(
        account.id,
        account.number,
        account.address,
        account.holder_name,
        payee,
        holder_inn=account.holder_inn,
    )


def _payment_info(row: PaymentRow | None) -> PaymentInfo | None:
    if row is None:
        return None
    return PaymentInfo(row.paid_at, row.amount, row.source, row.telegram_charge_id is not None)


def _not_in_billing_yet(payment: PaymentRow, as_of: dt.datetime | None) -> bool:
    """A payment made in Telegram that billing's charges imported at `as_of` do not count
    yet: recorded after that import (every Telegram payment when nothing was imported)."""
    if payment.telegram_charge_id is None:
        return False
    return as_of is None or (payment.recorded_at is not None and payment.recorded_at > as_of)


def _trend(months: list[MonthTotals]) -> Decimal | None:
    recent = [m.charged for m in months[-TREND_MONTHS:]]
    before = [m.charged for m in months[-2 * TREND_MONTHS : -TREND_MONTHS]]
    base = sum(before, ZERO)
    if len(before) < TREND_MONTHS or base <= 0:
        return None
    change: Decimal = (sum(recent, ZERO) - base) / base * 100
    return change.quantize(Decimal(1))


@dataclass(frozen=True)
class HistoryChart:
    history: History
    png: bytes | None  # None: no charges yet, nothing to draw


class BalanceService:
    def __init__(self, uow: UnitOfWork, clock: Clock, renderer: Renderer | None = None) -> None:
        self.uow = uow
        self.clock = clock
        self.renderer = renderer or Renderer(workers=0)

    async def _account(self, user_id: int, account_id: int) -> AccountRow | None:
        return await self.uow.balance.linked_account(user_id, account_id)

    async def linked(self, user_id: int, account_id: int) -> AccountCard | None:
        """The account when the resident has an active link to it (else None)."""
        account = await self._account(user_id, account_id)
        return None if account is None else account_card(account)

    async def statement(
        self, user_id: int, account_id: int, period: str | None = None
    ) -> Statement | None:
        """The account in `period` (default: the latest month with charges); None when the
        resident has no active link to it. A period without charges falls back to the latest.
        """
        account = await self._account(user_id, account_id)
        if account is None:
            return None
        return await self.statement_of(account, period)

    async def only_statement(self, user_id: int) -> Statement | None:
        """The latest month of the resident's account when they have exactly one active
        link; None when they have none or several (then the account picker asks)."""
        account = await self.uow.balance.only_active_account(user_id)
        return None if account is None else await self.statement_of(account)

    async def statement_of(self, account: AccountRow, period: str | None = None) -> Statement:
        repo = self.uow.balance
        summary = await repo.period_summary(account.id, period)
        as_of, payments = await repo.payments(account.id)
        pending = sum((p.amount for p in payments if _not_in_billing_yet(p, as_of)), ZERO)
        last = _payment_info(payments[0] if payments else None)
        card = account_card(account)
        if summary.period is None:
            return Statement(card, None, (), pending=pending, balance_now=-pending,
                             last_payment=last, as_of=as_of)  # fmt: skip
        return Statement(
            account=card,
            period=summary.period,
            periods=summary.periods,
            lines=tuple(ServiceLine(c.id, c.service, c.charged, c.paid) for c in summary.lines),
            opening=summary.opening,
            pending=pending,
            balance_now=summary.everything - pending,
            last_payment=last,
            as_of=as_of,
        )

    async def history(
        self, user_id: int, account_id: int, months: int = HISTORY_MONTHS
    ) -> History | None:
        """Charged and paid per month for the `months` ending with the latest month with
        charges (months without any count as zero); None for an account not linked."""
        account = await self._account(user_id, account_id)
        if account is None:
            return None
        totals = {m.period: m for m in await self.uow.balance.month_totals(account.id)}
        card = account_card(account)
        if not totals:
            return History(card, (), None)
        shown: list[MonthTotals] = []
        for p in months_before(max(totals), months):
            month = totals.get(p)
            charged, paid = (month.charged, month.paid) if month else (ZERO, ZERO)
            shown.append(MonthTotals(p, charged, paid))
        return History(card, tuple(shown), _trend(shown))

    async def history_chart(
        self, user_id: int, account_id: int, labels: ChartLabels
    ) -> HistoryChart | None:
        """The history and its chart (a PNG drawn off the event loop)."""
        history = await self.history(user_id, account_id)
        if history is None:
            return None
        if not history.months:
            return HistoryChart(history, None)
        await self.uow.commit()  # the connection goes back to the pool while the chart draws
        return HistoryChart(history, await self.renderer.run(render_history, history, labels))
