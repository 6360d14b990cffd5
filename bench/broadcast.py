#!/usr/bin/env python3
"""Broadcast rate of the bulk sender against sandbox/'s flood limit (see bench/README.md).

    .venv/bin/python bench/broadcast.py [--messages 600] [--rates 25,28,30] [--jitter 0,40]

sandbox/ (in this process, over HTTP on loopback) refuses with 429 what goes over
Telegram's limits (sandbox/limits.py via `Sandbox.limit_flood`: 30 messages in any second,
one a second per chat).
The production `BulkSender` (bot/telegram/sender.py) sends a reminder-like message to
every resident — most once, some (a resident with three accounts) three times — through
a Bot built like the scheduler's (`create_bot(…, flood_control=False)`). Optionally every
request is delayed by a random 0…J ms before it leaves (network jitter).

Printed per case: messages delivered per second and that rate as a ratio of the limit
(the baseline: what the sandbox lets through at most, in the same run), the 429s the
sandbox answered (each one is waited out by the sender: "handled") and the messages not
delivered in the end ("unhandled"). "start-paced" is the same sender with the arrival
window switched off (spacing of starts only, as before 2026-11-30), for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram.client.session.middlewares.base import BaseRequestMiddleware  # noqa: E402

from bot.app import create_bot  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.services.ports import Delivery  # noqa: E402
from bot.telegram.sender import BulkSender, Outgoing  # noqa: E402
from sandbox import Sandbox  # noqa: E402

LIMIT = 30  # Telegram's (and the sandbox's) messages a second
TEXT = (
    "Напоминание: с 15 по 25 число передайте показания счётчиков по лицевому счёту "
    "№ {n}. Нажмите «📟 Передать показания»."
)


class Jitter(BaseRequestMiddleware):
    """Every request waits a random 0…`ms` ms before it leaves (a slow, uneven network)."""

    def __init__(self, ms: float, rng: random.Random) -> None:
        self.ms = ms
        self.rng = rng

    async def __call__(self, make_request: Any, bot: Any, method: Any) -> Any:
        await asyncio.sleep(self.rng.uniform(0, self.ms) / 1000)
        return await make_request(bot, method)


async def one_case(
    sb: Sandbox, chats: list[int], rate: float, jitter: float, paced_only: bool
) -> dict[str, float]:
    limit = sb.limit_flood(LIMIT, 1.0)
    settings = Settings(_env_file=None, bot_token=sb.token, telegram_api_url=sb.url)  # type: ignore[call-arg]
    bot = create_bot(settings, flood_control=False)
    if jitter:
        bot.session.middleware(Jitter(jitter, random.Random(7)))
    sender = BulkSender(bot, rate=rate)
    if paced_only:  # the arrival window off: every request may start as soon as its slot comes
        sender._permits = asyncio.Semaphore(10**9)
    outcome: dict[Delivery, int] = {}
    started = time.perf_counter()
    try:
        async for _, delivery in sender.send_all(
            chats, lambda chat: Outgoing(chat, TEXT.format(n=chat))
        ):
            outcome[delivery] = outcome.get(delivery, 0) + 1
    finally:
        await bot.session.close()
    wall = time.perf_counter() - started
    span = (limit.last or 0) - (limit.first or 0)
    sent = outcome.get(Delivery.SENT, 0)
    return {
        "sent": sent,
        "wall": wall,
        # the rate the sandbox saw: messages after the first, over the time from first to last
        "rate": (limit.accepted - 1) / span if span > 0 else 0.0,
        "refused": limit.refused,
        "unhandled": len(chats) - sent,
    }


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(1)
    async with Sandbox() as sb:
        users = [sb.user(f"R{i}", id=800_000_000 + i) for i in range(args.messages)]
        for user in users:
            await user.send("/start")  # a private chat the bot may write to
        # most residents get one message, one in ten of them three (three accounts)
        chats: list[int] = []
        for user in users:
            chats.extend([user.id] * (3 if rng.random() < 0.1 else 1))
            if len(chats) >= args.messages:
                break
        chats = chats[: args.messages]
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f}; "
            f"sandbox limit {LIMIT}/s overall, 1/s per chat; {len(chats)} messages to "
            f"{len(set(chats))} chats"
        )
        print(
            f"  {'sender':<12} {'rate set':>8} {'jitter ms':>9} {'wall s':>7} {'msg/s':>7} "
            f"{'× limit':>8} {'429 handled':>12} {'unhandled':>10}"
        )
        for paced_only in (False, True) if args.compare else (False,):
            for jitter in args.jitter:
                for rate in args.rates:
                    r = await one_case(sb, chats, rate, jitter, paced_only)
                    name = "start-paced" if paced_only else "BulkSender"
                    print(
                        f"  {name:<12} {rate:>8g} {jitter:>9g} {r['wall']:>7.1f} {r['rate']:>7.1f} "
                        f"{r['rate'] / LIMIT:>8.3f} {r['refused']:>12.0f} {r['unhandled']:>10.0f}",
                        flush=True,
                    )
                    await asyncio.sleep(1.1)  # the next case starts with an empty window


def numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--rates", type=numbers, default=[25.0, 28.0, 30.0])
    parser.add_argument("--jitter", type=numbers, default=[0.0, 40.0])
    parser.add_argument(
        "--no-compare", dest="compare", action="store_false", help="skip the start-paced sender"
    )
    args = parser.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
