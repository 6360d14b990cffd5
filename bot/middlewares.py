"""Middlewares: the unit of work of an update, the services built over it, committing it
before the bot speaks, and the answer a handler returns instead of sending."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.integrations import Gateways
from bot.services.balance import BalanceService
from bot.services.balance.payments import PaymentsService
from bot.services.bans import BanList, BanService  # staff
from bot.services.clock import Clock
from bot.services.codes import CodesService
from bot.services.linking import LinkingService
from bot.services.notices import NoticeService  # staff
from bot.services.profile import ProfileService
from bot.services.readings import ReadingsService, rules_from
from bot.services.receipts import ReceiptService, Renderer
from bot.services.registration import RegistrationService, ResidentCache
from bot.services.representatives import RepresentativesService
from bot.services.staff_lookup import StaffLookupService  # staff
from bot.services.staff_stats import StaffStatsService  # staff
from bot.services.support import SupportService, parse_hours
from bot.telegram.pressure import PRESSURE
from storage.locks import create_keyed_lock
from storage.uow import UnitOfWork, current_uow

#: builds the ports (StaffDesk, ResidentNotifier) over the update's Bot
PortsFactory = Callable[[Bot], Any]

log = logging.getLogger("kabinet")


#: in `data` of an update that came by webhook and waits for its HTTP reply (bot/web/webhook.py)
WEBHOOK_REPLY = "webhook_reply"


class ReturnedAnswer(BaseMiddleware):
    """A handler may *return* its last answer — a Bot API method built and not awaited,
    e.g. `return message.answer(text)` — instead of sending it.

    - An update that came by webhook and is handled before its HTTP reply (`WEBHOOK_REPLY`
      in `data`): the method goes back to aiogram, which writes it into the webhook's
      reply. Telegram executes it ("Making requests when getting updates",
      https://core.telegram.org/bots/api#making-requests-when-getting-updates): one HTTP
      request of the bot's fewer, a third of a balance press's CPU (bench/README.md). Its
      result is not known to the bot, so only an answer whose result nothing needs (no
      message_id kept) is returned.
      Only an update that stored nothing is answered so: the reply travels with the 200,
      so if it is lost (a timeout, a dropped connection) Telegram sends the update again,
      and `OncePerUpdate` leaves such an update unremembered — it is answered again, not
      skipped as handled. An update that stored something was claimed with its writes;
      its answer goes as a request before the 200, as every other answer does.
    - Otherwise — long polling, tests, an update that stored something (always with
      several instances: the claim is made first), or a webhook update whose reply could
      meet Telegram's limits (`bot.telegram.pressure`: bulk messages going, a recent 429,
      28 messages in the last second, a message to the chat in the last second — a refused
      reply would be lost) — it is sent here, as an awaited call would be, with our request
      middlewares (429 waited out, 5xx retried, blocked residents marked) and its failure
      reaching the error handler (aiogram itself would send it and only log a failure).

    Registered after the unit of work and the update_id claim, so the update is still
    counted in flight while its answer is sent: the send commits the update's writes first
    (`CommitBeforeSend`) as an awaited answer does, and a webhook reply is written only after
    the unit of work has committed.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        result = await handler(event, data)
        if not isinstance(result, TelegramMethod):
            return result
        if data.get(WEBHOOK_REPLY) and not data["uow"].has_writes:
            chat_id = getattr(result, "chat_id", None)
            if PRESSURE.may_reply(chat_id):
                PRESSURE.message_to(chat_id)
                return result
        bot: Bot = data["bot"]
        await bot(result)
        return None


