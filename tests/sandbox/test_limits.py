"""sandbox/limits.py: Telegram's flood limits, answered with 429 when a test enables them."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from sandbox import Sandbox
from sandbox.core import ApiError
from sandbox.limits import RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_overall_per_chat_and_group_limits() -> None:
    clock = Clock()
    limits = RateLimits(per_second=30, clock=clock)
    for chat in range(1, 31):
        limits.check("sendMessage", chat)
    with pytest.raises(ApiError) as refused:
        limits.check("sendMessage", 31)  # the 31st within one second
    assert refused.value.code == 429 and "retry after 1" in refused.value.description
    limits.check("editMessageText", 31)  # edits are not counted
    clock.now = 1.01
    for _ in range(3):
        limits.check("sendMessage", 99)  # a short burst to one chat
    with pytest.raises(ApiError):
        limits.check("sendMessage", 99)
    for i in range(20):
        clock.now = 2 + i
        limits.check("sendMessage", -100)
    with pytest.raises(ApiError) as group:
        limits.check("copyMessage", "-100")  # 20 a minute to one group
    assert group.value.code == 429
    clock.now = 62.5  # the first of the twenty is a minute old
    limits.check("sendMessage", -100)
    assert limits.refused == 3


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
