"""«I represent an organisation» (issue 14) through the production Dispatcher: ИНН → КПП →
contract → name, position → the power of attorney → an operator approves with a role;
an accountant is refused readings; an operator revokes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.app import create_dispatcher
from bot.config import Settings
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from bot.services.representatives import MAX_DOCUMENT_BYTES
from handlers.accounts.callbacks import OrgRequestAction, OrgRequestCb
from handlers.common.callbacks import AccountPickCb, PickPurpose, SendReadingsCb
from handlers.staff.representatives import RepAction, StaffRepCb
from storage.db import Database
from storage.models import Account, AccountLink, Representative, RepresentativeDocument, User
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_hostile_bot import bot_message
from tests.handlers.test_linking import ANNA, BORIS, LINK, MY_ACCOUNTS, last_with
from tests.handlers.test_staff import PETR
from tests.handlers.test_staff import card_of as link_card_of
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
    bare = f.account(voda, "1000000003", address="ул. Садовая, д. 3")  # Boris's link request
    await f.add(db, voda, a1, a2, a3, flat, bare, f.resident(ANNA.id, ANNA.phone))
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
    # «🚫 Revoke» only asks; «Back» puts the card back as it was
    calls = await harness.press(OLGA, revoke, chat_id=STAFF_CHAT_ID, message_id=message_id)
    [asked] = [c for c in calls if c.method == "editMessageText"]
    question = (
        "Отозвать право действовать от имени ООО «Ромашка»?</b> Представитель Петрова Мария "
        "Ивановна сразу потеряет доступ к счетам организации."
    )
    assert question in (asked.text or "") and "Заявка представителя организации №1" in (
        asked.text or ""
    )
    assert asked.button_texts() == ["Да, отозвать", "⬅️ Назад"]
    assert len(await rep_links(db)) == 5 and [c for c in calls if c.chat_id == ANNA.id] == []
    calls = await harness.press(
        OLGA, asked.callback_of("⬅️ Назад"), chat_id=STAFF_CHAT_ID, message_id=message_id
    )
    [back] = [c for c in calls if c.method == "editMessageText"]
    assert question not in (back.text or "") and back.button_texts() == ["🚫 Отозвать"]
    assert len(await rep_links(db)) == 5
    # two operators confirm at once: one revokes, the other is told it is done
    calls = await harness.press(OLGA, revoke, chat_id=STAFF_CHAT_ID, message_id=message_id)
    yes = next(c for c in calls if c.method == "editMessageText").callback_of("Да, отозвать")
    calls = await harness.press(OLGA, yes, chat_id=STAFF_CHAT_ID, message_id=message_id)
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
    calls = await harness.press(PETR, yes, chat_id=STAFF_CHAT_ID, message_id=message_id)
    assert answers(calls)[0].params["text"] == "Этот представитель уже не действует."
    assert answers(calls)[0].params["show_alert"] is True
    assert [c for c in calls if c.chat_id == ANNA.id] == []  # told once
    # a stale «🚫 Revoke» and «Back» on the revoked card ask nothing, take the buttons off
    calls = await harness.press(OLGA, revoke, chat_id=STAFF_CHAT_ID, message_id=message_id)
    assert answers(calls)[0].params["text"] == "Этот представитель уже не действует."
    [markup] = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert markup.markup is None
    back = StaffRepCb(action=RepAction.REVOKE_BACK, rep_id=1).pack()
    calls = await harness.press(OLGA, back, chat_id=STAFF_CHAT_ID, message_id=message_id)
    [redrawn] = [c for c in calls if c.method == "editMessageText"]
    assert "🚫 Отозвано: Olga" in (redrawn.text or "") and redrawn.markup is None
    # a forged «Yes» for a request that does not exist, and for the other, approved one
    forged = StaffRepCb(action=RepAction.REVOKE_YES, rep_id=99).pack()
    calls = await harness.press(OLGA, forged, chat_id=STAFF_CHAT_ID, message_id=message_id)
    assert "больше нет" in answers(calls)[0].params["text"]
    assert len(await rep_links(db)) == 3


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


# --------------------------------------------------------------------------- own reason
OTHER = "✍️ Другая причина (ответом, текстом)"


async def requested(h: BotHarness, db: Database) -> tuple[Call, int]:
    """Anna's request sent: its card and the card's message id."""
    await seed(db)
    await up_to_pages(h, ANNA)
    card, _, _ = await send_pdf(h, ANNA)
    return card, await staff_message(db)


def reply_to(prompt_id: int) -> dict[str, Any]:
    """The bot's prompt `prompt_id` as a message replies carry it."""
    return dict(bot_message(prompt_id)["result"])


