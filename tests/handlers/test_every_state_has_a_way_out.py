"""Every conversation state of a resident is left by /cancel, by the Cancel button and by /start."""

from __future__ import annotations

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from handlers.common import states
from tests.handlers.test_registration import register
from tests.support.fake_session import BOT_ID
from tests.support.harness import BotHarness, Person, texts

PRIVATE_STATES = [
    state
    for group in vars(states).values()
    if isinstance(group, type) and issubclass(group, StatesGroup) and group is not StatesGroup
    for state in group.__all_states__
    if group is not states.StaffReject  # an operator's state, in the staff chat
]


def test_the_list_is_not_empty() -> None:
    names = {s.state for s in PRIVATE_STATES}
    assert {"Registration:phone", "Linking:number", "EmailSetup:code"} <= names


async def _put(harness: BotHarness, person: Person, state: State) -> StorageKey:
    key = StorageKey(bot_id=BOT_ID, chat_id=person.id, user_id=person.id)
    await harness.dp.storage.set_state(key, state)
    await harness.dp.storage.set_data(key, {"supplier_id": 1, "number": "1000000001"})
    return key


@pytest.mark.parametrize("state", PRIVATE_STATES, ids=lambda s: s.state)
@pytest.mark.parametrize("way_out", ["/cancel", "✖️ Отмена", "/start"])
async def test_way_out(harness: BotHarness, state: State, way_out: str) -> None:
    anna = Person(700)
    await register(harness, anna)
    key = await _put(harness, anna, state)
    calls = await harness.send(anna, way_out)
    said = texts(calls)
    assert said, f"no answer to {way_out!r} in {state.state}"
    if way_out == "/start":
        assert said[-1] == "Главное меню. Выберите, что вам нужно."
    else:
        assert said[0] == "Отменено."
    assert "💳 Баланс" in calls[-1].button_texts()  # back at the main menu
    assert await harness.dp.storage.get_state(key) is None
    assert await harness.dp.storage.get_data(key) == {}


#: each main-menu button (Russian, as the keyboard shows it) and a text its item opens with
MENU_ITEMS = {
    "⚙️ Настройки": "<b>Настройки</b>",
    "🏠 Мои лицевые счета": "<b>Мои лицевые счета</b>",
    "💳 Баланс": "пока не привязан ни один лицевой счёт",
}


@pytest.mark.parametrize("state", PRIVATE_STATES, ids=lambda s: s.state)
@pytest.mark.parametrize("button", list(MENU_ITEMS))
async def test_main_menu_button_leaves_any_conversation(
    harness: BotHarness, state: State, button: str
) -> None:
    """One main-menu exit: the button is not taken as an answer to the step; it opens its
    item as from the main menu, and the conversation is gone."""
    anna = Person(701)
    await register(harness, anna)
    key = await _put(harness, anna, state)
    calls = await harness.send(anna, button)
    said = texts(calls)
    assert said and MENU_ITEMS[button] in said[0], said
    assert await harness.dp.storage.get_state(key) is None
    assert await harness.dp.storage.get_data(key) == {}
