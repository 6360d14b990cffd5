"""«Delete my data» (152-ФЗ): afterwards the whole database holds neither the resident's
Telegram id nor their phone, outside what README says the company keeps (billing's own
phones on file for an account); every staff card about them is taken down, decided ones
too."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import Base, Ticket
from tests.conftest import STAFF_CHAT_ID
from tests.handlers.test_linking import (
    OPERATOR,
    SKIP_PHOTO,
    enter_number,
    last_with,
    seed,
)
from tests.handlers.test_registration import register
from tests.support.harness import BotHarness, Person

#: an id and a phone that no other datum of the test could contain by chance
ZOE = Person(987654321, "Zoe", phone="+79168887766")
OLGA = Person(901, "Olga")
KEPT = {"account_phones"}  # the billing system's data about the account, not the bot's


async def rows_mentioning(db: Database, *needles: str) -> list[str]:
    found = []
    async with db.session_maker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in KEPT:
                continue
            for row in (await session.execute(select(table))).mappings():
                text = json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False)
                found += [f"{table.name}: {text}" for n in needles if n in text]
    return found


def _plain(value: Any) -> Any:
    return value if isinstance(value, (dict, list, int, float, type(None))) else str(value)


async def test_no_trace_of_the_resident_after_deletion(harness: BotHarness, db: Database) -> None:
    await seed(db, registered=())
    await register(harness, ZOE)
    # a request to an operator, decided: its card shows her name and address
    calls = await enter_number(harness, ZOE, "1000000003")
    calls = await harness.press(ZOE, last_with(calls, OPERATOR).callback_of(OPERATOR))
    await harness.send(ZOE, "Зоя Иванова")
    calls = await harness.send(ZOE, "Садовая 3")
    calls = await harness.press(ZOE, last_with(calls, SKIP_PHOTO).callback_of(SKIP_PHOTO))
    card = next(c for c in calls if c.chat_id == STAFF_CHAT_ID and c.method != "getChat")
    async with db.session_maker() as session:
        card_id = (await session.execute(select(Ticket.staff_message_id))).scalar_one()
    await harness.press(
        OLGA, card.callback_of("✅ Одобрить"), chat_id=STAFF_CHAT_ID, message_id=card_id
    )
    # an open request too
    calls = await enter_number(harness, ZOE, "1000000002")
    calls = await harness.press(ZOE, last_with(calls, OPERATOR).callback_of(OPERATOR))
    await harness.send(ZOE, "Зоя Иванова")
    calls = await harness.send(ZOE, "Мира 5")
    await harness.press(ZOE, last_with(calls, SKIP_PHOTO).callback_of(SKIP_PHOTO))
    assert await rows_mentioning(db, str(ZOE.id), "9168887766")  # the search finds her

    calls = await harness.send(ZOE, "⚙️ Настройки")
    calls = await harness.press(ZOE, calls[0].callback_of("🗑 Удалить мои данные"))
    calls = await harness.press(ZOE, calls[-1].callback_of("Да, удалить мои данные"))

    assert await rows_mentioning(db, str(ZOE.id), "9168887766", "Зоя", "Садовая 3") == []
    deleted = [c.params["message_id"] for c in calls if c.method == "deleteMessage"]
    assert card_id in deleted and len(deleted) == 2  # the decided card and the open one
