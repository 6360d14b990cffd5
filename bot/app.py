"""Factories: the bot, the FSM storage, the dispatcher. No import-time state."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n

from bot.config import Settings, require_token
from bot.i18n import LanguageCache, ResidentI18nMiddleware, create_i18n
from bot.integrations import Gateways, create_gateways
from bot.lifecycle import Lifecycle, OncePerUpdate
from bot.middlewares import (
    CommitBeforeSend,
    PortsFactory,
    RetryAfter,
    ReturnedAnswer,
    ServicesMiddleware,
    UnitOfWorkMiddleware,
)
from bot.services.clock import Clock, SystemClock
from bot.services.receipts import Renderer
from bot.telegram import create_ports
from bot.telegram.errors import QuietCallbackAnswers
from bot.telegram.notice_board import NoticeRunner  # staff
from bot.telegram.pressure import CountMessages
from bot.telegram.response_types import KeepResponseTypes
from bot.telegram.retry import TelegramRetry, Unreachable
from bot.telegram.session import JsonAiohttpSession
from bot.telegram.support import ChatKinds
from handlers import create_routers
from handlers.common.albums import OneAnswerPerAlbum
from handlers.common.gate import BannedResidents  # staff
from handlers.common.menu_exit import MainMenuExit
from handlers.common.texts import N_
from storage.db import Database
from storage.fsm import SQLAlchemyStorage

log = logging.getLogger("kabinet")

COMMANDS = (
    ("start", N_("Main menu")),
    ("help", N_("What the bot can do")),
    ("cancel", N_("Stop what you are doing")),
    ("settings", N_("Language, e-mail, your data")),
)


def create_bot(settings: Settings, *, flood_control: bool = True, **session_kwargs: Any) -> Bot:
    """The Bot; `flood_control=False` for the bulk sender's own (it handles 429 itself)."""
    token = require_token(settings)
    session_kwargs.setdefault("timeout", settings.telegram_timeout_seconds)
    session = JsonAiohttpSession(
        api=TelegramAPIServer.from_base(settings.api_base), **session_kwargs
    )
    bot = Bot(
        token=token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    return setup_bot(bot) if flood_control else bot


def setup_bot(bot: Bot) -> Bot:
    """Request middlewares every Bot of ours carries (tests build Bots with other sessions)."""
    bot.session.middleware(KeepResponseTypes())
    bot.session.middleware(CommitBeforeSend())
    bot.session.middleware(RetryAfter())
    bot.session.middleware(QuietCallbackAnswers())
    bot.session.middleware(CountMessages())
    return bot


def create_fsm_storage(settings: Settings, db: Database) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis when REDIS_URL is set (several processes), the database otherwise."""
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        from bot.services.housekeeping import CONVERSATIONS_KEPT

        storage = RedisStorage.from_url(
            settings.redis_url,
            key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
            state_ttl=CONVERSATIONS_KEPT,
            data_ttl=CONVERSATIONS_KEPT,
        )
        return storage, storage.create_isolation()
    # one process owns an SQLite file: its conversation states may be remembered in memory
    cache = 600.0 if settings.database_url.startswith("sqlite") else 0.0
    return SQLAlchemyStorage(db.session_maker, cache_ttl=cache), SimpleEventIsolation()


def create_dispatcher(
    settings: Settings,
    db: Database,
    *,
    clock: Clock | None = None,
    gateways: Gateways | None = None,
    storage: BaseStorage | None = None,
    i18n: I18n | None = None,
    ports: PortsFactory | None = None,
    renderer: Renderer | None = None,
) -> Dispatcher:
    """The production Dispatcher. `ports` builds the StaffDesk and ResidentNotifier over
    the update's Bot (default: the Telegram ones of bot/telegram/); tests hand in others.
    `renderer` draws receipts and charts off the event loop (default: RENDER_WORKERS
    processes, started on first use and stopped at the dispatcher's shutdown)."""
    if storage is None:
        storage, isolation = create_fsm_storage(settings, db)
    else:
        isolation = SimpleEventIsolation()
    i18n = i18n or create_i18n(settings.default_locale)
    lang_cache = LanguageCache()
    clock = clock or SystemClock()
    gateways = gateways or create_gateways(settings)
    renderer = renderer or Renderer(workers=settings.render_workers)
    if ports is None:
        i18n_ = i18n
        kinds = ChatKinds()  # whether the staff chat is a forum, remembered across updates

        def ports(bot: Bot) -> object:
            return create_ports(bot, i18n_, settings, kinds=kinds)

    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        settings=settings,
        db=db,
        clock=clock,
        gateways=gateways,
        lang_cache=lang_cache,
    )
    dp.update.outer_middleware(UnitOfWorkMiddleware(db.session_maker))
    setup_once(dp, settings, clock, db)
    dp.update.outer_middleware(ServicesMiddleware(settings, clock, gateways, ports, renderer))
    dp.update.outer_middleware(ReturnedAnswer())  # inside the unit of work: its docstring
    dp.shutdown.register(renderer.close)
    ResidentI18nMiddleware(i18n, lang_cache).setup(dp)
    # --- staff: banned residents reach nothing; notices run in tasks of their own ---
    banned = BannedResidents()
    for observer in (dp.message, dp.edited_message, dp.callback_query):
        observer.outer_middleware(banned)
    notice_runner = NoticeRunner(settings, db, i18n, clock)
    dp["notice_runner"] = notice_runner
    dp.startup.register(notice_runner.resume)
    dp.shutdown.register(notice_runner.close)
    # --- end staff ---
    dp.message.outer_middleware(MainMenuExit())
    dp.message.outer_middleware(OneAnswerPerAlbum())
    dp.include_routers(*create_routers(settings))
    return dp


# --- production (issue 13, prod): each update once, graceful stop, Telegram's failures ---


def setup_once(dp: Dispatcher, settings: Settings, clock: Clock, db: Database) -> Lifecycle:
    """Each update_id handled once (in process, across restarts and instances), counted in
    flight; the dispatcher's shutdown first waits for the updates in flight (bounded), then
    writes the read-only update_ids still in memory."""
    lifecycle = Lifecycle(grace=settings.shutdown_grace_seconds)
    several = not settings.database_url.startswith("sqlite")  # PostgreSQL: instances race
    once = OncePerUpdate(lifecycle, clock, db.session_maker, eager=several)
    dp["lifecycle"] = lifecycle
    dp["once"] = once
    dp.update.outer_middleware(once)
    dp.shutdown.register(lifecycle.drain)
    dp.shutdown.register(once.flush)
    return lifecycle


def setup_production_bot(
    bot: Bot, settings: Settings, db: Database, dp: Dispatcher | None = None
) -> Bot:
    """What the bot of a running process adds to `setup_bot`: retries of 5xx and network
    errors (bounded), and residents Telegram refuses to deliver to marked inactive."""
    bot.session.middleware(
        TelegramRetry(
            attempts=settings.telegram_retry_attempts, max_wait=settings.telegram_retry_max_wait
        )
    )
    once = dp.workflow_data.get("once") if dp is not None else None
    bot.session.middleware(
        Unreachable(db.session_maker, on_unreachable=once.forget_active if once else None)
    )
    return bot


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """setMyCommands for private chats, in each language and as the default."""
    scope = BotCommandScopeAllPrivateChats()
    for language in (*i18n.available_locales, None):
        locale = language or i18n.default_locale
        commands = [
            BotCommand(command=name, description=i18n.gettext(text, locale=locale))
            for name, text in COMMANDS
        ]
        await bot.set_my_commands(commands, scope=scope, language_code=language)
