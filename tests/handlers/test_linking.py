"""My accounts and linking through the production Dispatcher with a recording session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from handlers.accounts.callbacks import (
    AccountAction,
    AccountCb,
    AccountsPageCb,
    LinkRoute,
    LinkRouteCb,
)
from handlers.common.callbacks import SuggestedAccountCb
from handlers.staff.cards import StaffAction, StaffLinkCb
from storage.db import Database
from storage.models import AccountLink, AuditLog, Supplier, Ticket
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_registration import register
from tests.support import factories as f
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

ANNA = Person(601, "Anna", phone="+79161234567")
BORIS = Person(602, "Boris", phone="+79035550011")
HOLDER_PHONE = "+79261112233"

MY_ACCOUNTS = "🏠 Мои лицевые счета"
LINK = "➕ Привязать лицевой счёт"
ACCESS = "🔑 Ввести код доступа из квитанции"
SMS = "📱 Получить код по СМС на телефон из учёта"
OPERATOR = "👤 Обратиться к оператору"
RESEND = "🔁 Отправить код ещё раз"
SKIP_PHOTO = "⏭ Отправить без фото"


async def seed(db: Database, *, registered: tuple[Person, ...] = (ANNA, BORIS)) -> dict[str, int]:
    voda = f.supplier()
    mine = f.account(voda, "1000000001", phones=(ANNA.phone,), access_code="AB12CD")
    coded = f.account(
        voda,
        "1000000002",
        address="пр. Мира, д. 5, кв. 7",
        phones=(HOLDER_PHONE,),
        access_code="XY34ZW",
    )
    bare = f.account(voda, "1000000003", address="ул. Садовая, д. 3")
    await f.add(db, voda, mine, coded, bare, *(f.resident(p.id, p.phone) for p in registered))
    return {"supplier": voda.id, "mine": mine.id, "coded": coded.id, "bare": bare.id}


async def links(db: Database) -> list[tuple[int, int, str, str | None]]:
    async with db.session_maker() as s:
        rows = (await s.execute(select(AccountLink).order_by(AccountLink.id))).scalars()
        return [(r.user_id, r.account_id, r.status, r.method) for r in rows]


async def audit_actions(db: Database) -> list[str]:
    async with db.session_maker() as s:
        return list((await s.execute(select(AuditLog.action).order_by(AuditLog.id))).scalars())


def last_with(calls: list[Call], button: str) -> Call:
    for call in reversed(calls):
        if button in call.button_texts():
            return call
    raise AssertionError(f"no message with {button!r} in {[c.button_texts() for c in calls]}")


async def enter_number(h: BotHarness, person: Person, number: str) -> list[Call]:
    calls = await h.send(person, MY_ACCOUNTS)
    await h.press(person, last_with(calls, LINK).callback_of(LINK))
    return await h.send(person, number)


async def operator_request(
    h: BotHarness, person: Person, number: str, *, photo: bool = False
) -> list[Call]:
    """Up to the card in the staff chat; returns the calls of the last step."""
    calls = await enter_number(h, person, number)
    calls = await h.press(person, last_with(calls, OPERATOR).callback_of(OPERATOR))
    await h.send(person, "Борис <b>Петров</b>")
    calls = await h.send(person, "Ленина 1, кв. 3")
    if photo:
        size = {"file_unique_id": "u", "width": 90, "height": 90}
        return await h.send(
            person,
            photo=[{"file_id": "small", **size}, {"file_id": "receipt-big", **size}],
        )
    return await h.press(person, last_with(calls, SKIP_PHOTO).callback_of(SKIP_PHOTO))


async def test_empty_list_and_phone_route(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await harness.send(ANNA, MY_ACCOUNTS)
    assert "Пока не привязано" in texts(calls)[0]
    assert calls[0].button_texts() == [LINK]
    calls = await harness.press(ANNA, calls[0].callback_of(LINK))
    prompt = texts(calls)[-1]  # one supplier: its choice is skipped
    assert "Введите номер лицевого счёта (Водоканал)" in prompt
    assert "Подсказка: 10 цифр" in prompt
    calls = await harness.send(ANNA, "1000-000 001")
    assert "✅ Лицевой счёт № 1000000001 (Водоканал) привязан" in texts(calls)[0]
    assert await links(db) == [(ANNA.id, 1, "active", "phone")]
    calls = await harness.send(ANNA, MY_ACCOUNTS)
    shown = texts(calls)[0]
    assert "🏠 Водоканал, лицевой счёт № 1000000001" in shown and "ул. Ленина" in shown
    assert "✖️ Отвязать № 1000000001" in calls[0].button_texts()


async def test_choose_supplier_when_several(harness: BotHarness, db: Database) -> None:
    await seed(db)
    await f.add(
        db, f.supplier(code="TEPLO", name="Теплосеть", pattern=r"T\d{4}", hint="T и 4 цифры")
    )
    calls = await harness.send(ANNA, MY_ACCOUNTS)
    calls = await harness.press(ANNA, calls[0].callback_of(LINK))
    assert "Выберите поставщика" in texts(calls)[0]
    assert calls[-1].button_texts() == [
        "Водоканал",
        "Теплосеть",
        "🏢 Я представитель организации",
        "✖️ Отмена",
    ]
    calls = await harness.press(ANNA, calls[-1].callback_of("Теплосеть"))
    assert "Подсказка: T и 4 цифры" in texts(calls)[-1]
    calls = await harness.send(ANNA, "1000000001")  # Водоканал's format, not Теплосеть's
    assert "не похоже на номер лицевого счёта (Теплосеть)" in texts(calls)[0]


async def test_wrong_format_is_not_an_attempt(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "12-34")
    assert "не похоже на номер" in texts(calls)[0]
    calls = await harness.send(BORIS, "одна тысяча")
    assert "Подсказка: 10 цифр" in texts(calls)[0]
    assert await audit_actions(db) == []


async def test_access_code_route(harness: BotHarness, db: Database) -> None:
    ids = await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    routes = calls[-1]
    assert "Как вы хотите подтвердить" in (routes.text or "")
    assert routes.button_texts() == [ACCESS, SMS, OPERATOR, "✖️ Отмена"]
    calls = await harness.press(BORIS, routes.callback_of(ACCESS))
    assert "Введите код доступа" in texts(calls)[-1]
    assert OPERATOR in calls[-1].button_texts()  # an operator at every step
    calls = await harness.send(BORIS, "XY34ZX")
    assert (
        "Код не подходит" in texts(calls)[0] and "Осталось попыток на сегодня: 9" in texts(calls)[0]
    )
    calls = await harness.send(BORIS, " XY34ZW ")
    assert "пр. Мира, д. 5, кв. 7" in texts(calls)[0]
    assert await links(db) == [(BORIS.id, ids["coded"], "active", "access_code")]


async def test_sms_route(harness: BotHarness, db: Database, sms: LogSmsGateway, clock) -> None:
    ids = await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    calls = await harness.press(BORIS, calls[-1].callback_of(SMS))
    said = texts(calls)[-1]
    assert "+7 *** ***-22-33" in said and "30 мин" in said
    assert calls[-1].button_texts()[:2] == [RESEND, OPERATOR]
    [(phone, text)] = sms.sent
    assert phone == HOLDER_PHONE and "для привязки лицевого счёта 1000000002" in text
    code = text.split()[1]
    assert HOLDER_PHONE not in said

    calls = await harness.press(BORIS, LinkRouteCb(route=LinkRoute.RESEND).pack())
    assert "через 60 с" in answers(calls)[0].params["text"]
    calls = await harness.send(BORIS, "000000" if code != "000000" else "111111")
    assert texts(calls)[0] == "Неверный код. Осталось попыток для этого кода: 4."
    calls = await harness.send(BORIS, code)
    assert "привязан" in texts(calls)[0]
    assert await links(db) == [(BORIS.id, ids["coded"], "active", "sms_code")]


async def test_sms_code_expired_then_resent(
    harness: BotHarness, db: Database, sms: LogSmsGateway, clock: FrozenClock
) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    await harness.press(BORIS, calls[-1].callback_of(SMS))
    clock.advance(minutes=31)
    calls = await harness.send(BORIS, sms.sent[0][1].split()[1])
    assert "Срок действия кода истёк" in texts(calls)[0]
    calls = await harness.press(BORIS, calls[0].callback_of(RESEND))
    assert len(sms.sent) == 2
    calls = await harness.send(BORIS, sms.sent[1][1].split()[1])
    assert "привязан" in texts(calls)[0]


async def test_no_phone_on_file_and_no_such_account(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000003")
    calls = await harness.press(BORIS, calls[-1].callback_of(SMS))
    assert "либо для него не указан телефон" in texts(calls)[-1]
    calls = await enter_number(harness, BORIS, "1999999999")
    calls = await harness.press(BORIS, calls[-1].callback_of(OPERATOR))
    assert "нет в нашем учёте" in texts(calls)[-1]
    assert await audit_actions(db) == ["link_lookup_failed", "link_lookup_failed"]


async def test_someone_elses_account_looks_like_a_missing_one(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    theirs = (await enter_number(harness, BORIS, "1000000001"))[-1]  # Anna's phone on file
    missing = (await enter_number(harness, BORIS, "1999999999"))[-1]
    assert (theirs.text or "").replace("1000000001", "N") == (missing.text or "").replace(
        "1999999999", "N"
    )
    assert theirs.markup == missing.markup
    for number in ("1000000001", "1999999999"):
        calls = await enter_number(harness, BORIS, number)
        await harness.press(BORIS, calls[-1].callback_of(ACCESS))
        calls = await harness.send(BORIS, "AB12CE")
        assert "Код не подходит" in texts(calls)[0]
    assert await links(db) == []
    assert "ул. Ленина" not in " ".join(texts(harness.session.calls))


async def test_forged_buttons_do_nothing(harness: BotHarness, db: Database) -> None:
    ids = await seed(db)
    await enter_number(harness, ANNA, "1000000001")  # Anna links hers by phone
    for action in (AccountAction.UNLINK, AccountAction.UNLINK_YES):
        calls = await harness.press(BORIS, AccountCb(action=action, account_id=ids["mine"]).pack())
        assert answers(calls)[0].params == {
            "callback_query_id": answers(calls)[0].params["callback_query_id"],
            "text": "Недоступно.",
            "show_alert": True,
        }
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    calls = await harness.press(BORIS, SuggestedAccountCb(account_id=ids["coded"]).pack())
    assert answers(calls)[0].params["text"] == "Недоступно."
    # a route button outside a conversation, a staff button in a private chat
    calls = await harness.press(BORIS, LinkRouteCb(route=LinkRoute.SMS).pack())
    assert "больше не действует" in answers(calls)[0].params["text"]
    calls = await harness.press(BORIS, StaffLinkCb(action=StaffAction.APPROVE, link_id=1).pack())
    assert answers(calls)[0].params["text"] == "Это работает только в чате операторов."
    assert await links(db) == [(ANNA.id, ids["mine"], "active", "phone")]


async def test_lockout_after_ten_failures(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    await harness.press(BORIS, calls[-1].callback_of(ACCESS))
    for left in range(9, 0, -1):
        calls = await harness.send(BORIS, "WRONG")
        assert f"Осталось попыток на сегодня: {left}." in texts(calls)[0]
    calls = await harness.send(BORIS, "WRONG")
    # 09:00 UTC on 20.11 is 12:00 in Moscow: unlocked at the next Moscow midnight
    assert "приостановлена до 21.11.2026 00:00 (по московскому времени)" in texts(calls)[0]
    calls = await harness.send(BORIS, "XY34ZW")  # the conversation is over
    assert "Я не понял" in texts(calls)[0]
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    calls = await harness.press(BORIS, calls[0].callback_of(LINK))
    assert "приостановлена до 21.11.2026 00:00" in texts(calls)[0]
    assert await links(db) == []


async def test_lockout_ends_next_day(harness: BotHarness, db: Database, clock: FrozenClock) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    await harness.press(BORIS, calls[-1].callback_of(ACCESS))
    for _ in range(10):
        await harness.send(BORIS, "WRONG")
    clock.advance(hours=12)  # 00:00 in Moscow
    calls = await enter_number(harness, BORIS, "1000000002")
    await harness.press(BORIS, calls[-1].callback_of(ACCESS))
    calls = await harness.send(BORIS, "XY34ZW")
    assert "привязан" in texts(calls)[0]


async def test_family_of_two(harness: BotHarness, db: Database) -> None:
    ids = await seed(db)
    await enter_number(harness, ANNA, "1000000001")
    calls = await enter_number(harness, BORIS, "1000000001")
    assert "Как вы хотите подтвердить" in texts(calls)[-1]  # Anna's link proves nothing for Boris
    await harness.press(BORIS, calls[-1].callback_of(ACCESS))
    await harness.send(BORIS, "AB12CD")
    assert await links(db) == [
        (ANNA.id, ids["mine"], "active", "phone"),
        (BORIS.id, ids["mine"], "active", "access_code"),
    ]
    # Anna unlinks with a confirmation; Boris keeps his link
    calls = await harness.send(ANNA, MY_ACCOUNTS)
    calls = await harness.press(ANNA, calls[0].callback_of("✖️ Отвязать № 1000000001"))
    assert texts(calls)[0] == "Отвязать лицевой счёт № 1000000001 (Водоканал)?"
    confirm = calls[-1]
    keep = await harness.press(ANNA, confirm.callback_of("Нет, оставить"))
    assert answers(keep)[0].params["text"] == "Ничего не изменено."
    assert len(await links(db)) == 2
    calls = await harness.press(ANNA, confirm.callback_of("Да, отвязать"))
    assert "Лицевой счёт № 1000000001 отвязан" in texts(calls, "editMessageText")[0]
    assert await links(db) == [(BORIS.id, ids["mine"], "active", "access_code")]
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    assert "ул. Ленина" in texts(calls)[0]
    assert (await audit_actions(db)).count("account_unlinked") == 1


async def test_suggestions_after_registration(harness: BotHarness, db: Database) -> None:
    ids = await seed(db, registered=())
    await f.add(db, f.account(await _supplier(db), "1000000009", phones=(ANNA.phone,)))
    calls: list[Call] = []
    await register(harness, ANNA)
    calls = harness.session.calls
    offer = last_with(calls, "✅ Привязать № 1000000001 (Водоканал)")
    assert "Ваш телефон указан для этих лицевых счетов" in (offer.text or "")
    assert "ул. Ленина" in (offer.text or "")
    calls = await harness.press(ANNA, offer.callback_of("✅ Привязать № 1000000001 (Водоканал)"))
    assert "привязан" in texts(calls)[-1]
    edited = next(c for c in calls if c.method == "editMessageText")
    assert edited.button_texts() == ["✅ Привязать № 1000000009 (Водоканал)"]
    # the list is redrawn with its buttons: what is left to link, not what was linked
    assert "№ 1000000009" in (edited.text or "") and "№ 1000000001" not in (edited.text or "")
    assert (ANNA.id, ids["mine"], "active", "phone") in await links(db)


async def _supplier(db: Database) -> Any:
    from storage.models import Supplier

    async with db.session_maker() as s:
        return (await s.execute(select(Supplier))).scalar_one()


async def test_registration_without_accounts_gives_the_next_step(
    harness: BotHarness, db: Database
) -> None:
    """Nothing on file for the phone: not only «you are registered» but what to do next."""
    await seed(db, registered=())
    await register(harness, BORIS)
    *_, registered, next_step = [c for c in harness.session.calls if c.method == "sendMessage"]
    assert "зарегистрированы" in (registered.text or "")
    assert (next_step.text or "").startswith("Теперь привяжите лицевой счёт")
    assert next_step.button_texts() == [LINK]
    calls = await harness.press(BORIS, next_step.callback_of(LINK))
    assert "Введите номер лицевого счёта" in texts(calls)[-1]


async def test_operator_request(harness: BotHarness, db: Database) -> None:
    ids = await seed(db)
    calls = await operator_request(harness, BORIS, "1000000003", photo=True)
    card = next(c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat")
    assert card.method == "sendPhoto" and card.params["photo"] == "receipt-big"
    caption = card.text or ""
    assert "Заявка на привязку лицевого счёта" in caption
    assert "Борис &lt;b&gt;Петров&lt;/b&gt;" in caption  # resident's text escaped
    assert "+7 *** ***-00-11" in caption and "+79035550011" not in caption
    assert "1000000003" in caption and "Ленина 1, кв. 3" in caption and "ул. Садовая" in caption
    assert card.button_texts() == ["✅ Одобрить", "❌ Отклонить"]
    told = texts([c for c in calls if c.chat_id == BORIS.id])[-1]
    assert "до трёх дней" in told
    assert await links(db) == [(BORIS.id, ids["bare"], "pending", "operator")]
    async with db.session_maker() as s:
        [ticket] = (await s.execute(select(Ticket))).scalars().all()
    assert (ticket.kind, ticket.link_id, ticket.staff_chat_id) == ("link", 1, STAFF_CHAT_ID)
    assert ticket.staff_message_id is not None
    # shown as pending, without the address on file
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    shown = texts(calls)[0]
    assert "⏳" in shown and "ждёт проверки" in shown and "ул. Садовая" not in shown
    assert "✖️ Отозвать заявку по № 1000000003" in calls[0].button_texts()
    # asking again while pending
    calls = await enter_number(harness, BORIS, "1000000003")
    assert "уже у оператора" in texts(calls)[0]


async def test_operator_request_without_photo_is_a_text_card(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    calls = await operator_request(harness, BORIS, "1000000002")
    card = next(c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat")
    assert card.method == "sendMessage" and "Фото: нет" in (card.text or "")


async def test_staff_chat_unreachable_saves_nothing(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    await harness.press(BORIS, calls[-1].callback_of(OPERATOR))
    await harness.send(BORIS, "Борис")
    calls = await harness.send(BORIS, "Ленина 1")
    harness.session.queue(
        "sendMessage",
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    calls = await harness.press(BORIS, last_with(calls, SKIP_PHOTO).callback_of(SKIP_PHOTO))
    assert "Ничего не сохранено" in texts(calls)[-1]
    assert await links(db) == []


@pytest.fixture
async def no_staff(
    make_settings: Callable[..., Settings], db: Database, clock: FrozenClock, sms: LogSmsGateway
) -> AsyncIterator[BotHarness]:
    from bot.app import create_dispatcher

    dp = create_dispatcher(
        make_settings(staff_chat_id=None), db, clock=clock, gateways=Gateways(sms=sms)
    )
    h = BotHarness(dp)
    yield h
    await dp.storage.close()
    await h.bot.session.close()


async def test_without_staff_chat_operators_are_unavailable(
    no_staff: BotHarness, db: Database
) -> None:
    await seed(db)
    calls = await enter_number(no_staff, BORIS, "1000000003")
    calls = await no_staff.press(BORIS, calls[-1].callback_of(OPERATOR))
    said = texts(calls)[-1]
    assert "Заявки операторам сейчас не принимаются" in said and "кодом доступа" in said
    assert calls[-1].button_texts()[0] == ACCESS
    assert await links(db) == []


async def test_menu_button_leaves_the_conversation(harness: BotHarness, db: Database) -> None:
    await seed(db)
    await enter_number(harness, BORIS, "12")
    calls = await harness.send(BORIS, "💳 Баланс")
    assert "пока не привязан ни один лицевой счёт" in texts(calls)[0]
    calls = await harness.send(BORIS, "1000000002")
    assert "Я не понял" in texts(calls)[0]


async def test_cancel_from_linking(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    calls = await harness.press(BORIS, calls[-1].callback_of("✖️ Отмена"))
    assert "Отменено." in texts(calls)
    calls = await harness.send(BORIS, "XY34ZW")
    assert "Я не понял" in texts(calls)[0]


async def test_english_resident(harness: BotHarness, db: Database) -> None:
    await seed(db)
    eve = Person(603, "Eve", language_code="en", phone="+79035550012")
    await f.add(db, f.resident(eve.id, eve.phone))
    calls = await harness.send(eve, "🏠 My accounts")
    assert "No accounts are linked yet" in texts(calls)[0]
    calls = await harness.press(eve, calls[0].callback_of("➕ Link an account"))
    calls = await harness.send(eve, "1000000002")
    assert calls[-1].button_texts()[0] == "🔑 Enter the access code from the receipt"


async def test_requests_to_operators_are_capped(harness: BotHarness, db: Database) -> None:
    """A resident cannot flood the staff chat: at most three requests wait at once."""
    ids = await seed(db)
    async with db.session_maker() as s:
        voda = await s.get(Supplier, ids["supplier"])
    assert voda is not None
    extra = [f.account(voda, f"100000001{i}", address=f"ул. Садовая, д. {i}") for i in range(3)]
    await f.add(db, *extra)
    for number in ("1000000003", "1000000010", "1000000011"):
        calls = await operator_request(harness, BORIS, number)
        assert any(c.chat_id == STAFF_CHAT_ID and c.method != "getChat" for c in calls), number
    calls = await enter_number(harness, BORIS, "1000000012")
    calls = await harness.press(BORIS, last_with(calls, OPERATOR).callback_of(OPERATOR))
    assert texts(calls)[-1] == (
        "У вас уже 3 заявки ждут оператора. Пожалуйста, дождитесь решения по ним, "
        "прежде чем отправлять новую."
    )
    assert not any(c.chat_id == STAFF_CHAT_ID and c.method != "getChat" for c in calls)
    assert [status for *_, status, _ in await links(db)] == ["pending"] * 3


async def test_many_accounts_are_paged(harness: BotHarness, db: Database) -> None:
    """A property manager with 20 accounts: pages of 8, never over Telegram's 4096 characters."""
    ids = await seed(db)
    async with db.session_maker() as s:
        voda = await s.get(Supplier, ids["supplier"])
    assert voda is not None
    many = [
        f.account(voda, f"20000000{i:02d}", address="ул. Очень Длинная Улица, д. 1, кв. " * 4)
        for i in range(20)
    ]
    await f.add(db, *many)
    await f.add(db, *(f.link(ANNA.id, a.id, "active", "phone") for a in many))
    calls = await harness.send(ANNA, MY_ACCOUNTS)
    first = calls[0]
    assert (first.text or "").startswith("<b>Мои лицевые счета</b> (страница 1 из 3)")
    assert (first.text or "").count("🏠") == 8
    assert first.button_texts()[-1] == "▶️"
    calls = await harness.press(ANNA, first.callback_of("▶️"))
    second = next(c for c in calls if c.method == "editMessageText")
    assert "(страница 2 из 3)" in (second.text or "")
    assert second.button_texts()[-2:] == ["◀️", "▶️"]
    calls = await harness.press(ANNA, AccountsPageCb(page=99).pack())
    last = next(c for c in calls if c.method == "editMessageText")
    assert "(страница 3 из 3)" in (last.text or "") and (last.text or "").count("🏠") == 4
    assert last.button_texts()[-1] == "◀️"
    for shown in (first, second, last):
        assert len(shown.text or "") < 4096
