"""The browser chat's server side: the page, its live streams of rendered HTML, the SMS stand-in.

(The page in a real browser, with the real bot: tests/browser/.)
"""

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from sandbox import Group, Sandbox, User
from sandbox.webchat import Person, WebChat

from .conftest import read_event

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def world(sb: Sandbox) -> AsyncIterator[tuple[WebChat, User, Group, User]]:
    anna = sb.user("Анна", last_name="Иванова", phone="+79161234567")
    staff = sb.supergroup("Операторы", is_forum=True)
    staff.add_member(bot=True, status="administrator")
    olga = sb.user("Ольга")
    staff.add_member(olga, status="administrator")
    page = WebChat(
        sb,
        residents=[
            Person(
                anna.id, "Анна Иванова", "+7 916 123-45-67", {"ru": "пример", "en": "an example"}
            )
        ],
        staff_chat_id=staff.id,
        operators=[Person(olga.id, "Ольга")],
    )
    await page.start("127.0.0.1", 0)
    try:
        yield page, anna, staff, olga
    finally:
        await page.stop()


async def test_the_page_is_served_from_loopback_with_nothing_from_elsewhere(world: Any) -> None:
    page, anna, staff, _olga = world
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", page.url)
    async with aiohttp.ClientSession(base_url=page.url) as http:
        async with http.get("/?lang=en") as response:
            assert response.status == 200
            html = await response.text()
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            async with http.get(asset) as response:
                assert response.status == 200, asset
    assert "Анна Иванова" in html and "an example" in html and "Операторы" in html
    assert f'data-chat="{anna.id}"' in html and f'data-chat="{staff.id}"' in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # no CDN, nothing remote
    assert "Staff chat" in html and "Чат операторов" not in html


async def test_a_pane_follows_its_chat_as_rendered_html(world: Any, bot: Bot) -> None:
    page, anna, _, _ = world
    await anna.send("/start")
    async with (
        aiohttp.ClientSession(base_url=page.url) as http,
        http.get(f"/events?chat={anna.id}&viewer={anna.id}") as stream,
    ):
        kind, reset = await read_event(stream)
        assert kind == "reset" and 'class="msg own"' in reset["html"] and "/start" in reset["html"]
        assert reset["keyboard"] == {"html": "", "placeholder": ""}
        share = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📱 Share", request_contact=True)]],
            input_field_placeholder="your phone",
        )
        await bot.send_message(anna.id, "Phone?", reply_markup=share)
        kind, data = await read_event(stream)
        assert kind == "upsert" and 'class="msg bot"' in data["html"] and "Phone?" in data["html"]
        kind, data = await read_event(stream)
        assert kind == "keyboard" and data["placeholder"] == "your phone"
        assert 'data-contact="1"' in data["html"]
        buttons = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]]
        )
        msg = await bot.send_message(anna.id, "Thanks", reply_markup=ReplyKeyboardRemove())
        kind, data = await read_event(stream)
        assert kind == "upsert"
        assert await read_event(stream) == ("keyboard", {"html": "", "placeholder": ""})
        await bot.edit_message_text(
            "Thanks!", chat_id=anna.id, message_id=msg.message_id, reply_markup=buttons
        )
        kind, data = await read_event(stream)
        assert kind == "upsert" and data["id"] == msg.message_id and 'data-cb="ok"' in data["html"]
        await bot.delete_message(anna.id, msg.message_id)
        assert await read_event(stream) == ("remove", {"id": msg.message_id})


async def test_the_staff_pane_shows_topics_and_the_sms_stand_in(world: Any, bot: Bot) -> None:
    page, anna, staff, olga = world
    async with aiohttp.ClientSession(base_url=page.url) as http:
        async with http.get(f"/events?chat={staff.id}&viewer={olga.id}&lang=en") as stream:
            kind, reset = await read_event(stream)
            assert kind == "reset" and reset["topics"] == "" and reset["sms"] is None
            topic = await bot.create_forum_topic(staff.id, "Requests")
            kind, data = await read_event(stream)
            assert kind == "upsert" and "«Requests»" in data["html"]
            kind, data = await read_event(stream)
            assert (
                kind == "topics"
                and f'data-thread="{topic.message_thread_id}"># Requests' in data["html"]
            )
            await olga.send("in the topic", chat=staff, thread_id=topic.message_thread_id)
            kind, data = await read_event(stream)
            assert "# Requests" in data["html"] and 'class="msg own"' in data["html"]
            async with http.post("/sms", json={"to": "+79160000000", "text": "Код 1"}) as response:
                assert response.status == 200
            with pytest.raises(TimeoutError):  # nothing for the staff pane: no busy loop either
                while True:  # (the blank line that ended the last event comes first)
                    assert await asyncio.wait_for(stream.content.readline(), 0.5) == b"\n"
        async with http.get(f"/events?chat={anna.id}&viewer={anna.id}") as stream:
            await read_event(stream)  # reset
            async with http.post(
                "/sms", json={"to": "+79161234567", "text": "Код 123456"}
            ) as response:
                assert response.status == 200
            kind, data = await read_event(stream)
            assert kind == "sms" and data["last"] == "Код 123456" and "+79161234567" in data["html"]
        async with http.post("/sms", json={"to": ""}) as response:
            assert response.status == 400
