"""Staff commands in the staff chat: /find, /stats, /ban, /unban; who may use them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.app import create_dispatcher
from bot.config import Settings
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.models import AuditLog, Charge, User
from tests.conftest import STAFF_CHAT_ID
from tests.support import factories as f
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

OLGA = Person(901, "Olga")  # an operator
ADMIN = Person(904, "Irina")  # an administrator of the staff chat
STRANGER = Person(903, "Mallory")
ANNA = Person(701, "Анна", phone="+79161234567")
IVAN = Person(702, "Иван", phone="+442079460958")  # a London number
VERA = Person(703, "Вера", phone="+79035550011")


async def seed(db: Database) -> None:
    voda = f.supplier()
    flat = f.account(voda, "1000000001", address="ул. Ленина, д. 5, кв. 12", holder="Иванова А. П.")
    other = f.account(voda, "1000000002", address="пр. Мира, д. 1", holder="Петров П. П.")
    alone = f.account(voda, "2000000777", address="ул. Садовая, д. 3", holder="Сидоров С. С.")
    people = [f.resident(p.id, p.phone) for p in (ANNA, IVAN, VERA)]
    people[0].first_name, people[1].first_name, people[2].first_name = "Анна", "Иван", "Вера"
    people[1].language = "en"
    await f.add(db, voda, flat, other, alone, *people)
    await f.add(
        db,
        f.link(ANNA.id, flat.id, "active", "phone"),
        f.link(IVAN.id, other.id, "pending", "operator"),
        Charge(account_id=flat.id, period="2026-10", service="ХВС", charged=Decimal("700.50"),
               paid=Decimal("200")),
    )  # fmt: skip


async def find(h: BotHarness, query: str, who: Person = OLGA) -> list[Call]:
    return await h.send(who, f"/find {query}".rstrip(), chat_id=STAFF_CHAT_ID)


@pytest.mark.parametrize(
    "query",
    ["+7 916 123-45-67", "8 (916) 123 45 67", "８９１６１２３４５６７", "79161234567"],
)
async def test_find_by_phone_in_any_format(harness: BotHarness, db: Database, query: str) -> None:
    await seed(db)
    [reply] = texts(await find(harness, query))
    assert "найдено 1" in reply
    assert "👤 <b>Анна</b>, id <code>701</code>, +7 *** ***-45-67" in reply
    assert "№ <code>1000000001</code> (привязан), ул. Ленина, д. 5, кв. 12 — долг 500,50" in reply


async def test_find_a_foreign_phone(harness: BotHarness, db: Database) -> None:
    await seed(db)
    [reply] = texts(await find(harness, "+44 20 7946 0958"))
    assert "👤 <b>Иван</b>, id <code>702</code>" in reply
    assert "(заявка ждёт решения)" in reply and "начислений нет" in reply
    assert "Язык: English;" in reply  # the language's name, as on a ticket's card


async def test_find_by_account_number_name_and_address(harness: BotHarness, db: Database) -> None:
    await seed(db)
    [whole] = texts(await find(harness, "1000000001"))
    assert "Анна" in whole and "найдено 1" in whole
    [part] = texts(await find(harness, "00000"))  # a part of a number: all three accounts
    assert "найдено 3" in part
    [holder] = texts(await find(harness, "иванова"))  # any case, Cyrillic
    assert "Анна" in holder and "найдено 1" in holder
    [name] = texts(await find(harness, "Вера"))
    assert "👤 <b>Вера</b>" in name and "лицевых счетов нет" in name
    [street] = texts(await find(harness, "САДОВАЯ"))  # an account no resident is linked to
    assert "2000000777</code> (ни к кому не привязан)" in street
    assert "владелец Сидоров С. С." in street


async def test_find_nothing_and_odd_queries(harness: BotHarness, db: Database) -> None:
    await seed(db)
    assert texts(await find(harness, "Тверская")) == ["По запросу «Тверская» ничего не найдено."]
    for odd in ("", "ab", " 1 2 "):
        [usage] = texts(await find(harness, odd))
        assert usage.startswith("Как искать: /find телефон")
    [escaped] = texts(await find(harness, "<b>xyz"))
    assert "«&lt;b&gt;xyz»" in escaped


async def test_find_pages(harness: BotHarness, db: Database) -> None:
    voda = f.supplier()
    houses = [f.account(voda, f"30000000{i:02}", address=f"ул. Садовая, д. {i}") for i in range(12)]
    await f.add(db, voda, *houses)
    command = {"message_id": 555, "date": 0, "chat": {"id": STAFF_CHAT_ID, "type": "supergroup",
               "title": "Staff"}, "text": "/find садовая"}  # fmt: skip
    calls = await find(harness, "садовая")
    [page] = [c for c in calls if c.method == "sendMessage"]
    assert "найдено 12, страница 1 из 3" in (page.text or "")
    assert page.button_texts() == ["1/3", "▶️"]
    assert (page.text or "").count("🏠") == 5
    calls = await harness.press(
        OLGA, page.callback_of("▶️"), chat_id=STAFF_CHAT_ID, message_id=9, reply_to=command
    )
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert "страница 2 из 3" in (edited.text or "") and "3000000005" in (edited.text or "")
    assert edited.button_texts() == ["◀️", "2/3", "▶️"]
    calls = await harness.press(OLGA, page.callback_of("▶️"), chat_id=STAFF_CHAT_ID)
    gone = "Сообщение с поиском удалено: отправьте /find ещё раз."
    assert answers(calls)[0].params["text"] == gone


async def test_stats(harness: BotHarness, db: Database) -> None:
    await seed(db)
    async with db.session_maker() as s:
        (await s.get(User, VERA.id)).banned_at = f.CONSENTED_AT  # type: ignore[union-attr]
        await s.commit()
    [reply] = texts(await harness.send(OLGA, "/stats", chat_id=STAFF_CHAT_ID))
    assert "Зарегистрированных жителей: <b>3</b>" in reply
    assert "Заявок на привязку ждут решения: <b>1</b>" in reply
    assert "Показаний передано за период: <b>0</b>" in reply
    assert "Заблокированных жителей: <b>1</b>" in reply
    assert "Открытых обращений: <b>0</b>" in reply


async def test_non_members_are_refused(harness: BotHarness, db: Database) -> None:
    await seed(db)
    harness.session.chat_member_status[STRANGER.id] = "left"
    for command in ("/find Анна", "/stats", "/ban 701 спам", "/notice VODA текст"):
        calls = await harness.send(STRANGER, command, chat_id=STAFF_CHAT_ID)
        assert texts(calls) == ["Команды операторов доступны только участникам чата операторов."]
    calls = await harness.press(STRANGER, "sfind:1", chat_id=STAFF_CHAT_ID)
    answer = answers(calls)[0].params
    assert answer["text"] == "Этими кнопками пользуются только участники чата операторов."
    assert answer["show_alert"] is True
    calls = await harness.press(STRANGER, "snote:send:1", chat_id=STAFF_CHAT_ID)
    answer = answers(calls)[0].params
    assert answer["text"] == "Решать заявки могут только участники чата операторов."
    async with db.session_maker() as s:
        assert (await s.get(User, ANNA.id)).banned_at is None  # type: ignore[union-attr]


async def test_staff_commands_and_forged_buttons_elsewhere(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    for command in ("/find Анна", "/ban 702 x", "/stats"):
        calls = await harness.send(ANNA, command)  # a resident in their private chat
        assert texts(calls) == ["Это работает только в чате операторов."]
    staff_buttons = ("slk:approve:1", "srd:a:1", "snote:send:1", "sfind:0")
    for forged in (*staff_buttons, "srep:m:1", "srepr:1:mismatch", "tkt:close:1"):
        calls = await harness.press(ANNA, forged)
        assert [c.method for c in calls] == ["answerCallbackQuery"]
        assert answers(calls)[0].params["text"] == "Это работает только в чате операторов."
    calls = await harness.send(OLGA, "/stats", chat_id=-1009999)  # another group
    assert texts(calls) == ["Это работает только в чате операторов."]


async def ban_entries(db: Database) -> list[tuple[str, int | None, str | None]]:
    async with db.session_maker() as s:
        query = select(AuditLog).where(AuditLog.action.like("resident_%"))
        rows = (await s.execute(query)).scalars()
        return [(r.action, r.actor_id, r.object_id) for r in rows]


async def test_ban_tells_once_then_silence_and_unban_restores(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    calls = await harness.send(OLGA, "/ban +7 916 123-45-67 оскорбляет <операторов>",
                               chat_id=STAFF_CHAT_ID)  # fmt: skip
    assert texts(calls) == [
        "⛔ Анна (id 701) заблокирован(а). Причина: оскорбляет &lt;операторов&gt;"
    ]
    calls = await harness.send(ANNA, "Здравствуйте!")
    assert [c.chat_id for c in calls] == [ANNA.id]
    assert texts(calls) == [
        "⛔ Операторы закрыли вам доступ к этому боту. Ваши сообщения никому не передаются, "
        "и на них не отвечают.\nПричина: оскорбляет &lt;операторов&gt;"
    ]
    for text in ("ещё раз", "/start", "🏠 Мои лицевые счета", "/find Анна"):
        assert await harness.send(ANNA, text) == []
    calls = await harness.press(ANNA, "pick:b:1")
    assert [(c.method, c.params.get("text")) for c in calls] == [("answerCallbackQuery", None)]
    calls = await harness.send(OLGA, "/ban 701 ещё раз", chat_id=STAFF_CHAT_ID)
    assert texts(calls)[0].startswith("Анна (id 701) уже заблокирован(а).")
    calls = await harness.send(OLGA, "/unban 79161234567", chat_id=STAFF_CHAT_ID)
    assert texts(calls) == ["✅ Анна (id 701) разблокирован(а)."]
    calls = await harness.send(ANNA, "/start")
    assert calls and all("Операторы закрыли" not in t for t in texts(calls))
    assert await ban_entries(db) == [
        ("resident_banned", OLGA.id, "701"),
        ("resident_unbanned", OLGA.id, "701"),
    ]


async def test_ban_odd_input(harness: BotHarness, db: Database) -> None:
    await seed(db)

    async def ban(args: str) -> str:
        return texts(await harness.send(OLGA, f"/ban {args}".strip(), chat_id=STAFF_CHAT_ID))[0]

    assert (await ban("")).startswith("Как использовать: /ban житель причина")
    # the usage lines offer only what the commands take: @username is refused below
    unban_usage = texts(await harness.send(OLGA, "/unban", chat_id=STAFF_CHAT_ID))[0]
    assert all("@username" not in usage for usage in (await ban(""), unban_usage))
    assert (await ban("701")).startswith("Как использовать: /ban")  # no reason
    assert (await ban("Анна спам")).startswith("Как использовать: /ban")
    assert (await ban("@anna спам")).startswith("Бот не хранит имена пользователей Telegram")
    assert (await ban("+7 999 000-00-00 спам")).startswith("Житель не найден.")
    assert (await ban("555 спам")).startswith("Житель не найден.")
    unban = texts(await harness.send(OLGA, "/unban 702", chat_id=STAFF_CHAT_ID))[0]
    assert unban == "Иван (id 702) не заблокирован(а)."
    assert await ban_entries(db) == []


@pytest.fixture
async def strict(
    make_settings: Callable[..., Settings], db: Database, clock: FrozenClock
) -> AsyncIterator[BotHarness]:
    """The bot with STAFF_ADMINS_ONLY=true."""
    settings = make_settings(staff_admins_only=True)
    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=LogSmsGateway()))
    h = BotHarness(dp)
    h.session.chat_member_status[ADMIN.id] = "administrator"
    yield h
    await dp.storage.close()
    await h.bot.session.close()


async def test_admins_only_decide(strict: BotHarness, db: Database) -> None:
    await seed(db)
    refused = "Это решают только администраторы чата операторов (включён STAFF_ADMINS_ONLY)."
    for command in ("/ban 701 спам", "/unban 701", "/notice VODA Воды не будет"):
        assert texts(await strict.send(OLGA, command, chat_id=STAFF_CHAT_ID)) == [refused]
    representative = ("srep:m:1", "srep:a:1", "srep:r:1", "srep:x:1", "srepr:1:mismatch")
    for data in ("slk:approve:1", "srj:1:mismatch", "srd:a:1", "snote:send:1", *representative):
        calls = await strict.press(OLGA, data, chat_id=STAFF_CHAT_ID)
        assert [c.method for c in calls] == ["answerCallbackQuery"]
        assert answers(calls)[0].params == {**answers(calls)[0].params, "text": refused}
    # a member still looks up and counts
    assert "Анна" in texts(await strict.send(OLGA, "/find Анна", chat_id=STAFF_CHAT_ID))[0]
    assert texts(await strict.send(OLGA, "/stats", chat_id=STAFF_CHAT_ID))
    # an administrator decides
    calls = await strict.send(ADMIN, "/ban 701 спам", chat_id=STAFF_CHAT_ID)
    assert texts(calls) == ["⛔ Анна (id 701) заблокирован(а). Причина: спам"]


async def test_a_banned_resident_is_told_in_their_language(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    async with db.session_maker() as s:
        (await s.get(User, IVAN.id)).language = "en"  # type: ignore[union-attr]
        await s.commit()
    await harness.send(OLGA, "/ban 702 spam", chat_id=STAFF_CHAT_ID)
    calls = await harness.press(IVAN, "pick:b:1")  # a button first: the press is answered
    assert [c.method for c in calls] == ["answerCallbackQuery", "sendMessage"]
    assert texts(calls) == [
        "⛔ Operators have blocked your access to this bot. Your messages are not passed on "
        "or answered.\nReason: spam"
    ]
    assert await harness.send(IVAN, "hello?") == []
