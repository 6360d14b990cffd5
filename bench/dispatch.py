#!/usr/bin/env python3
"""Dispatcher hot-path benchmark: the production Dispatcher against a bare aiogram one.

    .venv/bin/python bench/dispatch.py [--rounds 5] [--seconds 1] [--bare-seconds 0.4]
    .venv/bin/python bench/dispatch.py --statements | --breakdown | --whatif
    .venv/bin/python bench/dispatch.py --profile "menu press"    # needs pyinstrument

The production Dispatcher is `bot.app.create_dispatcher` with all its middlewares, on a SQLite
file with the migrations applied; its residents register through the handlers themselves
(/start, consent, shared contact). The bare one is `aiogram.Dispatcher()` with one async
handler that sends one message. Both talk to the tests' `RecordingSession` (real Bot API
shapes, no network) and get the same prepared `Update`s through `dp.feed_update`; every
update is timed alone, so the untimed reset between linking steps does not count. Each case
runs `--rounds` rounds of about `--seconds` after a warm-up, full and bare alternating in
slices of a tenth of a round so that both see the same load; the line shows the median
rates and the median of the per-round ratios. Figures are noisy on a
shared machine: compare ratios of the same run, not absolute numbers. See bench/README.md,
"Dispatcher hot path".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import dispatch_probes
from aiogram import Bot, Dispatcher
from dispatch_harness import (
    Case,
    Full,
    bare_bot,
    bare_dispatcher,
    full_dispatcher,
    paired_round,
    per_update,
    prepare_cases,
    rate,
)


@dataclass
class Result:
    full: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)

    def line(self, name: str) -> str:
        ratio = statistics.median(f / b for f, b in zip(self.full, self.bare, strict=True))
        return (
            f"{name}: full {statistics.median(self.full):.0f} upd/s, "
            f"bare {statistics.median(self.bare):.0f} upd/s, ratio {ratio:.3f}"
        )


async def measure(
    full: Full, bare: tuple[Dispatcher, Bot], case: Case, args: argparse.Namespace
) -> Result:
    # once, untimed: the update lands where it should
    if case.reset is not None:
        await case.reset()
    calls = await full.harness.send(case.person, case.text)
    if case.check is not None:
        await case.check(calls)
    await rate(full.dp, full.bot, case, args.seconds / 4, reset=True)  # warm-up
    await rate(*bare, case, args.bare_seconds / 4, reset=False)
    result = Result()
    for _ in range(args.rounds):
        f, b = await paired_round(
            (full.dp, full.bot), bare, case, args.seconds, args.bare_seconds, reset=True
        )
        result.full.append(f)
        result.bare.append(b)
    return result


async def per_update_counts(full: Full, case: Case) -> str:
    c = await per_update(full, case)
    kinds = ", ".join(f"{key[4:]} {c[key]:g}" for key in sorted(c) if key.startswith("sql "))
    return (
        f"  {case.name} — {c['sql']:g} SQL statements ({kinds or 'none'}), "
        f"{c['commit']:g} commits, {c['checkout']:g} connection checkouts, "
        f"{c['aiosqlite']:g} aiosqlite thread round trips, "
        f"{c['to_thread']:g} sync callables via asyncio.to_thread, {c['api']:g} Bot API calls"
    )


# ------------------------------------------------------------------ modes
async def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        if args.whatif:
            await dispatch_probes.whatif(Path(tmp), args)
            return 0
        full = await full_dispatcher(Path(tmp))
        try:
            cases = [c for c in await prepare_cases(full) if not args.case or c.name in args.case]
            if args.profile:
                return await dispatch_probes.profile(full, cases, args)
            if args.statements:
                await dispatch_probes.statements(full, cases)
                return 0
            if args.breakdown:
                await dispatch_probes.breakdown(full, cases, args)
                return 0
            bare = (bare_dispatcher(), bare_bot())
            print(
                f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, SQLite; medians of "
                f"{args.rounds} rounds of {args.seconds:g} s (bare: {args.bare_seconds:g} s)",
                flush=True,
            )
            for case in cases:
                print((await measure(full, bare, case, args)).line(case.name), flush=True)
            print("per update of the full Dispatcher:")
            for case in cases:
                print(await per_update_counts(full, case))
        finally:
            await full.close()
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="a round, full Dispatcher")
    parser.add_argument("--bare-seconds", type=float, default=0.4, help="a round, bare")
    parser.add_argument("--updates", type=int, default=300, help="--breakdown, --profile")
    parser.add_argument("--case", action="append", help="only this case (repeatable)")
    parser.add_argument("--profile", metavar="CASE", help="pyinstrument one case instead")
    parser.add_argument("--show-all", action="store_true", help="with --profile: every frame")
    parser.add_argument("--statements", action="store_true", help="the SQL of one update")
    parser.add_argument("--breakdown", action="store_true", help="time inside the parts")
    parser.add_argument("--whatif", action="store_true", help="menu press with fixes simulated")
    parser.add_argument("--tmp", help="folder for the SQLite file (default: a temp dir)")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
