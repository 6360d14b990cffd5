"""Production behaviour of the real process (`python run_bot.py run`) against sandbox/ over
HTTP: a re-delivered update answered once, Telegram's 5xx and dropped connections survived,
SIGTERM finishing the updates in flight (503 meanwhile), kill -9 mid-conversation, mid
reminder batch and mid import losing and doubling nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select

import storage.migrate
from bot.cli_billing import PROGRESS_EVERY
from sandbox.testing import Sandbox
from storage.db import Database
from storage.models import Account, ReminderLog
from tests.e2e.conftest import ROOT, STAFF_GROUP_ID, BotProcess, World, bot_env, free_port
from tests.e2e.test_readings_e2e import READINGS, SEND, readings_of, seed
from tests.e2e.test_registration_e2e import register
from tests.support import billing_files as bf
from tests.support import factories as f

pytestmark = [pytest.mark.e2e]

GREETING = "Здравствуйте"
FAST_RETRIES = {"TELEGRAM_RETRY_MAX_WAIT": "0.2", "SHUTDOWN_GRACE_SECONDS": "15"}
REMINDERS_ANY_TIME = {
    "READING_REMINDER_CHECK_SECONDS": "1",
    "READING_REMINDER_FROM_HOUR": "0",
    "READING_REMINDER_TO_HOUR": "24",
}
NO_REMINDERS = {"READING_REMINDERS": "false"}
#: a process start takes 2 s on an idle machine, close to a minute on a loaded shared one
START_TIMEOUT = 120.0


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sb:
        staff = sb.supergroup("Операторы", is_forum=True, id=STAFF_GROUP_ID)
        staff.add_member(bot=True, status="administrator")
        yield sb


@pytest_asyncio.fixture
async def start_bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start the real bot (mode, extra env) over one database file; stopped at the end."""
    started: list[BotProcess] = []

    async def start(mode: str = "webhook", **extra: str) -> World:
        port = free_port()
        env = bot_env(sandbox, tmp_path, mode, port, **{**FAST_RETRIES, **extra})
        process = BotProcess(env=env, log_path=tmp_path / "bot.log", web_port=port)
        await process.start(timeout=START_TIMEOUT)
        await sandbox.wait_until_receiving()
        started.append(process)
        staff = sandbox.supergroup(id=STAFF_GROUP_ID)
        operator = sandbox.user("Ольга")
        return World(sandbox, process, mode, env["DATABASE_URL"], staff, operator)

    yield start
    for process in started:
        if process.proc is not None and process.proc.returncode is None:
            process.proc.kill()
            await process.proc.wait()


async def restart(world: World) -> None:
    """The same process again after a crash (its webhook URL and port unchanged)."""
    await world.bot.start(timeout=START_TIMEOUT)
    await world.sb.wait_until_receiving()


def kill_9(world: World) -> None:
    assert world.bot.proc is not None
    world.bot.proc.send_signal(signal.SIGKILL)


