"""Two real bot processes behind one webhook URL (a small round-robin proxy in front), on
PostgreSQL and Redis, against sandbox/: a conversation continues across them, the same update
given to both is answered once, two operators pressing at once on different instances make
one decision, and reminders go out once while both run their schedulers.

A resident's quick messages on both instances are handled in order, in one forum topic."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

import storage.migrate
from sandbox.testing import Sandbox
from sandbox.testing import User as SandboxUser
from storage.db import Database
from tests.e2e.conftest import STAFF_GROUP_ID, BotProcess, World, bot_env, free_port
from tests.e2e.test_readings_e2e import ACCEPT, READINGS, SEND, YES, readings_of, seed
from tests.e2e.test_registration_e2e import register
from tests.support import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

START_TIMEOUT = 120.0
_phones = itertools.count(1)


class Proxy:
    """What nginx does in front of the instances: each webhook POST to the next one
    (`alternate`), to both at once (`both`: a re-delivery racing the first delivery), or
    answered at once and forwarded in the background (`async`: updates handled
    concurrently, as Telegram does with up to 40 connections)."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.mode = "alternate"
        self.routed: Counter[str] = Counter()
        self._turn = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.port = free_port()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/tg/webhook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._http is not None:
            await self._http.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _post(self, target: str, body: bytes, headers: dict[str, str]) -> int:
        assert self._http is not None
        self.routed[target] += 1
        try:
            async with self._http.post(target, data=body, headers=headers) as r:
                await r.read()
                return r.status
        except aiohttp.ClientError:
            return 502

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: request.headers[k]
            for k in ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
            if k in request.headers
        }
        if self.mode == "both":
            statuses = await asyncio.gather(*(self._post(t, body, headers) for t in self.targets))
            return web.json_response({}, status=200 if 200 in statuses else statuses[0])
        target = self.targets[next(self._turn) % len(self.targets)]
        if self.mode == "async":
            task = asyncio.create_task(self._post(target, body, headers))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return web.json_response({})
        return web.json_response({}, status=await self._post(target, body, headers))


@dataclass
class Two:
    world: World
    proxy: Proxy
    processes: list[BotProcess]
    operators: list[SandboxUser]


@pytest_asyncio.fixture
async def two(tmp_path: Path, pg_database_url: str, redis_url: str) -> AsyncIterator[Two]:
    await asyncio.to_thread(storage.migrate.upgrade, pg_database_url)
    proxy = Proxy()
    await proxy.start()
    async with Sandbox() as sb:
        staff = sb.supergroup("Операторы", is_forum=True, id=STAFF_GROUP_ID)
        staff.add_member(bot=True, status="administrator")
        operators = [sb.user("Ольга"), sb.user("Пётр")]
        for operator in operators:
            staff.add_member(operator, status="administrator")
        secret = secrets.token_urlsafe(16)
        processes = []
        for name in ("a", "b"):
            port = free_port()
            env = bot_env(
                sb,
                tmp_path,
                "webhook",
                port,
                DATABASE_URL=pg_database_url,
                REDIS_URL=redis_url,
                WEBHOOK_URL=f"http://127.0.0.1:{proxy.port}/tg/webhook",
                WEBHOOK_SECRET=secret,
                READING_REMINDER_CHECK_SECONDS="1",
                READING_REMINDER_FROM_HOUR="0",
                READING_REMINDER_TO_HOUR="24",
            )
            process = BotProcess(env=env, log_path=tmp_path / f"bot-{name}.log", web_port=port)
            processes.append(process)
            proxy.targets.append(f"http://127.0.0.1:{port}/tg/webhook")
        await asyncio.gather(*(p.start(timeout=START_TIMEOUT) for p in processes))
        await sb.wait_until_receiving()
        world = World(sb, processes[0], "webhook", pg_database_url, staff, operators[0])
        try:
            yield Two(world, proxy, processes, operators)
        finally:
            for p in processes:
                await p.stop()
            await proxy.stop()


def bot_messages(sb: Sandbox, chat_id: int) -> list[str]:
    return [str(c.params.get("text", "")) for c in sb.sent(chat_id, "sendMessage", ok=True)]


