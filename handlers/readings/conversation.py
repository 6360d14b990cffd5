"""The submission: each meter zone in turn (typed value, optional photo) → the summary →
Send. Nothing is stored before Send: the values live in the conversation (FSM data).

FSM data: account_id, batch (the idempotency key, also in every button), steps [[meter,
zone], …], pos, values {"meter:zone": {"v": value, "c": [cautions confirmed], "u":
consumption}}, photos {"meter": file_id}, pending (an unusual value to confirm).
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.services.readings import ReadingsService, Submission, ValueCheck
from bot.services.registration import Resident
from handlers.common import keyboards as common_keyboards
from handlers.common.states import Readings
from handlers.common.texts import not_available, start_again
from handlers.readings import keyboards, notes, texts

VALUES, PHOTOS, PENDING = "values", "photos", "pending"


def key(meter_id: int, zone: int) -> str:
    return f"{meter_id}:{zone}"


async def ongoing(state: FSMContext, batch: str | None = None) -> dict[str, Any] | None:
    """The submission in progress (of this batch, when given), or None."""
    data = await state.get_data()
    if not (
        isinstance(data.get("account_id"), int)
        and isinstance(data.get("batch"), str)
        and isinstance(data.get("steps"), list)
    ):
        return None
    if batch is not None and data["batch"] != batch:
        return None
    return data


def current(data: dict[str, Any]) -> tuple[int, int] | None:
    pos, steps = data.get("pos", 0), data["steps"]
    if isinstance(pos, int) and 0 <= pos < len(steps):
        return int(steps[pos][0]), int(steps[pos][1])
    return None


async def finish(message: Message, state: FSMContext, text: str, markup: Any = None) -> None:
    await state.clear()
    await message.answer(text, reply_markup=markup or common_keyboards.main_menu())


def new_conversation(account_id: int, steps: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "batch": secrets.token_hex(6),
        "steps": [list(s) for s in steps],
        "pos": 0,
        VALUES: {},
        PHOTOS: {},
    }


async def begin(
    message: Message,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
    account_id: int,
) -> None:
    """The account's readings: the first meter to type, or why there is none."""
    await state.clear()
    if not await readings.may_send(resident.id, account_id):  # an organisation's accountant
        await finish(message, state, texts.accountant_refused())
        return
    sub = await readings.submission(resident.id, account_id)
    if sub is None:
        await finish(message, state, not_available())
        return
    if not sub.meters:
        await finish(message, state, texts.no_meters_text(sub.account))
        return
    if not sub.state.open:
        await message.answer(
            texts.closed_text(sub.account, sub.state), reply_markup=keyboards.history(account_id)
        )
        return
    steps = sub.steps()
    if not steps and not any(any(m.sent) for m in sub.meters):  # every meter refused
        await finish(message, state, texts.header(sub.account, sub.state, sub.meters))
        return
    if not steps:
        await message.answer(notes.sent_text(sub), reply_markup=keyboards.sent(account_id))
        return
    data = new_conversation(account_id, steps)
    await state.set_state(Readings.value)
    await state.set_data(data)
    meter = sub.meter(steps[0][0])
    assert meter is not None
    await message.answer(
        texts.header(sub.account, sub.state, sub.meters)
        + "\n\n"
        + texts.prompt(meter, steps[0][1]),
        reply_markup=keyboards.step(data["batch"], account_id=account_id),
    )


async def _fresh(
    message: Message,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
    data: dict[str, Any],
) -> Submission | None:
    """The submission as it is now; the conversation ends when it is gone or closed."""
    sub = await readings.submission(resident.id, data["account_id"])
    if sub is None:
        await finish(message, state, start_again())
        return None
    if not sub.state.open:
        await finish(message, state, texts.closed_text(sub.account, sub.state))
        return None
    return sub


async def ask(
    message: Message,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
    data: dict[str, Any],
) -> None:
    """The prompt of the current step."""
    sub = await _fresh(message, state, readings, resident, data)
    step = current(data)
    meter = sub.meter(step[0]) if sub and step else None
    if sub is None:
        return
    if step is None or meter is None:
        await finish(message, state, start_again())
        return
    await state.set_state(Readings.value)
    await message.answer(texts.prompt(meter, step[1]), reply_markup=keyboards.step(data["batch"]))


async def advance(
    message: Message,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
    data: dict[str, Any],
) -> None:
    """To the next step, or the summary after the last one."""
    data["pos"] = data.get("pos", 0) + 1
    data[PENDING] = None
    await state.set_data(data)
    if current(data) is not None:
        await ask(message, state, readings, resident, data)
    else:
        await show_summary(message, state, readings, resident, data)


async def show_summary(
    message: Message,
    state: FSMContext,
    readings: ReadingsService,
    resident: Resident,
    data: dict[str, Any],
) -> None:
    sub = await _fresh(message, state, readings, resident, data)
    if sub is None:
        return
    if not data[VALUES]:
        await finish(message, state, _("You skipped every meter: nothing was sent."))
        return
    await state.set_state(Readings.summary)
    await message.answer(
        notes.summary_text(sub, data[VALUES]), reply_markup=keyboards.summary(data["batch"])
    )


def _entry(check: ValueCheck) -> dict[str, Any]:
    return {
        "v": str(check.value),
        "c": [c.value for c in check.cautions],
        "u": None if check.consumption is None else str(check.consumption),
    }


async def value_given(
    message: Message, state: FSMContext, readings: ReadingsService, resident: Resident
) -> None:
    """A typed value (or a photo, with the value as its caption or typed next)."""
    data = await ongoing(state)
    step = current(data) if data else None
    if data is None or step is None:
        await finish(message, state, start_again())
        return
    meter_id, zone = step
    if message.photo:
        data[PHOTOS][str(meter_id)] = message.photo[-1].file_id
        await state.update_data({PHOTOS: data[PHOTOS]})
    raw = message.text or message.caption
    if not raw:
        text = texts.photo_kept() if message.photo else texts.type_value()
        await message.answer(text, reply_markup=keyboards.step(data["batch"]))
        return
    check = await readings.check(resident.id, data["account_id"], meter_id, zone, raw)
    if check is None:
        await finish(message, state, start_again())
        return
    sub = await _fresh(message, state, readings, resident, data)
    if sub is None:
        return
    meter = sub.meter(meter_id)
    if meter is None:
        await finish(message, state, start_again())
        return
    if check.problem is not None:
        await message.answer(
            texts.problem_text(check.problem, meter, zone, check),
            reply_markup=keyboards.step(data["batch"]),
        )
        return
    if check.cautions:
        await state.update_data({PENDING: _entry(check)})
        await state.set_state(Readings.confirm)
        await message.answer(
            texts.caution_text(check.cautions, meter, check),
            reply_markup=keyboards.confirm(data["batch"]),
        )
        return
    data[VALUES][key(meter_id, zone)] = _entry(check)
    await advance(message, state, readings, resident, data)


async def choice_expected(message: Message, state: FSMContext) -> None:
    await message.answer(_("Please choose with the buttons above, or press «Cancel»."))