async def open_prompt(h: BotHarness, card: Call, message_id: int, prompt_id: int) -> Call:
    """«❌ Reject» → «✍️ Other reason»: the reply-forced prompt (its message id given)."""
    calls = await staff_press(h, card, "❌ Отклонить", message_id)
    reasons = calls[-1]
    assert reasons.button_texts()[-2:] == [OTHER, "⬅️ Назад"]
    h.session.queue("sendMessage", bot_message(prompt_id))
    calls = await staff_press(h, reasons, OTHER, message_id)
    [prompt] = [c for c in calls if c.method == "sendMessage"]
    assert prompt.params["reply_markup"]["force_reply"] is True
    assert prompt.params["reply_parameters"]["message_id"] == message_id
    return prompt


def sticker() -> dict[str, Any]:
    return {
        "sticker": {
            "file_id": "st",
            "file_unique_id": "stu",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    }


async def rep_state(db: Database) -> list[tuple[int, str, str | None]]:
    async with db.session_maker() as s:
        reps = (await s.execute(select(Representative).order_by(Representative.id))).scalars()
        return [(r.user_id, r.status, r.reason) for r in reps]


async def test_own_reason_reaches_the_representative_as_written(
    harness: BotHarness, db: Database
) -> None:
    card, message_id = await requested(harness, db)
    async with db.session_maker() as s:
        (await s.get(User, ANNA.id)).language = "en"  # type: ignore[union-attr]
        await s.commit()
    prompt = await open_prompt(harness, card, message_id, 7001)
    assert "ответьте на это сообщение причиной отказа по заявке представителя №1" in (
        prompt.text or ""
    )
    assert await rep_state(db) == [(ANNA.id, "pending", None)]
    # another operator's message is not the reason
    assert await harness.send(PETR, "что тут?", chat_id=STAFF_CHAT_ID) == []
    reason = "Доверенность <просрочена> & без печати"
    calls = await harness.send(OLGA, reason, chat_id=STAFF_CHAT_ID, reply_to_message=reply_to(7001))
    [told] = texts([c for c in calls if c.chat_id == ANNA.id])
    assert told.startswith("❌ Your request to represent ООО «Ромашка» was rejected.")
    assert "Reason: Доверенность &lt;просрочена&gt; &amp; без печати" in told
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert "Причина: Доверенность &lt;просрочена&gt; &amp; без печати" in (edited.text or "")
    assert edited.markup is None
    assert texts([c for c in calls if c.chat_id == STAFF_CHAT_ID], "sendMessage") == ["Отклонено."]
    assert await rep_state(db) == [(ANNA.id, "rejected", reason)]
    # the first decision wins: a preset pressed afterwards changes nothing
    calls = await staff_press(harness, card, MANAGER, message_id)
    assert "Уже решено: Olga" in answers(calls)[0].params["text"]
    assert await rep_state(db) == [(ANNA.id, "rejected", reason)]
    assert await rep_links(db) == []


async def test_own_reason_cancel_keeps_the_request_and_a_long_one_is_cut(
    harness: BotHarness, db: Database
) -> None:
    card, message_id = await requested(harness, db)
    await open_prompt(harness, card, message_id, 7001)
    calls = await harness.send(OLGA, "/cancel", chat_id=STAFF_CHAT_ID)
    assert texts(calls) == ["Хорошо, заявка остаётся открытой."]
    await harness.send(
        OLGA, "уже не причина", chat_id=STAFF_CHAT_ID, reply_to_message=reply_to(7001)
    )
    assert await rep_state(db) == [(ANNA.id, "pending", None)]
    await open_prompt(harness, card, message_id, 7002)
    calls = await harness.send(OLGA, chat_id=STAFF_CHAT_ID, **sticker())
    assert texts(calls) == ["Напишите причину текстом или отправьте /cancel."]
    calls = await harness.send(OLGA, "Я" * 1500, chat_id=STAFF_CHAT_ID)  # not a reply: the latest
    assert texts(calls, "sendMessage")[-1].startswith("Отклонено. Причина длиннее 1000 символов")
    [(_, status, stored)] = await rep_state(db)
    assert (status, stored) == ("rejected", "Я" * 1000)


async def test_own_reasons_of_links_and_representatives_go_each_to_its_own(
    harness: BotHarness, db: Database
) -> None:
    anna_card, anna_message = await requested(harness, db)
    await up_to_pages(harness, BORIS)
    boris_card, _, _ = await send_pdf(harness, BORIS)
    boris_message = await staff_message(db, 1)
    link_card, link_message = await link_card_of(harness, db)
    await open_prompt(harness, anna_card, anna_message, 7001)
    calls = await staff_press(harness, link_card, "❌ Отклонить", link_message)
    harness.session.queue("sendMessage", bot_message(7002))
    await staff_press(harness, calls[-1], OTHER, link_message)
    # a reply goes to its own prompt, whichever is the latest; the link's stays open
    await harness.send(OLGA, "Для Анны", chat_id=STAFF_CHAT_ID, reply_to_message=reply_to(7001))
    assert await rep_state(db) == [(ANNA.id, "rejected", "Для Анны"), (BORIS.id, "pending", None)]
    await open_prompt(harness, boris_card, boris_message, 7003)
    calls = await harness.send(
        OLGA, "Для ссылки", chat_id=STAFF_CHAT_ID, reply_to_message=reply_to(7002)
    )
    assert "Причина: Для ссылки" in " ".join(texts([c for c in calls if c.chat_id == BORIS.id]))
    async with db.session_maker() as s:
        link = (await s.execute(select(AccountLink))).scalar_one()
    assert (link.user_id, link.status, link.reason) == (BORIS.id, "rejected", "Для ссылки")
    # the representative's prompt is still open after the link's: a plain message answers it
    await harness.send(OLGA, "Для Бориса", chat_id=STAFF_CHAT_ID)
    assert await rep_state(db) == [
        (ANNA.id, "rejected", "Для Анны"),
        (BORIS.id, "rejected", "Для Бориса"),
    ]
    assert await harness.send(OLGA, "просто так", chat_id=STAFF_CHAT_ID) == []  # all answered


async def test_own_reason_for_administrators_only_when_configured(
    make_settings: Callable[..., Settings], db: Database, clock: FrozenClock
) -> None:
    settings = make_settings(staff_admins_only=True)
    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=LogSmsGateway()))
    h = BotHarness(dp)
    h.session.chat_member_status[OLGA.id] = "administrator"
    try:
        card, message_id = await requested(h, db)
        prompt_calls = await staff_press(h, card, "❌ Отклонить", message_id)
        other = prompt_calls[-1].callback_of(OTHER)
        calls = await h.press(PETR, other, chat_id=STAFF_CHAT_ID, message_id=message_id)
        assert "только администраторы" in answers(calls)[0].params["text"]
        assert [c for c in calls if c.method == "sendMessage"] == []
        await open_prompt(h, card, message_id, 7001)
        reply = reply_to(7001)
        await h.send(PETR, "не моя", chat_id=STAFF_CHAT_ID, reply_to_message=reply)
        assert await rep_state(db) == [(ANNA.id, "pending", None)]
        await h.send(OLGA, "Не та организация", chat_id=STAFF_CHAT_ID, reply_to_message=reply)
        assert await rep_state(db) == [(ANNA.id, "rejected", "Не та организация")]
    finally:
        await dp.storage.close()
        await h.bot.session.close()