async def health(world: World) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{world.bot.web_port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.json()


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def messages_to(sb: Sandbox, chat_id: int, starting: str) -> list[str]:
    texts = [str(c.params.get("text", "")) for c in sb.sent(chat_id, "sendMessage", ok=True)]
    return [t for t in texts if t.startswith(starting)]


# --------------------------------------------------------------------------- once


async def test_a_redelivered_update_is_answered_once(start_bot: Callable[..., Any]) -> None:
    """Webhook: Telegram re-sends an update it thinks failed. (Long polling re-reads only the
    batch a process did not confirm before it died: tests/handlers/test_once.py restarts.)"""
    mode = "webhook"
    world: World = await start_bot(mode, **NO_REMINDERS)
    anna = world.resident("Анна")
    await anna.send("/start")
    await anna.next_message()
    await anna.next_message()
    await world.sb.wait_delivered()
    [start] = [u for u in world.sb.state.history.values() if "message" in u]
    world.sb.redeliver(start["update_id"])  # Telegram thinks the delivery failed: again
    if mode == "webhook":
        await world.sb.wait_delivered()
    world.sb.redeliver(start["update_id"])
    if mode == "webhook":
        await world.sb.wait_delivered()
    await anna.expect_no_message(within=1.0)
    assert len(messages_to(world.sb, anna.id, GREETING)) == 1
    if mode == "webhook":
        assert "skipped: already handled" in world.bot.log()


async def test_telegram_errors_during_a_conversation_are_survived(
    start_bot: Callable[..., Any],
) -> None:
    world: World = await start_bot("webhook", TELEGRAM_TIMEOUT_SECONDS="2", **NO_REMINDERS)
    anna = world.resident("Анна")
    sb = world.sb
    sb.inject_fault("sendMessage", kind="error", status=502, chat_id=anna.id)
    sb.inject_fault("editMessageText", kind="drop", times=2, chat_id=anna.id)
    sb.inject_fault("answerCallbackQuery", kind="timeout", delay=4)
    await register(anna)  # every step answered despite a 502, two resets and a timeout
    assert len(messages_to(sb, anna.id, GREETING)) == 1
    failed = [(c.method, c.error) for c in sb.sent(ok=False) if str(c.error).startswith("inj")]
    assert failed == [
        ("sendMessage", "injected error"),
        ("answerCallbackQuery", "injected timeout"),
        ("editMessageText", "injected drop"),
        ("editMessageText", "injected drop"),
    ]
    assert len(sb.sent(anna.id, "editMessageText", ok=True)) == 1


# --------------------------------------------------------------------------- SIGTERM


@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_sigterm_finishes_the_update_in_flight_and_refuses_new_ones(
    start_bot: Callable[..., Any], mode: str
) -> None:
    world: World = await start_bot(mode, **NO_REMINDERS)
    anna = world.resident("Анна")
    slow = world.sb.inject_fault("sendMessage", kind="delay", delay=3.0, chat_id=anna.id)
    await anna.send("/start")

    async def in_flight() -> bool:  # the greeting is on its way to a slow Telegram
        return slow.times == 0 and (await health(world))[1].get("in_flight", 0) >= 1

    await wait_for(in_flight)
    assert world.bot.proc is not None
    world.bot.proc.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.2)
    if mode == "webhook":
        status, body = await health(world)
        assert (status, body["status"]) == (503, "stopping")
        url = world.bot.env["WEBHOOK_URL"]
        async with aiohttp.ClientSession() as http:
            headers = {"X-Telegram-Bot-Api-Secret-Token": world.bot.env["WEBHOOK_SECRET"]}
            async with http.post(url, json={"update_id": 1}, headers=headers) as r:
                assert r.status == 503  # the proxy / Telegram tries again elsewhere or later
    assert await asyncio.wait_for(world.bot.proc.wait(), 15) == 0
    assert len(messages_to(world.sb, anna.id, GREETING)) == 1  # finished, not cut off
    log = world.bot.log()
    assert "every update in flight finished" in log
    assert log.index("every update in flight finished") < log.index("stopped: database closed")


# --------------------------------------------------------------------------- kill -9


async def test_kill_9_mid_conversation_loses_no_accepted_reading(
    start_bot: Callable[..., Any],
) -> None:
    world: World = await start_bot("webhook", **NO_REMINDERS)
    anna = world.resident("Анна")
    await register(anna)
    ids = await seed(world, anna, reminders=False)
    await anna.send(READINGS)
    await anna.next_message()
    await anna.send("131,5")
    summary = await anna.next_message()
    # the bot stores the reading, then says so in a new message: Telegram is slow to answer
    # it, so the kill lands while the update is being handled (the summary's buttons go with
    # editMessageReplyMarkup before the store; the answer after it is a sendMessage — delaying
    # an edit left only the few milliseconds between the commit and the webhook's answer)
    world.sb.inject_fault("sendMessage", kind="delay", delay=5.0, chat_id=anna.id)
    press = asyncio.create_task(anna.press(SEND, message=summary))

    async def stored() -> bool:
        return bool(await readings_of(world, ids["meter"]))

    await wait_for(stored)
    kill_9(world)  # mid-update: the webhook got no answer, Telegram will send it again
    await world.bot.proc.wait()  # type: ignore[union-attr]
    press.cancel()
    await restart(world)
    await world.sb.wait_delivered(timeout=15)

    async def skipped() -> bool:  # handed over is not yet handled on a loaded machine
        return "skipped: already handled" in world.bot.log()

    await wait_for(skipped, timeout=30)
    assert await readings_of(world, ids["meter"]) == [(Decimal("131.5"), "accepted")]
    await anna.send(READINGS)  # the conversation goes on in the restarted process
    again = await anna.next_message()
    assert again.text


