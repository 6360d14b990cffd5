"""Balance: what a resident owes per service and month, the history, payments in Telegram."""

from bot.services.balance.service import BalanceService, HistoryChart
from bot.services.balance.statement import (
    AccountCard,
    History,
    MonthTotals,
    Payee,
    PaymentInfo,
    ServiceLine,
    Statement,
    Trend,
)

__all__ = [
    "AccountCard",
    "BalanceService",
    "History",
    "HistoryChart",
    "MonthTotals",
    "Payee",
    "PaymentInfo",
    "ServiceLine",
    "Statement",
    "Trend",
]
