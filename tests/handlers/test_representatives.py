"""«I represent an organisation» (issue 14) through the production Dispatcher: ИНН → КПП →
contract → name, position → the power of attorney → an operator approves with a role;
an accountant is refused readings; an operator revokes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.services.representatives import MAX_DOCUMENT_BYTES
from handlers.common.callbacks import AccountPickCb, PickPurpose, SendReadingsCb
from storage.db import Database
from storage.models import AccountLink, Representative, RepresentativeDocument
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_linking import ANNA, BORIS, LINK, MY_ACCOUNTS, last_with
from tests.support import factories as f
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

OLGA = Person(901, "Olga", language_code="en")  # an operator
ORG = "🏢 Я представитель организации"
SEND = "📨 Отправить заявку"
MANAGER = "✅ Одобрить: управляющий"
ACCOUNTANT = "✅ Одобрить: бухгалтер"
INN = "7707083893"


async def seed(db: Database) -> dict[str, int]:
    voda = f.supplier()
    a1 = f.account(voda, "2000000001", holder="ООО «Ромашка»", address="ул. Заводская, 1")
    a2 = f.account(voda, "2000000002", holder="ООО «Ромашка»", address="ул. Заводская, 1, склад")
    a3 = f.account(voda, "2000000003", holder="ООО «Ромашка» (филиал)", address="Тверь")
    for acc, kpp in ((a1, "773601001"), (a2, "773601001"), (a3, "773602001")):
        acc.holder_inn, acc.holder_kpp = INN, kpp
    a1.contract_number = a2.contract_number = "Д-15/2024"
    a3.contract_number = "Д-16/2024"
    flat = f.account(voda, "1000000001", phones=(ANNA.phone,))
    await f.add(db, voda, a1, a2, a3, flat, f.resident(ANNA.id, ANNA.phone))
    await f.add(db, f.resident(BORIS.id, BORIS.phone))
    return {"a1": a1.id, "a2": a2.id, "a3": a3.id, "flat": flat.id}


def pdf(
    file_id: str = "poa-pdf", size: int = 150_000, mime: str = "application/pdf"
) -> dict[str, Any]:
    return {
        "document": {
            "file_id": file_id,
            "file_unique_id": file_id + "-u",
            "file_name": "доверенность.pdf",
            "mime_type": mime,
            "file_size": size,
        }
    }


def photo(file_id: str) -> dict[str, Any]:
    return {
        "photo": [
            {"file_id": file_id, "file_unique_id": file_id + "u", "width": 900, "height": 1200}
        ]
    }


async def up_to_pages(h: BotHarness, person: Person) -> list[Call]:
    """From «My accounts» to the pages step (branch 1, contract Д-15/2024)."""
    calls = await h.send(person, MY_ACCOUNTS)
    calls = await h.press(person, last_with(calls, LINK).callback_of(LINK))
    calls = await h.press(person, last_with(calls, ORG).callback_of(ORG))
    assert "ИНН" in texts(calls)[0]
    calls = await h.send(person, "７７０７ ０８３８９３")  # full-width digits and a space
    branch = last_with(calls, "КПП 773601001 — ООО «Ромашка»")
    assert "несколько филиалов" in (branch.text or "")
    calls = await h.press(person, branch.callback_of("КПП 773601001 — ООО «Ромашка»"))
    assert "КПП 773601001" in texts(calls)[-1]
    calls = await h.send(person, "д15/2024")  # without the dash, another case
    assert "2000000001, 2000000002" in texts(calls)[0]
    await h.send(person, "Петрова Мария Ивановна")
    return await h.send(person, "главный бухгалтер")


async def send_pdf(h: BotHarness, person: Person) -> tuple[Call, Call, list[Call]]:
    """At the pages step: a PDF, a text (told what is expected), «Send the request»; the
    card, the document under it and the calls of the press."""
    await h.send(person, **pdf())
    calls = await h.send(person, "готово?")
    assert "Отправьте доверенность файлом PDF" in texts(calls)[0]
    calls = await h.press(person, last_with(calls, SEND).callback_of(SEND))
    staff = [c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat"]
    card = next(c for c in staff if c.method == "sendMessage")
    document = next(c for c in staff if c.method == "sendDocument")
    return card, document, calls


async def staff_message(db: Database, rep_no: int = 0) -> int:
    async with db.session_maker() as s:
        reps = (await s.execute(select(Representative).order_by(Representative.id))).scalars()
        return int(list(reps)[rep_no].staff_message_id or 0)


async def staff_press(h: BotHarness, card: Call, button: str, message_id: int) -> list[Call]:
    return await h.press(
        OLGA, card.callback_of(button), chat_id=STAFF_CHAT_ID, message_id=message_id
    )


async def rep_links(db: Database) -> list[tuple[int, int, str, str | None]]:
    async with db.session_maker() as s:
        rows = (await s.execute(select(AccountLink).order_by(AccountLink.account_id))).scalars()
        return [(r.user_id, r.account_id, r.status, r.role) for r in rows]


async def test_odd_inns_get_clear_answers(harness: BotHarness, db: Database) -> None:
    await seed(db)
    calls = await harness.send(ANNA, MY_ACCOUNTS)
    calls = await harness.press(ANNA, last_with(calls, LINK).callback_of(LINK))
    await harness.press(ANNA, last_with(calls, ORG).callback_of(ORG))
    said = {}
    for typed in ("77O7O83893", "77070838930", "7707083894", "7736207543"):
        said[typed] = texts(await harness.send(ANNA, typed))[0]
    assert "только из цифр" in said["77O7O83893"]
    assert "10 цифр (организация) или 12 цифр (ИП)" in said["77070838930"]
    assert "контрольная цифра" in said["7707083894"]
    assert "нет" in said["7736207543"] and "Осталось попыток на сегодня: 9" in said["7736207543"]
    calls = await harness.send(ANNA, location={"latitude": 56.86, "longitude": 35.9})
    assert "10 или 12 цифр" in texts(calls)[0]


async def test_representative_with_a_pdf_approved_as_manager(
    harness: BotHarness, db: Database
) -> None:
    ids = await seed(db)
    await up_to_pages(harness, ANNA)
    calls = await harness.send(
        ANNA, video={"file_id": "v", "file_unique_id": "v", "width": 1, "height": 1, "duration": 3}
    )
    assert "не видео" in texts(calls)[0]
    calls = await harness.send(ANNA, **pdf("big", size=30 * 1024 * 1024))
    assert f"больше {MAX_DOCUMENT_BYTES // 2**20} МБ" in texts(calls)[0]
    calls = await harness.send(ANNA, **pdf("movie", mime="video/mp4"))
    assert "не PDF" in texts(calls)[0]
    calls = await harness.press(ANNA, last_with(calls, SEND).callback_of(SEND))
    assert "хотя бы одну страницу" in answers(calls)[0].params["text"]
    card, document, calls = await send_pdf(harness, ANNA)
    text = card.text or ""
    assert "Заявка представителя организации №1" in text
    assert "ООО «Ромашка»" in text and f"ИНН {INN}, КПП 773601001" in text
    assert "Петрова Мария Ивановна, главный бухгалтер" in text and "2000000001, 2000000002" in text
    assert card.button_texts() == [MANAGER, ACCOUNTANT, "❌ Отклонить"]
    assert document.params["document"] == "poa-pdf"
    assert "до трёх дней" in texts([c for c in calls if c.chat_id == ANNA.id])[-1]
    async with db.session_maker() as s:
        [rep] = (await s.execute(select(Representative))).scalars().all()
        docs = (await s.execute(select(RepresentativeDocument))).scalars().all()
    assert (rep.status, rep.holder_kpp, rep.reference, len(docs)) == (
        "pending",
        "773601001",
        "д15/2024",
        1,
    )
    message_id = int(rep.staff_message_id or 0)
    waiting = texts(await harness.send(ANNA, MY_ACCOUNTS))[0]
    assert "⏳ 🏢 ООО «Ромашка»: ваша доверенность ждёт проверки оператором." in waiting

    calls = await staff_press(harness, card, MANAGER, message_id)
    assert answers(calls)[0].params["text"] == "Одобрено: управляющий."
    [told] = texts([c for c in calls if c.chat_id == ANNA.id])
    assert "вы представляете ООО «Ромашка», роль — управляющий" in told
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert "✅ Одобрено (управляющий): Olga" in (edited.text or "")
    assert edited.button_texts() == ["🚫 Отозвать"]
    assert await rep_links(db) == [
        (ANNA.id, ids["a1"], "active", "manager"),
        (ANNA.id, ids["a2"], "active", "manager"),
    ]
    # «My accounts»: the organisation's accounts under its name
    shown = texts(await harness.send(ANNA, MY_ACCOUNTS))[0]
    assert "ждёт проверки" not in shown
    assert f"🏢 <b>ООО «Ромашка»</b> (ИНН {INN}) — ваша роль: управляющий" in shown
    assert shown.index("🏢") < shown.index("2000000001") < shown.index("2000000002")
    # a second press (another operator) changes nothing
    calls = await staff_press(harness, card, ACCOUNTANT, message_id)
    assert "Уже решено" in answers(calls)[0].params["text"]


async def test_an_album_of_eleven_pages(harness: BotHarness, db: Database) -> None:
    await seed(db)
    await up_to_pages(harness, ANNA)
    said: list[str] = []
    for n in range(11):
        said += texts(await harness.send(ANNA, media_group_id="alb1", **photo(f"page{n}")))
    assert len(said) == 2  # one answer for the album, one for the page that was not taken
    assert said[0].startswith("Получено, страниц — 1")
    assert "не больше 10 страниц" in said[1] and "Принято страниц: 10" in said[1]
    calls = await harness.send(ANNA, "?")
    calls = await harness.press(ANNA, last_with(calls, SEND).callback_of(SEND))
    [group] = [c for c in calls if c.method == "sendMediaGroup"]
    assert [m["media"] for m in group.params["media"]] == [f"page{n}" for n in range(10)]
    told = texts([c for c in calls if c.chat_id == ANNA.id])
    assert told[-1].startswith("Заявка с доверенностью отправлена операторам")


async def test_accountant_sees_balance_but_is_refused_readings(
    harness: BotHarness, db: Database
) -> None:
    ids = await seed(db)
    await up_to_pages(harness, ANNA)
    card, _, _ = await send_pdf(harness, ANNA)
    calls = await staff_press(harness, card, ACCOUNTANT, await staff_message(db))
    assert answers(calls)[0].params["text"] == "Одобрено: бухгалтер."
    assert (ANNA.id, ids["a1"], "active", "accountant") in await rep_links(db)
    shown = " ".join(texts(await harness.send(ANNA, MY_ACCOUNTS)))
    role = "ваша роль: бухгалтер (баланс, квитанции и история)"  # one colon, not two
    assert f"🏢 <b>ООО «Ромашка»</b> (ИНН {INN}) — {role}" in shown
    balance = AccountPickCb(purpose=PickPurpose.BALANCE, account_id=ids["a1"]).pack()
    shown = " ".join(texts(await harness.press(ANNA, balance)))
    assert "2000000001" in shown and "Недоступно" not in shown
    calls = await harness.press(ANNA, SendReadingsCb(account_id=ids["a1"]).pack())
    assert "Вы — бухгалтер организации" in " ".join(texts(calls))
    # the resident's own flat is not affected by the role
    calls = await harness.press(ANNA, SendReadingsCb(account_id=ids["flat"]).pack())
    assert "бухгалтер" not in " ".join(texts(calls))


async def test_an_operator_revokes_one_of_two_representatives(
    harness: BotHarness, db: Database
) -> None:
    ids = await seed(db)
    await f.add(db, AccountLink(user_id=ANNA.id, account_id=ids["flat"], status="active"))
    approved = []
    for n, person in enumerate((ANNA, BORIS)):
        await up_to_pages(harness, person)
        card, _, _ = await send_pdf(harness, person)
        calls = await staff_press(harness, card, MANAGER, await staff_message(db, n))
        approved.append(next(c for c in calls if c.method == "editMessageText"))
    assert len(await rep_links(db)) == 5  # two accounts each, and Anna's own flat
    revoke = approved[0].callback_of("🚫 Отозвать")
    message_id = await staff_message(db, 0)
    calls = await harness.press(OLGA, revoke, chat_id=STAFF_CHAT_ID, message_id=message_id)
    assert answers(calls)[0].params["text"].startswith("Отозвано")
    [told] = texts([c for c in calls if c.chat_id == ANNA.id])
    assert "отозвал ваше право представлять ООО «Ромашка»" in told
    [redrawn] = [c for c in calls if c.method == "editMessageText"]
    assert "🚫 Отозвано: Olga" in (redrawn.text or "") and redrawn.markup is None
    assert await rep_links(db) == [
        (BORIS.id, ids["a1"], "active", "manager"),  # the other representative stays
        (BORIS.id, ids["a2"], "active", "manager"),
        (ANNA.id, ids["flat"], "active", None),  # her own flat stays
    ]
    calls = await harness.press(OLGA, revoke, chat_id=STAFF_CHAT_ID, message_id=message_id)
    assert "уже не действует" in answers(calls)[0].params["text"]


async def test_deleting_my_data_takes_the_card_and_its_pages_off_the_staff_chat(
    harness: BotHarness, db: Database
) -> None:
    await seed(db)
    await up_to_pages(harness, ANNA)
    await harness.send(ANNA, media_group_id="a2", **photo("p1"))
    await harness.send(ANNA, media_group_id="a2", **photo("p2"))
    calls = await harness.send(ANNA, **pdf())
    calls = await harness.press(ANNA, last_with(calls, SEND).callback_of(SEND))
    staff = [c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat"]
    assert [c.method for c in staff] == ["sendMessage", "sendDocument", "sendMediaGroup"]
    async with db.session_maker() as s:
        rep = (await s.execute(select(Representative))).scalar_one()
    posted = [rep.staff_message_id, *(rep.staff_page_ids or [])]
    assert len(posted) == 4 and len(set(posted)) == 4  # the card, the PDF, two photos
    calls = await harness.send(ANNA, "⚙️ Настройки")
    calls = await harness.press(ANNA, calls[0].callback_of("🗑 Удалить мои данные"))
    calls = await harness.press(ANNA, calls[-1].callback_of("Да, удалить мои данные"))
    deleted = [c.params["message_id"] for c in calls if c.method == "deleteMessage"]
    assert sorted(deleted) == sorted(posted)
    async with db.session_maker() as s:
        assert (await s.execute(select(Representative))).first() is None
        assert (await s.execute(select(RepresentativeDocument))).first() is None


async def test_in_english(harness: BotHarness, db: Database) -> None:
    await seed(db)
    emily = Person(603, "Emily", language_code="en", phone="+79031112233")
    await f.add(db, f.resident(emily.id, emily.phone))
    calls = await harness.send(emily, "🏠 My accounts")
    calls = await harness.press(
        emily, last_with(calls, "➕ Link an account").callback_of("➕ Link an account")
    )
    org = "🏢 I represent an organisation"
    calls = await harness.press(emily, last_with(calls, org).callback_of(org))
    assert "Enter the organisation's <b>ИНН</b>" in texts(calls)[0]
    said = texts(await harness.send(emily, "12345"))[0]
    assert said.startswith("An ИНН has 10 digits (a company) or 12 digits (an ИП)")
