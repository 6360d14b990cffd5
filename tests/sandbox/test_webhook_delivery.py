"""Webhook delivery as Telegram does it: up to max_connections requests in flight, the updates of
one chat one after another (sandbox/delivery.py). The webhook is a real aiohttp server that
measures, on its side, how many requests are open at once."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import web

from sandbox import Sandbox, SandboxError, User
from sandbox.delivery import queue_key

from .conftest import make_bot


@dataclass
class Hook:
    """A webhook that records what it is sent and how many requests it holds open at once."""

    url: str = ""
    #: requests wait for this before answering (set: answer at once)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    #: seconds each request stays open after the gate (so that overlapping ones would show)
    hold: float = 0.0
    #: message text -> how many times to answer 500 before taking its update
    fail: dict[str, int] = field(default_factory=dict)
    #: the method call to answer an update with (aiogram's handle_in_background=False)
    reply: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    open_now: int = 0
    most_open: int = 0
    #: every request, in the order it arrived: (update_id, chat id)
    arrived: list[tuple[int, int]] = field(default_factory=list)
    #: update_ids answered 200, in the order they were answered
    taken: list[int] = field(default_factory=list)
    #: chats with a request open, and chats that ever had two open at once
    open_chats: list[int] = field(default_factory=list)
    overlapping_chats: set[int] = field(default_factory=set)
    #: set whenever a request arrives or ends
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        update_id, chat = update["update_id"], update["message"]["chat"]["id"]
        self.arrived.append((update_id, chat))
        if chat in self.open_chats:
            self.overlapping_chats.add(chat)
        self.open_chats.append(chat)
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        self.changed.set()
        try:
            await self.gate.wait()
            await asyncio.sleep(self.hold)
        finally:
            self.open_now -= 1
            self.open_chats.remove(chat)
            self.changed.set()
        text = update["message"]["text"]
        if self.fail.get(text, 0) > 0:
            self.fail[text] -= 1
            return web.json_response({}, status=500)
        self.taken.append(update_id)
        return web.json_response(self.reply(update) if self.reply else {})

    async def until(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                self.changed.clear()
                await self.changed.wait()

    async def wait_open(self, count: int) -> None:
        await self.until(lambda: self.open_now >= count)

    async def wait_taken(self, count: int) -> None:
        await self.until(lambda: len(self.taken) >= count)


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    webhook = Hook()
    app = web.Application()
    app.router.add_post("/hook", webhook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    webhook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield webhook
    webhook.gate.set()
    await runner.cleanup()


async def messages_from(sb: Sandbox, count: int) -> list[tuple[User, int]]:
    """``count`` residents, each sending one message: (resident, its update_id)."""
    sent = []
    for n in range(count):
        user = sb.user(first_name=f"User{n}")
        await user.send(f"hello {n}")
        sent.append((user, sb.state.pending[-1]["update_id"]))
    return sent


async def hooked(
    sb: Sandbox, bot: Bot, hook: Hook, residents: int, max_connections: int, *, opened: int = 0
) -> list[tuple[User, int]]:
    """``residents`` messages, then the webhook is set; waits until ``opened`` requests are open."""
    sent = await messages_from(sb, residents)
    assert await bot.set_webhook(hook.url, max_connections=max_connections)
    await hook.wait_open(opened)
    return sent


async def test_as_many_requests_in_flight_as_max_connections(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    sent = await hooked(sb, bot, hook, 7, 3, opened=3)
    await asyncio.sleep(0.3)  # time enough for a fourth to arrive, were it sent
    assert hook.open_now == 3
    assert [update_id for update_id, _ in hook.arrived] == [u for _, u in sent[:3]]
    assert (await bot.get_webhook_info()).pending_update_count == 7
    hook.gate.set()
    await sb.wait_delivered(timeout=5)
    assert hook.most_open == 3
    assert sorted(hook.taken) == [update_id for _, update_id in sent]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_one_connection_delivers_strictly_one_after_another(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    hook.gate.set()
    hook.hold = 0.05
    sent = await hooked(sb, bot, hook, 5, 1)
    await sb.wait_delivered(timeout=5)
    assert hook.most_open == 1
    assert hook.taken == [update_id for _, update_id in sent]


async def test_a_chats_updates_are_never_in_flight_together_and_arrive_in_order(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    anna, boris = sb.user(first_name="Anna"), sb.user(first_name="Boris")
    for n in range(3):
        await anna.send(f"anna {n}")
        await boris.send(f"boris {n}")
    others = await messages_from(sb, 3)
    assert await bot.set_webhook(hook.url)  # max_connections 40
    await hook.wait_open(5)  # one of Anna's, one of Boris's, one each of the others
    await asyncio.sleep(0.3)
    assert hook.open_now == 5
    hook.gate.set()
    await sb.wait_delivered(timeout=5)
    assert hook.overlapping_chats == set()
    for resident in (anna, boris):
        theirs = [update_id for update_id, chat in hook.arrived if chat == resident.id]
        assert len(theirs) == 3 and theirs == sorted(theirs)
    assert len(hook.taken) == 6 + len(others)


async def test_a_failed_update_is_retried_and_taken_once_while_others_go_on(hook: Hook) -> None:
    async with Sandbox(webhook_retry_delays=(0.3,)) as fast:
        bot = make_bot(fast)
        try:
            hook.fail["hello 1"] = 1
            hook.gate.set()
            sent = await hooked(fast, bot, hook, 4, 2)
            failing = sent[1][1]
            await hook.wait_taken(3)
            assert failing not in hook.taken  # the others did not wait for its retry
            info = await bot.get_webhook_info()
            assert info.pending_update_count == 1
            assert info.last_error_message == (
                "Wrong response from the webhook: 500 Internal Server Error"
            )
            with pytest.raises(SandboxError, match="1 update"):
                await fast.wait_delivered(timeout=0.05)  # its successors do not count it done
            await fast.wait_delivered(timeout=5)
            assert sorted(hook.taken) == [update_id for _, update_id in sent]
            assert [u for u, _ in hook.arrived].count(failing) == 2
            assert (await bot.get_webhook_info()).pending_update_count == 0
        finally:
            await bot.session.close()


async def test_an_update_the_webhook_never_took_is_still_owed_after_deletewebhook(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    hook.fail["hello 0"] = 1_000
    hook.gate.set()
    refused = (await hooked(sb, bot, hook, 3, 3))[0][1]
    await hook.wait_taken(2)
    assert await bot.delete_webhook()
    with pytest.raises(SandboxError, match="1 update"):
        await sb.wait_delivered(timeout=0.05)  # the later two taken do not make it delivered
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [refused]
    await sb.wait_delivered(timeout=1)


async def test_an_update_sent_again_counts_as_delivered_only_once_taken_again(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    hook.gate.set()
    [(_, update_id)] = await hooked(sb, bot, hook, 1, 40)
    await sb.wait_delivered(timeout=5)
    hook.gate.clear()
    sb.redeliver(update_id)
    await hook.wait_open(1)
    with pytest.raises(SandboxError, match="1 update"):
        await sb.wait_delivered(timeout=0.1)
    hook.gate.set()
    await sb.wait_delivered(timeout=5)
    assert hook.taken == [update_id, update_id]


async def test_a_method_in_the_webhook_reply_is_executed_for_each_update(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    hook.gate.set()
    hook.reply = lambda update: {
        "method": "sendMessage",
        "chat_id": update["message"]["chat"]["id"],
        "text": f"echo: {update['message']['text']}",
    }
    sent = await hooked(sb, bot, hook, 4, 4)
    for n, (user, _) in enumerate(sent):
        assert (await user.next_message()).text == f"echo: hello {n}"
    await sb.wait_delivered(timeout=5)


async def test_deleting_the_webhook_lets_requests_in_flight_finish_and_loses_nothing(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    sent = await hooked(sb, bot, hook, 5, 2, opened=2)
    assert await bot.delete_webhook()
    polled = asyncio.create_task(bot.get_updates(timeout=0))
    await asyncio.sleep(0.2)
    assert not polled.done()  # getUpdates waits for the two requests still open
    hook.gate.set()
    updates = await polled
    ids = [update_id for _, update_id in sent]
    assert hook.taken == ids[:2]
    assert [u.update_id for u in updates] == ids[2:]  # each update handed out once


async def test_a_new_webhook_does_not_post_again_what_the_old_one_is_posting(
    sb: Sandbox, bot: Bot, hook: Hook
) -> None:
    sent = await hooked(sb, bot, hook, 4, 2, opened=2)
    assert await bot.set_webhook(hook.url, max_connections=10)
    await hook.wait_open(4)  # the new webhook takes the other two
    await asyncio.sleep(0.2)
    assert hook.open_now == 4
    hook.gate.set()
    await sb.wait_delivered(timeout=5)
    assert sorted(u for u, _ in hook.arrived) == [update_id for _, update_id in sent]


async def test_stopping_the_sandbox_cancels_requests_in_flight(hook: Hook) -> None:
    sandbox = Sandbox()
    await sandbox.start()
    bot = make_bot(sandbox)
    try:
        await hooked(sandbox, bot, hook, 3, 3, opened=3)
        posts = list(sandbox.state.webhook_posts.values())
        assert len(posts) == 3
    finally:
        await bot.session.close()
        await sandbox.stop()
    assert all(post.done() for post in posts) and not sandbox.state.webhook_posts
    assert len(sandbox.state.pending) == 3  # not accepted: still Telegram's to deliver


@pytest.mark.parametrize(("asked", "kept"), [(None, 40), (1, 1), (0, 1), (1000, 100)])
async def test_max_connections_is_brought_into_1_to_100_like_telegram(
    bot: Bot, hook: Hook, asked: int | None, kept: int
) -> None:
    assert await bot.set_webhook(hook.url, max_connections=asked)
    assert (await bot.get_webhook_info()).max_connections == kept


def test_the_queues_are_telegrams() -> None:
    """Messages by chat; callback queries by the presser (a queue apart from the chat's)."""
    alice = {"id": 7, "is_bot": False, "first_name": "A"}
    group = {"id": -100, "type": "supergroup", "title": "G"}
    message = {"message_id": 1, "date": 0, "chat": group, "from": alice, "text": "x"}
    assert queue_key({"update_id": 1, "message": message}) == ("chat", -100)
    assert queue_key({"update_id": 2, "edited_message": message}) == ("chat", -100)
    press = {"id": "q", "from": alice, "message": message, "chat_instance": "1", "data": "d"}
    assert queue_key({"update_id": 3, "callback_query": press}) == ("callback_query", 7)
    member = {"chat": group, "from": alice, "date": 0, "old_chat_member": {}}
    assert queue_key({"update_id": 4, "my_chat_member": member}) == ("my_chat_member", -100)
    assert queue_key({"update_id": 5}) is None