# --------------------------------------------------------------------------- withdrawing
WITHDRAW = "✖️ Отозвать заявку: ООО «Ромашка»"


async def test_the_representative_withdraws_a_pending_request(
    harness: BotHarness, db: Database
) -> None:
    card, message_id = await requested(harness, db)
    await open_prompt(harness, card, message_id, 7001)  # an operator is writing a reason
    listed = (await harness.send(ANNA, MY_ACCOUNTS))[0]
    assert WITHDRAW in listed.button_texts()
    calls = await harness.press(ANNA, listed.callback_of(WITHDRAW))
    [asked] = [c for c in calls if c.method == "editMessageText"]
    assert (asked.text or "").startswith("Отозвать заявку на представительство ООО «Ромашка»?")
    assert asked.button_texts() == ["Да, отозвать", "Нет, оставить"]
    calls = await harness.press(ANNA, asked.callback_of("Нет, оставить"))
    assert WITHDRAW in calls[-1].button_texts()
    assert await rep_state(db) == [(ANNA.id, "pending", None)]
    calls = await harness.press(ANNA, asked.callback_of("Да, отозвать"))
    assert answers(calls)[0].params["text"] == "Готово."
    [shown] = [c for c in calls if c.method == "editMessageText"]
    assert (shown.text or "").startswith("Заявка на представительство ООО «Ромашка» отозвана.")
    assert "ждёт проверки" not in (shown.text or "") and WITHDRAW not in shown.button_texts()
    staff = [c for c in calls if c.chat_id == STAFF_CHAT_ID]
    assert [(c.method, c.params.get("message_id")) for c in staff][:1] == [
        ("editMessageReplyMarkup", message_id)
    ]
    assert staff[0].markup is None
    [said] = [c for c in staff if c.method == "sendMessage"]
    assert said.text == "↩️ Житель отозвал эту заявку."
    assert said.params["reply_to_message_id"] == message_id
    assert await rep_state(db) == [(ANNA.id, "withdrawn", None)]
    # a decision pressed afterwards, the open prompt's reply, a second withdrawal
    for button in (MANAGER, ACCOUNTANT, "❌ Отклонить"):
        calls = await staff_press(harness, card, button, message_id)
        assert answers(calls)[0].params["text"] == "Житель отозвал эту заявку."
        assert answers(calls)[0].params["show_alert"] is True
    calls = await harness.send(
        OLGA, "поздно", chat_id=STAFF_CHAT_ID, reply_to_message=reply_to(7001)
    )
    assert texts(calls)[-1] == "Житель отозвал эту заявку."
    calls = await harness.press(ANNA, asked.callback_of("Да, отозвать"))
    assert "больше не ждёт проверки" in answers(calls)[0].params["text"]
    assert await rep_state(db) == [(ANNA.id, "withdrawn", None)] and await rep_links(db) == []
    assert [c for c in calls if c.chat_id == STAFF_CHAT_ID] == []


