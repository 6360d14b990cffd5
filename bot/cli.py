"""The sub-commands of run_bot.py (run is the default)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence

from bot.config import MissingToken, Settings, SettingsError, load_settings, require_token

Command = Callable[[argparse.Namespace, Settings], int]


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiogram.event").setLevel(max(logging.getLevelName(level), logging.INFO))
    logging.getLogger("alembic").setLevel(logging.WARNING)


class MigrationFailed(Exception):
    pass


def migrate_or_explain(database_url: str, revision: str = "head") -> None:
    """Apply migrations; a failure becomes one sentence (the transaction was rolled back)."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.migrate import upgrade

    try:
        upgrade(database_url, revision)
    except (SQLAlchemyError, OSError) as exc:
        where = database_url.split("@")[-1]
        first_line = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise MigrationFailed(
            f"could not migrate the database at {where}: {first_line}. Nothing was changed; "
            "check DATABASE_URL and that the database is reachable and was created by Kabinet."
        ) from exc


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    migrate_or_explain(settings.database_url, args.revision)
    print(f"database at {settings.database_url.split('@')[-1]}: migrated to {args.revision}")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    require_token(settings)  # before anything is created or imported
    from bot.runner import StartupError, run_event_loop, serve

    migrate_or_explain(settings.database_url)
    try:
        run_event_loop(serve(settings))
    except StartupError as exc:
        print(f"kabinet: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_serve_api(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runner import StartupError, run_event_loop, serve_api

    migrate_or_explain(settings.database_url)
    try:
        run_event_loop(serve_api(settings))
    except StartupError as exc:
        print(f"kabinet: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_housekeeping(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.clock import SystemClock
    from bot.services.housekeeping import purge
    from storage.db import Database
    from storage.uow import UnitOfWork

    migrate_or_explain(settings.database_url)

    async def run() -> str:
        db = Database(settings.database_url)
        try:
            async with UnitOfWork(db.session_maker) as uow:
                return (await purge(uow, clock=SystemClock())).text()
        finally:
            await db.dispose()

    print(asyncio.run(run()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_bot.py", description="Kabinet: a utility company's cabinet in Telegram."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("run", help="apply migrations and run the bot (default)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("--revision", default="head")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("serve-api", help="run the billing API and /healthz without the bot")
    p.set_defaults(func=cmd_serve_api)
    p = sub.add_parser(
        "housekeeping",
        help="delete old codes, abandoned conversations and reminder records (hourly in run)",
    )
    p.set_defaults(func=cmd_housekeeping)

    from bot import cli_billing

    cli_billing.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        args = parser.parse_args(["run", *(argv or [])])
    try:
        settings = load_settings()
    except SettingsError as exc:
        print("kabinet: invalid configuration:\n" + str(exc), file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    try:
        return int(args.func(args, settings))
    except MissingToken as exc:
        print(f"kabinet: {exc}", file=sys.stderr)
        return 2
    except MigrationFailed as exc:
        print(f"kabinet: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
