"""Registration through the production Dispatcher with a recording session."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import AuditLog, FsmRecord, User
from tests.support.harness import BotHarness, Person, answers, texts


async def _user(db: Database, user_id: int) -> User | None:
    async with db.session_maker() as s:
        return await s.get(User, user_id)


async def register(h: BotHarness, person: Person) -> None:
    calls = await h.send(person, "/start")
    consent = next(c for c in calls if "152" in (c.text or ""))
    await h.press(person, consent.callback_of("✅ Даю согласие"))
    await h.share_contact(person)


async def test_start_asks_consent_and_stores_nothing(harness: BotHarness, db: Database) -> None:
    anna = Person(501)
    calls = await harness.send(anna, "/start")
    said = texts(calls)
    assert said[0].startswith("Здравствуйте, Anna!")
    assert "152-ФЗ" in said[1]
    assert calls[1].button_texts() == ["✅ Даю согласие", "❌ Не даю согласия"]
    assert await _user(db, anna.id) is None


async def test_full_registration(harness: BotHarness, db: Database) -> None:
    anna = Person(502, phone="+79161234567")
    calls = await harness.send(anna, "/start")
    agree = calls[-1].callback_of("✅ Даю согласие")
    calls = await harness.press(anna, agree)
    assert answers(calls)[0].params.get("text") == "Спасибо!"
    ask = calls[-1]
    assert "поделитесь номером" in (ask.text or "")
    assert ask.markup is not None
    assert ask.markup["keyboard"][0][0]["request_contact"] is True
    user = await _user(db, anna.id)
    assert user is not None and user.consent_version == "1" and user.phone is None

    calls = await harness.share_contact(anna)
    assert "зарегистрированы" in texts(calls)[0]
    menu = calls[0].button_texts()
    assert "💳 Баланс" in menu and "⚙️ Настройки" in menu
    user = await _user(db, anna.id)
    assert user is not None and user.phone == "+79161234567"


async def test_someone_elses_contact_is_refused(harness: BotHarness, db: Database) -> None:
    anna = Person(503)
    calls = await harness.send(anna, "/start")
    await harness.press(anna, calls[-1].callback_of("✅ Даю согласие"))
    for kwargs in ({"user_id": 999}, {"user_id": None}):
        calls = await harness.share_contact(anna, phone="+79990001122", **kwargs)
        assert "не ваш контакт" in texts(calls)[0]
    calls = await harness.send(anna, "+79161234567")
    assert "набранный вручную" in texts(calls)[0]
    calls = await harness.send(
        anna,
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        },
    )
    assert "кнопкой «Поделиться номером телефона»" in texts(calls)[0]
    user = await _user(db, anna.id)
    assert user is not None and user.phone is None


async def test_decline_keeps_nothing(harness: BotHarness, db: Database) -> None:
    anna = Person(504)
    calls = await harness.send(anna, "/start")
    calls = await harness.press(anna, calls[-1].callback_of("❌ Не даю согласия"))
    assert any("Никаких данных о вас не сохранено" in t for t in texts(calls))
    assert await _user(db, anna.id) is None
    # menu items lead back to the consent request
    calls = await harness.send(anna, "💳 Баланс")
    assert "152-ФЗ" in texts(calls)[0]


async def test_double_press_on_consent_is_harmless(harness: BotHarness, db: Database) -> None:
    anna = Person(505)
    calls = await harness.send(anna, "/start")
    agree = calls[-1].callback_of("✅ Даю согласие")
    await harness.press(anna, agree)
    calls = await harness.press(anna, agree)
    assert answers(calls)[0].params.get("text") == "Уже сделано."
    async with db.session_maker() as s:
        rows = (await s.execute(select(AuditLog).where(AuditLog.action == "consent_given"))).all()
    assert len(rows) == 1


async def test_newer_consent_version_asks_again(
    harness: BotHarness, db: Database, make_settings, clock
) -> None:
    from bot.app import create_dispatcher

    anna = Person(506)
    await register(harness, anna)
    newer = make_settings(consent_version="2")
    h2 = BotHarness(create_dispatcher(newer, db, clock=clock))
    calls = await h2.send(anna, "💳 Баланс")
    assert "152-ФЗ" in texts(calls)[0]
    await h2.press(anna, calls[0].callback_of("✅ Даю согласие"))
    user = await _user(db, anna.id)
    assert user is not None and user.consent_version == "2"
    assert user.phone == "+79161234567"  # the phone stays; only consent was renewed
    await h2.bot.session.close()


async def test_cancel_from_every_state(harness: BotHarness) -> None:
    anna = Person(507)
    await harness.send(anna, "/start")
    calls = await harness.send(anna, "/cancel")
    assert texts(calls) == ["Отменено. Отправьте /start, когда будете готовы продолжить."]
    calls = await harness.send(anna, "/start")
    await harness.press(anna, calls[-1].callback_of("✅ Даю согласие"))
    calls = await harness.send(anna, "✖️ Отмена")
    assert texts(calls)[0].startswith("Отменено.")
    await harness.send(anna, "/start")  # phone step again
    await harness.share_contact(anna)
    calls = await harness.send(anna, "/cancel")
    assert texts(calls) == ["Отменено."]
    assert "💳 Баланс" in calls[0].button_texts()


async def test_menu_items_and_help(harness: BotHarness) -> None:
    anna = Person(508)
    await register(harness, anna)
    calls = await harness.send(anna, "💬 Написать в поддержку")  # released: issue 11
    assert "<b>Связь с поддержкой</b>" in texts(calls)[0]
    for button in ("📟 Показания счётчиков", "💳 Баланс"):  # released: need an account
        calls = await harness.send(anna, button)
        assert "пока не привязан ни один лицевой счёт" in texts(calls)[0]
    calls = await harness.send(anna, "/help")
    assert "Что я умею" in texts(calls)[0]
    calls = await harness.send(anna, "абракадабра")
    assert "Я не понял" in texts(calls)[0]


async def test_english_resident_and_language_switch(harness: BotHarness, db: Database) -> None:
    john = Person(509, first_name="John", language_code="en-GB")
    calls = await harness.send(john, "/start")
    assert texts(calls)[0].startswith("Hello, John!")
    await harness.press(john, calls[-1].callback_of("✅ I agree"))
    calls = await harness.share_contact(john)
    assert "💳 Balance" in calls[0].button_texts()
    calls = await harness.send(john, "⚙️ Settings")
    calls = await harness.press(john, calls[0].callback_of("🌐 Language"))
    calls = await harness.press(john, calls[-1].callback_of("Русский"))
    assert texts(calls, "sendMessage") == ["Готово, теперь я говорю по-русски."]
    assert "💳 Баланс" in calls[-1].button_texts()
    user = await _user(db, john.id)
    assert user is not None and user.language == "ru"
    # the old English keyboard still works after the switch
    calls = await harness.send(john, "💳 Balance")
    assert "пока не привязан ни один лицевой счёт" in texts(calls)[0]


async def test_delete_my_data(harness: BotHarness, db: Database) -> None:
    anna = Person(510)
    await register(harness, anna)
    calls = await harness.send(anna, "⚙️ Настройки")
    assert "+7 *** ***-45-67" in texts(calls)[0]
    calls = await harness.press(anna, calls[0].callback_of("🗑 Удалить мои данные"))
    calls = await harness.press(anna, calls[-1].callback_of("Да, удалить мои данные"))
    assert any("удалены" in t for t in texts(calls))
    assert await _user(db, anna.id) is None
    async with db.session_maker() as s:
        consent = (
            await s.execute(select(AuditLog).where(AuditLog.action == "consent_given"))
        ).scalar_one()
        assert consent.actor_id is None  # the trail is kept, anonymised
        assert (await s.execute(select(FsmRecord))).first() is None
    calls = await harness.send(anna, "⚙️ Настройки")
    assert "152-ФЗ" in texts(calls)[0]  # starts from scratch


async def test_forged_callbacks(harness: BotHarness) -> None:
    anna = Person(511)
    await register(harness, anna)
    for data in ("lang:xx", "consent:maybe", "set:nuke", "garbage", "slk:approve:1"):
        calls = await harness.press(anna, data)
        assert answers(calls), data
        assert answers(calls)[0].params.get("show_alert") in (True, None)


async def test_flood_control_is_waited_out(harness: BotHarness) -> None:
    """A 429 on the greeting is honoured: the bot waits retry_after and sends again."""
    harness.session.queue(
        "sendMessage",
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    calls = await harness.send(Person(512), "/start")
    sends = [c for c in calls if c.method == "sendMessage"]
    assert len(sends) == 3  # the greeting twice (429, then sent), then the consent request
    assert sends[0].text == sends[1].text and sends[1].text.startswith("Здравствуйте")


async def test_chat_id_in_a_group_helps_the_setup(harness: BotHarness) -> None:
    admin = Person(513)
    calls = await harness.send(admin, "/chat_id", chat_id=-1005550001111)
    assert texts(calls) == [
        "Идентификатор этого чата: <code>-1005550001111</code>. Чтобы сделать его чатом "
        "операторов, укажите STAFF_CHAT_ID=-1005550001111 и перезапустите бота."
    ]
    calls = await harness.send(admin, "/chat_id")  # in a private chat: not a setup command
    assert "152-ФЗ" in texts(calls)[0]


async def test_a_resident_registered_without_a_language_gets_the_one_they_are_answered_in(
    harness: BotHarness, db: Database
) -> None:
    """Residents registered before registration stored the language: their next message in
    private stores what they are answered in (notices and reminders read it); a language
    already stored is kept, and an operator's message in the staff chat changes nothing."""
    from tests.conftest import STAFF_CHAT_ID
    from tests.support import factories as f

    john = Person(521, first_name="John", language_code="en-US", phone="+79160000521")
    anna = Person(522, phone="+79160000522")
    chose = Person(523, first_name="Kate", language_code="en", phone="+79160000523")
    operator = Person(524, first_name="Olga", language_code="en", phone="+79160000524")
    await f.add(db, f.resident(john.id, john.phone), f.resident(anna.id, anna.phone),
                f.resident(chose.id, chose.phone, language="ru"),
                f.resident(operator.id, operator.phone))  # fmt: skip
    calls = await harness.send(john, "/start")
    assert "💳 Balance" in calls[-1].button_texts()
    await harness.send(anna, "/start")
    await harness.send(chose, "/start")
    await harness.send(operator, "Коллеги, привет", chat_id=STAFF_CHAT_ID)
    languages = {u: (await _user(db, u)).language for u in (521, 522, 523, 524)}  # type: ignore[union-attr]
    assert languages == {521: "en", 522: "ru", 523: "ru", 524: None}


async def test_a_language_is_stored_in_private_after_a_message_in_the_staff_chat(
    harness: BotHarness, db: Database
) -> None:
    """An operator who is also a resident registered without a language writes in the staff
    chat first: that is not remembered as «no language», so their next private message
    still stores the one they are answered in (before: not for the cache's 5 minutes, and
    notices went out in the default language meanwhile)."""
    from tests.conftest import STAFF_CHAT_ID
    from tests.support import factories as f

    olga = Person(525, first_name="Olga", language_code="en", phone="+79160000525")
    await f.add(db, f.resident(olga.id, olga.phone))
    await harness.send(olga, "Коллеги, привет", chat_id=STAFF_CHAT_ID)
    calls = await harness.send(olga, "/start")
    assert "💳 Balance" in calls[-1].button_texts()
    assert (await _user(db, olga.id)).language == "en"  # type: ignore[union-attr]
