"""Telegram's flood limits for a bot's messages: THE limiter of the sandbox (off by default).

What Telegram documents (Bot FAQ, "My bot is hitting limits, how do I avoid this?",
https://core.telegram.org/bots/faq; Bot API, ``ResponseParameters.retry_after``):

- in one chat, avoid more than one message a second; short bursts over it are tolerated,
  but eventually 429 follows;
- bulk notifications to many users: not more than about 30 messages a second overall;
- not more than 20 messages a minute to one group;
- over a limit the answer is 429 ``Too Many Requests: retry after N`` with
  ``parameters.retry_after`` = N, the whole seconds to wait (at least 1).

The one rule here, for every limit: a :class:`Window` — at most ``count`` messages in any
``seconds``-long stretch of time (a sliding window over the arrival times of the accepted
messages). :class:`RateLimits` holds three: ``per_second`` overall (all chats together, in
any one second), ``private`` for each private chat, ``group`` for each group or channel
(a negative chat id or an ``@username``). A message of one of :data:`SENDING` over any of
them is refused: :meth:`RateLimits.check` returns the retry_after, the smallest number of
whole seconds after which every window it broke has room again, and the message is not
counted; otherwise it is accepted and counted (``accepted``, ``first`` and ``last`` arrival).
Counted on arrival, before the method runs (where Telegram counts): a message the method
then refuses (a 403 from a user who blocked the bot) still counts.

Two configurations, one per bot, the later replacing the earlier:

- ``Sandbox.enforce_limits(per_second=30)`` (and ``POST /_control/limits``): Telegram's
  limits as stated above — 30 a second overall, a burst of 3 within a second to one private
  chat, 20 a minute to one group. Used by the e2e tests to show the bot keeps under them.
- ``Sandbox.limit_flood(per_second=30, per_chat=1.0)``: a strict rate — ``per_second``
  overall, one message a ``per_chat`` seconds in any chat, groups included (``Window(1,
  per_chat)`` for both kinds; see :meth:`RateLimits.one_per_chat`). Used by
  bench/broadcast.py and the bulk sender's tests, which read the counters to compute the
  rate the sandbox saw.

``Sandbox.simulate_flood`` (scripted 429s, ``FloodRule`` in sandbox/records.py) is apart:
it answers the next calls with 429 whatever the rate.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.core import ApiError

__all__ = ["SENDING", "TELEGRAM_GROUP", "TELEGRAM_PRIVATE", "RateLimits", "Window", "too_many"]

#: the methods that put a new message into a chat: what Telegram's limits are about
SENDING = frozenset(
    name.lower()
    for name in (
        "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendVoice",
        "sendAnimation", "sendVideoNote", "sendSticker", "sendLocation", "sendVenue",
        "sendContact", "sendPoll", "sendDice", "sendMediaGroup", "sendInvoice", "sendGame",
        "copyMessage", "forwardMessage",
    )
)  # fmt: skip


@dataclass(frozen=True)
class Window:
    """At most ``count`` messages in any ``seconds``-long stretch of time."""

    count: float
    seconds: float

    def __post_init__(self) -> None:
        if self.count <= 0 or self.seconds <= 0:
            raise ValueError(f"a window needs a positive count and length: {self}")

    @classmethod
    def from_api(cls, value: Any) -> Window:
        """A window from ``{"count", "seconds"}`` (the control endpoint); ValueError if not."""
        try:
            return cls(float(value["count"]), float(value["seconds"]))
        except (TypeError, KeyError) as exc:
            raise ValueError(f'a window is {{"count", "seconds"}}, not {value!r}') from exc

    def wait(self, times: deque[float], now: float) -> float:
        """Seconds until one more fits, given the arrivals in ``times`` (0: it fits now).
        Forgets the arrivals that left the window."""
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if len(times) < self.count:
            return 0.0
        return times[0] + self.seconds - now  # the oldest leaves first

    def to_api(self) -> dict[str, float]:
        return {"count": self.count, "seconds": self.seconds}


#: Telegram: "short bursts" over one a second to one chat are tolerated — 3 within a second
TELEGRAM_PRIVATE = Window(3, 1.0)
#: Telegram: not more than 20 messages a minute to the same group
TELEGRAM_GROUP = Window(20, 60.0)


def too_many(retry_after: int) -> ApiError:
    """Telegram's answer to a message over a flood limit."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class RateLimits:
    """Telegram's flood limits for one bot: overall, per private chat, per group (module doc)."""

    def __init__(
        self,
        per_second: float = 30,
        *,
        private: Window | None = TELEGRAM_PRIVATE,
        group: Window | None = TELEGRAM_GROUP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = Window(per_second, 1.0)
        self.private = private  # None: no limit per private chat
        self.group = group  # None: no limit per group
        self._clock = clock
        self._all: deque[float] = deque()  # arrivals of the accepted, within the last second
        self._chats: dict[int | str | None, deque[float]] = {}  # the same, per chat
        self.accepted = 0
        self.refused = 0  # how many 429s were answered
        self.first: float | None = None  # the clock at the first accepted message
        self.last: float | None = None  # … and at the last one

    @classmethod
    def one_per_chat(
        cls,
        per_second: float = 30,
        per_chat: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> RateLimits:
        """``per_second`` overall and one message a ``per_chat`` seconds in any chat."""
        one = Window(1, per_chat)
        return cls(per_second, private=one, group=one, clock=clock)

    @property
    def per_second(self) -> float:
        return self.overall.count

    def check(self, method: str, chat_id: object) -> int | None:
        """None: accepted (and counted); otherwise the retry_after to answer 429 with."""
        if method.lower() not in SENDING:
            return None
        now = self._clock()
        chat = chat_key(chat_id)
        window = self.group if is_group(chat) else self.private
        sent = self._chats.setdefault(chat, deque())
        wait = self.overall.wait(self._all, now)
        if window is not None:
            wait = max(wait, window.wait(sent, now))
        if wait > 0:
            self.refused += 1
            return max(1, math.ceil(wait))
        self._all.append(now)
        sent.append(now)
        self.accepted += 1
        self.first = now if self.first is None else self.first
        self.last = now
        return None

    def to_api(self) -> dict[str, Any]:
        """The rules and the counters, as the control endpoints show them."""
        return {
            "per_second": self.per_second,
            "private": self.private.to_api() if self.private else None,
            "group": self.group.to_api() if self.group else None,
            "accepted": self.accepted,
            "refused": self.refused,
        }


def chat_key(chat_id: object) -> int | str | None:
    """One key per chat however its id came (a number in JSON, a string in a form)."""
    if chat_id is None:
        return None
    try:
        return int(str(chat_id))
    except ValueError:
        return str(chat_id)  # "@channelusername"


def is_group(chat: int | str | None) -> bool:
    """Groups, supergroups and channels have negative ids or are named by @username."""
    return chat.startswith("@") if isinstance(chat, str) else chat is not None and chat < 0
