"""Running the bot: long polling (default) or webhook, with the web app beside it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiohttp import ClientError, web

from bot.app import create_bot, create_dispatcher, set_commands, setup_production_bot
from bot.config import Settings
from bot.i18n import create_i18n
from bot.scheduler import start_reminders
from bot.web.app import create_web_app
from bot.web.metrics import Metrics
from storage.db import Database

log = logging.getLogger("kabinet")


class StartupError(Exception):
    """Something the operator must fix before the bot can start; said in one sentence."""


async def _check_bot(bot: Bot, settings: Settings) -> None:
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError(
            "Telegram rejected BOT_TOKEN: check it with @BotFather (/mybots → API Token)."
        ) from None
    except (TimeoutError, TelegramAPIError, ClientError, OSError) as exc:
        raise StartupError(
            f"Cannot reach the Bot API at {settings.api_base} ({exc.__class__.__name__}: {exc}); "
            "check TELEGRAM_API_URL and the network."
        ) from None
    log.info("bot @%s (id %s) via %s", me.username, me.id, settings.api_base)


async def _start_web(app: web.Application, settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(
            f"Cannot listen on {settings.web_host}:{settings.web_port} ({exc.strerror}); "
            "set WEB_HOST/WEB_PORT."
        ) from None
    log.info("web app on http://%s:%s (/healthz)", settings.web_host, settings.web_port)
    return runner


async def _forget_old_updates(db: Database, keep_hours: int) -> None:
    """processed_updates older than PROCESSED_UPDATES_KEEP_HOURS go (prod, issue 13)."""
    import datetime as dt

    from storage import once

    before = dt.datetime.now(dt.UTC) - dt.timedelta(hours=keep_hours)
    if forgotten := await once.purge(db.session_maker, before):
        log.info("forgot %s handled update id(s)", forgotten)


async def _housekeeping(db: Database, keep_hours: int = 48) -> None:
    """Hourly, while the bot runs: old codes and abandoned conversations go."""
    from bot.services.clock import SystemClock
    from bot.services.housekeeping import EVERY, purge
    from storage.uow import UnitOfWork

    while True:
        try:
            async with UnitOfWork(db.session_maker) as uow:
                purged = await purge(uow, clock=SystemClock())
            if purged.codes or purged.conversations:
                log.info(purged.text())
            await _forget_old_updates(db, keep_hours)
        except Exception:  # a failed round is logged; the next one tries again
            log.exception("housekeeping failed")
        await asyncio.sleep(EVERY.total_seconds())


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop where it is installed (Linux, macOS: a dependency there), else on
    asyncio's own loop. uvloop hands a result from a worker thread back to the loop in about
    60 % of asyncio's time; every SQLite statement makes four such hops (aiosqlite runs the
    connection in a thread), so the balance screen's reads get cheaper (bench/README.md)."""
    try:
        import uvloop
    except ImportError:  # Windows, PyPy: the standard loop
        asyncio.run(main)
    else:
        uvloop.run(main)


def settle_heap() -> None:
    """Keep what start-up made out of the garbage collector's sight (`gc.freeze()`).

    Imports, pydantic models, catalogs, the routers: ~300,000 objects that live as long as
    the process. A full collection walked them all, 200-360 ms during which no update was
    handled (measured on the latency benchmark, bench/README.md); frozen, a full collection
    walks only what was made since, ~15 ms. Garbage is collected first, so none is frozen.
    """
    gc.collect()
    gc.freeze()


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(settings: Settings) -> None:
    db = Database(settings.database_url)
    bot = create_bot(settings)
    try:
        await _check_bot(bot, settings)
        dp: Dispatcher = create_dispatcher(settings, db)
        setup_production_bot(bot, settings, db, dp)
        await set_commands(bot, create_i18n(settings.default_locale))
        if settings.staff_chat_id is None:
            log.warning("STAFF_CHAT_ID is not set: escalations to operators are disabled")
        metrics = Metrics()
        metrics.instrument(dp, bot)
        app = create_web_app(settings, db, bot=bot, dispatcher=dp, metrics=metrics)
        runner = await _start_web(app, settings)
        chores = asyncio.create_task(
            _housekeeping(db, settings.processed_updates_keep_hours), name="housekeeping"
        )
        reminders = start_reminders(settings, db, create_i18n(settings.default_locale))
        settle_heap()
        try:
            if settings.webhook_url is not None:
                secret = (
                    settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
                )
                await bot.set_webhook(
                    str(settings.webhook_url),
                    secret_token=secret,
                    allowed_updates=dp.resolve_used_update_types(),
                )
                log.info("webhook mode: %s", settings.webhook_url)
                await dp.emit_startup(bot=bot)
                await _stop_event().wait()
                dp["lifecycle"].stop_accepting()  # the webhook answers 503, /healthz too
                await dp.emit_shutdown(bot=bot)  # waits for the updates in flight first
            else:
                await bot.delete_webhook(drop_pending_updates=False)
                log.info("long polling")
                await dp.start_polling(
                    bot, allowed_updates=dp.resolve_used_update_types(), handle_signals=True
                )
        finally:
            if reminders is not None:
                await reminders.stop()
            chores.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chores
            await runner.cleanup()
            await dp.storage.close()
            await dp["gateways"].aclose()
    finally:
        await bot.session.close()
        await db.dispose()
        log.info("stopped: database closed")


async def serve_api(settings: Settings) -> None:
    """The billing API and /healthz alone, without the bot."""
    db = Database(settings.database_url)
    try:
        runner = await _start_web(create_web_app(settings, db), settings)
        settle_heap()
        try:
            await _stop_event().wait()
        finally:
            await runner.cleanup()
    finally:
        await db.dispose()
