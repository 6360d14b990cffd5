"""Callback data of meter readings (one meaning per class; ids and the batch key only).

`batch` is the key of the conversation the button belongs to: a button of an older
conversation (or a forged one) does not match the current one and is refused.
"""

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from handlers.common.callbacks import DbId

Batch = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]


class StepAction(enum.StrEnum):
    SKIP = "s"  # skip the current meter
    CONFIRM = "c"  # yes, the unusual value is right
    RETYPE = "r"  # type the value again
    SEND = "send"
    EDIT = "e"  # choose a meter to type again
    SUMMARY = "sum"  # back to the summary


class StepCb(CallbackData, prefix="rds"):
    action: StepAction
    batch: Batch


class MeterCb(CallbackData, prefix="rdm"):
    """A meter chosen to type again (edit before Send, or correct a sent reading)."""

    batch: Batch
    meter_id: DbId


class CorrectCb(CallbackData, prefix="rdc"):
    """«Correct a reading» under the readings sent this period."""

    account_id: DbId


class HistoryCb(CallbackData, prefix="rdh"):
    """The history of a meter (meter_id 0: choose the meter)."""

    account_id: DbId
    meter_id: DbId
