"""Telegram's flood limit for a bot's messages, as a rate (not a scripted 429):

- at most ``per_second`` messages in any window of one second, all chats together;
- at most one message a ``per_chat`` seconds in one chat.

A message over either limit is refused with 429 and ``retry_after`` (whole seconds, at
least 1, as Telegram sends it) and is not counted. Turned on per bot by
``Sandbox.limit_flood()`` (tests, bench/broadcast.py); off by default, so nothing else
changes. Counted on arrival, where Telegram counts.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

#: the methods that send a message to a chat (what Telegram's limits are about)
MESSAGE_METHODS = frozenset(
    m.lower()
    for m in (
        "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendVoice",
        "sendAnimation", "sendSticker", "sendLocation", "sendContact", "sendPoll",
        "sendMediaGroup", "sendInvoice", "copyMessage", "forwardMessage",
    )
)  # fmt: skip


class FloodLimit:
    def __init__(
        self,
        per_second: int = 30,
        per_chat: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.per_chat = per_chat
        self._clock = clock
        self._recent: deque[float] = deque()  # arrival times of the accepted, last second
        self._chats: dict[object, float] = {}  # chat → arrival of its last accepted message
        self.accepted = 0
        self.refused = 0
        self.first: float | None = None  # arrival of the first accepted message
        self.last: float | None = None

    def check(self, method: str, chat_id: object) -> int | None:
        """None: accepted (and counted); otherwise the retry_after to answer with."""
        if method.lower() not in MESSAGE_METHODS:
            return None
        now = self._clock()
        recent = self._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        wait = 0.0
        if len(recent) >= self.per_second:
            wait = recent[0] + 1.0 - now
        last = self._chats.get(chat_id)
        if last is not None and now - last < self.per_chat:
            wait = max(wait, last + self.per_chat - now)
        if wait > 0:
            self.refused += 1
            return max(1, math.ceil(wait))
        recent.append(now)
        self._chats[chat_id] = now
        self.accepted += 1
        self.first = now if self.first is None else self.first
        self.last = now
        return None
