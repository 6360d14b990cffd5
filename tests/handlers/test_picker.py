"""The one account picker (handlers/common/picker.py) as a feature uses it: skipped with one
account, paged with many, only the presser's own active accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from bot.services.linking import LinkingService
from bot.services.registration import Resident
from handlers.common.callbacks import AccountPickCb, PickPageCb, PickPurpose
from handlers.common.gate import RegisteredOnly
from handlers.common.picker import pick_account
from storage.db import Database
from tests.support import factories as f
from tests.support.harness import BotHarness, Person, answers, texts

ANNA = Person(611, "Anna", phone="+79161234567")
EVE = Person(612, "Eve", phone="+79990000000")


def feature_router() -> Router:
    """A feature as balance and readings will be: a command opens the picker, a press shows."""
    router = Router(name="test-feature")
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())

    @router.message(Command("pick"))
    async def open_(message: Message, linking: LinkingService, resident: Resident) -> None:
        account = await pick_account(message, linking, resident, PickPurpose.BALANCE)
        if account is not None:
            await message.answer(f"shown {account.number}")

    @router.callback_query(AccountPickCb.filter(F.purpose == PickPurpose.BALANCE))
    async def chosen(
        query: CallbackQuery,
        callback_data: AccountPickCb,
        linking: LinkingService,
        resident: Resident,
    ) -> None:
        account = await linking.active_account(resident.id, callback_data.account_id)
        await query.answer("shown" if account else "not yours")

    return router


@pytest.fixture
async def h(
    settings: Settings, db: Database, clock: FrozenClock, sms: LogSmsGateway
) -> AsyncIterator[BotHarness]:
    from bot.app import create_dispatcher

    dp = create_dispatcher(settings, db, clock=clock, gateways=Gateways(sms=sms))
    feature = feature_router()
    dp.include_router(feature)
    dp.sub_routers.insert(0, dp.sub_routers.pop())  # before the fallback takes everything
    harness = BotHarness(dp)
    yield harness
    await dp.storage.close()
    await harness.bot.session.close()


async def seed(db: Database, accounts: int) -> list[int]:
    voda = f.supplier()
    rows = [
        f.account(voda, f"10000000{n:02d}", address=f"ул. Ленина, д. {n}") for n in range(accounts)
    ]
    await f.add(db, voda, *rows, f.resident(ANNA.id, ANNA.phone), f.resident(EVE.id, EVE.phone))
    await f.add(db, *(f.link(ANNA.id, row.id, "active", "phone") for row in rows))
    return [row.id for row in rows]


async def test_one_account_needs_no_question(h: BotHarness, db: Database) -> None:
    await seed(db, 1)
    assert texts(await h.send(ANNA, "/pick")) == ["shown 1000000000"]


async def test_no_account_says_how_to_link_one(h: BotHarness, db: Database) -> None:
    await seed(db, 1)
    calls = await h.send(EVE, "/pick")
    assert "пока не привязан ни один лицевой счёт" in texts(calls)[0]
    assert calls[0].button_texts() == ["➕ Привязать лицевой счёт"]


async def test_many_accounts_are_paged_and_checked(h: BotHarness, db: Database) -> None:
    ids = await seed(db, 10)
    [calls] = [await h.send(ANNA, "/pick")]
    assert texts(calls) == ["Какой лицевой счёт?"]
    buttons = calls[0].button_texts()
    assert buttons[:8] == [f"№ 10000000{n:02d}, ул. Ленина, д. {n}" for n in range(8)]
    assert buttons[8:] == ["1/2", "▶️"]
    turned = await h.press(ANNA, calls[0].callback_of("▶️"))
    [edit] = [c for c in turned if c.method == "editMessageReplyMarkup"]
    assert edit.button_texts() == [
        "№ 1000000008, ул. Ленина, д. 8",
        "№ 1000000009, ул. Ленина, д. 9",
        "◀️",
        "2/2",
    ]
    pressed = await h.press(ANNA, calls[0].callback_of("№ 1000000003, ул. Ленина, д. 3"))
    assert answers(pressed)[0].params["text"] == "shown"
    forged = AccountPickCb(purpose=PickPurpose.BALANCE, account_id=ids[3]).pack()
    assert answers(await h.press(EVE, forged))[0].params["text"] == "not yours"


async def test_a_page_that_does_not_exist_is_a_stale_button(h: BotHarness, db: Database) -> None:
    await seed(db, 10)
    await h.send(ANNA, "/pick")
    real = PickPageCb(purpose=PickPurpose.BALANCE, page=1).pack()
    for forged in (real[:-1] + "2", real[:-1] + "99", real[:-1] + "-1", real[:-1] + "x"):
        calls = await h.press(ANNA, forged)
        assert not [c for c in calls if c.method == "editMessageReplyMarkup"]
        [answer] = answers(calls)
        assert answer.params["show_alert"] is True
        assert answer.params["text"] == "Эта кнопка больше не действует."
