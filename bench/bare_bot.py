#!/usr/bin/env python3
"""The baseline of bench/latency.py: a bare aiogram bot answering every text with one message.

    BOT_TOKEN=… TELEGRAM_API_URL=… python bench/bare_bot.py
    BOT_TOKEN=… TELEGRAM_API_URL=… WEBHOOK_URL=http://127.0.0.1:PORT/hook python bench/bare_bot.py

Long polling like `run_bot.py run` without WEBHOOK_URL, the same aiohttp session, HTML
parse mode and reply — nothing of ours: no database, middlewares, routers or texts. With
WEBHOOK_URL: aiogram's webhook server on that URL's port, each update handled before its
HTTP reply and the answer returned in that reply (as ours returns the balance screen).
"""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    dp = Dispatcher()
    hook = os.environ.get("WEBHOOK_URL")

    @dp.message(F.text)
    async def answer(message: Message) -> SendMessage | None:
        if hook:
            return message.answer("💳 <b>Баланс</b>: 0,00 ₽")
        await message.answer("💳 <b>Баланс</b>: 0,00 ₽")
        return None

    if not hook:
        # a webhook left by a webhook-mode run would make getUpdates fail (409), as
        # `run_bot.py run` knows too
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
        return
    url = urlsplit(hook)
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False).register(app, path=url.path)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, url.hostname, url.port).start()
    await bot.set_webhook(hook)
    try:
        await asyncio.Event().wait()  # until SIGTERM
    finally:
        await runner.cleanup()
        await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main())
