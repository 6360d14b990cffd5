"""Linking personal accounts over real HTTP, in long polling and in webhook mode.

The real bot process against sandbox/, with an operator in the staff forum group. Billing
data is seeded straight into the bot's SQLite file; SMS codes are read from the bot's log
(SMS_PROVIDER=log). See docs/linking.md for the rules these tests walk through.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.accounts.callbacks import AccountAction, AccountCb
from handlers.common.callbacks import SuggestedAccountCb
from handlers.staff.cards import RejectPreset, StaffAction, StaffLinkCb, StaffRejectCb
from sandbox.testing import BotMessage, CallbackAnswer, Group, make_png
from sandbox.testing import User as SandboxUser
from storage.db import Database
from storage.models import AccountLink, AuditLog, Supplier, Ticket
from tests.e2e.conftest import World
from tests.e2e.test_registration_e2e import register
from tests.support import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

#: a low daily limit of failed attempts, so the lockout is reached in three tries
BOT_ENV = {"LINK_ATTEMPTS_PER_DAY": "3"}

MY_ACCOUNTS = "🏠 Мои лицевые счета"
LINK = "➕ Привязать лицевой счёт"
ACCESS = "🔑 Ввести код доступа из квитанции"
SMS = "📱 Получить код по СМС на телефон из учёта"
OPERATOR = "👤 Обратиться к оператору"
RESEND = "🔁 Отправить код ещё раз"
OTHER_WAYS = "⬅️ Другие способы"
CANCEL = "✖️ Отмена"
SKIP_PHOTO = "⏭ Отправить без фото"
APPROVE = "✅ Одобрить"
REJECT = "❌ Отклонить"
OTHER_REASON = "✍️ Другая причина (ответом, текстом)"
UNREADABLE = "Фото квитанции не читается"
ROUTES = [[ACCESS], [SMS], [OPERATOR], [CANCEL]]
NOT_MEMBER = "Решать заявки могут только участники чата операторов."

MOSCOW = ZoneInfo("Europe/Moscow")
SMS_LINE = re.compile(
    r"SMS to (?P<phone>\+\d+) \(SMS_PROVIDER=log, not really sent\): "
    r"Код (?P<code>\d+) для привязки лицевого счёта (?P<number>\d+)"
)

_numbers = itertools.count(1)


# --------------------------------------------------------------------------- data
def new_number() -> str:
    """A fresh account number of the supplier's format (10 digits)."""
    return str(2_000_000_000 + next(_numbers))


def new_phone() -> str:
    return "+7926" + str(1_000_000 + next(_numbers))


async def seed_account(
    world: World,
    *,
    phones: tuple[str, ...] = (),
    access_code: str | None = None,
    address: str = "ул. Садовая, д. 3, кв. 9",
) -> tuple[int, str]:
    """An account of «Водоканал» (created on first use); returns (id, number)."""
    number = new_number()
    db = Database(world.database_url)
    try:
        async with db.session_maker() as s:
            voda = (
                await s.execute(select(Supplier).where(Supplier.code == "VODA"))
            ).scalar_one_or_none() or f.supplier()
            account = f.account(
                voda, number, address=address, phones=phones, access_code=access_code
            )
            s.add(account)
            await s.commit()
            return account.id, number
    finally:
        await db.dispose()


async def add_rows(world: World, *rows: object) -> None:
    db = Database(world.database_url)
    try:
        await f.add(db, *rows)
    finally:
        await db.dispose()


async def query(world: World, statement: Any) -> list[Any]:
    db = Database(world.database_url)
    try:
        async with db.session_maker() as s:
            return list((await s.execute(statement)).scalars().all())
    finally:
        await db.dispose()


async def links_of(world: World, account_id: int) -> list[tuple[int, str, str | None]]:
    """(user_id, status, method) of every link to the account."""
    rows = await query(
        world,
        select(AccountLink).where(AccountLink.account_id == account_id).order_by(AccountLink.id),
    )
    return [(r.user_id, r.status, r.method) for r in rows]


async def link_row(world: World, account_id: int) -> AccountLink:
    [row] = await query(world, select(AccountLink).where(AccountLink.account_id == account_id))
    return row  # type: ignore[no-any-return]


async def audit_of(world: World, actor_id: int) -> list[AuditLog]:
    """The actor's audit entries about linking and codes (registration's are left out)."""
    rows = await query(
        world, select(AuditLog).where(AuditLog.actor_id == actor_id).order_by(AuditLog.id)
    )
    return [r for r in rows if r.action.startswith(("link_", "account_", "code_"))]


