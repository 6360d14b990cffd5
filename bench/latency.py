#!/usr/bin/env python3
"""Latency of one resident step over HTTP: the real bot process against sandbox/ (bench/README.md).

    .venv/bin/python bench/latency.py [--levels 1,50,200] [--steps 2000] [--modes polling,webhook]

Two bot processes talk to one sandbox/ (this process, loopback HTTP), each with its own
token, in each mode in turn — long polling, then a webhook (WEBHOOK_URL: the sandbox POSTs
each update, up to setWebhook's max_connections at once, and the answer comes back in the
HTTP reply, as Telegram allows):
- **ours**: `python run_bot.py run` on a SQLite file with the migrations applied and N
  registered residents, each with one active account and a year of its charges and
  payments;
- **bare**: bench/bare_bot.py, a bare aiogram Dispatcher answering any text with one
  message (the baseline: aiogram, aiohttp and the sandbox, none of our code).

At each level L, L residents press «💳 Баланс», each pressing again `--think` seconds
(±50 %) after the answer came — or at once with `--think 0` (closed loop: then the
latency is mostly the queue, L / throughput) — until about `steps` presses were answered
(at least 3 each; one resident alone presses without pausing). A press's latency runs
from the update being queued in the sandbox to the bot's answer arriving there
(getUpdates → the bot → sendMessage over HTTP; or POST → the bot → the reply). Ours and
bare alternate at every level, so both see the same machine load. Printed: p50 and p99 of
both and their ratios, and the CPU time each bot process spent per press (user + system,
from /proc: on a noisy machine a steadier figure than the latency) — no verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from sandbox import Sandbox  # noqa: E402
from sandbox.testing import User, random_token  # noqa: E402

BALANCE = "💳 Баланс"
FIRST_UID = 830_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVICES = ("Холодное водоснабжение", "Горячее водоснабжение", "Водоотведение", "Отопление")


def history(accounts: list[Any]) -> list[Any]:
    """A year of billing for each account, as the balance screen meets it: four services a
    month charged and paid, a payment a month, and the import that brought them."""
    import datetime as dt
    from decimal import Decimal

    from storage.models import AuditLog, Charge, Payment

    rows: list[Any] = []
    for account in accounts:
        for month in range(1, 13):
            period = f"2026-{month:02d}"
            for n, service in enumerate(SERVICES):
                amount = Decimal(f"{300 + 150 * n + month}.{month:02d}")
                paid = amount if month < 12 else Decimal(0)
                rows.append(Charge(account_id=account.id, period=period, service=service,
                                   charged=amount, paid=paid))  # fmt: skip
            rows.append(Payment(account_id=account.id, paid_at=dt.date(2026, month, 10),
                                amount=Decimal("2500.00"), source="Сбербанк"))  # fmt: skip
    rows.append(AuditLog(action="billing.import", actor_kind="system", object_id="charges"))
    return rows


async def seed(url: str, residents: int) -> None:
    from storage.db import Database
    from storage.migrate import upgrade
    from tests.support import factories as f

    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        voda = f.supplier()
        accounts = [f.account(voda, f"{5_800_000_000 + i}") for i in range(residents)]
        people = [f.resident(FIRST_UID + i, f"+7916{i:07d}") for i in range(residents)]
        await f.add(db, voda, *accounts, *people)
        links = [f.link(FIRST_UID + i, a.id, "active") for i, a in enumerate(accounts)]
        await f.add(db, *links, *history(accounts))
    finally:
        await db.dispose()


async def start(cmd: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            *cmd, cwd=str(ROOT), env=env, stdout=out, stderr=out
        )


async def wait_healthy(port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if proc.returncode is not None:
                raise SystemExit(f"the bot exited, see {log}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"the bot did not come up, see {log}")


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


#: (start, latency, resident's id) of every press, seconds, for `--dump`
TIMELINE: list[tuple[float, float, int]] = []


async def press(user: User) -> float:
    started = time.perf_counter()
    await user.send(BALANCE)
    await user.next_message(timeout=60)
    took = time.perf_counter() - started
    TIMELINE.append((started, took, user.id))
    return took


async def load(users: list[User], steps: int, think: float) -> list[float]:
    """Every user presses until `steps` presses were answered in all: with `think` = 0 in a
    closed loop (again as soon as the answer came), otherwise after a pause of 0.5-1.5 ×
    `think` seconds (a resident reading the answer; starts spread over one pause)."""
    latencies: list[float] = []
    each = max(3, steps // len(users))
    think = think if len(users) > 1 else 0.0  # one resident: nothing to wait for
    rng = random.Random(len(users))

    async def resident(user: User) -> None:
        if think:
            await asyncio.sleep(rng.uniform(0, think))
        for n in range(each):
            latencies.append(await press(user))
            if think and n + 1 < each:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))

    await asyncio.gather(*(resident(u) for u in users))
    return latencies


async def replies(port: int) -> float:
    """Answers our bot gave in a webhook's reply so far (its /metrics): the rest went as
    requests of its own (bot/telegram/pressure.py says when)."""
    prefix = 'kabinet_telegram_requests_total{method="sendMessage",outcome="reply"} '
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        text = await r.text()
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; NaN where /proc is not."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> None:
    top = max(args.levels)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite+aiosqlite:///{tmp / 'kabinet.db'}"
        await seed(url, top)
        async with Sandbox() as sb:
            bare_token = random_token()
            sb.server.register_bot(bare_token, username="bare_bench_bot")
            ours_users = [
                sb.user(f"R{i}", id=FIRST_UID + i, phone=f"+7916{i:07d}") for i in range(top)
            ]
            bare_users = [sb.user(f"R{i}", id=FIRST_UID + i, bot=bare_token) for i in range(top)]
            env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
            env.pop("REDIS_URL", None)
            env.pop("WEBHOOK_URL", None)
            for mode in args.modes:
                await one_mode(args, mode, sb, tmp, env, url, bare_token, ours_users, bare_users)


async def one_mode(
    args: argparse.Namespace,
    mode: str,
    sb: Sandbox,
    tmp: Path,
    env: dict[str, str],
    url: str,
    bare_token: str,
    ours_users: list[User],
    bare_users: list[User],
) -> None:
    """Both bots in one mode (long polling, or a webhook answered in its HTTP reply), every
    level; the processes are started for the mode and stopped after it."""
    top = max(args.levels)
    port = free_port()
    ours_env = env | {
        "BOT_TOKEN": sb.token, "TELEGRAM_API_URL": sb.url, "DATABASE_URL": url,
        "DEFAULT_LOCALE": "ru", "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port),
        "LOG_LEVEL": "WARNING", "CONSENT_VERSION": "1", "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    bare_env = env | {"BOT_TOKEN": bare_token, "TELEGRAM_API_URL": sb.url}
    if mode == "webhook":
        ours_env["WEBHOOK_URL"] = f"http://127.0.0.1:{port}/tg/webhook"
        bare_env["WEBHOOK_URL"] = f"http://127.0.0.1:{free_port()}/bare/webhook"
    ours = await start([sys.executable, "run_bot.py", "run"], ours_env, tmp / "ours.log")
    bare = await start([sys.executable, "bench/bare_bot.py"], bare_env, tmp / "bare.log")
    try:
        await wait_healthy(port, ours, tmp / "ours.log")
        await sb.wait_until_receiving(timeout=60)
        await sb.wait_until_receiving(timeout=60, bot=bare_token)
        # warm-up: every resident once (the first press fills the caches)
        await load(ours_users, top, 0)
        await load(bare_users, top, 0)
        how = (
            "long polling"
            if mode == "polling"
            else "webhook (handled before the HTTP reply, the answer in it)"
        )
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f}; {how}, SQLite; "
            f"«{BALANCE}» of a resident with one account; "
            + (
                f"a press every {args.think:g} s (±50 %) per resident"
                if args.think
                else "closed loop (the next press as soon as the answer came)"
            )
        )
        print(
            f"  {'residents':>9} {'presses':>8} {'ours p50':>9} {'p99 ms':>7} "
            f"{'bare p50':>9} {'p99 ms':>7} {'× p50':>6} {'× p99':>6} {'ours/s':>7} "
            f"{'bare/s':>7} {'CPU ms/press ours':>17} {'bare':>5} {'ours by reply':>13}"
        )
        for level in args.levels:
            t, cpu = time.perf_counter(), cpu_seconds(ours.pid)
            replied = await replies(port)
            mine = await load(ours_users[:level], args.steps, args.think)
            by_reply = (await replies(port) - replied) / len(mine) * 100
            mine_rate = len(mine) / (time.perf_counter() - t)
            mine_cpu = (cpu_seconds(ours.pid) - cpu) / len(mine) * 1e3
            t, cpu = time.perf_counter(), cpu_seconds(bare.pid)
            base = await load(bare_users[:level], args.steps, args.think)
            base_rate = len(base) / (time.perf_counter() - t)
            base_cpu = (cpu_seconds(bare.pid) - cpu) / len(base) * 1e3
            o50, o99 = pct(mine, 0.5) * 1e3, pct(mine, 0.99) * 1e3
            b50, b99 = pct(base, 0.5) * 1e3, pct(base, 0.99) * 1e3
            print(
                f"  {level:>9} {len(mine):>8} {o50:>9.1f} {o99:>7.1f} {b50:>9.1f} "
                f"{b99:>7.1f} {o50 / b50:>6.2f} {o99 / b99:>6.2f} {mine_rate:>7.0f} "
                f"{base_rate:>7.0f} {mine_cpu:>17.1f} {base_cpu:>5.1f} {by_reply:>12.0f}%",
                flush=True,
            )
    finally:
        await stop(ours)
        await stop(bare)


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--levels", type=numbers, default=[1, 50, 200])
    parser.add_argument(
        "--modes",
        type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
        default=["polling", "webhook"],
        help="polling, webhook or both (comma-separated)",
    )
    parser.add_argument(
        "--steps", type=int, default=300, help="presses per level and bot (≥ 3 per resident)"
    )
    parser.add_argument(
        "--think", type=float, default=10.0, help="seconds between a resident's presses (0: none)"
    )
    parser.add_argument(
        "--dump", help="write every press's start (s) and latency (ms) to this file, in order"
    )
    args = parser.parse_args()
    asyncio.run(run(args))
    if args.dump:  # the warm-ups, then each level: ours, bare
        Path(args.dump).write_text(
            "".join(f"{start:.4f} {took * 1e3:.2f} {uid}\n" for start, took, uid in TIMELINE)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