class UnitOfWorkMiddleware(BaseMiddleware):
    """One lazily opened session per update: committed once when the handler returns."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self.session_maker = session_maker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with UnitOfWork(self.session_maker) as uow:
            data["uow"] = uow
            token = current_uow.set(uow)
            try:
                return await handler(event, data)
            finally:
                current_uow.reset(token)


class ServicesMiddleware(BaseMiddleware):
    """Builds the services of one update over its unit of work; handlers take them by name
    (`linking: LinkingService`, `registration: RegistrationService`, `profile:
    ProfileService`, `balance: BalanceService`, `receipts: ReceiptService`, `readings:
    ReadingsService`). Construction only stores references: no query runs until a handler
    calls a method, so an update that needs no data costs no database round trip."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        gateways: Gateways,
        ports: PortsFactory,
        renderer: Renderer | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.gateways = gateways
        self.ports = ports
        self.reading_rules = rules_from(settings)
        self.renderer = renderer or Renderer(workers=0)
        self.residents = ResidentCache(ttl=60.0)  # the gate's answer, per process
        # support conversations: a resident's updates one at a time (Redis when configured)
        self.locks = create_keyed_lock(settings.redis_url)
        self.support_hours = parse_hours(settings.support_hours)
        self.banned = BanList()  # staff: the banned residents, per process

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        settings, clock, uow = self.settings, self.clock, data["uow"]
        ports = self.ports(data["bot"])
        codes = CodesService(uow, clock, ttl_minutes=settings.code_ttl_minutes)
        data["registration"] = RegistrationService(
            uow,
            clock,
            consent_version=settings.consent_version,
            desk=ports.desk,
            cache=self.residents,
        )
        data["linking"] = LinkingService(
            uow,
            clock,
            limit=settings.link_attempts_per_day,
            code_ttl_minutes=settings.code_ttl_minutes,
            sms=self.gateways.sms,
            desk=ports.desk,
            notifier=ports.notifier,
        )
        data["profile"] = ProfileService(
            uow,
            clock,
            codes=codes,
            email=self.gateways.email if settings.email_enabled else None,
            residents=self.residents,
        )
        data["readings"] = ReadingsService(
            uow, clock, rules=self.reading_rules, desk=ports.desk, notifier=ports.notifier
        )
        data["representatives"] = RepresentativesService(
            uow,
            clock,
            limit=settings.link_attempts_per_day,
            desk=ports.desk,
            notifier=ports.notifier,
        )
        balance = BalanceService(uow, clock, self.renderer)
        data["balance"] = balance
        data["receipts"] = ReceiptService(uow, clock, self.renderer, balance)
        data["payments"] = PaymentsService(uow, clock, balance)
        support = SupportService(
            uow,
            clock,
            desk=getattr(ports, "support", None),
            locks=self.locks,
            hours=self.support_hours,
            balance=balance,
            full_phone=settings.staff_see_full_phone,
        )
        data["support"] = support
        if ports.desk is not None and support.enabled:
            ports.desk.use_threads(support)  # escalations in the resident's topic
        # --- staff ---
        data["bans"] = BanService(uow, clock, self.banned)
        data["staff_lookup"] = StaffLookupService(uow)
        data["staff_stats"] = StaffStatsService(uow, clock)
        data["notices"] = NoticeService(uow, clock)
        # --- end staff ---
        return await handler(event, data)


class CommitBeforeSend(BaseRequestMiddleware):
    """Nothing is said before it is stored.

    Before the bot sends anything to Telegram on behalf of an update, the update's unit
    of work is committed: a resident who reads "you are registered" is registered, even if
    the process dies a millisecond later. Whatever the handler does after its last message
    is committed by `UnitOfWorkMiddleware` as usual.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        uow = current_uow.get()
        if uow is not None:
            await uow.commit_writes()
        return await make_request(bot, method)


class RetryAfter(BaseRequestMiddleware):
    """Honour Telegram's flood control: on 429, wait `retry_after` and send again.

    Bounded: at most `tries` sends and `max_wait` seconds for one wait; past that the
    error goes up (the update's error handler tells the resident to try again).
    """

    def __init__(self, tries: int = 3, max_wait: float = 30.0) -> None:
        self.tries = tries
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, self.tries + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                PRESSURE.flooded(exc.retry_after)
                if attempt == self.tries or exc.retry_after > self.max_wait:
                    raise
                log.warning(
                    "flood control on %s: waiting %s s (try %s of %s)",
                    method.__api_method__,
                    exc.retry_after,
                    attempt,
                    self.tries,
                )
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover
