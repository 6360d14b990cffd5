"""The history of a meter: its last readings and a chart of consumption by month."""

from __future__ import annotations

import asyncio
import datetime as dt
import html

from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.services.readings import MeterHistory, ReadingsService
from bot.services.registration import Resident
from handlers.common.texts import not_available, stale_button
from handlers.readings import chart, keyboards, notes, texts
from handlers.readings.callbacks import HistoryCb


def _chart_data(history: MeterHistory) -> tuple[list[str], list[tuple[str, list[float]]]] | None:
    """Periods and the consumption of each zone; None when there is nothing to draw."""
    points = history.consumption
    if not any(v is not None for _, values in points for v in values):
        return None
    labels = [
        format_date(dt.date(int(p[:4]), int(p[5:7]), 1), "LLL yyyy", locale=texts.locale())
        for p, _ in points
    ]
    meter = history.meter
    zones = [
        (
            texts.zone_name(zone, meter.zones),
            [float(values[zone - 1] or 0) for _, values in points],
        )
        for zone in range(1, meter.zones + 1)
    ]
    return labels, zones


async def show(
    query: CallbackQuery, callback_data: HistoryCb, readings: ReadingsService, resident: Resident
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(stale_button(), show_alert=True)
        return
    meter_id = callback_data.meter_id
    if meter_id == 0:
        sub = await readings.submission(resident.id, callback_data.account_id)
        if sub is None or not sub.meters:
            await query.answer(not_available(), show_alert=True)
            return
        if len(sub.meters) > 1:
            await query.answer()
            await query.message.answer(
                _("The history of which meter?"),
                reply_markup=keyboards.history_meters(sub.account.id, sub.meters),
            )
            return
        meter_id = sub.meters[0].id
    history = await readings.history(resident.id, callback_data.account_id, meter_id)
    if history is None:
        await query.answer(not_available(), show_alert=True)
        return
    await query.answer()  # before the chart is drawn: that takes a moment
    await query.message.answer(notes.history_text(history))
    data = _chart_data(history)
    if data is None:
        return
    title = texts.meter_title(history.meter)
    png = await asyncio.to_thread(
        chart.render,
        data[0],
        data[1],
        title=_("Consumption by month: {meter}").format(meter=html.unescape(title)),
        unit=texts.unit(history.meter.kind),
    )
    await query.message.answer_photo(
        BufferedInputFile(png, filename="consumption.png"),
        caption=_("📊 Consumption by month, {unit}").format(unit=texts.unit(history.meter.kind))
        if texts.unit(history.meter.kind)
        else _("📊 Consumption by month"),
    )
