"""Real-world input through the production Dispatcher (issue: phone numbers, other digit
scripts, Telegram's limits, slow gateways, albums, words). Each example is the right
value, asserted as the resident or operator sees it or as it is stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.integrations import Gateways
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import AccountLink, User
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_linking import (
    ACCESS,
    BORIS,
    MY_ACCOUNTS,
    OPERATOR,
    SMS,
    enter_number,
    last_with,
    links,
    seed,
)
from tests.handlers.test_registration import register
from tests.support import factories as f
from tests.support.harness import BotHarness, Person, answers, texts


async def stored_phone(db: Database, user_id: int) -> str | None:
    async with db.session_maker() as s:
        user = await s.get(User, user_id)
        return user.phone if user else None


# --------------------------------------------------------------------------- phones
@pytest.mark.parametrize(
    ("contact", "stored"),
    [
        ("84822123456", "+84822123456"),  # Vietnam, not a landline in Tver
        ("8613812345678", "+8613812345678"),  # China
        ("819012345678", "+819012345678"),  # Japan
        ("77012345678", "+77012345678"),  # Kazakhstan (+7 7xx)
        ("+7 916 123-45-67", "+79161234567"),  # spaces and dashes
    ],
)
async def test_a_contact_is_an_international_number(
    harness: BotHarness, db: Database, contact: str, stored: str
) -> None:
    person = Person(840, phone=contact)
    await register(harness, person)
    assert await stored_phone(db, person.id) == stored
    assert "зарегистрированы" in " ".join(texts(harness.session.calls))


async def test_a_foreign_number_is_not_offered_a_russian_account(
    harness: BotHarness, db: Database
) -> None:
    """+84 822 123 456 must not match the account with +7 482 212-34-56 on file."""
    voda = f.supplier()
    tver = f.account(voda, "1000000009", phones=("+74822123456",))
    await f.add(db, voda, tver)
    person = Person(841, phone="84822123456")
    await register(harness, person)
    said = texts(harness.session.calls)
    assert not any(
        "Привязать № 1000000009" in b for c in harness.session.calls for b in c.button_texts()
    )
    assert not any("1000000009" in t for t in said)
    assert await links(db) == []


# --------------------------------------------------------------------------- digits
async def test_full_width_account_number_is_found(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "１０００ ０００ ００２")
    assert "Лицевой счёт № <code>1000000002</code>" in texts(calls)[0]


async def test_access_code_typed_on_a_russian_keyboard(harness: BotHarness, db: Database) -> None:
    """The receipt says XY34ZW; Cyrillic Х and У in lower case with Arabic-Indic digits."""
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    calls = await harness.press(BORIS, calls[-1].callback_of(ACCESS))
    calls = await harness.send(BORIS, "ху٣٤zw")
    assert "✅ Лицевой счёт № 1000000002" in texts(calls)[0]


async def test_letters_for_an_sms_code_cost_no_attempt(
    harness: BotHarness, db: Database, sms
) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000002")
    await harness.press(BORIS, calls[-1].callback_of(SMS))
    calls = await harness.send(BORIS, "абвгде")
    assert texts(calls) == ["Код — это шесть цифр. Пожалуйста, введите цифры из сообщения."]
    code = sms.sent[0][1].split()[1]
    wide = "".join(chr(ord(d) + 0xFEE0) for d in code)  # full-width digits
    calls = await harness.send(BORIS, wide)
    assert "✅ Лицевой счёт № 1000000002" in texts(calls)[0]


# --------------------------------------------------------------------------- slow gateways
class SlowSms:
    """An SMS provider that answers after a while; remembers what Telegram saw by then."""

    def __init__(self, harness_ref: list[BotHarness]) -> None:
        self.ref = harness_ref
        self.sent: list[tuple[str, str]] = []
        self.answered_before_send: bool | None = None

    async def send_sms(self, phone: str, text: str) -> None:
        calls = self.ref[0].session.calls
        self.answered_before_send = any(c.method == "answerCallbackQuery" for c in calls[-3:])
        await asyncio.sleep(0.3)
        self.sent.append((phone, text))


@pytest.fixture
async def slow(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[tuple[BotHarness, SlowSms]]:
    from bot.app import create_dispatcher

    ref: list[BotHarness] = []
    gateway = SlowSms(ref)
    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=gateway))
    h = BotHarness(dp)
    ref.append(h)
    yield h, gateway
    await dp.storage.close()
    await h.bot.session.close()


async def test_slow_sms_gateway_the_press_is_answered_first(
    slow: tuple[BotHarness, SlowSms], db: Database
) -> None:
    h, gateway = slow
    await seed(db)
    calls = await enter_number(h, BORIS, "1000000002")
    # Telegram has given up on the press by the time the answer comes: "query is too old"
    h.session.queue(
        "answerCallbackQuery",
        {"ok": False, "error_code": 400, "description": "Bad Request: query is too old and "
         "response timeout expired or query ID is invalid"},
    )  # fmt: skip
    calls = await h.press(BORIS, calls[-1].callback_of(SMS))
    assert gateway.answered_before_send is True
    assert "Я отправил код по СМС" in texts(calls)[-1]  # the conversation went on
    code = gateway.sent[0][1].split()[1]
    assert "✅ Лицевой счёт № 1000000002" in texts(await h.send(BORIS, code))[0]


# --------------------------------------------------------------------------- harmless refusals
async def test_double_tap_is_not_an_error(harness: BotHarness, db: Database, caplog) -> None:
    """◀️ ▶️ pressed twice: Telegram says "message is not modified" — not an error, and
    the press is answered once."""
    await seed(db)
    await seed_many(db, BORIS, 9)
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    harness.session.queue(
        "editMessageText",
        {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"},
    )
    calls = await harness.press(BORIS, calls[0].callback_of("▶️"))
    assert len(answers(calls)) == 1  # answered once, not again by the error handler
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def seed_many(db: Database, person: Person, count: int, **kw: str) -> list[int]:
    voda = f.supplier(code="MANY", name=kw.get("supplier", "Водоканал-2"))
    rows = [
        f.account(voda, f"20000000{n:02d}", address=kw.get("address", f"ул. Ленина, д. {n}"))
        for n in range(count)
    ]
    await f.add(db, voda, *rows)
    await f.add(db, *(f.link(person.id, row.id, "active", "phone") for row in rows))
    return [row.id for row in rows]


# --------------------------------------------------------------------------- Telegram's limits
async def test_my_accounts_with_long_names_fits_a_message(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    await seed_many(db, BORIS, 12, supplier="ООО «" + "Очень длинное имя " * 30 + "»",
                    address="ул. " + "Длинная " * 80)  # fmt: skip
    calls = await harness.send(BORIS, MY_ACCOUNTS)
    pages = [calls[0]]
    while "▶️" in pages[-1].button_texts():
        turned = await harness.press(BORIS, pages[-1].callback_of("▶️"))
        pages.append(next(c for c in turned if c.method == "editMessageText"))
    assert len(pages) >= 2
    shown = sum((p.text or "").count("🏠") for p in pages)
    assert shown == 12
    for page in pages:
        assert len(page.text or "") <= 4096 and len(page.button_texts()) <= 100
        assert "…" in (page.text or "")  # long values are cut, with an ellipsis


async def test_sixty_flats_on_one_phone(harness: BotHarness, db: Database) -> None:
    voda = f.supplier()
    phone = "+79161112233"
    await f.add(
        db, voda, *(f.account(voda, f"30000000{n:02d}", phones=(phone,)) for n in range(60))
    )
    person = Person(842, phone=phone)
    await register(harness, person)
    offer = next(c for c in harness.session.calls if "Ваш телефон указан" in (c.text or ""))
    assert len(offer.text or "") <= 4096
    assert len(offer.button_texts()) == 8
    assert "…и ещё 52" in (offer.text or "")


# --------------------------------------------------------------------------- albums and words
async def test_an_album_at_the_photo_step_is_one_request(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000003")
    await harness.press(BORIS, last_with(calls, OPERATOR).callback_of(OPERATOR))
    await harness.send(BORIS, "Борис Петров")
    await harness.send(BORIS, "Садовая 3")
    size = {"file_unique_id": "u", "width": 90, "height": 90}
    first = await harness.send(BORIS, media_group_id="album-1",
                               photo=[{"file_id": "p1", **size}])  # fmt: skip
    second = await harness.send(BORIS, media_group_id="album-1",
                                photo=[{"file_id": "p2", **size}])  # fmt: skip
    assert "отправлена операторам" in texts(first)[-1]
    assert second == []  # no "I did not understand"
    assert len([c for c in first if c.chat_id == STAFF_CHAT_ID and c.method != "getChat"]) == 1
    async with db.session_maker() as s:
        assert len((await s.execute(select(AccountLink))).scalars().all()) == 1


@pytest.mark.parametrize("name", ["😀😀😀", "12345", "—"])
async def test_a_name_for_the_operator_needs_letters(
    harness: BotHarness, db: Database, name: str
) -> None:
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000003")
    await harness.press(BORIS, last_with(calls, OPERATOR).callback_of(OPERATOR))
    calls = await harness.send(BORIS, name)
    assert texts(calls) == ["Пожалуйста, напишите ваше ФИО буквами (до 255 символов)."]


@pytest.fixture
async def with_office(
    make_settings: Callable[..., Settings], db: Database, clock: FrozenClock, sms
) -> AsyncIterator[BotHarness]:
    from bot.app import create_dispatcher

    settings = make_settings(support_contact="+7 (4822) 00-00-00, ул. Советская, 1, 9:00–18:00")
    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=sms))
    h = BotHarness(dp)
    yield h
    await dp.storage.close()
    await h.bot.session.close()


async def test_support_contact_in_help(with_office: BotHarness) -> None:
    said = texts(await with_office.send(Person(843), "/help"))
    assert said[0].endswith(
        "Связаться с сотрудником: +7 (4822) 00-00-00, ул. Советская, 1, 9:00–18:00"
    )
