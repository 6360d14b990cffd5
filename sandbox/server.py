"""An in-memory stand-in for the Telegram Bot API, served over HTTP with aiohttp.

Requests arrive at ``/bot{token}/{method}`` and file downloads at
``/file/bot{token}/{file_path}``, exactly like api.telegram.org, so a bot built
with ``TelegramAPIServer.from_base(url)`` talks to it unchanged.

The world (users, groups and their members) is shared; everything a bot sees
(chats' messages, pending updates, webhook, files, commands, recorded calls) is
kept per bot token in :class:`BotState`. Test code drives the world directly
through :mod:`sandbox.testing`, in the same event loop as the server.

This module is the HTTP side: routing, dispatching a call to the method registered for it
(:mod:`sandbox.methods`, one module per method group), recording calls and simulated flood
limits. What the methods share is in :mod:`sandbox.core` and :mod:`sandbox.records`. Updates
go to a webhook as Telegram sends them — up to ``max_connections`` at once, each chat's in
order — by :mod:`sandbox.delivery`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.core import METHODS, ApiError, BotState, Notifier, Params, read_params
from sandbox.delivery import deliver
from sandbox.limits import too_many
from sandbox.methods import load_method_groups
from sandbox.records import ApiCall, BotInfo, FaultRule, GroupRecord, UserRecord, Webhook

__all__ = ["METHOD_GROUPS", "ApiCall", "BotState", "SandboxServer", "supported_methods"]

log = logging.getLogger("sandbox")

TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]{35,}$")
#: the modules of sandbox.methods, imported here so that every method is registered
METHOD_GROUPS = load_method_groups()


# --------------------------------------------------------------------------- the server


class SandboxServer:
    """The HTTP server and the shared world. Use :class:`sandbox.testing.Sandbox` in tests."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        callback_timeout: float = 15.0,
        webhook_retry_delays: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0),
        webhook_timeout: float = 10.0,
    ):
        self.host = host
        self.port = port
        self.callback_timeout = callback_timeout
        self.webhook_retry_delays = webhook_retry_delays
        self.webhook_timeout = webhook_timeout
        self.notifier = Notifier()
        self.bots: dict[str, BotState] = {}
        self.registry: dict[str, BotInfo] = {}
        self.users: dict[int, UserRecord] = {}
        self.groups: dict[int, GroupRecord] = {}
        self._user_ids = itertools.count(700_000_001)
        self._group_ids = itertools.count(1_000_000_001)
        self._callback_ids = itertools.count(4_630_000_000_000_000_001)
        self.closing = False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.app = self._make_app()

    # ----- lifecycle

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/", self._handle_index)
        return app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.closing = False
        self._runner = web.AppRunner(
            self.app, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])
        log.info("Telegram sandbox listening on %s", self.url)

    async def stop(self) -> None:
        self.closing = True
        self.notifier.notify()
        tasks = [st.webhook.task for st in self.bots.values() if st.webhook and st.webhook.task]
        tasks += [post for st in self.bots.values() for post in st.webhook_posts.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----- world

    def register_bot(
        self,
        token: str,
        *,
        username: str = "kabinet_test_bot",
        first_name: str = "Kabinet",
        privacy_mode: bool = True,
    ) -> BotInfo:
        match = TOKEN_RE.match(token)
        if match is None:
            raise ValueError(f"not a bot token: {token!r}")
        info = BotInfo(token, int(match.group(1)), username, first_name, privacy_mode)
        self.registry[token] = info
        if token in self.bots:
            self.bots[token].info = info
        return info

    def bot(self, token: str) -> BotState:
        state = self.bots.get(token)
        if state is None:
            info = self.registry.get(token)
            if info is None:
                match = TOKEN_RE.match(token)
                if match is None:
                    raise ValueError(f"not a bot token: {token!r}")
                info = BotInfo(token, int(match.group(1)))
                self.registry[token] = info
            state = self.bots[token] = BotState(self, info)
            bot_record = UserRecord(info.id, info.first_name, username=info.username, is_bot=True)
            self.users.setdefault(info.id, bot_record)
        return state

    def add_user(self, user: UserRecord) -> UserRecord:
        self.users[user.id] = user
        return user

    def next_user_id(self) -> int:
        while True:
            value = next(self._user_ids)
            if value not in self.users:
                return value

    def next_group_id(self) -> int:
        while True:
            value = -(1_000_000_000_000 + next(self._group_ids))
            if value not in self.groups:
                return value

    def next_callback_id(self) -> str:
        return str(next(self._callback_ids))

    # ----- http handlers

    async def _handle_index(self, request: web.Request) -> web.Response:
        return web.Response(text="Telegram Bot API sandbox\n")

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        state = self.bots.get(token) if TOKEN_RE.match(token) else None
        record = state.files_by_path.get(request.match_info["path"]) if state else None
        if record is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not TOKEN_RE.match(token):
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        entry = METHODS.get(request.match_info["method"].lower())
        if entry is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        state = self.bot(token)
        try:
            params = await read_params(request)
        except ApiError as exc:
            return web.json_response(exc.payload(), status=exc.code)
        fault = state.take_fault(entry.name, params.fields.get("chat_id")) if state.faults else None
        if fault is not None:
            return await self._faulted(request, state, entry.name, params, fault)
        body = await self.call(state, entry.name, params)
        return web.json_response(body, status=200 if body["ok"] else int(body["error_code"]))

    async def _faulted(
        self, request: web.Request, state: BotState, method: str, params: Params, fault: FaultRule
    ) -> web.Response:
        """Answer one call as the injected fault says (docs: FaultRule in sandbox.records)."""
        log.info("sandbox: injected %s on %s", fault.kind, method)
        if fault.kind in ("error", "timeout", "drop"):  # not done: recorded as failed at once
            call = ApiCall(method, params.summary(), ok=False, time=time.time())
            call.error_code, call.error = fault.status, f"injected {fault.kind}"
            state.calls.append(call)
            state.notify()
        if fault.kind in ("timeout", "delay"):
            await asyncio.sleep(fault.delay)  # the bot may give up meanwhile (timeout)
        if fault.kind in ("delay", "drop_after"):
            body = await self.call(state, method, params)
            if fault.kind == "delay":
                return web.json_response(body, status=200 if body["ok"] else body["error_code"])
        if fault.kind in ("drop", "drop_after"):
            if request.transport is not None:
                request.transport.abort()  # the bot reads a reset connection, no answer
            return web.Response(status=599)
        description = "Bad Gateway" if fault.status == 502 else "Internal Server Error"
        error = ApiError(fault.status, description)
        return web.json_response(error.payload(), status=fault.status)

    async def call(self, state: BotState, method: str, params: Params) -> dict[str, Any]:
        """Run one API method as if requested over HTTP; returns the response body."""
        entry = METHODS.get(method.lower())
        if entry is None:
            return ApiError(404, "Not Found").payload()
        name = entry.name
        call = ApiCall(name, params.summary(), ok=False, time=time.time())
        try:
            self._check_flood(state, name, params)
            result = await entry.handler(self, state, params)
        except ApiError as exc:
            call.error_code, call.error = exc.code, exc.description
            if entry.recorded:
                state.calls.append(call)
                state.notify()
            return exc.payload()
        call.ok, call.result = True, result
        if entry.recorded:
            state.calls.append(call)
            state.notify()
        body: dict[str, Any] = {"ok": True, "result": result}
        if isinstance(result, bool) and entry.describe is not None:
            body["description"] = entry.describe(state, params)
        return body

    def _check_flood(self, state: BotState, method: str, p: Params) -> None:
        """429 for a scripted flood (``simulate_flood``), then for a message over Telegram's
        limits when they are on (``state.rate_limits``: sandbox/limits.py)."""
        self._check_flood_rules(state, method, p)
        if state.rate_limits is not None:
            wait = state.rate_limits.check(method, p.fields.get("chat_id"))
            if wait is not None:
                raise too_many(wait)

    def _check_flood_rules(self, state: BotState, method: str, p: Params) -> None:
        for rule in state.flood:
            if rule.method.lower() != method.lower() or rule.times <= 0:
                continue
            if rule.chat_id is not None:
                try:
                    if int(p.fields.get("chat_id", 0)) != rule.chat_id:
                        continue
                except (TypeError, ValueError):
                    continue
            rule.times -= 1
            state.flood = [r for r in state.flood if r.times > 0]
            raise too_many(rule.retry_after)

    # ----- webhooks (delivery itself is sandbox.delivery.deliver)

    def client(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession()
        return self._client

    def start_webhook(self, state: BotState, hook: Webhook) -> None:
        """``hook`` becomes the bot's webhook; the old one starts no more requests (those in
        flight finish: sandbox.delivery)."""
        old = state.webhook
        if old is not None and old.task is not None:
            old.task.cancel()
        state.webhook = hook
        hook.task = asyncio.get_running_loop().create_task(deliver(self, state, hook))
        state.notify()

    def stop_webhook(self, state: BotState) -> None:
        old = state.webhook
        state.webhook = None
        if old is not None and old.task is not None:
            old.task.cancel()
        state.notify()


def supported_methods() -> list[str]:
    """Every Bot API method the sandbox answers (aliases such as close/logOut included)."""
    return sorted(method.name for method in METHODS.values())
