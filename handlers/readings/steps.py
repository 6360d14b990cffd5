"""The buttons of the submission: skip, confirm, type again, edit, correct, Send.

Every press is checked against the conversation it belongs to (its batch key): a button
of an older conversation, or one pressed twice, is refused or told what happened.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.services.readings import Entry, ReadingsService, SubmitOutcome, SubmitResult
from bot.services.readings_rules import Caution
from bot.services.registration import Resident
from handlers.common.states import Readings
from handlers.common.texts import not_available, stale_button, start_again
from handlers.readings import conversation, keyboards, notes, texts
from handlers.readings.callbacks import CorrectCb, MeterCb, StepCb
from handlers.readings.conversation import PHOTOS, VALUES, finish


async def _pressed(
    query: CallbackQuery, state: FSMContext, batch: str, expected: State, *, clear: bool = True
) -> tuple[Message, dict[str, Any]] | None:
    """The message and the conversation of a press in the `expected` state (else refused);
    the pressed message loses its buttons unless the handler redraws them (`clear`)."""
    data = await conversation.ongoing(state, batch)
    if (
        not isinstance(query.message, Message)
        or data is None
        or await state.get_state() != expected.state
    ):
        await query.answer(stale_button(), show_alert=True)
        return None
    await query.answer()
    if clear:
        await query.message.edit_reply_markup(reply_markup=None)
    return query.message, data


async def skip(
    query: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    """«Skip this meter»: none of its zones is sent (a value sent earlier stays)."""
    pressed = await _pressed(query, state, callback_data.batch, Readings.value)
    step = conversation.current(pressed[1]) if pressed else None
    if pressed is None or step is None:
        return
    message, data = pressed
    meter_id = step[0]
    data[VALUES] = {k: v for k, v in data[VALUES].items() if not k.startswith(f"{meter_id}:")}
    steps, pos = data["steps"], data["pos"]
    while pos < len(steps) and steps[pos][0] == meter_id:
        pos += 1
    data["pos"] = pos - 1  # advance() moves on by one
    await conversation.advance(message, state, readings, resident, data)


async def confirm(
    query: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    pressed = await _pressed(query, state, callback_data.batch, Readings.confirm)
    step = conversation.current(pressed[1]) if pressed else None
    if pressed is None or step is None or not pressed[1].get(conversation.PENDING):
        return
    message, data = pressed
    data[VALUES][conversation.key(*step)] = data[conversation.PENDING]
    await conversation.advance(message, state, readings, resident, data)


async def retype(
    query: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    pressed = await _pressed(query, state, callback_data.batch, Readings.confirm)
    if pressed is None:
        return
    message, data = pressed
    data[conversation.PENDING] = None
    await state.set_data(data)
    await conversation.ask(message, state, readings, resident, data)


async def edit(
    query: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    """«Edit» on the summary: which meter to type again."""
    pressed = await _pressed(query, state, callback_data.batch, Readings.summary, clear=False)
    if pressed is None:
        return
    message, data = pressed
    sub = await readings.submission(resident.id, data["account_id"])
    if sub is None:
        await finish(message, state, start_again())
        return
    await state.set_state(Readings.choose)
    await message.edit_reply_markup(
        reply_markup=keyboards.meters(data["batch"], sub.meters, back=True)
    )


async def back_to_summary(
    query: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    pressed = await _pressed(query, state, callback_data.batch, Readings.choose, clear=False)
    if pressed is None:
        return
    message, data = pressed
    await state.set_state(Readings.summary)
    await message.edit_reply_markup(reply_markup=keyboards.summary(data["batch"]))


async def meter_chosen(
    query: CallbackQuery,
    callback_data: MeterCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    """A meter to type again (before Send), or to correct (sent this period)."""
    pressed = await _pressed(query, state, callback_data.batch, Readings.choose)
    if pressed is None:
        return
    message, data = pressed
    sub = await readings.submission(resident.id, data["account_id"])
    steps = sub.steps([callback_data.meter_id]) if sub else []
    if not steps:
        await finish(message, state, not_available())
        return
    meter_id = callback_data.meter_id
    data[VALUES] = {k: v for k, v in data[VALUES].items() if not k.startswith(f"{meter_id}:")}
    data["steps"], data["pos"] = [list(s) for s in steps], 0
    await state.set_data(data)
    await conversation.ask(message, state, readings, resident, data)


async def correct(
    query: CallbackQuery,
    callback_data: CorrectCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
) -> None:
    """«Correct a reading» under the readings sent this period."""
    sub = await readings.submission(resident.id, callback_data.account_id)
    if sub is None or not isinstance(query.message, Message):
        await query.answer(not_available(), show_alert=True)
        return
    await query.answer()
    message = query.message
    if not sub.state.open:
        await finish(message, state, texts.closed_text(sub.account, sub.state))
        return
    data = conversation.new_conversation(sub.account.id, [])
    await state.set_state(Readings.choose)
    await state.set_data(data)
    await message.answer(
        _("Which meter's reading to correct?"),
        reply_markup=keyboards.meters(data["batch"], sub.meters, back=False),
    )


async def send(
    query: CallbackQuery,
    callback_data: StepCb,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
    i18n: I18n,
) -> None:
    """Send: the whole batch in one transaction, once (a second press is told so)."""
    data = await conversation.ongoing(state, callback_data.batch)
    if data is None and await readings.batch_sent(callback_data.batch):
        await query.answer(_("These readings are already sent."), show_alert=True)
        return
    pressed = await _pressed(query, state, callback_data.batch, Readings.summary)
    if pressed is None:
        return
    message, data = pressed
    entries = [
        Entry(
            meter_id=int(k.split(":")[0]),
            zone=int(k.split(":")[1]),
            value=v["v"],
            confirmed=frozenset(Caution(c) for c in v.get("c") or ()),
            photo_file_id=data[PHOTOS].get(k.split(":")[0]),
        )
        for k, v in data[VALUES].items()
    ]
    result = await readings.submit(
        user_id=resident.id,
        account_id=data["account_id"],
        batch=data["batch"],
        entries=entries,
        locale=i18n.current_locale,
    )
    await _answer_result(message, state, readings, resident, data, result)


async def _answer_result(
    message: Message,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
    data: dict[str, Any],
    result: SubmitResult,
) -> None:
    outcome = result.outcome
    if outcome is SubmitOutcome.ALREADY_STORED:
        await finish(message, state, _("These readings are already sent."))
        return
    if outcome in (SubmitOutcome.UNAVAILABLE, SubmitOutcome.NOTHING):
        await finish(message, state, not_available())
        return
    sub = await readings.submission(resident.id, data["account_id"])
    if sub is None:
        await finish(message, state, not_available())
    elif outcome is SubmitOutcome.STORED:
        await finish(message, state, notes.stored_text(sub, result))
    elif outcome is SubmitOutcome.CLOSED:
        await finish(message, state, texts.closed_text(sub.account, sub.state))
    elif outcome is SubmitOutcome.REFUSED and result.problem is not None:
        meter_id, zone, problem = result.problem
        meter = sub.meter(meter_id)
        data[VALUES].pop(conversation.key(meter_id, zone), None)
        data["steps"], data["pos"] = [[meter_id, zone]], 0
        await state.set_data(data)
        if meter is not None:
            await message.answer(texts.problem_text(problem, meter, zone))
        await conversation.ask(message, state, readings, resident, data)
    else:  # CHANGED: new readings came meanwhile (another resident of the account…)
        await message.answer(
            _("The readings of this account changed meanwhile. Please type them again.")
        )
        await conversation.begin(message, state, readings, resident, data["account_id"])
