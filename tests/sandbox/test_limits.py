"""sandbox/limits.py: Telegram's flood limits (one limiter, off by default), every rule on an
injected clock; then over HTTP: both ways to turn it on (`enforce_limits`: Telegram's limits,
`limit_flood`: a strict rate for the benchmark), the control endpoint, and the bulk sender at
the full rate under it."""

from __future__ import annotations

import itertools

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.services.ports import Delivery
from bot.telegram.sender import BulkSender, Outgoing
from sandbox import Sandbox
from sandbox.limits import RateLimits, Window
from tests.sandbox.conftest import make_bot


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def telegram(per_second: float = 30) -> tuple[Clock, RateLimits]:
    """The limiter as `enforce_limits` builds it, on a clock the test moves."""
    clock = Clock()
    return clock, RateLimits(per_second, clock=clock)


def strict(per_second: float = 30, per_chat: float = 1.0) -> tuple[Clock, RateLimits]:
    """The limiter as `limit_flood` builds it."""
    clock = Clock(100.0)
    return clock, RateLimits.one_per_chat(per_second, per_chat, clock=clock)


# --------------------------------------------------------------------------- overall


def test_overall_per_second_in_any_window_of_one_second() -> None:
    clock, limits = strict(per_second=3)
    clock.now = 100.5
    assert [limits.check("sendMessage", chat) for chat in (1, 2, 3)] == [None, None, None]
    assert limits.check("sendMessage", 4) == 1  # a fourth in the same second
    clock.now += 0.5
    assert limits.check("sendMessage", 4) == 1  # the first three are still in the window
    clock.now += 0.6
    assert limits.check("sendMessage", 4) is None  # a sliding window, not a calendar second
    assert (limits.accepted, limits.refused) == (4, 2)


def test_the_31st_message_within_a_second_gets_retry_after_1() -> None:
    clock, limits = telegram(per_second=30)
    for chat in range(1, 31):
        assert limits.check("sendMessage", chat) is None
    assert limits.check("sendMessage", 31) == 1
    clock.now = 1.0  # the first thirty are exactly a second old: out of the window
    assert limits.check("sendMessage", 31) is None


def test_only_the_methods_that_send_a_message_count() -> None:
    _, limits = telegram(per_second=1)
    assert limits.check("sendPoll", 1) is None  # both lists had to agree: sendPoll counts
    for method in ("editMessageText", "getMe", "answerCallbackQuery", "deleteMessage"):
        assert limits.check(method, 2) is None  # not a new message: neither refused nor counted
    for method in ("sendMessage", "SENDPHOTO", "copyMessage", "forwardMessage", "sendMediaGroup"):
        assert limits.check(method, 3) == 1  # over the one a second (names in any case)
    assert (limits.accepted, limits.refused) == (1, 5)


# --------------------------------------------------------------------------- per chat


def test_a_private_chat_gets_a_burst_of_three_within_a_second() -> None:
    clock, limits = telegram()
    assert [limits.check("sendMessage", 99) for _ in range(3)] == [None, None, None]
    assert limits.check("sendMessage", 99) == 1
    assert limits.check("sendMessage", "99") == 1  # the same chat when the id is a string
    assert limits.check("sendMessage", 98) is None  # another chat is not held up
    clock.now = 1.0
    assert limits.check("sendMessage", 99) is None


def test_strict_one_message_every_per_chat_seconds_in_any_chat() -> None:
    clock, limits = strict(per_chat=1.0)
    assert limits.check("sendMessage", 4) is None
    assert limits.check("sendMessage", 4) == 1
    clock.now = 100.99
    assert limits.check("sendMessage", 4) == 1  # 0.01 s to wait: still a whole second
    clock.now = 101.0
    assert limits.check("sendMessage", 4) is None
    _, slow = strict(per_chat=2.5)
    assert slow.check("sendMessage", 5) is None
    assert slow.check("sendMessage", 5) == 3  # 2.5 s rounded up
    assert slow.check("sendMessage", -100) is None
    assert slow.check("sendMessage", -100) == 3  # groups too: one a per_chat seconds


def test_a_group_gets_20_a_minute() -> None:
    clock, limits = telegram()
    for i in range(20):
        clock.now = 2 + i
        assert limits.check("sendMessage", -100) is None
    assert limits.check("copyMessage", "-100") == 41  # until the first of the twenty is 60 s old
    clock.now = 61.9
    assert limits.check("sendMessage", -100) == 1
    clock.now = 62.0  # the first of the twenty is a minute old
    assert limits.check("sendMessage", -100) is None
    assert limits.check("sendMessage", -200) is None  # another group has its own minute


def test_a_group_has_no_burst_limit_and_an_at_username_is_a_group() -> None:
    _, limits = telegram()
    assert [limits.check("sendMessage", -100) for _ in range(5)] == [None] * 5
    assert [limits.check("sendMessage", "@news") for _ in range(20)] == [None] * 20
    assert limits.check("sendMessage", "@news") == 60


def test_windows_can_be_changed_or_switched_off() -> None:
    limits = RateLimits(30, private=Window(1, 2.0), group=None, clock=Clock())
    assert limits.check("sendMessage", 7) is None and limits.check("sendMessage", 7) == 2
    assert all(limits.check("sendMessage", -1) is None for _ in range(29))  # no group limit
    assert limits.check("sendMessage", -2) == 1  # the 31st: the overall limit still holds
    with pytest.raises(ValueError):
        Window(0, 1.0)


# --------------------------------------------------------------------------- 429 and counters


