#!/usr/bin/env python3
"""The baseline of bench/latency.py: a bare aiogram bot answering every text with one message.

    BOT_TOKEN=… TELEGRAM_API_URL=… python bench/bare_bot.py

Long polling like `run_bot.py run` without WEBHOOK_URL, the same aiohttp session, HTML
parse mode and reply — nothing of ours: no database, middlewares, routers or texts.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Message


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    dp = Dispatcher()

    @dp.message(F.text)
    async def answer(message: Message) -> None:
        await message.answer("💳 <b>Баланс</b>: 0,00 ₽")

    await dp.start_polling(bot, handle_signals=True, close_bot_session=True)


if __name__ == "__main__":
    asyncio.run(main())
