"""Reminders through the real bulk sender and notifier against sandbox/: Telegram's limits
(≤ 30 messages a second, 1 a second per chat), a 429 that pauses everything, residents who
blocked the bot or never started it — counted from what the sandbox received, and when."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

from sqlalchemy import select

from bot.i18n import create_i18n
from bot.services.clock import FrozenClock
from bot.services.readings_reminders import ReminderService
from bot.telegram.notifier import TelegramResidentNotifier
from bot.telegram.sender import BulkSender
from handlers.common.callbacks import SendReadingsCb
from sandbox import Sandbox
from storage.db import Database
from storage.models import ReminderLog, User
from storage.uow import UnitOfWork
from tests.sandbox.conftest import make_bot
from tests.support import factories as f

START_DAY = dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC)  # 12:00 in Moscow, the window opens
PLAIN = range(5001, 5041)  # forty residents, one account each
MANY = 5100  # one resident, three accounts: three messages, a second apart
BLOCKED, NEVER = 5101, 5102  # blocked the bot; never wrote to it


async def seed(db: Database) -> dict[int, list[str]]:
    voda = f.supplier()
    owners = [*PLAIN, MANY, MANY, MANY, BLOCKED, NEVER]
    accounts = [f.account(voda, f"30000{n:05d}") for n in range(len(owners))]
    residents = [f.resident(uid, f"+7916{uid:07d}") for uid in sorted(set(owners))]
    await f.add(db, voda, *accounts, *residents)
    meters = [f.meter(a, f"ХВ{n}") for n, a in enumerate(accounts)]
    links = [f.link(uid, a.id, "active") for uid, a in zip(owners, accounts, strict=True)]
    await f.add(db, *meters, *links)
    numbers: dict[int, list[str]] = {}
    for uid, account in zip(owners, accounts, strict=True):
        numbers.setdefault(uid, []).append(account.number)
    return numbers


async def test_reminders_keep_telegrams_limits(sb: Sandbox, db: Database) -> None:
    numbers = await seed(db)
    for uid in numbers:
        user = sb.user(f"R{uid}", id=uid)
        if uid != NEVER:
            await user.send("/start")  # a private chat the bot may write to
        if uid == BLOCKED:
            user.block_bot()
    sb.simulate_flood("sendMessage", retry_after=1, times=1)
    bot = make_bot(sb)
    try:
        sender = BulkSender(bot, rate=25)
        notifier = TelegramResidentNotifier(bot, create_i18n("ru"), "ru", sender=sender)
        async with UnitOfWork(db.session_maker) as uow:
            reminders = ReminderService(
                uow, FrozenClock(START_DAY), notifier=notifier, consent_version="1"
            )
            assert await reminders.enqueue() == 45
            report = await reminders.send_queued()
    finally:
        await bot.session.close()
    assert (report.sent, report.blocked, report.failed, report.deferred) == (43, 2, 0, 0)

    calls = sb.sent(method="sendMessage")
    ok = sorted((c for c in calls if c.ok), key=lambda c: c.time)
    [flood] = [c for c in calls if c.error_code == 429]
    refused = {c.chat_id for c in calls if c.error_code == 403}
    assert len(ok) == 43 and refused == {BLOCKED, NEVER}
    # 429 retry_after 1: nothing started before the pause was over
    assert all(c.time >= flood.time + 0.95 for c in calls if c is not flood)
    # at most 30 a second overall
    times = [c.time for c in ok]
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 30
    # one a second per chat
    many = [c.time for c in ok if c.chat_id == MANY]
    assert len(many) == 3 and all(b - a >= 0.95 for a, b in itertools.pairwise(many))
    # each resident got their own accounts, with the button that opens the submission
    first = next(c for c in ok if c.chat_id == PLAIN[0])
    assert f"лицевой счёт № {numbers[PLAIN[0]][0]}" in first.params["text"]
    [[button]] = first.params["reply_markup"]["inline_keyboard"]
    assert button["text"] == "📟 Передать показания"
    assert SendReadingsCb.unpack(button["callback_data"]).account_id > 0

    async with db.session_maker() as s:
        statuses = [r.status for r in (await s.execute(select(ReminderLog))).scalars()]
        gone = [u.id for u in (await s.execute(select(User))).scalars() if u.inactive_since]
    assert sorted(statuses) == ["blocked"] * 2 + ["sent"] * 43
    assert sorted(gone) == [BLOCKED, NEVER]


async def test_a_stopping_sender_finishes_what_is_in_flight(sb: Sandbox, db: Database) -> None:
    numbers = await seed(db)
    for uid in numbers:
        await sb.user(f"R{uid}", id=uid).send("/start")
    bot = make_bot(sb)
    try:
        sender = BulkSender(bot, rate=20)
        notifier = TelegramResidentNotifier(bot, create_i18n("ru"), "ru", sender=sender)
        async with UnitOfWork(db.session_maker) as uow:
            reminders = ReminderService(
                uow, FrozenClock(START_DAY), notifier=notifier, consent_version="1", chunk=45
            )
            await reminders.enqueue()
            sb.simulate_flood("sendMessage", retry_after=1, times=1)

            async def stop_soon() -> None:
                await sb.wait_for_call("sendMessage")
                sender.stop()  # SIGTERM while the first message waits out the 429

            stopper = asyncio.create_task(stop_soon())
            report = await reminders.send_queued()
            await stopper
    finally:
        await bot.session.close()
    sent = [c for c in sb.sent(method="sendMessage") if c.ok]
    assert report.sent == len(sent) and report.deferred == 45 - len(sent) > 0
    async with db.session_maker() as s:
        statuses = [r.status for r in (await s.execute(select(ReminderLog))).scalars()]
    assert statuses.count("queued") == report.deferred and "sending" not in statuses