async def test_a_forged_or_decided_withdrawal_is_refused(harness: BotHarness, db: Database) -> None:
    card, message_id = await requested(harness, db)
    forged = OrgRequestCb(action=OrgRequestAction.WITHDRAW_YES, rep_id=1).pack()
    calls = await harness.press(BORIS, forged)  # not his request
    assert "больше не ждёт проверки" in answers(calls)[0].params["text"]
    asked = OrgRequestCb(action=OrgRequestAction.WITHDRAW, rep_id=1).pack()
    calls = await harness.press(BORIS, asked)
    assert "больше не ждёт проверки" in answers(calls)[0].params["text"]
    assert await rep_state(db) == [(ANNA.id, "pending", None)]
    await staff_press(harness, card, MANAGER, message_id)
    calls = await harness.press(ANNA, forged)  # decided meanwhile: approved stays approved
    assert "больше не ждёт проверки" in answers(calls)[0].params["text"]
    assert await rep_state(db) == [(ANNA.id, "active", None)] and len(await rep_links(db)) == 2
    assert [c for c in calls if c.chat_id == STAFF_CHAT_ID] == []


async def stored_request(db: Database, user_id: int, status: str, message_id: int) -> int:
    """A representative request as the route leaves it (ООО «Ромашка», branch 1), its card
    posted as `message_id` in the staff chat."""
    async with db.session_maker() as s:
        account = (
            await s.execute(select(Account).where(Account.number == "2000000001"))
        ).scalar_one()
        rep = Representative(
            user_id=user_id,
            supplier_id=account.supplier_id,
            holder_inn=INN,
            holder_kpp="773601001",
            reference="д15/2024",
            status=status,
            role="manager" if status == "active" else None,
            name="Petrova Maria",
            position="accountant",
            staff_chat_id=STAFF_CHAT_ID,
            staff_message_id=message_id,
        )
        s.add(rep)
        await s.commit()
        return rep.id


