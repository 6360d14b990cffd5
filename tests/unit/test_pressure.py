"""When the bot counts as sending near Telegram's limits (bot.telegram.pressure): then a
handler's returned answer is not risked as a webhook reply, which cannot be retried."""

from __future__ import annotations

import pytest

from bot.services.ports import Delivery
from bot.telegram import pressure
from bot.telegram.sender import BulkSender, Outgoing
from sandbox import Sandbox
from tests.sandbox.conftest import make_bot


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_busy_after_bulk_messages_and_after_a_429() -> None:
    clock = Clock()
    watch = pressure.SendingPressure(clock)
    assert watch.may_reply(None)
    watch.bulk_sent()
    clock.now += pressure.AFTER_BULK - 0.1
    assert not watch.may_reply(None)
    clock.now += 0.2
    assert watch.may_reply(None)
    watch.flooded(5)
    clock.now += 5 + pressure.AFTER_FLOOD - 0.1
    assert not watch.may_reply(None)
    clock.now += 0.2
    assert watch.may_reply(None)


def test_no_reply_past_20_messages_a_second_or_a_second_message_to_a_chat() -> None:
    """Telegram's limits (Bot API FAQ): about 30 messages a second, one a second in a chat;
    a reply refused by them would be lost, so the process keeps well inside them."""
    clock = Clock()
    watch = pressure.SendingPressure(clock)
    assert watch.may_reply(1)
    watch.message_to(1)
    assert not watch.may_reply(1) and watch.may_reply(2)
    clock.now += pressure.PER_CHAT
    assert watch.may_reply(1)
    for chat in range(100, 100 + pressure.REPLIES_PER_SECOND - 1):
        watch.message_to(chat)
    assert watch.may_reply(3)  # 19 in the last second
    watch.message_to(4)
    assert not watch.may_reply(3)  # 20
    clock.now += 1.0
    assert watch.may_reply(3)  # a second later the window is empty again


async def test_the_bulk_sender_marks_the_bot_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    watch = pressure.SendingPressure()
    monkeypatch.setattr("bot.telegram.sender.PRESSURE", watch)
    async with Sandbox() as sb:
        user = sb.user("Анна")
        await user.send("/start")
        bot = make_bot(sb)
        try:
            sender = BulkSender(bot, rate=30)
            assert watch.may_reply(None)
            assert await sender.send(Outgoing(user.id, "Отключение воды 2 декабря")) is (
                Delivery.SENT
            )
            assert not watch.may_reply(None)
        finally:
            await bot.session.close()
