"""Our Bots send the Bot API JSON bodies, and multipart form data only to upload a file:
read off the wire by a real HTTP server standing in for Telegram."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.telegram.session import JsonAiohttpSession

TOKEN = "42:" + "A" * 35
MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 830000001, "type": "private"}}


class Telegram:
    """Records each request's method, content type and parameters; answers like the API."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.answer: tuple[int, dict[str, Any]] | None = None
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {
                key: ("<file>" if isinstance(value, web.FileField) else value)
                for key, value in form.items()
            }
        self.requests.append((method, request.content_type, params))
        await asyncio.sleep(self.delay)
        status, body = self.answer or (200, {"ok": True, "result": {**MESSAGE, "text": "ok"}})
        return web.json_response(body, status=status)


@pytest.fixture
async def api() -> AsyncIterator[tuple[Bot, Telegram]]:
    telegram = Telegram()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", telegram.handle)
    server = TestServer(app)
    await server.start_server()
    session = JsonAiohttpSession(api=TelegramAPIServer.from_base(str(server.make_url(""))))
    bot = Bot(
        TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )
    yield bot, telegram
    await session.close()
    await server.close()


async def test_a_message_goes_as_one_json_object_with_its_keyboard_nested(
    api: tuple[Bot, Telegram],
) -> None:
    bot, telegram = api
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="🧾 Квитанция", callback_data="bal:r:1")]]
    )
    text = "Лицевой счёт 5800000001 — к оплате 1 234,56 ₽ & <b>долг</b>"
    sent = await bot.send_message(830000001, text, reply_markup=keyboard)
    assert sent.message_id == 7
    ((method, content_type, params),) = telegram.requests
    assert (method, content_type) == ("sendMessage", "application/json")
    assert params["chat_id"] == 830000001
    assert params["text"] == text
    assert params["parse_mode"] == "HTML"  # the Bot's defaults are filled in, as in a form
    assert params["link_preview_options"] == {"is_disabled": True}
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "🧾 Квитанция", "callback_data": "bal:r:1"}]]
    }
    assert "message_thread_id" not in params  # unset parameters are left out


async def test_false_and_zero_are_sent_not_dropped(api: tuple[Bot, Telegram]) -> None:
    bot, telegram = api
    telegram.answer = (200, {"ok": True, "result": True})
    await bot.answer_callback_query("q1", text="", show_alert=False, cache_time=0)
    ((_, _, params),) = telegram.requests
    assert params["show_alert"] is False
    assert params["cache_time"] == 0
    assert "text" not in params  # an empty string is left out, as the form leaves it out


async def test_a_file_goes_as_multipart_form_data(api: tuple[Bot, Telegram]) -> None:
    bot, telegram = api
    pdf = BufferedInputFile(b"%PDF-1.4 receipt", filename="receipt.pdf")
    await bot.send_document(830000001, pdf, caption="Квитанция за ноябрь")
    ((method, content_type, params),) = telegram.requests
    assert (method, content_type) == ("sendDocument", "multipart/form-data")
    assert params["caption"] == "Квитанция за ноябрь"
    attached = params["document"].removeprefix("attach://")
    assert params[attached] == "<file>"  # the PDF itself, a part of the form


async def test_an_error_and_a_timeout_read_as_aiogram_reads_them(
    api: tuple[Bot, Telegram],
) -> None:
    bot, telegram = api
    telegram.answer = (400, {"ok": False, "error_code": 400, "description": "chat not found"})
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(1, "Добрый день")
    telegram.answer, telegram.delay = None, 2.0
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(1, "Добрый день", request_timeout=1)
    assert json.dumps([r[1] for r in telegram.requests]) == json.dumps(["application/json"] * 2)