async def test_two_instances_behave_as_one(two: Two) -> None:
    world, proxy, processes = two.world, two.proxy, two.processes
    sb = world.sb

    # a conversation alternating between the instances: the state is in Redis
    anna = world.resident("Анна", phone=f"+7916{next(_phones):07d}")
    await register(anna)
    assert len(proxy.routed) == 2 and min(proxy.routed.values()) >= 2, proxy.routed

    # the same update to both instances at once: answered once
    proxy.mode = "both"
    before = len(bot_messages(sb, anna.id))
    await anna.send("/help")
    await anna.next_message()
    await anna.expect_no_message(within=1.5)
    assert len(bot_messages(sb, anna.id)) == before + 1
    logs = processes[0].log() + processes[1].log()
    assert "skipped: already handled" in logs

    # two operators press «Принять» at the same moment, each on another instance
    proxy.mode = "alternate"
    ids = await seed(world, anna, reminders=False)
    await anna.send(READINGS)
    await anna.next_message()
    await anna.send("200")
    await anna.press(YES, message=await anna.next_message())
    summary = await anna.next_message()
    await anna.press(SEND, message=summary)
    await anna.next_message()
    card = await world.staff.next_message()
    olga, petr = two.operators
    proxy.mode = "async"
    answers = await asyncio.gather(
        olga.press(ACCEPT, message=card), petr.press(ACCEPT, message=card)
    )
    told = await anna.next_message()
    assert told.text.startswith("✅ Оператор принял ваше показание 200,000 м³")
    await anna.expect_no_message(within=1.5)
    assert await readings_of(world, ids["meter"]) == [(Decimal("200"), "accepted")]
    assert sorted(a.text or "" for a in answers)[0] != sorted(a.text or "" for a in answers)[1]


async def test_reminders_go_out_once_while_both_instances_schedule(two: Two) -> None:
    world = two.world
    sb = world.sb
    people = [sb.user(f"Житель {n}") for n in range(6)]
    db = Database(world.database_url)
    try:
        await f.add(db, *(f.resident(p.id, phone=f"+7926{next(_phones):07d}") for p in people))
    finally:
        await db.dispose()
    for p in people:
        sb.state.started.add(p.id)
        await seed(world, p, reminders=True)
    for p in people:
        reminder = await p.next_message(timeout=30)
        assert "Передать показания" in str(reminder.buttons)
    await asyncio.sleep(3)  # more rounds of both schedulers
    for p in people:
        await p.expect_no_message(within=0.2)
        assert len(bot_messages(sb, p.id)) == 1


async def test_a_residents_quick_messages_on_two_instances(two: Two) -> None:
    """Two messages sent in quick succession reach different instances at once: they are
    handled one after the other (aiogram's event isolation, in Redis), the first makes the
    resident's one topic, and the operators read them in the order they were written."""
    world, proxy = two.world, two.proxy
    gleb = world.resident("Глеб", phone=f"+7916{next(_phones):07d}")
    await register(gleb)
    await gleb.send("💬 Написать в поддержку")
    await gleb.next_message()
    proxy.mode = "async"  # each POST answered at once, handled concurrently
    before = Counter(proxy.routed)
    await gleb.send("первое")
    await asyncio.sleep(0.05)
    await gleb.send("второе")
    passed = [await gleb.next_message(timeout=30), await gleb.next_message(timeout=30)]
    assert all(m.text.startswith("✅ Передано операторам") for m in passed), passed
    routed = Counter(proxy.routed)
    routed.subtract(before)
    assert sorted(routed.values()) == [1, 1]  # one message to each instance
    topics = [thread for thread, title in world.staff.topics.items() if "Глеб" in title]
    assert len(topics) == 1, world.staff.topics
    card = await world.staff.next_message(thread_id=topics[0], timeout=30)
    assert "Глеб" in card.text
    copies = [(await world.staff.next_message(thread_id=topics[0], timeout=30)).text
              for _ in range(2)]  # fmt: skip
    assert copies == ["первое", "второе"]
