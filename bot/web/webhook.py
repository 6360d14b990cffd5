"""The webhook endpoint of a production process.

- An update is answered 200 only after it was handled (not in the background): if the
  process dies meanwhile (kill -9, a crash, an OOM kill), Telegram sends it again — to this
  instance after a restart or to another one behind the proxy — and the update_id claim
  (bot/lifecycle.py) makes sure it is handled once.
- After SIGTERM (`Lifecycle.accepting` is False) a new update gets 503 at once: Telegram
  re-sends it later, and a proxy with `proxy_next_upstream http_503` hands it to another
  instance right away; the updates in flight finish.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.lifecycle import Lifecycle


class ProductionWebhook(SimpleRequestHandler):
    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, lifecycle: Lifecycle, secret_token: str | None
    ) -> None:
        super().__init__(
            dispatcher=dispatcher, bot=bot, secret_token=secret_token, handle_in_background=False
        )
        self.lifecycle = lifecycle

    async def handle(self, request: web.Request) -> web.Response:
        if not self.lifecycle.accepting:
            return web.Response(status=503, text="stopping", headers={"Retry-After": "5"})
        self.lifecycle.enter()  # from the first byte: a drain waits for this request too
        try:
            return await super().handle(request)
        finally:
            self.lifecycle.leave()

    __call__ = handle