async def test_kill_9_mid_reminder_batch_sends_no_reminder_twice(
    start_bot: Callable[..., Any], sandbox: Sandbox, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'kabinet.db'}"
    await asyncio.to_thread(storage.migrate.upgrade, database_url)
    residents = [sandbox.user(f"Житель {n}") for n in range(40)]
    db = Database(database_url)
    try:
        await f.add(db, *(f.resident(r.id, phone=f"+7916{n:07d}") for n, r in enumerate(residents)))
    finally:
        await db.dispose()
    for r in residents:
        sandbox.state.started.add(r.id)  # they have talked to the bot before
    world: World = await start_bot("webhook", BULK_MESSAGES_PER_SECOND="10", **REMINDERS_ANY_TIME)
    for r in residents:
        await seed(world, r, reminders=True)

    def reminders() -> Counter[int]:
        sent = world.sb.sent(method="sendMessage", ok=True)
        return Counter(int(c.params["chat_id"]) for c in sent if "Передать" in str(c.params))

    async def some_sent() -> bool:
        return sum(reminders().values()) >= 5

    await wait_for(some_sent, timeout=30)
    kill_9(world)
    await world.bot.proc.wait()  # type: ignore[union-attr]
    before = sum(reminders().values())
    assert before < len(residents), "killed mid-batch"
    await restart(world)

    async def settled() -> bool:
        return sum(reminders().values()) >= len(residents) - 25  # one chunk may stay unsent

    await wait_for(settled, timeout=120)  # the dead holder's lease (60 s) runs out first
    await asyncio.sleep(3)  # more rounds of the scheduler
    db = Database(world.database_url)
    try:
        async with db.session_maker() as s:
            logged = (await s.execute(select(ReminderLog.user_id, ReminderLog.status))).all()
    finally:
        await db.dispose()
    counts = reminders()  # after the log: a reminder is "sending" before Telegram has it
    assert max(counts.values()) == 1, counts
    by_status: dict[str, set[int]] = {}
    for user_id, status in logged:
        by_status.setdefault(status, set()).add(user_id)
    delivered = set(counts)
    sent, sending = by_status.get("sent", set()), by_status.get("sending", set())
    assert sent <= delivered, "recorded as sent, never delivered"
    # the kill can land between Telegram's "ok" and the commit of "sent": such a reminder
    # stays "sending" (delivered, not sent again) — never "queued" or lost from the log
    assert delivered <= sent | sending, sorted(delivered - sent - sending)


async def test_kill_9_mid_import_leaves_nothing_half_applied(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'kabinet.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    env.update(DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    run = [sys.executable, str(ROOT / "run_bot.py"), "import"]
    suppliers = bf.write_csv(tmp_path / "suppliers.csv", "suppliers", [bf.supplier()])
    # two progress lines' worth (bot/cli_billing.py prints one every 100,000 rows read)
    rows = [bf.account(f"{10_000_000 + n}") for n in range(2 * PROGRESS_EVERY)]
    accounts = bf.write_csv(tmp_path / "accounts.csv", "accounts", rows)
    proc = await asyncio.create_subprocess_exec(*run, "suppliers", str(suppliers), env=env)
    assert await proc.wait() == 0

    async def count() -> int:
        db = Database(database_url)
        try:
            async with db.session_maker() as s:
                return int((await s.execute(select(func.count()).select_from(Account))).scalar())
        finally:
            await db.dispose()

    proc = await asyncio.create_subprocess_exec(
        *run,
        "accounts",
        str(accounts),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    # killed when half the file is read, however fast the machine: a fixed sleep let a fast
    # one finish first; all-or-nothing means nothing can be committed before the last row
    said: list[bytes] = []
    while not said or b"rows read" not in said[-1]:
        said.append(await asyncio.wait_for(proc.stderr.readline(), timeout=120))
        assert said[-1], f"the import ended before its first progress line: {said}"
    assert b"100,000 rows read" in said[-1], said
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert await count() == 0  # nothing of the half read
    proc = await asyncio.create_subprocess_exec(
        *run, "accounts", str(accounts), env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await proc.wait() == 0
    assert await count() == len(rows)
