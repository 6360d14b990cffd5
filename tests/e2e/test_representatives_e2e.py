"""«I represent an organisation» over real HTTP, in long polling and in webhook mode (issue
14): a representative links an organisation's contract with a PDF power of attorney, an
operator approves as accountant on the card with the document, the representative sees
the organisation's accounts, is refused readings, and loses them when the operator revokes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import AccountLink
from tests.e2e.conftest import World
from tests.e2e.test_linking_e2e import (
    CANCEL,
    LINK,
    MY_ACCOUNTS,
    add_rows,
    query,
    registered,
    settled,
)
from tests.support import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ORG = "🏢 Я представитель организации"
SEND = "📨 Отправить заявку"
MANAGER = "✅ Одобрить: управляющий"
ACCOUNTANT = "✅ Одобрить: бухгалтер"
REVOKE = "🚫 Отозвать"
INN = "6950123450"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def seed_organisation(world: World) -> list[int]:
    voda = f.supplier()
    accounts = []
    for number, kpp, contract in (
        ("3000000001", "695001001", "Д-101/2025"),
        ("3000000002", "695001001", "Д-101/2025"),
        ("3000000003", "695002001", "Д-102/2025"),
    ):
        acc = f.account(voda, number, holder="ТСЖ «Заречье-Сервис»", address="ул. Советская, 12")
        acc.holder_inn, acc.holder_kpp, acc.contract_number = INN, kpp, contract
        accounts.append(acc)
    await add_rows(world, voda, *accounts)
    return [a.id for a in accounts]


async def roles(world: World, user_id: int) -> list[tuple[int, str | None]]:
    rows = await query(world, select(AccountLink).where(AccountLink.user_id == user_id))
    return sorted((r.account_id, r.role) for r in rows)


async def test_representative_with_a_pdf_accountant_then_revoked(world: World) -> None:
    ids = await seed_organisation(world)
    world.staff.skip_messages()
    maria = await registered(world, "Мария")
    await maria.send(MY_ACCOUNTS)
    await maria.press(LINK, message=await maria.next_message())
    prompt = await maria.next_message()
    assert prompt.buttons == [[ORG], [CANCEL]]
    await maria.press(ORG, message=prompt)
    assert "Введите <b>ИНН</b>" in ((await maria.next_message()).html or "")
    await maria.send("6950123451")  # a typo in the control digit
    assert "контрольная цифра" in (await maria.next_message()).text
    await maria.send(INN)
    branches = await maria.next_message()
    assert branches.buttons[:2] == [
        ["КПП 695001001 — ТСЖ «Заречье-Сервис»"],
        ["КПП 695002001 — ТСЖ «Заречье-Сервис»"],
    ]
    await maria.press("КПП 695001001 — ТСЖ «Заречье-Сервис»", message=branches)
    assert "КПП 695001001" in (await maria.next_message()).text
    await maria.send("Д-101/2025")
    assert "3000000001, 3000000002" in (await maria.next_message()).text
    await maria.send("Смирнова Мария Петровна")
    await maria.next_message()
    await maria.send("главный бухгалтер")
    await maria.next_message()
    await maria.send_document(PDF, file_name="доверенность.pdf", mime_type="application/pdf")
    taken = await maria.next_message()
    assert taken.text.startswith("Получено, страниц — 1")
    await maria.press(SEND, message=taken)
    assert (await maria.next_message()).text.startswith("Заявка с доверенностью отправлена")

    card = await world.staff.next_message()
    assert "Заявка представителя организации" in card.text
    assert "ТСЖ «Заречье-Сервис»" in card.text and f"ИНН {INN}, КПП 695001001" in card.text
    assert card.buttons == [[MANAGER, ACCOUNTANT], ["❌ Отклонить"]]
    document = await world.staff.next_message()
    assert document.raw["document"]["file_name"] == "доверенность.pdf"
    assert document.raw["reply_to_message"]["message_id"] == card.message_id

    answer = await world.operator.press(ACCOUNTANT, message=card)
    assert answer.text == "Одобрено: бухгалтер."
    told = await maria.next_message()
    assert "роль — бухгалтер" in told.text
    await settled(lambda: card.buttons == [[REVOKE]])
    assert await roles(world, maria.id) == [(ids[0], "accountant"), (ids[1], "accountant")]

    await maria.send(MY_ACCOUNTS)
    shown = await maria.next_message()
    assert f"🏢 ТСЖ «Заречье-Сервис» (ИНН {INN}) — ваша роль: бухгалтер" in shown.text
    await maria.send("📟 Показания счётчиков")
    picker = await maria.next_message()
    await maria.press(picker.buttons[0][0], message=picker)
    assert "Вы — бухгалтер организации" in (await maria.next_message()).text

    await world.operator.press(REVOKE, message=card)  # asks first: nothing is revoked yet
    await settled(lambda: card.buttons == [["Да, отозвать", "⬅️ Назад"]])
    assert "Отозвать право" in card.text and len(await roles(world, maria.id)) == 2
    answer = await world.operator.press("Да, отозвать", message=card)
    assert answer.text is not None and answer.text.startswith("Отозвано")
    assert "отозвал ваше право" in (await maria.next_message()).text
    await settled(lambda: card.buttons == [])
    assert await roles(world, maria.id) == []