async def test_withdrawing_in_english(harness: BotHarness, db: Database) -> None:
    await seed(db)
    emily = Person(603, "Emily", language_code="en", phone="+79031112233")
    await f.add(db, f.resident(emily.id, emily.phone))
    await stored_request(db, emily.id, "pending", 555)
    listed = (await harness.send(emily, "🏠 My accounts"))[0]
    assert "🏢 ООО «Ромашка»: your power of attorney waits" in (listed.text or "")
    button = "✖️ Withdraw the request for ООО «Ромашка»"
    calls = await harness.press(emily, listed.callback_of(button))
    [asked] = [c for c in calls if c.method == "editMessageText"]
    assert (asked.text or "").startswith("Withdraw your request to represent ООО «Ромашка»?")
    assert asked.button_texts() == ["Yes, withdraw", "No, keep it"]
    calls = await harness.press(emily, asked.callback_of("Yes, withdraw"))
    [shown] = [c for c in calls if c.method == "editMessageText"]
    assert (shown.text or "").startswith("Your request to represent ООО «Ромашка» is withdrawn.")
    # the staff chat speaks the company's language
    [said] = [c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method == "sendMessage"]
    assert said.text == "↩️ Житель отозвал эту заявку."
    calls = await harness.press(emily, asked.callback_of("Yes, withdraw"))
    assert answers(calls)[0].params["text"].startswith("This request is no longer waiting")
    # an older list's «Withdraw» button: the alert, and that list drawn as it stands now
    calls = await harness.press(emily, listed.callback_of(button))
    assert answers(calls)[0].params["text"].startswith("This request is no longer waiting")
    [redrawn] = [c for c in calls if c.method == "editMessageText"]
    assert "waits" not in (redrawn.text or "") and button not in redrawn.button_texts()


async def test_revoking_and_own_reason_in_english_staff_chat(
    make_settings: Callable[..., Settings], db: Database, clock: FrozenClock
) -> None:
    settings = make_settings(default_locale="en")
    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=LogSmsGateway()))
    h = BotHarness(dp)
    try:
        await seed(db)
        active = await stored_request(db, ANNA.id, "active", 555)
        pending = await stored_request(db, BORIS.id, "pending", 556)

        async def press(action: RepAction, rep_id: int, message_id: int) -> list[Call]:
            data = StaffRepCb(action=action, rep_id=rep_id).pack()
            return await h.press(OLGA, data, chat_id=STAFF_CHAT_ID, message_id=message_id)

        calls = await press(RepAction.REVOKE, active, 555)
        [asked] = [c for c in calls if c.method == "editMessageText"]
        assert "Revoke Petrova Maria's right to act for ООО «Ромашка»?" in (asked.text or "")
        assert asked.button_texts() == ["Yes, revoke", "⬅️ Back"]
        calls = await press(RepAction.REVOKE_YES, active, 555)
        assert answers(calls)[0].params["text"].startswith("Revoked")
        calls = await press(RepAction.REJECT, active, 555)  # a stale pending button
        assert answers(calls)[0].params["text"] == "This request is already closed."
        calls = await press(RepAction.REVOKE_YES, pending, 556)  # forged: not approved
        assert answers(calls)[0].params["text"] == "This representative is not active any more."
        h.session.queue("sendMessage", bot_message(7001))
        calls = await press(RepAction.OTHER, pending, 556)
        [prompt] = [c for c in calls if c.method == "sendMessage"]
        assert "reply to this message with the reason for rejecting representative request" in (
            prompt.text or ""
        )
        reply = reply_to(7001)
        calls = await h.send(OLGA, "Wrong company", chat_id=STAFF_CHAT_ID, reply_to_message=reply)
        assert texts(calls, "sendMessage")[-1] == "Rejected."
        assert (await rep_state(db))[1] == (BORIS.id, "rejected", "Wrong company")
    finally:
        await dp.storage.close()
        await h.bot.session.close()


async def test_preset_reasons_speak_of_the_power_of_attorney(
    harness: BotHarness, db: Database
) -> None:
    """A representative proved a power of attorney, not a receipt: the card's presets and the
    reason the representative is told are about the power of attorney."""
    card, message_id = await requested(harness, db)
    reasons = (await staff_press(harness, card, "❌ Отклонить", message_id))[-1]
    unreadable = "Копия доверенности не читается"
    assert reasons.button_texts() == [
        "Доверенность не соответствует организации или представителю",
        "Доверенность не даёт права действовать от имени организации",
        unreadable,
        OTHER,
        "⬅️ Назад",
    ]
    calls = await staff_press(harness, reasons, unreadable, message_id)
    [told] = texts([c for c in calls if c.chat_id == ANNA.id])
    assert f"Причина: {unreadable}" in told and "квитанц" not in told
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert f"Причина: {unreadable}" in (edited.text or "")
    assert await rep_state(db) == [(ANNA.id, "rejected", "preset:unreadable")]
