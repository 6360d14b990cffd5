"""The control endpoints (/_control/): users played over HTTP, seen by aiogram's real Bot."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)

from sandbox import Sandbox, make_png

from .conftest import read_event

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def http(sb: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sb.url) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: Any = None, status: int = 200) -> Any:
    async with http.post("/_control" + path, json=body or {}) as response:
        result = await response.json()
        assert response.status == status, result
        return result


async def get(http: aiohttp.ClientSession, path: str, status: int = 200) -> Any:
    async with http.get("/_control" + path) as response:
        result = await response.json()
        assert response.status == status, result
        return result


async def one_update(bot: Bot, offset: int | None = None) -> Update:
    [update] = await bot.get_updates(offset=offset, timeout=5)
    return update


async def new_user(http: aiohttp.ClientSession, **fields: Any) -> int:
    body = {"first_name": "Анна", "phone": "+79161234567", **fields}
    return int((await post(http, "/users", body))["id"])


async def test_a_message_sent_over_http_is_an_update_for_the_bot(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http, language_code="en")
    sent = await post(http, f"/users/{user}/send", {"text": "/start"})
    update = await one_update(bot)
    assert update.message is not None and update.message.text == "/start"
    assert update.message.from_user is not None and update.message.from_user.id == user
    assert update.message.from_user.language_code == "en"
    assert update.message.entities and update.message.entities[0].type == "bot_command"
    assert sent["message_id"] == update.message.message_id and sent["from_bot"] is False


async def test_bot_messages_are_listed_with_keyboards_and_waited_for(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http)
    first = await post(http, f"/users/{user}/send", {"text": "hi"})
    waiting = asyncio.create_task(
        get(http, f"/chats/{user}/messages?sender=bot&wait=5&after={first['message_id']}")
    )
    await asyncio.sleep(0.05)
    assert not waiting.done()  # long polling: nothing yet
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="📱 Phone", request_contact=True)]],
        resize_keyboard=True,
        input_field_placeholder="Your phone",
    )
    await bot.send_message(user, "<b>Share</b> it", parse_mode="HTML", reply_markup=markup)
    [message] = (await waiting)["messages"]
    assert message["text"] == "Share it" and message["html"] == "<b>Share</b> it"
    assert message["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    assert message["reply_keyboard"] == [[{"text": "📱 Phone", "request_contact": True}]]
    chat = await get(http, f"/chats/{user}")
    assert chat["reply_keyboard"]["input_field_placeholder"] == "Your phone"
    everything = await get(http, f"/chats/{user}/messages")
    assert [m["from_bot"] for m in everything["messages"]] == [False, True]


async def test_pressing_a_button_by_position_waits_for_the_answer(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http)
    await post(http, f"/users/{user}/send", {"text": "/start"})
    offset = (await one_update(bot)).update_id + 1
    buttons = [
        [InlineKeyboardButton(text="✅ Yes", callback_data="yes")],
        [InlineKeyboardButton(text="No", callback_data="no")],
    ]
    msg = await bot.send_message(
        user, "Agree?", reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
    )
    press = asyncio.create_task(
        post(http, f"/users/{user}/press", {"message_id": msg.message_id, "row": 1, "column": 0})
    )
    update = await one_update(bot, offset)
    assert update.callback_query is not None and update.callback_query.data == "no"
    assert update.callback_query.from_user.id == user
    await bot.answer_callback_query(update.callback_query.id, text="Noted", show_alert=True)
    assert await press == {"answered": True, "text": "Noted", "show_alert": True, "url": None}


async def test_a_press_the_bot_never_answers_says_so(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http)
    await post(http, f"/users/{user}/send", {"text": "/start"})
    buttons = [[InlineKeyboardButton(text="Go", callback_data="go")]]
    msg = await bot.send_message(
        user, "?", reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
    )
    body = {"message_id": msg.message_id, "text": "Go", "timeout": 0.2}
    answer = await post(http, f"/users/{user}/press", body)
    assert answer["answered"] is False and "did not answer" in answer["error"]


async def test_wrong_requests_get_a_reason(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http)
    assert "no user" in (await post(http, "/users/42/send", {"text": "x"}, status=404))["error"]
    assert (await post(http, f"/users/{user}/send", {"text": " "}, status=400))["error"] == (
        "text is empty"
    )
    await post(http, f"/users/{user}/send", {"text": "/start"})
    msg = await bot.send_message(user, "no buttons")
    missing = {"message_id": msg.message_id, "text": "Nope"}
    assert (
        "no such inline button" in (await post(http, f"/users/{user}/press", missing, 404))["error"]
    )
    vague = {"message_id": msg.message_id}
    assert "say which button" in (await post(http, f"/users/{user}/press", vague, 400))["error"]
    stranger = await post(http, f"/users/{user}/send", {"text": "x", "chat_id": -100}, status=404)
    assert stranger["error"] == "no group -100"


async def test_own_contact_photo_and_document(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http, phone="+79161112233")
    await post(http, f"/users/{user}/contact")
    update = await one_update(bot)
    assert update.message is not None and update.message.contact is not None
    assert update.message.contact.phone_number == "+79161112233"
    assert update.message.contact.user_id == user
    form = aiohttp.FormData()
    form.add_field("photo", make_png(400, 200), filename="meter.png", content_type="image/png")
    form.add_field("caption", "my meter")
    async with http.post(f"/_control/users/{user}/photo", data=form) as response:
        photo = await response.json()
    update = await one_update(bot, update.update_id + 1)
    assert (
        update.message is not None and update.message.photo and update.message.caption == "my meter"
    )
    assert update.message.photo[-1].width == 400
    async with http.get(photo["photo"]["url"]) as response:
        assert response.content_type == "image/png" and await response.read() == make_png(400, 200)
    form = aiohttp.FormData()
    form.add_field("document", b"%PDF-1.4", filename="счёт.pdf")
    async with http.post(f"/_control/users/{user}/document", data=form) as response:
        document = (await response.json())["document"]
    assert document["file_name"] == "счёт.pdf" and document["mime_type"] == "application/pdf"
    async with http.get(document["url"]) as response:
        assert await response.read() == b"%PDF-1.4"
        assert (
            "filename*=UTF-8''%D1%81%D1%87%D1%91%D1%82.pdf"
            in response.headers["Content-Disposition"]
        )


async def test_a_group_with_topics_played_over_http(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    operator = await new_user(http, first_name="Ольга")
    group = await post(
        http, "/groups", {"title": "Staff", "is_forum": True, "bot": "administrator"}
    )
    await post(
        http, f"/groups/{group['id']}/members", {"user_id": operator, "status": "administrator"}
    )
    topic = await post(http, f"/groups/{group['id']}/topics", {"name": "Заявки", "by": operator})
    await bot.get_updates()  # my_chat_member, the topic's service message
    offset = (await bot.get_updates())[-1].update_id + 1
    body = {"text": "hello", "chat_id": group["id"], "thread_id": topic["message_thread_id"]}
    await post(http, f"/users/{operator}/send", body)
    update = await one_update(bot, offset)
    assert update.message is not None and update.message.chat.id == group["id"]
    assert update.message.message_thread_id == topic["message_thread_id"]
    overview = await get(http, "/")
    [listed] = overview["groups"]
    assert listed["topics"] == {str(topic["message_thread_id"]): "Заявки"}
    assert listed["members"][str(operator)] == "administrator"
    assert overview["bot"]["id"] == sb.bot_id and overview["token"] == sb.token


async def test_failed_calls_are_listed(sb: Sandbox, bot: Bot, http: aiohttp.ClientSession) -> None:
    with pytest.raises(Exception, match="chat not found"):
        await bot.send_message(123, "to nobody")
    [call] = await get(http, "/calls?failed=1")
    assert call["method"] == "sendMessage" and call["error_code"] == 400


async def test_events_tell_new_edited_and_deleted_messages(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http)
    await post(http, f"/users/{user}/send", {"text": "/start"})
    async with http.get(f"/_control/events?chat_id={user}") as response:
        assert response.content_type == "text/event-stream"
        assert await response.content.readline() == b": connected\n"
        await post(http, f"/users/{user}/send", {"text": "hello"})
        kind, data = await read_event(response)
        assert (kind, data["text"], data["from_bot"]) == ("message", "hello", False)
        msg = await bot.send_message(user, "one")
        kind, data = await read_event(response)
        assert (kind, data["text"], data["from_bot"]) == ("message", "one", True)
        await bot.edit_message_text("two", chat_id=user, message_id=msg.message_id)
        kind, data = await read_event(response)
        assert (kind, data["text"], data["edited"]) == ("edit", "two", True)
        await bot.delete_message(user, msg.message_id)
        kind, data = await read_event(response)
        assert (kind, data["message_id"], data["deleted"]) == ("delete", msg.message_id, True)
        await bot.send_photo(user, BufferedInputFile(make_png(2, 2), "p.png"))
        kind, data = await read_event(response)
        assert kind == "message" and data["photo"]["url"].startswith("/_control/files/")
        other = await new_user(http)
        await post(http, f"/users/{other}/send", {"text": "elsewhere"})  # another chat: not here
        await post(http, f"/users/{user}/send", {"text": "last"})
        assert (await read_event(response))[1]["text"] == "last"


async def test_a_deleted_topic_refuses_sends_and_an_edit_is_an_update(
    sb: Sandbox, bot: Bot, http: aiohttp.ClientSession
) -> None:
    user = await new_user(http)
    group = await post(
        http, "/groups", {"title": "Staff", "is_forum": True, "bot": "administrator"}
    )
    chat_id = group["id"]
    await post(http, f"/groups/{chat_id}/members", {"user_id": user, "status": "administrator"})
    topic = await post(http, f"/groups/{chat_id}/topics", {"name": "Анна", "by": user})
    thread = topic["message_thread_id"]
    in_topic = {"text": "ответ", "chat_id": chat_id, "thread_id": thread}
    sent = await post(http, f"/users/{user}/send", in_topic)
    edit = {"chat_id": chat_id, "message_id": sent["message_id"], "text": "ответ!"}
    edited = await post(http, f"/users/{user}/edit", edit)
    assert edited["text"] == "ответ!"
    updates = await bot.get_updates(timeout=1)
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "ответ!"
    assert await bot.close_forum_topic(chat_id, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(chat_id, thread)
    async with http.delete(f"/_control/groups/{chat_id}/topics/{thread}") as response:
        assert response.status == 200 and (await response.json())["topics"] == {}
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(chat_id, "в тему", message_thread_id=thread)
    private = await post(http, f"/users/{user}/send", {"text": "вопрос"})
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.copy_message(chat_id, user, private["message_id"], message_thread_id=thread)
