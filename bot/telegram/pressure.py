"""Whether the bot is sending near Telegram's limits just now (one per process).

A webhook reply (bot/web/webhook.py) cannot be retried: Telegram executes it after the
request and the bot never learns that it was refused with 429 ("Making requests when
getting updates", https://core.telegram.org/bots/api#making-requests-when-getting-updates).
So a handler's returned answer goes as the reply only when the bot is calm, and as a request
of its own — 429 waited out — while bulk messages are going (a reminder or notice run keeps
to ~30 a second, the Bot API FAQ's overall limit) or after a 429.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: seconds after the last bulk message during which the bot counts as busy
AFTER_BULK = 2.0
#: seconds after a 429's `retry_after` ran out during which the bot counts as busy
AFTER_FLOOD = 10.0


class SendingPressure:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._busy_until = -math.inf

    def _busy_for(self, seconds: float) -> None:
        self._busy_until = max(self._busy_until, self._clock() + seconds)

    def bulk_sent(self) -> None:
        """A bulk message (reminder, notice) was answered by Telegram."""
        self._busy_for(AFTER_BULK)

    def flooded(self, retry_after: float) -> None:
        """Telegram answered 429 with `retry_after` seconds."""
        self._busy_for(retry_after + AFTER_FLOOD)

    def calm(self) -> bool:
        return self._clock() >= self._busy_until


PRESSURE = SendingPressure()
