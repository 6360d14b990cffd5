"""Billing sub-commands of run_bot.py: import KIND FILE, export-readings, demo-data.

Exit codes: 0 done, 1 the input was rejected or an argument is wrong (the message says
why; nothing was written), 2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.services.billing import Kind

PROGRESS_EVERY = 100_000


class _Progress:
    """A tqdm bar on a terminal; a plain line every PROGRESS_EVERY rows otherwise."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.rows = 0
        self._next = PROGRESS_EVERY
        self._bar: Any = None
        if self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(desc=label, unit=" rows", file=self.stream, unit_scale=True)

    def __call__(self, rows: int) -> None:
        self.rows += rows
        if self._bar is not None:
            self._bar.update(rows)
        elif self.rows >= self._next:
            print(f"{self.label}: {self.rows:,} rows read", file=self.stream, flush=True)
            while self._next <= self.rows:
                self._next += PROGRESS_EVERY

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _say(message: str) -> None:
    print(f"kabinet: {message}", file=sys.stderr)


# ------------------------------------------------------------------------------- import
def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import migrate_or_explain

    path = Path(args.file)
    if path.is_dir():
        _say(f"cannot read {args.file}: it is a folder, not a file")
        return 1
    if not path.is_file():
        _say(f"cannot read {args.file}: no such file")
        return 1
    migrate_or_explain(settings.database_url)
    return asyncio.run(_import(Kind(args.kind), path, args.file, args.encoding, settings))


def cp1251_advice(kind: Kind, name: str) -> str:
    """How to import a Windows-1251 file with this command (said when UTF-8 fails)."""
    command = f"python run_bot.py import {kind.value} {shlex.quote(name)} --encoding cp1251"
    return f"import it with: {command}"


async def _import(kind: Kind, path: Path, name: str, encoding: str, settings: Settings) -> int:
    from sqlalchemy.exc import OperationalError

    from bot.services.billing import CsvFile, ImportRejected, import_rows
    from storage.db import Database
    from storage.uow import UnitOfWork

    db = Database(settings.database_url)
    progress = _Progress(f"import {kind.value}")
    try:
        with path.open("rb") as stream:
            source = CsvFile(kind, stream, encoding=encoding, advice=cp1251_advice(kind, name))
            async with UnitOfWork(db.session_maker) as uow:
                summary = await import_rows(
                    uow,
                    kind,
                    source,
                    progress=progress,
                    actor="system",
                    workers=settings.import_workers,
                )
    except ImportRejected as exc:
        progress.close()
        for line in exc.lines(name):
            print(line, file=sys.stderr)
        _say(f"{name} rejected: {exc.total} error(s), nothing was imported")
        return 1
    except OSError as exc:
        progress.close()
        _say(f"cannot read {name}: {exc.strerror or exc}")
        return 1
    except OperationalError as exc:  # locked by another import / long write, or unreachable
        progress.close()
        _say(
            f"{name}: the database did not accept the import ({exc.orig}); "
            "nothing was imported, try again later"
        )
        return 1
    finally:
        await db.dispose()
    progress.close()
    print(summary.text())
    return 0


# ------------------------------------------------------------------------------- export
def cmd_export_readings(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import migrate_or_explain

    migrate_or_explain(settings.database_url)
    return asyncio.run(_export(args.period, args.supplier, args.output, settings))


async def _export(period: str, supplier: str | None, output: str | None, settings: Settings) -> int:
    from bot.services.billing import ExportError, accepted_readings, csv_chunks
    from storage.db import Database
    from storage.uow import UnitOfWork

    db = Database(settings.database_url)
    try:
        async with UnitOfWork(db.session_maker) as uow:
            try:
                rows = await accepted_readings(uow, period, supplier)
            except ExportError as exc:
                _say(f"export-readings: {exc}")
                return 1
            if output is None:
                async for chunk in csv_chunks(rows):
                    sys.stdout.write(chunk)
                sys.stdout.flush()
                return 0
            target = Path(output)
            partial = target.with_name(target.name + ".part")
            try:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    async for chunk in csv_chunks(rows):
                        out.write(chunk)
                partial.replace(target)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                _say(f"cannot write {output}: {exc.strerror or exc}")
                return 1
            _say(f"readings of {period} written to {output}")
            return 0
    finally:
        await db.dispose()


# ------------------------------------------------------------------------------- demo
def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import migrate_or_explain

    migrate_or_explain(settings.database_url)
    return asyncio.run(_demo(settings))


async def _demo(settings: Settings) -> int:
    from bot.services.clock import SystemClock
    from bot.services.demo import seed_demo
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        summary = await seed_demo(db, SystemClock())
    finally:
        await db.dispose()
    print(summary.text())
    return 0


def _encoding(value: str) -> str:
    from bot.services.billing import UnknownEncoding, canonical_encoding

    try:
        return canonical_encoding(value)
    except UnknownEncoding as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Any) -> None:
    kinds = [k.value for k in Kind]
    p = sub.add_parser(
        "import",
        help="import a billing CSV file (suppliers, accounts, charges, payments, meters)",
        description="Validate a billing CSV file and apply all of it, or nothing if any row "
        "is wrong. Importing the same file again changes nothing (README: Billing data).",
    )
    p.add_argument("kind", choices=kinds, metavar="KIND", help=" | ".join(kinds))
    p.add_argument(
        "file",
        metavar="FILE",
        help="CSV with a header row, separated by ',' or ';' (found from the header)",
    )
    p.add_argument(
        "--encoding",
        type=_encoding,
        default="utf-8",
        metavar="ENCODING",
        help="utf-8 (default) or cp1251 (Windows-1251: Excel's CSV in Russia, 1C exports)",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export-readings",
        help="write the accepted meter readings of a period as CSV",
        description="Columns: supplier_code,account_number,serial,zone,value,submitted_at,source",
    )
    p.add_argument("--period", required=True, metavar="YYYY-MM")
    p.add_argument("--supplier", metavar="CODE", help="only this supplier's accounts")
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=cmd_export_readings)

    p = sub.add_parser(
        "demo-data",
        help="seed demo suppliers, accounts, charges, payments and meters (idempotent)",
    )
    p.set_defaults(func=cmd_demo_data)
