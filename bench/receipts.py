#!/usr/bin/env python3
"""Receipts under load: receipts per second and the longest event-loop stall while 20
render at once, beside a main-menu press measured in the same run (see bench/README.md).

    .venv/bin/python bench/receipts.py [--receipts 20] [--workers 0,1,2]

The production Dispatcher (`bot.app.create_dispatcher`) on a SQLite file with the demo
data; a resident linked to the demo's debtor presses «Amount due» in the receipt menu
`--receipts` times at once (each press: the query answered, the figures read, the PDF and
the QR picture rendered, both sent through the tests' recording session, which makes no
network call), while the same resident presses «💳 Balance» in the main menu. A probe task
asks the loop to wake it every millisecond and records how late it woke: the longest
lateness is the longest stall. Each RENDER_WORKERS value of `--workers` is one round
(0: threads in the bot's process; N: N worker processes). Figures and ratios, no verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.support: the recording session and the harness

from bot.app import create_dispatcher  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.services.balance.render import Renderer  # noqa: E402
from bot.services.clock import FrozenClock  # noqa: E402
from bot.services.demo import seed_demo  # noqa: E402
from handlers.balance.callbacks import BalanceAction, BalanceCb  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.support import factories as f  # noqa: E402
from tests.support.balance import account_id  # noqa: E402
from tests.support.harness import TOKEN, BotHarness, Person  # noqa: E402

ANNA = Person(601, "Anna", phone="+79990001122")  # presses the main menu
#: the residents who ask for receipts: one each, as aiogram runs one resident's updates
#: one after another (the FSM isolation lock), and 20 at once means 20 residents
PAYERS = [Person(700 + i, f"Payer {i}", phone=f"+7999100{i:04d}") for i in range(100)]
MENU = "💳 Баланс"
PRESSES_IDLE = 20


class StallProbe:
    """Wakes every `tick` seconds and keeps how late each wake-up was."""

    def __init__(self, tick: float = 0.001) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, loop.time() - before - self.tick)

    def __enter__(self) -> StallProbe:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def seed(url: str, clock: FrozenClock) -> int:
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        demo = await seed_demo(db, clock)
        debtor = await account_id(db, demo.debtor)
        people = [ANNA, *PAYERS]
        await f.add(db, *(f.resident(p.id, p.phone) for p in people))
        await f.add(db, *(f.link(p.id, debtor, "active", "phone") for p in people))
    finally:
        await db.dispose()
    return debtor


async def menu_press(h: BotHarness) -> float:
    started = time.perf_counter()
    calls = await h.send(ANNA, MENU)
    assert calls and "33" in (calls[-1].text or ""), calls  # the debtor's balance
    return time.perf_counter() - started


async def receipt_press(h: BotHarness, person: Person, data: str) -> None:
    calls = await h.press(person, data)
    assert [c for c in calls if c.method == "sendDocument"], calls


async def round_(
    url: str, clock: FrozenClock, debtor: int, workers: int, n: int
) -> dict[str, float]:
    settings = load_settings(bot_token=TOKEN, database_url=url, render_workers=workers)
    db = Database(url)
    renderer = Renderer(workers=workers)
    dp = create_dispatcher(settings, db, clock=clock, renderer=renderer)
    h = BotHarness(dp)
    due = BalanceCb(action=BalanceAction.RECEIPT_DUE, account_id=debtor).pack()
    try:
        warm = PAYERS[: max(workers, 1) * 2]
        await asyncio.gather(*(receipt_press(h, p, due) for p in warm))  # start the workers
        idle = [await menu_press(h) for _ in range(PRESSES_IDLE)]
        with StallProbe() as probe:
            await asyncio.sleep(0.05)
            idle_stall = probe.worst
        started = time.perf_counter()
        with StallProbe() as probe:
            burst = asyncio.gather(*(receipt_press(h, p, due) for p in PAYERS[:n]))
            await asyncio.sleep(0.01)  # the burst is under way
            during = await menu_press(h)
            await burst
        wall = time.perf_counter() - started
        return {
            "receipts_per_s": n / wall,
            "wall_s": wall,
            "stall_ms": probe.worst * 1000,
            "idle_stall_ms": idle_stall * 1000,
            "menu_idle_ms": statistics.median(idle) * 1000,
            "menu_during_ms": during * 1000,
        }
    finally:
        renderer.close()
        await dp.storage.close()
        await db.dispose()


async def main_async(n: int, workers: list[int]) -> None:
    clock = FrozenClock()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        debtor = await seed(url, clock)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, SQLite, demo debtor, "
              f"{n} receipts at once")  # fmt: skip
        print(f"  {'RENDER_WORKERS':>14} {'receipts/s':>10} {'wall s':>7} {'longest stall ms':>17} "
              f"{'menu press idle ms':>19} {'during ms':>10} {'× idle':>7}")  # fmt: skip
        for w in workers:
            r = await round_(url, clock, debtor, w, n)
            print(f"  {w:>14} {r['receipts_per_s']:>10.1f} {r['wall_s']:>7.2f} "
                  f"{r['stall_ms']:>17.1f} {r['menu_idle_ms']:>19.1f} {r['menu_during_ms']:>10.1f} "
                  f"{r['menu_during_ms'] / r['menu_idle_ms']:>7.1f}", flush=True)  # fmt: skip
        print("(longest stall with nothing rendering is the probe's own noise: "
              "a few ms at most; 0 = threads, N = worker processes)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--receipts", type=int, default=20, help=f"receipts rendered at once (≤ {len(PAYERS)})"
    )
    parser.add_argument("--workers", default="0,1,2", help="RENDER_WORKERS values to compare")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    asyncio.run(main_async(args.receipts, workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