async def actions_of(world: World, actor_id: int) -> list[str]:
    return [row.action for row in await audit_of(world, actor_id)]


def sms_sent(world: World, phone: str) -> list[tuple[str, str]]:
    """(code, account number) of every SMS the bot «sent» to the phone, from its log."""
    log = world.bot.log_path.read_text(encoding="utf-8", errors="replace")
    return [(m["code"], m["number"]) for m in SMS_LINE.finditer(log) if m["phone"] == phone]


def masked(phone: str) -> str:
    """+79161234567 → +7 *** ***-45-67 (bot/services/phones.mask_phone)."""
    return f"+7 *** ***-{phone[-4:-2]}-{phone[-2:]}"


def next_moscow_midnights() -> set[str]:
    """«Tomorrow 00:00» in Moscow, as the bot prints it (both sides of a midnight)."""
    today = dt.datetime.now(MOSCOW).date()
    return {
        (day + dt.timedelta(days=1)).strftime("%d.%m.%Y") + " 00:00"
        for day in (today, today + dt.timedelta(days=1))
    }


# --------------------------------------------------------------------------- resident steps
async def registered(world: World, first_name: str, *, phone: str | None = None) -> SandboxUser:
    """A registered resident whose phone is on file for no account (no offer is shown)."""
    user = world.resident(first_name, phone=phone)
    await register(user)
    return user


async def enter_number(user: SandboxUser, number: str) -> BotMessage:
    """My accounts → Link an account → the number; returns the bot's answer to it."""
    await user.send(MY_ACCOUNTS)
    accounts = await user.next_message()
    assert accounts.text.startswith("Мои лицевые счета")
    await user.press(LINK, message=accounts)
    prompt = await user.next_message()  # one supplier: its choice is skipped
    assert prompt.text.startswith("Введите номер лицевого счёта (Водоканал)")
    assert "Подсказка: 10 цифр" in prompt.text
    await user.send(number)
    return await user.next_message()


async def ask_operator(
    user: SandboxUser, number: str, *, name: str, address: str, photo: bytes | None
) -> BotMessage:
    """Up to the request being sent; returns the resident's «sent to the operators»."""
    routes = await enter_number(user, number)
    assert routes.buttons == ROUTES
    await user.press(OPERATOR, message=routes)
    assert (await user.next_message()).text.startswith("Оператор сверит ваши данные")
    await user.send(name)
    assert (await user.next_message()).text.startswith("Адрес квартиры или дома")
    await user.send(address)
    ask_photo = await user.next_message()
    assert ask_photo.text.startswith("Если можете, пришлите фото недавней квитанции")
    assert ask_photo.buttons == [[SKIP_PHOTO], [CANCEL]]
    if photo is not None:
        await user.send_photo(photo)
    else:
        await user.press(SKIP_PHOTO, message=ask_photo)
        assert (await user.next_edit()).buttons == []  # the skip button is gone
    sent = await user.next_message()
    assert sent.text.startswith("Ваша заявка отправлена операторам.")
    return sent


async def pending_card(
    world: World, first_name: str, *, photo: bool = False
) -> tuple[SandboxUser, int, BotMessage]:
    """A resident asks an operator about an account with nothing on file for them.

    Returns the resident, the account id and the card in the staff chat.
    """
    world.staff.skip_messages()  # a failed test before must not shift this one
    resident = await registered(world, first_name)
    account_id, number = await seed_account(world, address="ул. Садовая, д. 3, кв. 9")
    await ask_operator(
        resident,
        number,
        name=f"{first_name} Петрова",
        address="Садовая 3, кв. 9",
        photo=make_png(64, 48) if photo else None,
    )
    card = await world.staff.next_message()
    assert f"Лицевой счёт: {number}" in card.text
    return resident, account_id, card


