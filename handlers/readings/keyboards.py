"""Keyboards of meter readings."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.readings import MeterView
from handlers.common.callbacks import CancelCb, SendReadingsCb
from handlers.common.texts import BTN_CANCEL, BTN_SEND_READINGS
from handlers.readings.callbacks import CorrectCb, HistoryCb, MeterCb, StepAction, StepCb

#: characters of a meter's button (Telegram shows about this much on a phone)
LABEL_LIMIT = 60
#: meters listed as buttons (an account has a handful; well under Telegram's 100)
MAX_METERS = 40


def _label(meter: MeterView) -> str:
    label = _("{service} № {serial}").format(service=meter.service, serial=meter.serial)
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def step(batch: str, *, account_id: int | None = None) -> InlineKeyboardMarkup:
    """Under a meter's prompt: skip it, (the history), cancel."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("⏭ Skip this meter"), callback_data=StepCb(action=StepAction.SKIP, batch=batch)
    )
    if account_id is not None:
        kb.button(text=_("📈 History"), callback_data=HistoryCb(account_id=account_id, meter_id=0))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def confirm(batch: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Yes, it is right"), callback_data=StepCb(action=StepAction.CONFIRM, batch=batch)
    )
    kb.button(text=_("✏️ Type again"), callback_data=StepCb(action=StepAction.RETYPE, batch=batch))
    kb.adjust(1)
    return kb.as_markup()


def summary(batch: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Send"), callback_data=StepCb(action=StepAction.SEND, batch=batch))
    kb.button(text=_("✏️ Edit"), callback_data=StepCb(action=StepAction.EDIT, batch=batch))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(2, 1)
    return kb.as_markup()


def meters(batch: str, found: Sequence[MeterView], *, back: bool) -> InlineKeyboardMarkup:
    """One button per meter to type again; «Back» to the summary when there is one."""
    kb = InlineKeyboardBuilder()
    for meter in found[:MAX_METERS]:
        if not meter.refused:
            kb.button(text=_label(meter), callback_data=MeterCb(batch=batch, meter_id=meter.id))
    if back:
        kb.button(text=_("⬅️ Back"), callback_data=StepCb(action=StepAction.SUMMARY, batch=batch))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


def sent(account_id: int) -> InlineKeyboardMarkup:
    """Under the readings sent this period."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✏️ Correct a reading"), callback_data=CorrectCb(account_id=account_id))
    kb.button(text=_("📈 History"), callback_data=HistoryCb(account_id=account_id, meter_id=0))
    kb.adjust(1)
    return kb.as_markup()


def history(account_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📈 History"), callback_data=HistoryCb(account_id=account_id, meter_id=0))
    return kb.as_markup()


def history_meters(account_id: int, found: Sequence[MeterView]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for meter in found[:MAX_METERS]:
        kb.button(
            text=_label(meter), callback_data=HistoryCb(account_id=account_id, meter_id=meter.id)
        )
    kb.adjust(1)
    return kb.as_markup()


def reminder(account_id: int) -> InlineKeyboardMarkup:
    """The button of a reminder: opens the submission of that account."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_(BTN_SEND_READINGS), callback_data=SendReadingsCb(account_id=account_id))
    return kb.as_markup()
