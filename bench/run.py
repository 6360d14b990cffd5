#!/usr/bin/env python3
"""Billing import and account-lookup benchmark (see bench/README.md).

    .venv/bin/python bench/run.py [--accounts 100000,1000000] [--lookup-sizes 10000,1000000]
                                  [--workers 1]   # IMPORT_WORKERS of the import (0: in-process)

For every size N it writes an accounts CSV of N rows into a temporary folder, then runs a
child process that applies the migrations to a fresh SQLite file, imports the suppliers and
the accounts through the production importer, and times account lookups by supplier and
number. The child reports its wall time, its CPU time and its worker processes' (they end
with the import), and its peak RSS (getrusage maxrss); a baseline
child that does everything but the import gives the memory the import itself adds.
Figures are printed with ratios to the smallest size of the same run — no verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPLIER = "bench"
LOOKUPS = 2000


def write_files(folder: Path, accounts: int) -> tuple[Path, Path]:
    suppliers = folder / "suppliers.csv"
    suppliers.write_text(
        f"code,name,account_pattern,account_hint\n{SUPPLIER},ООО «Бенчмарк»,\\d{{10}},10 цифр\n",
        encoding="utf-8",
    )
    path = folder / f"accounts-{accounts}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("supplier_code,account_number,address,holder_name,phones,access_code\n")
        for i in range(accounts):
            out.write(
                f'{SUPPLIER},{5_800_000_000 + i},"г. Тверь, ул. Советская, д. {i % 97 + 1}, '
                f'кв. {i % 211 + 1}",Иванов Иван Иванович {i},8 (916) {i % 10_000_000:07d},\n'
            )
    return suppliers, path


# ------------------------------------------------------------------ the child process
def _children_cpu() -> float:
    """CPU seconds of this process's finished child processes (the import's workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def child(
    database_url: str, suppliers: Path, accounts: Path | None, n: int, workers: int
) -> None:
    from sqlalchemy import bindparam, select, text

    from bot.services.billing import Kind, csv_rows, import_rows
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Account
    from storage.repositories.billing import BillingRepository
    from storage.uow import UnitOfWork

    await asyncio.to_thread(upgrade, database_url)
    db = Database(database_url)
    result: dict[str, float] = {}
    try:
        with suppliers.open(encoding="utf-8-sig", newline="") as stream:
            async with UnitOfWork(db.session_maker) as uow:
                await import_rows(uow, Kind.SUPPLIERS, csv_rows(Kind.SUPPLIERS, stream))
        if accounts is not None:
            started, cpu = time.perf_counter(), time.process_time()
            cpu_workers = _children_cpu()
            with accounts.open(encoding="utf-8-sig", newline="") as stream:
                async with UnitOfWork(db.session_maker) as uow:
                    rows = csv_rows(Kind.ACCOUNTS, stream)
                    summary = await import_rows(uow, Kind.ACCOUNTS, rows, workers=workers)
            result["import_s"] = time.perf_counter() - started
            result["import_cpu_s"] = time.process_time() - cpu  # every thread of the process
            # the worker processes (ended and waited for by the end of the import)
            result["workers_cpu_s"] = _children_cpu() - cpu_workers
            result["workers_maxrss_mb"] = (
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            )
            result["inserted"] = summary.inserted

            rng = random.Random(1)
            numbers = [str(5_800_000_000 + rng.randrange(n)) for _ in range(LOOKUPS)]
            async with UnitOfWork(db.session_maker) as uow:
                repo = BillingRepository(uow.session)
                supplier = await repo.supplier_by_code(SUPPLIER)
                assert supplier is not None
                for number in numbers[:100]:  # warm the cache and the connection
                    await repo.account_by_number(supplier.id, number)
                started = time.perf_counter()
                for number in numbers:
                    found = await repo.account_by_number(supplier.id, number)
                    assert found is not None
                    uow.session.expunge(found)
                result["lookup_us"] = (time.perf_counter() - started) / LOOKUPS * 1e6
                # the index alone: the account's id by supplier + number (Core, one statement)
                query = select(Account.id).where(
                    Account.supplier_id == bindparam("s"), Account.number == bindparam("n")
                )
                started = time.perf_counter()
                for number in numbers:
                    row = await uow.session.execute(query, {"s": supplier.id, "n": number})
                    assert row.scalar_one() > 0
                result["index_us"] = (time.perf_counter() - started) / LOOKUPS * 1e6
                plan = await uow.session.execute(
                    text("EXPLAIN QUERY PLAN SELECT id FROM accounts WHERE supplier_id = :s "
                         "AND number = :n"), {"s": supplier.id, "n": numbers[0]}
                )  # fmt: skip
                print("plan:", " / ".join(str(row[-1]) for row in plan), file=sys.stderr)
    finally:
        await db.dispose()
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def floor(database: Path, accounts: Path) -> None:
    """The baseline: the same rows into the same tables by plain sqlite3, no validation.

    csv.reader, one executemany of 2,000 accounts, their ids read back, one executemany of
    their phones (digits only, no parsing), one transaction: what SQLite and the CSV module
    cost for this file on this machine, now. The importer's time over this is our code."""
    import csv
    import sqlite3

    from storage.migrate import upgrade

    upgrade(f"sqlite+aiosqlite:///{database}")
    con = sqlite3.connect(database, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute(
        "INSERT INTO suppliers (code, name, account_pattern, account_hint, window_start_day,"
        " window_end_day, inn, kpp, bank_name, bic, corr_account, settlement_account,"
        " created_at, updated_at) VALUES ('b', 'b', '', '', 15, 25, '', '', '', '', '', '',"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    supplier_id = con.execute("SELECT id FROM suppliers").fetchone()[0]
    now = "2026-11-30 00:00:00.000000"
    started, cpu = time.perf_counter(), time.process_time()
    con.execute("BEGIN")
    with accounts.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        while True:
            batch = [row for _, row in zip(range(2000), reader, strict=False)]
            if not batch:
                break
            con.executemany(
                "INSERT INTO accounts (supplier_id, number, address, holder_name,"
                " access_code_hash, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
                [(supplier_id, r[1], r[2], r[3], now, now) for r in batch],
            )
            ids = dict(
                con.execute(
                    "SELECT number, id FROM accounts WHERE supplier_id = ? AND number IN "
                    "(SELECT value FROM json_each(?))",
                    (supplier_id, json.dumps([r[1] for r in batch])),
                ).fetchall()
            )
            con.executemany(
                "INSERT INTO account_phones (account_id, phone) VALUES (?, ?)",
                [(ids[r[1]], "+7" + "".join(c for c in r[4] if c.isdigit())[1:]) for r in batch],
            )
    con.execute("COMMIT")
    print(json.dumps({
        "import_s": time.perf_counter() - started,
        "import_cpu_s": time.process_time() - cpu,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))  # fmt: skip


def run_floor(folder: Path, accounts: Path, n: int) -> dict[str, float]:
    db = folder / f"bench-{n}-floor.db"
    cmd = [sys.executable, __file__, "--floor", str(db), str(accounts)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_child(
    folder: Path, suppliers: Path, accounts: Path | None, n: int, workers: int = 0
) -> dict[str, float]:
    db = folder / f"bench-{n}-{'base' if accounts is None else 'import'}.db"
    db.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", f"sqlite+aiosqlite:///{db}", str(suppliers),
           str(accounts or ""), str(n), str(workers)]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    for line in out.stderr.splitlines():
        if line.startswith("plan:") and n == max(PLANS_SEEN, default=n):
            print(f"  lookup {line}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


PLANS_SEEN: list[int] = []


def sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--floor":
        floor(Path(sys.argv[2]), Path(sys.argv[3]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        url, suppliers, accounts, n, workers = sys.argv[2:7]
        path = Path(accounts) if accounts else None
        asyncio.run(child(url, Path(suppliers), path, int(n), int(workers)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", default="100000,1000000", help="import sizes")
    parser.add_argument("--lookup-sizes", default="10000,1000000", help="lookup table sizes")
    parser.add_argument("--tmp", help="folder for the CSV and database files (default: a temp dir)")
    parser.add_argument(
        "--workers", type=int, default=1, help="IMPORT_WORKERS of the import (0: in-process)"
    )
    args = parser.parse_args()
    all_sizes = sorted(set(sizes(args.accounts)) | set(sizes(args.lookup_sizes)))

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, SQLite, {LOOKUPS} lookups, "
          f"import workers {args.workers}")  # fmt: skip
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        folder = Path(tmp)
        suppliers, _ = write_files(folder, 0)
        base = run_child(folder, suppliers, None, 0)
        rss = base["maxrss_mb"]
        print(f"baseline child (migrations + suppliers, no import): peak RSS {rss:.0f} MB")
        rows: list[tuple[int, dict[str, float], int]] = []
        for n in all_sizes:
            started = time.perf_counter()
            _, path = write_files(folder, n)
            size = path.stat().st_size
            print(f"  generated {n:,} accounts ({size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
            PLANS_SEEN[:] = [n]
            result = run_child(folder, suppliers, path, n, args.workers)
            if n in sizes(args.accounts):
                base_n = run_floor(folder, path, n)
                result["floor_s"] = base_n["import_s"]
                result["floor_cpu_s"] = base_n["import_cpu_s"]
            path.unlink()
            rows.append((n, result, size))
            print(f"  imported {n:,} in {result['import_s']:.1f} s "
                  f"(CPU {result['import_cpu_s']:.1f} s + workers {result['workers_cpu_s']:.1f} s, "
                  f"workers' peak RSS {result['workers_maxrss_mb']:.0f} MB; "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip

    first_import = next((r for n, r, _ in rows if n in sizes(args.accounts)), rows[0][1])
    first_n = next((n for n, _, _ in rows if n in sizes(args.accounts)), rows[0][0])
    print()
    print("import of N accounts (one transaction, streaming); floor = plain sqlite3, same run;")
    print("CPU s = the importing process + its worker processes; peak RSS: the importing")
    print("process (a worker's own peak is printed above):")
    print(f"  {'N':>10} {'time s':>8} {'CPU s':>7} {'rows/s':>9} {'µs/row':>8} {'×time':>7} "
          f"{'peak RSS MB':>12} {'over baseline':>14} {'floor s':>8} {'floor CPU':>9} "
          f"{'× floor':>8} {'CPU × floor':>12}")  # fmt: skip
    for n, r, _ in rows:
        if n not in sizes(args.accounts):
            continue
        per_row = r["import_s"] / n * 1e6
        base_per_row = first_import["import_s"] / first_n * 1e6
        cpu = r["import_cpu_s"] + r["workers_cpu_s"]
        print(f"  {n:>10,} {r['import_s']:>8.1f} {cpu:>7.1f} "
              f"{n / r['import_s']:>9,.0f} {per_row:>8.1f} "
              f"{r['import_s'] / first_import['import_s']:>7.2f} {r['maxrss_mb']:>12.0f} "
              f"{r['maxrss_mb'] - base['maxrss_mb']:>14.0f} {r['floor_s']:>8.1f} "
              f"{r['floor_cpu_s']:>9.1f} {r['import_s'] / r['floor_s']:>8.2f} "
              f"{cpu / r['floor_cpu_s']:>12.2f}   "
              f"(µs/row ×{per_row / base_per_row:.2f})")  # fmt: skip
    lookups = [(n, r) for n, r, _ in rows if n in sizes(args.lookup_sizes)]
    if lookups:
        base_lookup = lookups[0][1]["lookup_us"]
        print()
        base_index = lookups[0][1]["index_us"]
        print("account lookup by supplier + number (one session; the ORM select the bot uses,")
        print("with the supplier and the phones; and the index alone: the id, one Core SELECT):")
        head = f"{'µs/lookup':>10} {'× smallest':>11} {'µs index':>9} {'× smallest':>11}"
        print(f"  {'rows':>10} {head}")
        for n, r in lookups:
            print(f"  {n:>10,} {r['lookup_us']:>10.0f} {r['lookup_us'] / base_lookup:>11.2f} "
                  f"{r['index_us']:>9.0f} {r['index_us'] / base_index:>11.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
