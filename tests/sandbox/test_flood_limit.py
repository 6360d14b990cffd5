"""sandbox/'s flood limit as a rate, and the bulk sender at the full rate under it."""

from __future__ import annotations

import itertools

from aiogram.exceptions import TelegramRetryAfter

from bot.services.ports import Delivery
from bot.telegram.sender import BulkSender, Outgoing
from sandbox import Sandbox
from sandbox.flood import FloodLimit
from tests.sandbox.conftest import make_bot


def test_the_limit_counts_a_second_overall_and_a_chat_on_its_own() -> None:
    now = [100.0]
    limit = FloodLimit(3, 1.0, clock=lambda: now[0])
    assert [limit.check("sendMessage", chat) for chat in (1, 2, 3)] == [None, None, None]
    assert limit.check("sendMessage", 4) == 1  # a fourth in the same second
    assert limit.check("getMe", 4) is None  # not a message: not counted
    now[0] += 0.5
    assert limit.check("sendMessage", 4) == 1  # the first three are still in the window
    now[0] += 0.6
    assert limit.check("sendMessage", 4) is None
    assert limit.check("sendMessage", 4) == 1  # one a second in a chat
    assert (limit.accepted, limit.refused) == (4, 3)


async def test_the_sandbox_answers_429_over_the_limit() -> None:
    async with Sandbox() as sb:
        user = sb.user("Ann")
        await user.send("/start")
        sb.limit_flood(30, 1.0)
        bot = make_bot(sb)
        try:
            await bot.send_message(user.id, "one")
            try:
                await bot.send_message(user.id, "two")
            except TelegramRetryAfter as exc:
                assert exc.retry_after == 1
            else:
                raise AssertionError("a second message in the same second went through")
        finally:
            await bot.session.close()


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
