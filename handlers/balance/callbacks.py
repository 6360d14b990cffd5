"""Callback data of Balance: ids and a month only, re-checked on every press."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.common.callbacks import DbId, PageNo

#: a month as YYYY-MM, or "" for the latest month with charges
Period = Annotated[str, Field(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$", max_length=7)]


class BalanceAction(enum.StrEnum):
    SHOW = "s"  # the balance of a month (edits the message)
    PERIODS = "p"  # the month picker
    HISTORY = "h"  # the chart
    RECEIPT = "r"  # the receipt menu
    RECEIPT_DUE = "rd"  # a receipt for the amount due
    RECEIPT_SUM = "rs"  # a receipt for a sum the resident types
    PAY = "y"  # the payment menu
    PAY_DUE = "yd"  # an invoice for the amount due
    PAY_SUM = "ys"  # an invoice for a sum the resident types
    ACCOUNTS = "a"  # another account (the account picker)


class BalanceCb(CallbackData, prefix="bal"):
    action: BalanceAction
    account_id: DbId
    period: Period = ""


class PeriodsPageCb(CallbackData, prefix="balp"):
    account_id: DbId
    period: Period  # the month being shown (marked in the picker)
    page: PageNo


class ServiceReceiptCb(CallbackData, prefix="balr"):
    """A receipt for one service's difference (charged − paid) of one month."""

    account_id: DbId
    charge_id: DbId
    period: Period
