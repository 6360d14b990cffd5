"""Whether an answer may go as a webhook reply without risking Telegram's limits (one per
process).

A webhook reply (bot/web/webhook.py) cannot be retried: Telegram executes it after the
request and the bot never learns that it was refused with 429 ("Making requests when
getting updates", https://core.telegram.org/bots/api#making-requests-when-getting-updates).
So a handler's returned answer goes as the reply only when it stays well inside the limits
the Bot API FAQ names ("no more than one message per second" in a chat, "about 30 messages
per second" overall), judged by what this process itself sent; otherwise as a request of
its own, whose 429 is waited out:
- not while bulk messages go (a reminder or notice run keeps to ~30 a second) and for
  `AFTER_BULK` seconds after the last one;
- not for `retry_after` + `AFTER_FLOOD` seconds after any 429;
- not when `REPLIES_PER_SECOND` messages already went out in the last second;
- not when the chat got a message less than `PER_CHAT` seconds ago.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

#: seconds after the last bulk message during which no answer goes as a reply
AFTER_BULK = 2.0
#: seconds after a 429's `retry_after` ran out during which no answer goes as a reply
AFTER_FLOOD = 10.0
#: messages in the last second (requests and replies) from which answers go as requests:
#: Telegram's ~30 a second less 2 — a reply is counted here when it is decided and by
#: Telegram when it is executed, a few ms later; with no slack (30) one of 60 simultaneous
#: presses was refused in 1 run of 5 (tests/web/test_webhook_reply.py), with 2 in none of 16
REPLIES_PER_SECOND = 28
#: seconds since a chat's last message before its next answer may go as a reply
PER_CHAT = 1.0
#: chats remembered at most (a memory bound; only the last second matters)
CHATS_KEPT = 10_000

#: Bot API methods that send a message (counted against Telegram's limits)
_SENDS = ("send", "copy", "forward")


class SendingPressure:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._busy_until = -math.inf
        self._sent: deque[float] = deque()  # when each message of the last second went
        self._chats: dict[int | str, float] = {}  # chat → when its last message went

    def _busy_for(self, seconds: float) -> None:
        self._busy_until = max(self._busy_until, self._clock() + seconds)

    def bulk_sent(self) -> None:
        """A bulk message (reminder, notice) was answered by Telegram."""
        self._busy_for(AFTER_BULK)

    def flooded(self, retry_after: float) -> None:
        """Telegram answered 429 with `retry_after` seconds."""
        self._busy_for(retry_after + AFTER_FLOOD)

    def message_to(self, chat_id: int | str | None) -> None:
        """A message goes to this chat now (a request or a reply)."""
        now = self._clock()
        self._sent.append(now)
        self._forget_before(now - 1.0)
        if chat_id is not None:
            if len(self._chats) >= CHATS_KEPT:
                self._chats = {c: t for c, t in self._chats.items() if t > now - PER_CHAT}
            self._chats[chat_id] = now

    def _forget_before(self, moment: float) -> None:
        while self._sent and self._sent[0] <= moment:
            self._sent.popleft()

    def may_reply(self, chat_id: int | str | None) -> bool:
        """Whether an answer to this chat may go as a webhook reply now."""
        now = self._clock()
        if now < self._busy_until:
            return False
        self._forget_before(now - 1.0)
        if len(self._sent) >= REPLIES_PER_SECOND:
            return False
        last = self._chats.get(chat_id) if chat_id is not None else None
        return last is None or now - last >= PER_CHAT


PRESSURE = SendingPressure()


class CountMessages(BaseRequestMiddleware):
    """Tells `PRESSURE` of every message the bot sends by request (bot/app.py setup_bot)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__.startswith(_SENDS):
            PRESSURE.message_to(getattr(method, "chat_id", None))
        return await make_request(bot, method)