async def settled(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `check()` holds: a press is answered before the card is redrawn and the
    resident told (Telegram's ~15 s for an answer), so those follow the answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "the bot did not finish in time"
        await asyncio.sleep(0.02)


async def next_edit_of(chat: Group, message: BotMessage) -> BotMessage:
    """The next edit of this message; edits of other messages (earlier tests' cards) are skipped.

    For the buttons that are answered before the card is edited (Reject, Back).
    """
    while True:
        edited = await chat.next_edit()
        if edited.message_id == message.message_id:
            return edited


async def press_from_outside(
    group: Group, user: SandboxUser, text: str, card: BotMessage, status: str
) -> CallbackAnswer:
    """A press by someone who is not (any more) a member of the group.

    The sandbox only lets members press buttons in a group, so the user is a member when
    the press is queued and `status` before the bot can look the membership up (the bot's
    getChatMember goes through this event loop, which is not given up in between).
    """
    group.add_member(user, status="member")
    pressing = asyncio.create_task(user.press(text, message=card))
    await asyncio.sleep(0)  # the callback query is queued for the bot
    group.add_member(user, status=status)
    return await pressing


# --------------------------------------------------------------------------- by the phone
async def test_one_tap_offer_after_registration(world: World) -> None:
    anna = world.resident("Анна")
    first_id, first = await seed_account(world, phones=(anna.phone or "",))
    second_id, second = await seed_account(world, phones=(new_phone(), anna.phone or ""))
    await anna.send("/start")
    await anna.next_message()
    await anna.press("✅ Даю согласие", message=await anna.next_message())
    await anna.next_edit()
    await anna.next_message()  # asks for the phone
    await anna.share_contact()
    assert (await anna.next_message()).text == "Спасибо, вы зарегистрированы."
    offer = await anna.next_message()
    assert offer.text.startswith("Ваш телефон указан для этих лицевых счетов:")
    assert f"• Водоканал, № {first}, ул. Садовая, д. 3, кв. 9" in offer.text
    assert offer.text.endswith("Привяжите их одним нажатием:")
    assert offer.buttons == [
        [f"✅ Привязать № {first} (Водоканал)"],
        [f"✅ Привязать № {second} (Водоканал)"],
    ]
    answer = await anna.press(f"✅ Привязать № {first} (Водоканал)", message=offer)
    assert answer.text is None and not answer.show_alert
    assert (await anna.next_edit()).message_id == offer.message_id
    assert offer.buttons == [[f"✅ Привязать № {second} (Водоканал)"]]  # the rest stays
    assert f"№ {second}," in offer.text and f"№ {first}," not in offer.text  # and its list
    linked = await anna.next_message()
    assert linked.text.startswith(f"✅ Лицевой счёт № {first} (Водоканал) привязан.")
    assert "Адрес: ул. Садовая, д. 3, кв. 9" in linked.text
    assert await links_of(world, first_id) == [(anna.id, "active", "phone")]
    assert await links_of(world, second_id) == []
    [entry] = [e for e in await audit_of(world, anna.id) if e.action == "account_linked"]
    assert (entry.object_id, entry.details) == (str(first_id), {"method": "phone"})


async def test_link_by_phone_on_file(world: World) -> None:
    boris = await registered(world, "Борис")
    await boris.send(MY_ACCOUNTS)
    empty = await boris.next_message()  # registration offered nothing: this comes next
    assert "Пока не привязано ни одного лицевого счёта" in empty.text
    assert empty.buttons == [[LINK]]
    # the billing import brings Boris's phone later
    account_id, number = await seed_account(world, phones=(boris.phone or "",))
    spaced = f"{number[:4]} {number[4:7]}-{number[7:]}"
    linked = await enter_number(boris, spaced)
    assert linked.text.startswith(f"✅ Лицевой счёт № {number} (Водоканал) привязан.")
    assert linked.reply_keyboard is not None
    assert [MY_ACCOUNTS, "💬 Написать в поддержку"] in linked.reply_keyboard  # the main menu
    assert await links_of(world, account_id) == [(boris.id, "active", "phone")]
    await boris.send(MY_ACCOUNTS)
    shown = await boris.next_message()
    assert f"🏠 Водоканал, лицевой счёт № {number}\nул. Садовая, д. 3, кв. 9" in shown.text
    assert shown.buttons == [[LINK], [f"✖️ Отвязать № {number}"]]
    # the same number again
    again = await enter_number(boris, number)
    assert again.text == f"Лицевой счёт № {number} уже привязан к вам."


# --------------------------------------------------------------------------- access code
async def test_access_code_wrong_then_right(world: World) -> None:
    vera = await registered(world, "Вера")
    account_id, number = await seed_account(world, phones=(new_phone(),), access_code="XY34ZW")
    routes = await enter_number(vera, number)
    assert routes.text.startswith(f"Лицевой счёт № {number}. Как вы хотите подтвердить")
    assert routes.buttons == ROUTES
    await vera.press(ACCESS, message=routes)
    prompt = await vera.next_message()
    assert prompt.text.startswith("Введите код доступа")
    assert prompt.buttons == [[OPERATOR], [OTHER_WAYS], [CANCEL]]
    await vera.send("XY34ZX")
    wrong = await vera.next_message()
    assert wrong.text == (
        "Код не подходит. Проверьте номер лицевого счёта и код по квитанции. "
        "Осталось попыток на сегодня: 2."
    )
    assert wrong.buttons == [[OPERATOR], [OTHER_WAYS], [CANCEL]]
    assert await links_of(world, account_id) == []
    await vera.send(" XY34 ZW ")
    linked = await vera.next_message()
    assert linked.text.startswith(f"✅ Лицевой счёт № {number} (Водоканал) привязан.")
    assert await links_of(world, account_id) == [(vera.id, "active", "access_code")]
    assert await actions_of(world, vera.id) == ["link_access_code_failed", "account_linked"]


# --------------------------------------------------------------------------- SMS code
async def test_sms_code_wrong_then_right_and_resend_too_soon(world: World) -> None:
    gleb = await registered(world, "Глеб")
    holder = new_phone()
    account_id, number = await seed_account(world, phones=(holder,), access_code="QQ11QQ")
    routes = await enter_number(gleb, number)
    await gleb.press(SMS, message=routes)
    told = await gleb.next_message()
    assert told.text == (
        "Я отправил код по СМС на телефон, указанный для этого лицевого счёта: "
        f"{masked(holder)}. Код действует 30 мин. Введите его здесь."
    )
    assert told.buttons == [[RESEND], [OPERATOR], [OTHER_WAYS], [CANCEL]]
    [(code, sms_number)] = sms_sent(world, holder)
    assert sms_number == number
    assert holder not in told.text and code not in told.text

    too_soon = await gleb.press(RESEND, message=told)
    assert too_soon.show_alert and too_soon.text is not None
    assert re.fullmatch(r"Новый код можно будет отправить через \d+ с\.", too_soon.text)
    assert len(sms_sent(world, holder)) == 1  # no second SMS

    wrong = str((int(code) + 1) % 10 ** len(code)).zfill(len(code))
    await gleb.send(wrong)
    refused = await gleb.next_message()
    assert refused.text == "Неверный код. Осталось попыток для этого кода: 4."
    assert refused.buttons == [[RESEND], [OPERATOR], [OTHER_WAYS], [CANCEL]]
    await gleb.send(code)
    linked = await gleb.next_message()
    assert linked.text.startswith(f"✅ Лицевой счёт № {number} (Водоканал) привязан.")
    assert await links_of(world, account_id) == [(gleb.id, "active", "sms_code")]
    entries = await audit_of(world, gleb.id)
    assert [e.action for e in entries] == ["code_sent", "link_sms_code_failed", "account_linked"]
    written = " ".join(f"{e.object_id} {e.details}" for e in entries)
    assert code not in written and holder not in written  # no codes, no full phones


# --------------------------------------------------------------------------- operator
async def test_operator_approves_a_photo_request(world: World) -> None:
    receipt = make_png(64, 48)
    world.staff.skip_messages()
    dasha = await registered(world, "Даша")
    account_id, number = await seed_account(world, address="ул. Садовая, д. 3, кв. 9")
    await ask_operator(
        dasha, number, name="Дарья <b>Петрова</b>", address="Садовая 3, кв. 9", photo=receipt
    )
    card = await world.staff.next_message()
    assert card.photo is not None and await card.download() == receipt
    link = await link_row(world, account_id)
    assert (link.user_id, link.status, link.method) == (dasha.id, "pending", "operator")
    caption = card.text
    assert caption.startswith(f"📝 Заявка на привязку лицевого счёта №{link.id}")
    assert (
        f"Житель: Дарья <b>Петрова</b> (id {dasha.id}), телефон {masked(dasha.phone or '')}"
        in caption
    )
    assert "Дарья &lt;b&gt;Петрова&lt;/b&gt;" in (card.html or "")  # escaped, not markup
    assert (dasha.phone or "") not in caption
    assert f"Лицевой счёт: {number}" in caption
    assert "Садовая 3, кв. 9" in caption and "ул. Садовая, д. 3, кв. 9" in caption
    assert "Фото квитанции: приложено" in caption
    assert card.buttons == [[APPROVE, REJECT]]
    [ticket] = await query(world, select(Ticket).where(Ticket.link_id == link.id))
    assert (ticket.kind, ticket.status, ticket.staff_chat_id, ticket.staff_message_id) == (
        "link",
        "open",
        world.staff.id,
        card.message_id,
    )
    # the resident sees the request as waiting, without the address on file
    await dasha.send(MY_ACCOUNTS)
    waiting = await dasha.next_message()
    assert f"⏳ Водоканал, лицевой счёт № {number}\nЗаявка ждёт проверки оператором." in (
        waiting.text
    )
    assert "ул. Садовая" not in waiting.text
    assert waiting.buttons == [[LINK], [f"✖️ Отозвать заявку по № {number}"]]

    answer = await world.operator.press(APPROVE, message=card)
    assert (answer.text, answer.show_alert) == ("Одобрено.", False)
    told = await dasha.next_message()
    assert told.text == (
        f"✅ Оператор подтвердил вашу заявку: лицевой счёт № {number} (Водоканал) привязан. "
        "Он есть в разделе «Мои лицевые счета»."
    )
    await settled(lambda: card.buttons == [])
    assert card.edited and card.photo is not None  # the caption was edited
    last_caption_edit = world.sb.sent(world.staff.id, "editMessageCaption")[-1]
    assert int(last_caption_edit.params["message_id"]) == card.message_id
    assert re.search(r"\n\n✅ Одобрено: Ольга, \d\d\.\d\d\.\d{4} \d\d:\d\d$", card.text)
    assert card.buttons == []
    link = await link_row(world, account_id)
    assert (link.status, link.method, link.decided_by, link.decided_by_name) == (
        "active",
        "operator",
        world.operator.id,
        "Ольга",
    )
    [ticket] = await query(world, select(Ticket).where(Ticket.link_id == link.id))
    assert ticket.status == "closed"
    [decided] = await query(
        world,
        select(AuditLog).where(
            AuditLog.action == "link_decided", AuditLog.object_id == str(link.id)
        ),
    )
    assert (decided.actor_kind, decided.actor_id) == ("operator", world.operator.id)
    assert decided.details == {"decision": "approved", "reason": None, "resident_id": dasha.id}
    assert await actions_of(world, dasha.id) == ["link_requested"]
    await dasha.send(MY_ACCOUNTS)
    assert (
        f"🏠 Водоканал, лицевой счёт № {number}\nул. Садовая" in (await dasha.next_message()).text
    )


async def test_operator_rejects_with_a_preset_reason(world: World) -> None:
    egor, account_id, card = await pending_card(world, "Егор")
    assert "Фото: нет" in card.text and card.photo is None
    await world.operator.press(REJECT, message=card)
    assert (await next_edit_of(world.staff, card)).buttons == [
        ["ФИО или адрес не совпадают с учётными данными"],
        ["Не удалось подтвердить, что лицевой счёт ваш"],
        [UNREADABLE],
        [OTHER_REASON],
        ["⬅️ Назад"],
    ]
    await world.operator.press("⬅️ Назад", message=card)
    assert (await next_edit_of(world.staff, card)).buttons == [[APPROVE, REJECT]]
    await world.operator.press(REJECT, message=card)
    await next_edit_of(world.staff, card)
    answer = await world.operator.press(UNREADABLE, message=card)
    assert answer.text == "Отклонено."
    told = await egor.next_message()
    assert told.text.startswith("❌ Ваша заявка на привязку лицевого счёта №")
    assert "отклонена.\nПричина: Фото квитанции не читается\n\n" in told.text
    await settled(lambda: card.buttons == [])
    assert re.search(
        r"\n\n❌ Отклонено: Ольга, \d\d\.\d\d\.\d{4} \d\d:\d\d\. "
        r"Причина: Фото квитанции не читается$",
        card.text,
    )
    assert card.buttons == []
    assert await links_of(world, account_id) == [(egor.id, "rejected", "operator")]
    await egor.send(MY_ACCOUNTS)
    shown = await egor.next_message()
    assert "Заявка отклонена. Причина: Фото квитанции не читается" in shown.text
    assert shown.buttons[-1][0].startswith("🗑 Убрать №")


async def test_operator_rejects_with_own_reason(world: World) -> None:
    zhanna, account_id, card = await pending_card(world, "Жанна")
    petr = world.sb.user("Пётр")
    world.staff.add_member(petr, status="administrator")
    await world.operator.press(REJECT, message=card)
    await next_edit_of(world.staff, card)
    await world.operator.press(OTHER_REASON, message=card)
    prompt = await world.staff.next_message()
    link = await link_row(world, account_id)
    assert prompt.text.startswith(
        f"Ольга, ответьте на это сообщение причиной отказа по заявке №{link.id}"
    )
    assert prompt.reply_to_message_id == card.message_id
    markup = prompt.reply_markup or {}
    assert markup.get("force_reply") is True and markup.get("selective") is True
    # a selective ForceReply reaches only the users mentioned: the operator who pressed
    assert [(e["type"], e["offset"], e["length"], e["user"]["id"]) for e in prompt.entities] == [
        ("text_mention", 0, len("Ольга"), world.operator.id)
    ]
    # another operator's message is not the reason; the one who pressed replies
    await petr.send("что тут у нас?", chat=world.staff)
    reply = await world.operator.send("Квартира <3> продана", chat=world.staff, reply_to=prompt)
    done = await world.staff.next_message()  # nothing was answered to Пётр before this
    assert done.text == "Отклонено." and done.reply_to_message_id == reply.message_id
    told = await zhanna.next_message()
    assert "\nПричина: Квартира <3> продана\n\n" in told.text
    assert card.text.endswith("Причина: Квартира <3> продана") and card.buttons == []
    link = await link_row(world, account_id)
    assert (link.status, link.reason, link.decided_by) == (
        "rejected",
        "Квартира <3> продана",
        world.operator.id,
    )


async def test_non_members_cannot_decide(world: World) -> None:
    ivan, account_id, card = await pending_card(world, "Иван")
    for status in ("left", "kicked"):
        outsider = world.sb.user("Мэлори")
        answer = await press_from_outside(world.staff, outsider, APPROVE, card, status)
        assert (answer.text, answer.show_alert) == (NOT_MEMBER, True)
        # the bot looked the presser up and was told they are not a member
        lookups = [
            c.result
            for c in world.sb.sent(world.staff.id, "getChatMember")
            if str(c.params.get("user_id")) == str(outsider.id)
        ]
        assert [r["status"] for r in lookups] == [status]
    assert not card.edited and card.buttons == [[APPROVE, REJECT]]
    assert await links_of(world, account_id) == [(ivan.id, "pending", "operator")]
    assert (
        await query(
            world,
            select(AuditLog)
            .where(AuditLog.action == "link_decided")
            .where(AuditLog.object_id == str((await link_row(world, account_id)).id)),
        )
        == []
    )
    # the card still works for the operator; the resident hears this decision only
    await world.operator.press(APPROVE, message=card)
    assert (await ivan.next_message()).text.startswith("✅ Оператор подтвердил вашу заявку")
    assert await links_of(world, account_id) == [(ivan.id, "active", "operator")]


async def test_two_operators_first_decision_wins(world: World) -> None:
    kira, account_id, card = await pending_card(world, "Кира")
    pavel = world.sb.user("Павел", username="pavel_op")
    world.staff.add_member(pavel, status="administrator")
    approve_data = str((card.button(APPROVE) or {})["callback_data"])
    # both press Approve at the same moment
    answers = await asyncio.gather(
        world.operator.press(APPROVE, message=card), pavel.press(APPROVE, message=card)
    )
    names = {world.operator.id: "Ольга", pavel.id: "Павел (@pavel_op)"}
    link = await link_row(world, account_id)
    assert link.status == "active" and link.decided_by in names
    winner = names[link.decided_by]
    assert sorted((a.text or "", a.show_alert) for a in answers) == sorted(
        [("Одобрено.", False), (f"Уже одобрено: {winner}.", True)]
    )
    # a stale client of Павел rejects later: told who decided, nothing changes
    forged = StaffRejectCb(
        link_id=StaffLinkCb.unpack(approve_data).link_id, reason=RejectPreset.MISMATCH
    ).pack()
    late = await pavel.press_data(forged, message=card)
    assert (late.text, late.show_alert) == (f"Уже одобрено: {winner}.", True)
    await settled(lambda: f"✅ Одобрено: {winner}, " in card.text and card.buttons == [])
    told = await kira.next_message()
    assert told.text.startswith("✅ Оператор подтвердил вашу заявку")
    await kira.send(MY_ACCOUNTS)  # the next message is this answer: she was told once
    assert (await kira.next_message()).text.startswith("Мои лицевые счета")
    decided = await query(
        world,
        select(AuditLog).where(
            AuditLog.action == "link_decided", AuditLog.object_id == str(link.id)
        ),
    )
    assert len(decided) == 1


async def test_withdrawn_request(world: World) -> None:
    lev, account_id, card = await pending_card(world, "Лев")
    await lev.send(MY_ACCOUNTS)
    shown = await lev.next_message()
    number = shown.buttons[1][0].removeprefix("✖️ Отозвать заявку по № ")
    await lev.press(f"✖️ Отозвать заявку по № {number}", message=shown)
    confirm = await lev.next_edit()
    assert confirm.text == f"Отозвать заявку на привязку лицевого счёта № {number} (Водоканал)?"
    assert confirm.buttons == [["Да, отозвать"], ["Нет, оставить"]]
    answer = await lev.press("Да, отозвать", message=confirm)
    assert answer.text == "Готово."
    note = await world.staff.next_message()
    assert note.text == "↩️ Житель отозвал эту заявку."
    assert note.reply_to_message_id == card.message_id and card.buttons == []
    assert (await lev.next_edit()).text.startswith(f"Заявка по лицевому счёту № {number} отозвана.")
    assert await links_of(world, account_id) == []


# --------------------------------------------------------------------------- refusals
async def test_someone_elses_account_looks_like_a_missing_one(world: World) -> None:
    mila = await registered(world, "Мила")
    theirs_id, theirs = await seed_account(
        world, phones=(new_phone(),), access_code="AB12CD", address="пр. Мира, д. 5"
    )
    missing = new_number()
    shown = []
    for number in (theirs, missing):
        routes = await enter_number(mila, number)
        assert routes.buttons == ROUTES
        shown.append(routes.text.replace(number, "N"))
        await mila.press(ACCESS, message=routes)
        await mila.next_message()
        await mila.send("AB12CE")
        shown.append((await mila.next_message()).text)
    assert shown[0] == shown[2]  # the same routes for an existing and a missing account
    assert shown[1].endswith("Осталось попыток на сегодня: 2.")
    assert shown[3].endswith("Осталось попыток на сегодня: 1.")
    assert shown[1].removesuffix("2.") == shown[3].removesuffix("1.")
    assert await links_of(world, theirs_id) == []
    assert all("пр. Мира" not in m.text for m in mila.messages())
    assert await actions_of(world, mila.id) == ["link_access_code_failed"] * 2


async def test_lockout_after_the_daily_limit(world: World) -> None:
    nina = await registered(world, "Нина")
    account_id, number = await seed_account(world, phones=(new_phone(),), access_code="ZZ99ZZ")
    routes = await enter_number(nina, number)
    await nina.press(ACCESS, message=routes)
    await nina.next_message()
    for left in (2, 1):
        await nina.send("WRONG1")
        assert (await nina.next_message()).text.endswith(f"Осталось попыток на сегодня: {left}.")
    await nina.send("WRONG1")
    locked = await nina.next_message()
    until = re.fullmatch(
        r"Сегодня было слишком много неудачных попыток\. Ради вашей безопасности привязка "
        r"лицевых счетов приостановлена до (.+) \(по московскому времени\)\.\n\n"
        r"До этого времени лицевой счёт можно привязать в офисе управляющей компании: "
        r"возьмите квитанцию и документ, удостоверяющий личность\.",
        locked.text,
    )
    assert until is not None and until[1] in next_moscow_midnights()
    assert locked.reply_keyboard is not None
    assert [MY_ACCOUNTS, "💬 Написать в поддержку"] in locked.reply_keyboard  # the main menu
    await nina.send("ZZ99ZZ")  # the right code, but the conversation is over
    assert (await nina.next_message()).text.startswith("Я не понял")
    await nina.send(MY_ACCOUNTS)
    await nina.press(LINK, message=await nina.next_message())
    assert (await nina.next_message()).text == locked.text
    assert await links_of(world, account_id) == []
    assert await actions_of(world, nina.id) == ["link_access_code_failed"] * 3


async def test_forged_callbacks_do_nothing(world: World) -> None:
    olya = await registered(world, "Оля")
    oleg = await registered(world, "Олег")
    hers_id, hers = await seed_account(world, phones=(olya.phone or "",))
    other_id, _ = await seed_account(world, phones=(new_phone(),))
    await add_rows(world, f.link(olya.id, hers_id, "active", "phone"))
    await oleg.send(MY_ACCOUNTS)
    own = await oleg.next_message()
    for data in (
        AccountCb(action=AccountAction.UNLINK, account_id=hers_id).pack(),
        AccountCb(action=AccountAction.UNLINK_YES, account_id=hers_id).pack(),
        SuggestedAccountCb(account_id=other_id).pack(),
    ):
        answer = await oleg.press_data(data, message=own)
        assert (answer.text, answer.show_alert) == ("Недоступно.", True), data
    link_id = (await link_row(world, hers_id)).id
    answer = await oleg.press_data(
        StaffLinkCb(action=StaffAction.APPROVE, link_id=link_id).pack(), message=own
    )
    assert answer.text == "Это работает только в чате операторов."  # a staff button
    assert not own.edited
    assert await links_of(world, hers_id) == [(olya.id, "active", "phone")]
    assert await links_of(world, other_id) == []
    assert "account_unlinked" not in await actions_of(world, oleg.id)
    await oleg.send(MY_ACCOUNTS)  # nothing was sent to Олег in between
    assert (await oleg.next_message()).text.startswith("Мои лицевые счета")
    await olya.send(MY_ACCOUNTS)
    assert f"лицевой счёт № {hers}" in (await olya.next_message()).text


# --------------------------------------------------------------------------- residents
async def test_family_of_two_each_by_their_own_route(world: World) -> None:
    mother = await registered(world, "Мама")
    son = await registered(world, "Сын")
    account_id, number = await seed_account(
        world, phones=(mother.phone or "",), access_code="FAM123"
    )
    linked = await enter_number(mother, number)
    assert linked.text.startswith(f"✅ Лицевой счёт № {number} (Водоканал) привязан.")
    routes = await enter_number(son, number)  # his mother's link proves nothing for him
    assert routes.buttons == ROUTES
    await son.press(ACCESS, message=routes)
    await son.next_message()
    await son.send("FAM123")
    assert (await son.next_message()).text.startswith(f"✅ Лицевой счёт № {number}")
    assert await links_of(world, account_id) == [
        (mother.id, "active", "phone"),
        (son.id, "active", "access_code"),
    ]


async def test_unlink_asks_for_confirmation(world: World) -> None:
    pasha = await registered(world, "Паша")
    sister = await registered(world, "Саша")
    account_id, number = await seed_account(world)
    await add_rows(
        world,
        f.link(pasha.id, account_id, "active", "access_code"),
        f.link(sister.id, account_id, "active", "sms_code"),
    )
    await pasha.send(MY_ACCOUNTS)
    shown = await pasha.next_message()
    await pasha.press(f"✖️ Отвязать № {number}", message=shown)
    confirm = await pasha.next_edit()
    assert confirm.text == f"Отвязать лицевой счёт № {number} (Водоканал)?"
    assert confirm.buttons == [["Да, отвязать"], ["Нет, оставить"]]
    keep = await pasha.press("Нет, оставить", message=confirm)
    assert keep.text == "Ничего не изменено."
    assert (await pasha.next_edit()).buttons == [[LINK], [f"✖️ Отвязать № {number}"]]
    assert len(await links_of(world, account_id)) == 2
    await pasha.press(f"✖️ Отвязать № {number}", message=shown)
    await pasha.next_edit()
    done = await pasha.press("Да, отвязать", message=shown)
    assert done.text == "Готово."
    unlinked = await pasha.next_edit()
    assert unlinked.text.startswith(f"Лицевой счёт № {number} отвязан.\n\nМои лицевые счета")
    assert unlinked.buttons == [[LINK]]
    assert await links_of(world, account_id) == [(sister.id, "active", "sms_code")]
    [entry] = [e for e in await audit_of(world, pasha.id) if e.action == "account_unlinked"]
    assert entry.object_id == str(account_id) and entry.details == {"status": "active"}


async def test_restart_half_way_resumes(world: World) -> None:
    roma = await registered(world, "Рома")
    account_id, number = await seed_account(world, phones=(new_phone(),), access_code="RS7788")
    routes = await enter_number(roma, number)  # the number is entered
    assert routes.buttons == ROUTES
    await world.bot.stop()
    await world.bot.start()
    await roma.press(ACCESS, message=routes)  # the conversation survived the restart
    assert (await roma.next_message()).text.startswith("Введите код доступа")
    await roma.send("RS7788")
    assert (await roma.next_message()).text.startswith(f"✅ Лицевой счёт № {number}")
    assert await links_of(world, account_id) == [(roma.id, "active", "access_code")]
