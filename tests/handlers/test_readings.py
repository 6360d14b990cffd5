"""Meter readings through the production Dispatcher: the walk, the checks' messages, the
summary, Send once, correction, history, the staff card and the decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from aiogram.types import Update
from sqlalchemy import select

from bot.services.clock import FrozenClock
from handlers.common.callbacks import SendReadingsCb
from storage.db import Database
from storage.models import AuditLog, Reading, Ticket, User
from tests.conftest import STAFF_CHAT_ID
from tests.support import factories as f
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

ANNA = Person(1101, "Anna", phone="+79161234567")
BORIS = Person(1102, "Boris", phone="+79035550011")
OLGA = Person(1103, "Olga")

READINGS = "📟 Показания счётчиков"
SKIP = "⏭ Пропустить"
SEND = "✅ Отправить"
EDIT = "✏️ Изменить"
YES = "✅ Да, всё верно"
RETYPE = "✏️ Ввести заново"
CORRECT = "✏️ Исправить показание"
HISTORY = "📈 История"
ACCEPT = "✅ Принять"
REJECT = "❌ Отклонить"
D = Decimal


async def seed(db: Database, *, accounts: int = 1, window: tuple[int, int] = (15, 25)) -> dict:
    """Anna: cold water (last 130,000 m³ of 20.10.2026, +5 a month since April) and a two-zone
    electricity meter without readings, on account 1000000001 (and more accounts)."""
    voda = f.supplier(window=window)
    rows = [f.account(voda, f"100000000{n + 1}") for n in range(accounts)]
    await f.add(db, voda, *rows, f.resident(ANNA.id, ANNA.phone), f.resident(BORIS.id, BORIS.phone))
    water = f.meter(rows[0], "ХВ123456")
    power = f.meter(rows[0], "Э7788", "Электроэнергия", zones=2, digits=6, decimals=1)
    links = [f.link(ANNA.id, row.id, "active", "phone") for row in rows]
    await f.add(db, water, power, *links)
    months = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    await f.add(db, *(f.billing_reading(water, p, str(100 + 5 * n)) for n, p in enumerate(months)))
    return {"account": rows[0].id, "water": water.id, "power": power.id}


async def stored(db: Database) -> list[Reading]:
    async with db.session_maker() as s:
        query = select(Reading).where(Reading.source == "bot").order_by(Reading.id)
        return list((await s.execute(query)).scalars())


def last_with(calls: list[Call], button: str) -> Call:
    for call in reversed(calls):
        if button in call.button_texts():
            return call
    raise AssertionError(f"no {button!r} in {[c.button_texts() for c in calls]}")


async def tap(h: BotHarness, who: Person, calls: list[Call], button: str) -> list[Call]:
    return await h.press(who, last_with(calls, button).callback_of(button))


async def type_all(h: BotHarness, who: Person, *values: str) -> list[Call]:
    calls = await h.send(who, READINGS)
    for value in values:
        calls = await h.send(who, value)
    return calls


# --------------------------------------------------------------------------- the walk
async def test_a_returning_resident_sends_everything_in_two_taps(
    harness: BotHarness, db: Database
) -> None:
    h = harness
    ids = await seed(db)
    calls = await h.send(ANNA, READINGS)  # tap 1; one account: no picker
    [prompt] = texts(calls)
    assert "Лицевой счёт № 1000000001 (Водоканал)" in prompt
    assert "Показания за ноябрь 2026 принимаются до 25.11.2026." in prompt
    assert (
        "<b>Холодная вода № ХВ123456</b>, последнее 130,000 м³ от 20.10.2026 — пришлите новое "
        "показание." in prompt
    )
    assert calls[-1].button_texts() == [SKIP, HISTORY, "✖️ Отмена"]
    calls = await h.send(ANNA, "133,5")
    assert texts(calls)[0].startswith(
        "<b>Электроэнергия № Э7788, T1 (день)</b>, показаний пока нет"
    )
    calls = await h.send(ANNA, "12345,6")
    assert "T2 (ночь)" in texts(calls)[0]
    calls = await h.send(ANNA, "5432,1")
    summary = texts(calls)[0]
    assert "📋 <b>Проверьте перед отправкой</b>" in summary
    assert "• Холодная вода № ХВ123456: <b>133,500 м³</b> (+3,500 м³)" in summary
    assert "• Электроэнергия № Э7788, T2 (ночь): <b>5\xa0432,1 кВт·ч</b>" in summary
    assert await stored(db) == []  # nothing before Send
    calls = await tap(h, ANNA, calls, SEND)  # tap 2
    assert answers(calls) and texts(calls)[0].startswith("✅ Отправлено")
    assert "Исправить их можно до 25.11.2026." in texts(calls)[0]
    assert [(r.meter_id, r.zone, r.value) for r in await stored(db)] == [
        (ids["water"], 1, D("133.5")),
        (ids["power"], 1, D("12345.6")),
        (ids["power"], 2, D("5432.1")),
    ]


async def test_every_wrong_input_says_how_to_fix_it(harness: BotHarness, db: Database) -> None:
    h = harness
    await seed(db)
    await h.send(ANNA, READINGS)
    cases = {
        "сто": "Это не число. Пришлите показание так, как на счётчике, например 123,456",
        "-5": "Показание не может быть отрицательным.",
        "123456": "Знаков до запятой у этого счётчика: 5 (не больше 99\xa0999,999).",
        "12,3456": "Знаков после запятой у этого счётчика: 3. Пришлите не больше.",
        "9" * 5000: "Знаков до запятой у этого счётчика: 5",  # too many digits, not "not a number"
        "129": "Это меньше последнего принятого показания — 130,000 м³.",
    }
    for typed, expected in cases.items():
        said = texts(await h.send(ANNA, typed))
        assert len(said) == 1 and expected in said[0], (typed, said)
    calls = await h.send(ANNA, "131")  # then right: the next meter
    assert "Электроэнергия" in texts(calls)[0]


async def test_a_spike_is_confirmed_and_goes_to_the_operators(
    harness: BotHarness, db: Database
) -> None:
    h = harness
    await seed(db)
    await h.send(ANNA, READINGS)
    calls = await h.send(ANNA, "200")
    assert "намного больше вашего обычного: 5,000 м³ в месяц" in texts(calls)[0]
    assert calls[-1].button_texts() == [YES, RETYPE]
    calls = await tap(h, ANNA, calls, RETYPE)
    assert "пришлите новое показание" in texts(calls)[0]
    calls = await h.send(ANNA, "200")
    calls = await tap(h, ANNA, calls, YES)
    calls = await tap(h, ANNA, calls, SKIP)  # the electricity meter
    assert "⏳ проверит оператор" in texts(calls)[0]
    calls = await tap(h, ANNA, calls, SEND)
    [card] = [c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat"]
    assert card.method == "sendMessage" and card.button_texts() == [ACCEPT, REJECT]
    assert "Новое: <b>200,000 м³</b> от 20.11.2026 (за ноябрь 2026)" in (card.text or "")
    assert "обычно 5,000 м³ в месяц, предел 25,000 м³ в месяц" in (card.text or "")
    assert "⏳ Отмеченные значения проверит оператор" in texts(calls)[-1]
    [reading] = await stored(db)
    assert reading.status == "pending"

    decided = await h.press(OLGA, card.callback_of(ACCEPT), chat_id=STAFF_CHAT_ID, message_id=77)
    assert answers(decided)[0].params["text"] == "Принято."
    told = [c for c in decided if c.chat_id == ANNA.id]
    assert "✅ Оператор принял ваше показание 200,000 м³" in texts(told)[0]
    [redrawn] = [c for c in decided if c.method == "editMessageText"]
    assert "✅ Принял(а) Olga" in (redrawn.text or "") and redrawn.button_texts() == []
    late = await h.press(OLGA, card.callback_of(REJECT), chat_id=STAFF_CHAT_ID, message_id=77)
    assert answers(late)[0].params["text"] == "Уже принято: Olga."
    assert [r.status for r in await stored(db)] == ["accepted"]


async def test_rejected_reading_is_told_and_may_be_sent_again(
    harness: BotHarness, db: Database
) -> None:
    h = harness
    await seed(db)
    calls = await type_all(h, ANNA, "200")
    calls = await tap(h, ANNA, calls, YES)
    calls = await tap(h, ANNA, calls, SKIP)
    calls = await tap(h, ANNA, calls, SEND)
    [card] = [c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat"]
    decided = await h.press(OLGA, card.callback_of(REJECT), chat_id=STAFF_CHAT_ID, message_id=78)
    told = texts([c for c in decided if c.chat_id == ANNA.id])[0]
    assert told.startswith("❌ Оператор не принял ваше показание 200,000 м³")
    assert "(до 25.11.2026)" in told
    calls = await h.send(ANNA, READINGS)  # the water meter is asked again
    assert "Холодная вода" in texts(calls)[0]


async def test_rollover_is_confirmed(harness: BotHarness, db: Database) -> None:
    h = harness
    ids = await seed(db)
    async with db.session_maker() as s:
        meter = await s.get(f.Meter, ids["water"])
        assert meter is not None
        s.add(f.billing_reading(meter, "2026-11", "99990"))
        await s.commit()
    calls = await type_all(h, ANNA, "5")
    assert "Счётчик дошёл до максимума и начал с нуля? Тогда расход — 15,000 м³." in texts(calls)[0]
    calls = await tap(h, ANNA, calls, YES)
    calls = await tap(h, ANNA, calls, SKIP)
    assert "<b>5,000 м³</b> (+15,000 м³)" in texts(calls)[0]
    await tap(h, ANNA, calls, SEND)
    [reading] = await stored(db)
    assert (reading.status, reading.rolled_over) == ("accepted", True)


async def test_skip_edit_and_photo(harness: BotHarness, db: Database) -> None:
    h = harness
    ids = await seed(db)
    await h.send(ANNA, READINGS)
    calls = await h.send(
        ANNA, photo=[{"file_id": "dial-1", "file_unique_id": "u", "width": 9, "height": 9}]
    )
    assert texts(calls) == [
        "📷 Фото сохранено вместе с показанием этого счётчика. Теперь напишите значение."
    ]
    calls = await h.send(ANNA, "131")
    calls = await tap(h, ANNA, calls, SKIP)  # both zones of the electricity meter
    assert "Электроэнергия № Э7788, T1 (день): пропущен" in texts(calls)[0]
    calls = await tap(h, ANNA, calls, EDIT)
    [edit] = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert edit.button_texts() == [
        "Холодная вода № ХВ123456",
        "Электроэнергия № Э7788",
        "⬅️ Назад",
        "✖️ Отмена",
    ]
    calls = await h.press(ANNA, edit.callback_of("Холодная вода № ХВ123456"))
    calls = await h.send(ANNA, "132")
    calls = await tap(h, ANNA, calls, SEND)
    [reading] = await stored(db)
    assert (reading.meter_id, reading.value, reading.photo_file_id) == (
        ids["water"],
        D(132),
        "dial-1",
    )


async def test_a_photo_with_the_value_as_caption(harness: BotHarness, db: Database) -> None:
    h = harness
    await seed(db)
    await h.send(ANNA, READINGS)
    photo = [{"file_id": "dial-2", "file_unique_id": "u", "width": 9, "height": 9}]
    calls = await h.send(ANNA, photo=photo, caption="134")
    assert "Электроэнергия" in texts(calls)[0]
    calls = await tap(h, ANNA, calls, SKIP)
    await tap(h, ANNA, calls, SEND)
    [reading] = await stored(db)
    assert (reading.value, reading.photo_file_id) == (D(134), "dial-2")


async def test_skipping_everything_sends_nothing(harness: BotHarness, db: Database) -> None:
    h = harness
    await seed(db)
    calls = await h.send(ANNA, READINGS)
    calls = await tap(h, ANNA, calls, SKIP)
    calls = await tap(h, ANNA, calls, SKIP)
    assert texts(calls)[-1] == "Вы пропустили все счётчики: ничего не отправлено."


# --------------------------------------------------------------------------- once
async def test_a_double_press_and_a_redelivered_update_store_once(
    harness: BotHarness, db: Database
) -> None:
    h = harness
    await seed(db)
    calls = await type_all(h, ANNA, "131")
    calls = await tap(h, ANNA, calls, SKIP)
    send = last_with(calls, SEND).callback_of(SEND)
    update: dict[str, Any] = {
        "update_id": 999,
        "callback_query": {
            "id": "q-1",
            "from": ANNA.as_user(),
            "chat_instance": "ci",
            "data": send,
            "message": {
                "message_id": 5,
                "date": 0,
                "chat": {"id": ANNA.id, "type": "private", "first_name": "Anna"},
                "text": "…",
            },
        },
    }
    for _ in range(2):  # Telegram delivers the same update again
        await h.dp.feed_update(h.bot, Update.model_validate(update, context={"bot": h.bot}))
    again = await h.press(ANNA, send)  # and the resident presses once more
    assert answers(again)[0].params["text"] == "Эти показания уже отправлены."
    assert len(await stored(db)) == 1


# --------------------------------------------------------------------------- around
async def test_several_accounts_go_through_the_picker(harness: BotHarness, db: Database) -> None:
    h = harness
    await seed(db, accounts=2)
    calls = await h.send(ANNA, READINGS)
    assert texts(calls) == ["Какой лицевой счёт?"]
    calls = await tap(h, ANNA, calls, "№ 1000000001, ул. Ленина, д. 1, кв. 1")
    assert "Холодная вода № ХВ123456" in texts(calls)[0]


async def test_closed_window_tells_when(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    h = harness
    await seed(db)
    clock.set(dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    calls = await h.send(ANNA, READINGS)
    assert (
        "Показания принимаются с 15 по 25 число каждого месяца. Сейчас приём закрыт: "
        "следующий — 15.12.2026 – 25.12.2026 (показания за декабрь 2026)." in texts(calls)[0]
    )
    assert calls[-1].button_texts() == [HISTORY]


async def test_correction_of_a_sent_reading(harness: BotHarness, db: Database) -> None:
    h = harness
    await seed(db)
    calls = await type_all(h, ANNA, "133", "1", "2")
    await tap(h, ANNA, calls, SEND)
    calls = await h.send(ANNA, READINGS)
    assert texts(calls)[0].startswith(
        "✅ Лицевой счёт № 1000000001 (Водоканал): показания за ноябрь 2026 переданы."
    )
    assert calls[-1].button_texts() == [CORRECT, HISTORY]
    calls = await tap(h, ANNA, calls, CORRECT)
    calls = await tap(h, ANNA, calls, "Холодная вода № ХВ123456")
    assert "В этом периоде уже передано: 133,000 м³." in texts(calls)[0]
    calls = await h.send(ANNA, "132,4")
    assert "<b>132,400 м³</b> (+2,400 м³) — исправление" in texts(calls)[0]
    calls = await tap(h, ANNA, calls, SEND)
    assert "— исправлено" in texts(calls)[0]
    water = [r for r in await stored(db) if r.value in (D(133), D("132.4"))]
    assert [r.status for r in water] == ["corrected", "accepted"]
    async with db.session_maker() as s:
        actions = list((await s.execute(select(AuditLog.action))).scalars())
    assert actions.count("reading_corrected") == 1


async def test_history_shows_readings_and_a_chart(harness: BotHarness, db: Database) -> None:
    h = harness
    ids = await seed(db)
    calls = await h.send(ANNA, READINGS)
    calls = await tap(h, ANNA, calls, HISTORY)
    assert texts(calls) == ["История какого счётчика?"]
    calls = await tap(h, ANNA, calls, "Холодная вода № ХВ123456")
    text = texts(calls)[0]
    assert text.startswith("📈 <b>Холодная вода № ХВ123456</b>")
    assert "20.10.2026 · 130,000 м³ ✅ · от поставщика" in text
    [photo] = [c for c in calls if c.method == "sendPhoto"]
    assert photo.params["caption"] == "📊 Расход по месяцам, м³"
    [upload] = h.session.files.values()
    assert upload.data.startswith(b"\x89PNG") and upload.filename == "consumption.png"
    assert ids["water"]


async def test_someone_elses_account_is_not_available(harness: BotHarness, db: Database) -> None:
    h = harness
    ids = await seed(db)
    forged = SendReadingsCb(account_id=ids["account"]).pack()
    calls = await h.press(BORIS, forged)
    assert answers(calls)[0].params["text"] == "Недоступно."
    assert await stored(db) == []


async def test_reminders_in_settings_and_a_blocked_bot(harness: BotHarness, db: Database) -> None:
    h = harness
    await seed(db)
    calls = await h.send(ANNA, "⚙️ Настройки")
    assert "Напоминания о показаниях: включены" in texts(calls)[0]
    calls = await tap(h, ANNA, calls, "🔕 Выключить напоминания о показаниях")
    assert answers(calls)[0].params["text"] == "Напоминания выключены."
    assert "🔔 Включить напоминания о показаниях" in calls[-1].button_texts()
    member = {
        "chat": {"id": ANNA.id, "type": "private", "first_name": "Anna"},
        "from": ANNA.as_user(),
        "date": 0,
        "old_chat_member": {
            "status": "member",
            "user": {"id": 1, "is_bot": True, "first_name": "K"},
        },
        "new_chat_member": {
            "status": "kicked",
            "until_date": 0,
            "user": {"id": 1, "is_bot": True, "first_name": "K"},
        },
    }
    await h.feed({"my_chat_member": member})
    async with db.session_maker() as s:
        user = await s.get(User, ANNA.id)
        assert user is not None and not user.reading_reminders and user.inactive_since is not None
    member["old_chat_member"], member["new_chat_member"] = (
        member["new_chat_member"],
        member["old_chat_member"],
    )
    await h.feed({"my_chat_member": member})
    async with db.session_maker() as s:
        user = await s.get(User, ANNA.id)
        assert user is not None and user.inactive_since is None
    async with db.session_maker() as s:
        assert list((await s.execute(select(Ticket))).scalars()) == []


async def test_meters_past_verification(
    harness: BotHarness, db: Database, make_settings, clock: FrozenClock
) -> None:
    """A warning by default; with READING_REFUSE_UNVERIFIED the meter is left out (here the
    only one: nothing to send)."""
    h = harness
    ids = await seed(db)
    async with db.session_maker() as s:
        for meter_id in (ids["water"], ids["power"]):
            meter = await s.get(f.Meter, meter_id)
            assert meter is not None
            meter.verification_due = dt.date(2026, 11, 1)
        await s.commit()
    calls = await h.send(ANNA, READINGS)
    assert "⚠️ Срок поверки этого счётчика истёк 01.11.2026" in texts(calls)[0]

    from bot.app import create_dispatcher
    from bot.integrations import Gateways, LogSmsGateway

    strict = create_dispatcher(
        make_settings(reading_refuse_unverified=True),
        db,
        clock=clock,
        gateways=Gateways(sms=LogSmsGateway()),
    )
    other = BotHarness(strict)
    try:
        said = texts(await other.send(ANNA, READINGS))[0]
    finally:
        await strict.storage.close()
        await other.bot.session.close()
    assert "⛔ Холодная вода № ХВ123456: срок поверки истёк 01.11.2026" in said
    assert said.endswith("Нет ни одного счётчика, показания которого можно передать.")
