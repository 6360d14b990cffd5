"""Telegram's flood limits, enforced when a test asks for them (off by default).

Telegram answers 429 `Too Many Requests: retry after N` when a bot sends more than about
30 messages a second overall, more than about one a second to one chat (short bursts are
tolerated) or more than 20 a minute to one group. With `Sandbox.enforce_limits()` (or the
control endpoint `POST /sandbox/limits`) the sandbox does the same for the methods that
send a message, so a test can show that the bot keeps under them.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.core import ApiError

#: the methods that put a new message into a chat
SENDING = frozenset(
    name.lower()
    for name in (
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendContact",
        "sendMediaGroup",
        "sendInvoice",
        "copyMessage",
        "forwardMessage",
    )
)


@dataclass
class RateLimits:
    per_second: float = 30.0  # overall
    per_chat_burst: int = 3  # messages to one private chat within one second
    per_group_minute: int = 20  # messages to one group within a minute
    clock: Callable[[], float] = time.monotonic
    _all: deque[float] = field(default_factory=deque)
    _chats: dict[int, deque[float]] = field(default_factory=dict)
    refused: int = 0  # how many 429s were answered

    def check(self, method: str, chat_id: object) -> None:
        """Raise a 429 when this message would break a limit; else count it."""
        if method.lower() not in SENDING:
            return
        now = self.clock()
        _trim(self._all, now - 1.0)
        if len(self._all) >= self.per_second:
            self._refuse(self._all[0] + 1.0 - now)
        try:
            chat = int(str(chat_id))
        except ValueError:
            chat = 0
        window, limit = (60.0, self.per_group_minute) if chat < 0 else (1.0, self.per_chat_burst)
        sent = self._chats.setdefault(chat, deque())
        _trim(sent, now - window)
        if len(sent) >= limit:
            self._refuse(sent[0] + window - now)
        self._all.append(now)
        sent.append(now)

    def _refuse(self, wait: float) -> None:
        self.refused += 1
        retry = max(1, math.ceil(wait))
        raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})


def _trim(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()
