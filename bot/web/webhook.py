"""The webhook endpoint of a production process.

- An update is answered 200 only after it was handled (not in the background): if the
  process dies meanwhile (kill -9, a crash, an OOM kill), Telegram sends it again — to this
  instance after a restart or to another one behind the proxy — and the update_id claim
  (bot/lifecycle.py) makes sure it is handled once.
- After SIGTERM (`Lifecycle.accepting` is False) a new update gets 503 at once: Telegram
  re-sends it later, and a proxy with `proxy_next_upstream http_503` hands it to another
  instance right away; the updates in flight finish.
- A handler's returned answer (`bot.middlewares.ReturnedAnswer`) goes back as the HTTP
  reply, as JSON ({"method": "sendMessage", ...}; multipart only if it uploads a file),
  which Telegram executes: no request of the bot's own for it. Counted in
  `kabinet_telegram_requests_total{outcome="reply"}`.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from aiohttp.payload import JsonPayload, Payload

from bot.lifecycle import Lifecycle
from bot.middlewares import WEBHOOK_REPLY
from bot.telegram.session import JsonAiohttpSession
from bot.web.metrics import Metrics


class ProductionWebhook(SimpleRequestHandler):
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        lifecycle: Lifecycle,
        secret_token: str | None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(
            dispatcher=dispatcher,
            bot=bot,
            secret_token=secret_token,
            handle_in_background=False,
            **{WEBHOOK_REPLY: True},
        )
        self.lifecycle = lifecycle
        self.metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        if not self.lifecycle.accepting:
            return web.Response(status=503, text="stopping", headers={"Retry-After": "5"})
        self.lifecycle.enter()  # from the first byte: a drain waits for this request too
        try:
            return await super().handle(request)
        finally:
            self.lifecycle.leave()

    __call__ = handle

    def _build_response_writer(self, bot: Bot, result: TelegramMethod[Any] | None) -> Payload:
        if result is None:
            return super()._build_response_writer(bot, result)
        if self.metrics is not None:
            self.metrics.api_calls.labels(result.__api_method__, "reply").inc()
        session = bot.session
        params = None
        if isinstance(session, JsonAiohttpSession):
            params = session.parameters(bot, result)
        if params is None:  # a file to upload, or a session of tests: aiogram's multipart
            return super()._build_response_writer(bot, result)
        return JsonPayload({"method": result.__api_method__, **params}, dumps=session.json_dumps)
