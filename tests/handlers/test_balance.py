"""Balance through the production Dispatcher: the picker, months, receipts, the chart."""

from __future__ import annotations

import io
import re
import struct
from typing import Any

from pypdf import PdfReader

from bot.services.clock import FrozenClock
from handlers.balance.callbacks import BalanceAction, BalanceCb, ServiceReceiptCb
from storage.db import Database
from tests.support.balance import seed_linked
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts

ANNA = Person(801, "Anna")
EVE = Person(802, "Eve", phone="+79990000802")
BALANCE = "💳 Баланс"


def upload(harness: BotHarness, call: Call, field: str) -> tuple[str, bytes]:
    """The file a sendDocument/sendPhoto call uploaded: its name and bytes."""
    attached = call.params[field]
    assert attached.startswith("attach://")
    file: Any = harness.session.files[attached.removeprefix("attach://")]
    return file.filename, file.data


def plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


async def test_one_account_shows_the_latest_month_at_once(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    await seed_linked(db, clock, ANNA.id, ("debtor",))
    calls = await harness.send(ANNA, BALANCE)
    [text] = texts(calls)
    assert "<b>Ноябрь 2026</b>" in text
    assert "• Отопление начислено 3 408,96 ₽ · оплачено 0,00 ₽ · к оплате 3 408,96 ₽" in plain(text)
    assert "Долг за прошлые месяцы: 24 618,48 ₽" in plain(text)
    assert "<b>Задолженность сейчас: 33 270,18 ₽</b>" in plain(text)
    assert "Последний платёж: 06.07.2026, 5 268,15 ₽, Почта России" in plain(text)
    assert "Данные на 20.11.2026 12:00 (МСК)" in text
    # no provider token: no payment button; one account: no «another account»
    assert calls[-1].button_texts() == [
        "🧾 Квитанция",
        "📈 История",
        "🗓 Другой месяц",
        "📟 Передать показания",  # the readings feature's button, as the gas cabinet has it
    ]
    sent = await harness.press(ANNA, calls[-1].callback_of("📟 Передать показания"))
    assert texts(sent), "the readings conversation answers the balance's button"


async def test_the_edge_cases_of_the_demo(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(
        db, clock, ANNA.id, ("overpaid", "no_charges", "recalculation", "typical")
    )
    seen = {}
    for case, account_id in seeded.ids.items():
        pick = BalanceCb(action=BalanceAction.SHOW, account_id=account_id).pack()
        calls = await harness.press(ANNA, pick)
        [edit] = [c for c in calls if c.method == "editMessageText"]
        seen[case] = (plain(edit.text or ""), edit.button_texts())
    text, buttons = seen["overpaid"]
    assert re.search(r"Переплата сейчас: 3 \d{3},\d\d ₽", text), text
    text, buttons = seen["no_charges"]
    assert "начислений пока нет" in text
    assert "🧾 Квитанция" not in buttons and "🏠 Другой лицевой счёт" in buttons
    text, _ = seen["recalculation"]
    assert "Перерасчёт: отопление" in text and "только перерасчёт в вашу пользу" in text
    assert "Переплата сейчас: 1 843,27 ₽" in text
    text, _ = seen["typical"]
    assert "Задолженность сейчас:" in text  # this month is not paid yet


async def test_several_accounts_go_through_the_picker(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("typical", "gas"))
    [ask] = await harness.send(ANNA, BALANCE)
    assert ask.text == "Какой лицевой счёт?"
    gas = seeded.demo.gas.number
    label = next(t for t in ask.button_texts() if gas in t)
    calls = await harness.press(ANNA, ask.callback_of(label))
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert f"лицевой счёт № {gas}" in (edit.text or "") and "Газоснабжение" in (edit.text or "")
    assert "🏠 Другой лицевой счёт" in edit.button_texts()


async def test_earlier_months_through_the_month_picker(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    await seed_linked(db, clock, ANNA.id, ("debtor",))
    [shown] = await harness.send(ANNA, BALANCE)
    calls = await harness.press(ANNA, shown.callback_of("🗓 Другой месяц"))
    [markup] = [c for c in calls if c.method == "editMessageReplyMarkup"]
    months = markup.button_texts()
    assert months[0] == "• нояб. 2026" and months[11] == "дек. 2025"
    assert months[-1] == "⬅️ Назад" and len(months) == 13  # 12 months fit one page
    calls = await harness.press(ANNA, markup.callback_of("июнь 2026"))
    [edit] = [c for c in calls if c.method == "editMessageText"]
    text = plain(edit.text or "")
    assert "<b>Июнь 2026</b>" in text
    assert "К оплате ничего: месяц оплачен полностью." in text  # June was paid
    assert "<b>Задолженность сейчас: 33 270,18 ₽</b>" in text  # and where it stands now


async def test_another_residents_account_is_not_shown(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("debtor",))
    from tests.support import factories as f

    await f.add(db, f.resident(EVE.id, EVE.phone))
    forged = BalanceCb(action=BalanceAction.RECEIPT_DUE, account_id=seeded.ids["debtor"]).pack()
    calls = await harness.press(EVE, forged)
    assert not [c for c in calls if c.method in ("sendDocument", "sendPhoto", "sendChatAction")]
    # refused at once, in an alert: never "preparing the receipt" first
    [answer] = answers(calls)
    assert answer.params["text"] == "Недоступно." and answer.params["show_alert"] is True
    assert not [c for c in calls if "Готовлю" in str(c.params)]
    service = ServiceReceiptCb(account_id=seeded.ids["debtor"], period="2026-11", charge_id=1)
    calls = await harness.press(EVE, service.pack())
    assert [a.params["text"] for a in answers(calls)] == ["Недоступно."]
    assert not [c for c in calls if c.method in ("sendDocument", "sendChatAction")]
    forged = BalanceCb(action=BalanceAction.SHOW, account_id=seeded.ids["debtor"]).pack()
    assert answers(await harness.press(EVE, forged))[0].params["text"] == "Недоступно."


async def test_a_stale_amount_due_button_of_a_paid_account_says_nothing_is_due(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("overpaid",))
    stale = BalanceCb(action=BalanceAction.RECEIPT_DUE, account_id=seeded.ids["overpaid"])
    calls = await harness.press(ANNA, stale.pack())
    [answer] = answers(calls)
    assert "text" not in answer.params  # no "preparing the receipt" for a receipt not coming
    assert texts(calls) == [
        "За этот месяц платить нечего. Можно сформировать квитанцию на свою сумму."
    ]
    assert not [c for c in calls if c.method in ("sendDocument", "sendChatAction")]


async def test_a_receipt_for_the_amount_due(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, ANNA.id, ("debtor",))
    [shown] = await harness.send(ANNA, BALANCE)
    calls = await harness.press(ANNA, shown.callback_of("🧾 Квитанция"))
    [menu] = [c for c in calls if c.method == "editMessageText"]
    assert menu.button_texts()[0] == "Сумма к оплате: 33\u00a0270,18\u00a0₽"
    assert "Отопление: 3\u00a0408,96\u00a0₽" in menu.button_texts()
    calls = await harness.press(ANNA, menu.callback_of(menu.button_texts()[0]))
    assert calls[0].method == "answerCallbackQuery"  # answered before the PDF is drawn
    [doc] = [c for c in calls if c.method == "sendDocument"]
    [photo] = [c for c in calls if c.method == "sendPhoto"]
    name, pdf = upload(harness, doc, "document")
    number = seeded.demo.debtor.number
    assert name == f"receipt_{number}_2026-11.pdf"
    text = plain(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert "Итого к оплате: 33 270,18 ₽" in text
    assert (
        plain(doc.text or "")
        == f"Квитанция по лицевому счёту № {number} за ноябрь 2026: 33 270,18 ₽."
    )
    _, png = upload(harness, photo, "photo")
    assert png.startswith(b"\x89PNG")
    assert "Оплата по QR-коду" in (photo.text or "")


async def test_a_receipt_for_one_service_and_for_a_typed_sum(
    harness: BotHarness, db: Database, clock: FrozenClock
) -> None:
    await seed_linked(db, clock, ANNA.id, ("debtor",))
    [shown] = await harness.send(ANNA, BALANCE)
    [menu] = [
        c
        for c in await harness.press(ANNA, shown.callback_of("🧾 Квитанция"))
        if c.method == "editMessageText"
    ]
    calls = await harness.press(ANNA, menu.callback_of("Отопление: 3\u00a0408,96\u00a0₽"))
    [doc] = [c for c in calls if c.method == "sendDocument"]
    text = plain(PdfReader(io.BytesIO(upload(harness, doc, "document")[1])).pages[0].extract_text())
    assert "К оплате: 3 408,96 ₽" in text and "Оплата: Отопление за 11.2026" in text
    assert "Водоотведение" not in text
    # a month with no charges in a forged or stale button: not another month in its place
    forged = shown.callback_of("🧾 Квитанция").rsplit(":", 1)[0] + ":2019-01"
    assert answers(await harness.press(ANNA, forged))[0].params["text"] == (
        "Эта кнопка больше не действует."
    )

    [ask] = [c for c in await harness.press(ANNA, menu.callback_of("✏️ Другая сумма")) if c.text]
    assert ask.text is not None and "Напишите сумму в рублях" in ask.text
    assert texts(await harness.send(ANNA, "12,345")) == [
        "После запятой — не больше двух цифр (копейки), например 1 234,56."
    ]
    assert texts(await harness.send(ANNA, "0")) == ["Сумма должна быть больше нуля."]
    assert "Это больше" in texts(await harness.send(ANNA, "5000000"))[0]
    assert "Это больше" in texts(await harness.send(ANNA, "9" * 5000))[0]  # not an error
    calls = await harness.send(ANNA, "1 500,5 ₽")
    [doc] = [c for c in calls if c.method == "sendDocument"]
    text = plain(PdfReader(io.BytesIO(upload(harness, doc, "document")[1])).pages[0].extract_text())
    assert "Сумма платежа: 1 500,50 ₽" in text
    assert texts(await harness.send(ANNA, "1500")) != []  # the conversation has ended
    assert not [c for c in await harness.send(ANNA, "1500") if c.method == "sendDocument"]


async def test_the_history_chart(harness: BotHarness, db: Database, clock: FrozenClock) -> None:
    await seed_linked(db, clock, ANNA.id, ("typical",))
    [shown] = await harness.send(ANNA, BALANCE)
    calls = await harness.press(ANNA, shown.callback_of("📈 История"))
    assert calls[0].method == "answerCallbackQuery"
    [photo] = [c for c in calls if c.method == "sendPhoto"]
    _, png = upload(harness, photo, "photo")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 800 and height >= 500
    first, second = (photo.text or "").split("\n")
    assert first.startswith("За 12 мес.: начислено ") and ", оплачено " in first
    assert second.startswith("Начисления ")
    assert re.search(r"на \d+\u00a0%", second), second  # Russian: a no-break space before %


def test_the_month_picker_pages_long_histories() -> None:
    """Three years of charges: 12 months a page, arrows, the shown month marked."""
    from aiogram.utils.i18n import I18n

    from bot.i18n import LOCALES_DIR
    from bot.services.balance import AccountCard, Payee, Statement
    from handlers.balance import keyboards

    periods = tuple(f"{y}-{m:02d}" for y in (2026, 2025, 2024) for m in range(12, 0, -1))
    payee = Payee(1, "Водоканал", "", "", "", "", "", "")
    statement = Statement(AccountCard(7, "1", "", "", payee), "2025-06", periods)
    i18n = I18n(path=LOCALES_DIR, default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("ru"):
        first = keyboards.periods(statement, 0).inline_keyboard
        second = keyboards.periods(statement, 1).inline_keyboard
        last = keyboards.periods(statement, 99).inline_keyboard  # a forged page: the last
    labels = [b.text for row in second for b in row]
    assert labels[:3] == ["дек. 2025", "нояб. 2025", "окт. 2025"] and "• июнь 2025" in labels
    assert [b.text for b in first[-2]] == ["1/3", "▶️"]
    assert [b.text for b in second[-2]] == ["◀️", "2/3", "▶️"]
    assert [b.text for b in last[-2]] == ["◀️", "3/3"] and last[-1][0].text == "⬅️ Назад"
    assert all(len(b.callback_data or "") <= 64 for row in first for b in row)


def test_a_month_of_many_long_services_fits_one_message() -> None:
    from decimal import Decimal

    from aiogram.utils.i18n import I18n

    from bot.i18n import LOCALES_DIR
    from bot.services.balance import AccountCard, Payee, ServiceLine, Statement
    from handlers.balance import texts

    payee = Payee(1, "О" * 255, "", "", "", "", "", "")
    account = AccountCard(7, "1" * 32, "ул. " + "Д" * 508, "", payee)
    lines = tuple(
        ServiceLine(i, f"<{i}> " + "Услуга " * 20, Decimal("-123456789.12"), Decimal("0"))
        for i in range(40)
    )
    statement = Statement(account, "2026-11", ("2026-11",), lines, opening=Decimal("9" * 10))
    i18n = I18n(path=LOCALES_DIR, default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("ru"):
        text = texts.balance_text(statement)
    assert len(text) <= 4096
    assert "&lt;0&gt;" in text  # billing's text is escaped
    assert "… и ещё 22 — в квитанции" in text