def test_retry_after_is_whole_seconds_until_every_broken_limit_has_room() -> None:
    clock, limits = telegram(per_second=3)
    for _ in range(3):
        assert limits.check("sendMessage", 9) is None  # the overall and the chat's burst full
    clock.now = 0.2
    assert limits.check("sendMessage", 9) == 1  # 0.8 s for both
    clock.now = 0.0
    limits = RateLimits(2, private=Window(1, 3.0), clock=clock)
    assert limits.check("sendMessage", 1) is None
    assert limits.check("sendMessage", 2) is None
    clock.now = 0.5
    assert limits.check("sendMessage", 1) == 3  # overall: 0.5 s; the chat: 2.5 s → 3


def test_refused_messages_are_not_counted_and_the_counters_give_the_rate() -> None:
    clock, limits = strict(per_second=2)
    assert (limits.accepted, limits.refused, limits.first, limits.last) == (0, 0, None, None)
    for step in range(6):  # two a second are accepted, the third each second is refused
        clock.now = 100.0 + step // 3 + (step % 3) * 0.1
        limits.check("sendMessage", step)
    assert (limits.accepted, limits.refused) == (4, 2)
    assert (limits.first, limits.last) == (100.0, pytest.approx(101.1))
    clock.now = 102.05  # 101.0 has left the window; the refused 101.2 never took a place in it
    assert limits.check("sendMessage", 50) is None
    assert limits.to_api() == {
        "per_second": 2,
        "private": {"count": 1, "seconds": 1.0},
        "group": {"count": 1, "seconds": 1.0},
        "accepted": 5,
        "refused": 2,
    }


# --------------------------------------------------------------------------- over HTTP


async def test_off_by_default_and_429_when_enforced(sb: Sandbox, bot: Bot) -> None:
    users = [sb.user(f"U{i}") for i in range(35)]
    for user in users:
        sb.bot_state().started.add(user.id)
    for user in users:  # no limits unless a test asks
        await bot.send_message(user.id, "hi")
    limits = sb.enforce_limits(per_second=30)
    for user in users[:30]:
        await bot.send_message(user.id, "again")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[30].id, "one too many")
    assert limits.refused == 1


async def test_limit_flood_answers_429_to_a_second_message_in_a_second() -> None:
    async with Sandbox() as sb:
        user = sb.user("Ann")
        await user.send("/start")
        sb.limit_flood(30, 1.0)
        bot = make_bot(sb)
        try:
            await bot.send_message(user.id, "one")
            with pytest.raises(TelegramRetryAfter) as refused:
                await bot.send_message(user.id, "two")
        finally:
            await bot.session.close()
        assert refused.value.retry_after == 1
        assert [c.error for c in sb.sent(user.id, "sendMessage")] == [
            None,
            "Too Many Requests: retry after 1",
        ]


async def test_the_control_endpoint_turns_the_limits_on_and_off(sb: Sandbox, bot: Bot) -> None:
    user = sb.user("Ann")
    sb.bot_state().started.add(user.id)
    async with aiohttp.ClientSession(base_url=sb.url) as http:
        async with http.get("/_control/limits") as r:
            assert await r.json() is None  # off by default
        body = {"per_second": 30, "private": {"count": 1, "seconds": 5}, "group": None}
        async with http.post("/_control/limits", json=body) as r:
            assert (await r.json())["private"] == {"count": 1, "seconds": 5}
        await bot.send_message(user.id, "one")
        with pytest.raises(TelegramRetryAfter) as refused:
            await bot.send_message(user.id, "two")
        assert refused.value.retry_after == 5
        async with http.get("/_control/limits") as r:
            seen = await r.json()
        assert (seen["accepted"], seen["refused"], seen["group"]) == (1, 1, None)
        async with http.post("/_control/limits", json={}) as r:  # Telegram's, as enforce_limits
            assert (await r.json())["group"] == {"count": 20, "seconds": 60}
        async with http.post("/_control/limits", json={"private": {"count": 0}}) as r:
            assert r.status == 400
        async with http.post("/_control/limits", json={"per_second": 0}) as r:
            assert r.status == 400
        async with http.delete("/_control/limits") as r:
            assert r.status == 200
        for _ in range(5):
            await bot.send_message(user.id, "no limits")
        async with http.get("/_control/limits") as r:
            assert await r.json() is None


async def test_the_bulk_sender_at_the_full_rate_gets_no_429() -> None:
    """30 a second against a limit of 30: paced by the answers, not by the starts, so
    however the requests travel none arrives over the limit (three to some chats too)."""
    async with Sandbox() as sb:
        users = [sb.user(f"R{i}", id=810_000_000 + i) for i in range(45)]
        for user in users:
            await user.send("/start")
        limit = sb.limit_flood(30, 1.0)
        chats = [u.id for u in users] + [users[0].id, users[0].id, users[1].id]
        bot = make_bot(sb)
        try:
            sender = BulkSender(bot, rate=30)
            results = [d async for _, d in sender.send_all(chats, lambda c: Outgoing(c, f"to {c}"))]
        finally:
            await bot.session.close()
        assert results == [Delivery.SENT] * len(chats)
        assert (limit.accepted, limit.refused) == (len(chats), 0)
        times = sorted(c.time for c in sb.sent(method="sendMessage") if c.ok)
        assert max(sum(1 for t in times if s <= t < s + 1) for s in times) <= 30
        first = [c.time for c in sb.sent(users[0].id, "sendMessage") if c.ok]
        assert len(first) == 3 and all(b - a >= 1 for a, b in itertools.pairwise(first))
