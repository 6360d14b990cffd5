"""The sandbox against aiogram's real Bot: shapes decode, errors map to aiogram's exceptions."""

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    MessageId,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from aiohttp import web

from sandbox import Sandbox, SandboxError, make_png

from .conftest import make_bot

pytestmark = pytest.mark.timeout(30)


def inline(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


async def updates(bot: Bot, offset: int | None = None, timeout: int = 0) -> list[Update]:
    return await bot.get_updates(offset=offset, timeout=timeout)


# --------------------------------------------------------------------------- identity


async def test_get_me_returns_the_bot_user(sb: Sandbox, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == sb.bot_id == int(sb.token.split(":")[0])
    assert me.is_bot is True
    assert me.username == "kabinet_test_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False


async def test_registered_username_and_second_token(sb: Sandbox) -> None:
    token = sb.new_token(username="other_bot")
    other = make_bot(sb, token)
    try:
        me = await other.get_me()
    finally:
        await other.session.close()
    assert me.username == "other_bot"
    assert me.id == int(token.split(":")[0]) != sb.bot_id


async def test_bad_token_is_401_and_unknown_method_is_404(sb: Sandbox) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sb.url}/bot123:short/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{sb.url}/bot{sb.token}/fooBar") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        # method names are case-insensitive and plain GET with a query string works
        async with http.get(f"{sb.url}/bot{sb.token}/getme") as resp:
            body = await resp.json()
            assert body["ok"] is True and body["result"]["id"] == sb.bot_id
        async with http.post(
            f"{sb.url}/bot{sb.token}/sendMessage", data={"chat_id": "1", "text": "x"}
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())["description"] == "Bad Request: chat not found"


# --------------------------------------------------------------------------- sending


async def test_cannot_write_first_then_can_after_start(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user(first_name="Alice")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(alice.id, "hello")
    start = await alice.send("/start")
    [update] = await updates(bot)
    assert update.message is not None
    assert update.message.text == "/start"
    assert update.message.message_id == start.message_id
    assert update.message.chat.type == "private"
    assert update.message.from_user is not None and update.message.from_user.id == alice.id
    assert update.message.from_user.language_code == "ru"
    assert update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"

    sent = await bot.send_message(alice.id, "hello")
    assert sent.text == "hello"
    assert sent.from_user is not None and sent.from_user.id == sb.bot_id
    got = await alice.next_message()
    assert got.message_id == sent.message_id and got.text == "hello" and got.from_bot


async def test_html_is_parsed_into_text_and_entities(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    html = "<b>Счёт</b> 😀 <i>за</i> &lt;май&gt; <a href='https://example.com'>link</a>\n"
    sent = await bot.send_message(alice.id, html, parse_mode="HTML")
    assert sent.text == "Счёт 😀 за <май> link"
    assert sent.entities is not None
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    # the emoji takes two UTF-16 code units
    assert kinds == [("bold", 0, 4), ("italic", 8, 2), ("text_link", 17, 4)]
    assert sent.entities[2].url == "https://example.com"
    msg = await alice.next_message()
    assert msg.text == sent.text
    assert msg.html == html


async def test_broken_html_is_rejected_like_telegram(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    with pytest.raises(TelegramBadRequest) as unclosed:
        await bot.send_message(alice.id, "<b>bold", parse_mode="HTML")
    assert unclosed.value.message == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    with pytest.raises(TelegramBadRequest) as unsupported:
        await bot.send_message(alice.id, "a <br> b", parse_mode="HTML")
    assert unsupported.value.message == (
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 2'
    )
    with pytest.raises(TelegramBadRequest) as unmatched:
        await bot.send_message(alice.id, "<b>x<i>y</b></i>", parse_mode="HTML")
    assert unmatched.value.message.endswith(
        'Unmatched end tag at byte offset 8, expected "</i>", found "</b>"'
    )
    await alice.expect_no_message(within=0.1)


async def test_text_validation_errors(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("hi")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(alice.id, "  \n ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(alice.id, "я" * 4097)
    ok = await bot.send_message(alice.id, "я" * 4096)
    assert ok.text is not None and len(ok.text) == 4096
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(alice.id, "x", reply_markup=inline([("b", "d" * 65)]))
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(123456, "x")


async def test_inline_keyboard_is_echoed_reply_keyboard_is_not(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    with_inline = await bot.send_message(
        alice.id, "choose", reply_markup=inline([("Да", "yes"), ("Нет", "no")])
    )
    assert with_inline.reply_markup is not None
    assert with_inline.reply_markup.inline_keyboard[0][1].callback_data == "no"

    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="Поделиться", request_contact=True)],
            [KeyboardButton(text="Назад")],
        ],
        resize_keyboard=True,
    )
    with_reply = await bot.send_message(alice.id, "phone?", reply_markup=keyboard)
    assert with_reply.reply_markup is None
    removed = await bot.send_message(alice.id, "thanks", reply_markup=ReplyKeyboardRemove())
    assert removed.reply_markup is None

    first, second, third = [await alice.next_message() for _ in range(3)]
    assert first.buttons == [["Да", "Нет"]]
    assert first.reply_keyboard is None
    assert second.buttons == []
    assert second.reply_keyboard == [["Поделиться"], ["Назад"]]
    buttons = second.reply_keyboard_buttons
    assert buttons is not None and buttons[0][0]["request_contact"] is True
    assert third.reply_keyboard_removed is True
    assert alice.keyboard is None


async def test_reply_to_message_and_missing_reply_target(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    question = await alice.send("question")
    answer = await bot.send_message(
        alice.id, "answer", reply_parameters=ReplyParameters(message_id=question.message_id)
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question"
    assert (await alice.next_message()).reply_to_message_id == question.message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(message_id=9999))


# --------------------------------------------------------------------------- edit / delete


async def test_edit_message_text_and_markup(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    sent = await bot.send_message(alice.id, "v1", reply_markup=inline([("A", "a")]))
    msg = await alice.next_message()

    edited = await bot.edit_message_text(
        chat_id=alice.id,
        message_id=sent.message_id,
        text="<b>v2</b>",
        parse_mode="HTML",
        reply_markup=inline([("B", "b")]),
    )
    assert isinstance(edited, Message)
    assert edited.text == "v2" and edited.edit_date is not None
    assert (await alice.next_edit()).message_id == sent.message_id
    # the earlier handle reflects the latest version
    assert msg.text == "v2" and msg.html == "<b>v2</b>" and msg.buttons == [["B"]]
    assert msg.edited and [v["text"] for v in msg.versions] == ["v1", "v2"]

    with pytest.raises(TelegramBadRequest) as same:
        await bot.edit_message_text(
            chat_id=alice.id,
            message_id=sent.message_id,
            text="<b>v2</b>",
            parse_mode="HTML",
            reply_markup=inline([("B", "b")]),
        )
    assert same.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )

    # editing the text without reply_markup drops the inline keyboard, as Telegram does
    await bot.edit_message_text(chat_id=alice.id, message_id=sent.message_id, text="v3")
    assert msg.buttons == []
    markup = await bot.edit_message_reply_markup(
        chat_id=alice.id, message_id=sent.message_id, reply_markup=inline([("C", "c")])
    )
    assert isinstance(markup, Message) and markup.reply_markup is not None
    assert msg.buttons == [["C"]]

    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text(chat_id=alice.id, message_id=4242, text="x")
    mine = await alice.send("user text")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(chat_id=alice.id, message_id=mine.message_id, text="x")


async def test_delete_message(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    sent = await bot.send_message(alice.id, "temporary")
    assert await bot.delete_message(alice.id, sent.message_id) is True
    msg = await alice.next_message()
    assert msg.deleted
    assert alice.last_message is None
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)


# --------------------------------------------------------------------------- callbacks


async def test_press_delivers_callback_query_and_records_answer(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    offset = (await updates(bot))[-1].update_id + 1
    sent = await bot.send_message(
        alice.id, "agree?", reply_markup=inline([("Согласен", "agree:1")])
    )

    press = asyncio.create_task(alice.press("Согласен"))
    [update] = await updates(bot, offset, timeout=5)
    query = update.callback_query
    assert isinstance(query, CallbackQuery)
    assert query.data == "agree:1" and query.from_user.id == alice.id
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Готово", show_alert=True)
    answer = await press
    assert answer.text == "Готово" and answer.show_alert is True

    with pytest.raises(TelegramBadRequest) as twice:
        await bot.answer_callback_query(query.id)
    assert twice.value.message == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    assert [c.method for c in sb.sent(method="answerCallbackQuery")] == [
        "answerCallbackQuery",
        "answerCallbackQuery",
    ]
    assert [c.ok for c in sb.sent(method="answerCallbackQuery")] == [True, False]


async def test_press_errors(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    await bot.send_message(alice.id, "menu", reply_markup=inline([("One", "1")]))
    with pytest.raises(SandboxError, match="no inline button 'Two'"):
        await alice.press("Two")
    # nobody answers the query
    with pytest.raises(SandboxError, match="did not answer callback query"):
        await alice.press("One", timeout=0.3)


async def test_dispatcher_polling_end_to_end(sb: Sandbox) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Привет! Согласны?", reply_markup=inline([("Согласен", "ok")]))

    @dp.callback_query(F.data == "ok")
    async def agreed(query: CallbackQuery) -> None:
        await query.answer("Спасибо")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Принято")

    client = make_bot(sb)
    polling = asyncio.create_task(dp.start_polling(client, handle_signals=False, polling_timeout=1))
    try:
        await sb.wait_until_receiving()
        alice = sb.user(first_name="Alice")
        await alice.send("/start")
        msg = await alice.next_message()
        assert msg.text == "Привет! Согласны?"
        answer = await alice.press("Согласен", message=msg)
        assert answer.text == "Спасибо"
        edited = await alice.next_edit()
        assert edited.text == "Принято" and edited.buttons == []
        await alice.expect_no_message(within=0.3)
    finally:
        await dp.stop_polling()
        await polling


# --------------------------------------------------------------------------- files


async def test_document_upload_get_file_and_download(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    payload = b"%PDF-1.4 fake receipt"
    sent = await bot.send_document(
        alice.id,
        BufferedInputFile(payload, filename="receipt.pdf"),
        caption="<i>Квитанция</i>",
        parse_mode="HTML",
    )
    assert sent.document is not None
    assert sent.document.file_name == "receipt.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert sent.document.file_size == len(payload)
    assert sent.caption == "Квитанция"

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None and file.file_size == len(payload)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == payload

    msg = await alice.next_message()
    assert msg.document is not None and msg.document.name == "receipt.pdf"
    assert await msg.download() == payload
    assert msg.text == "Квитанция" and msg.html == "<i>Квитанция</i>"

    again = await bot.send_document(alice.id, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_document(alice.id, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_photos_and_user_files(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    png = make_png(640, 480)
    sent = await bot.send_photo(alice.id, BufferedInputFile(png, filename="chart.png"))
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (640, 480)
    assert sent.photo[0].width == 320  # a thumbnail comes first
    msg = await alice.next_message()
    assert msg.photo is not None and await msg.download() == png
    with pytest.raises(TelegramBadRequest, match="Bad Request: IMAGE_PROCESS_FAILED"):
        await bot.send_photo(alice.id, BufferedInputFile(b"not an image", filename="x.jpg"))
    assert sent.document is None

    offset = (await updates(bot))[-1].update_id + 1
    await alice.send_document(b"meter photo", file_name="meter.txt", caption="показания")
    await alice.send_photo(make_png(2, 3), caption="счётчик")
    await alice.send_sticker()
    doc, photo, sticker = [u.message for u in await updates(bot, offset)]
    assert doc is not None and doc.document is not None and doc.caption == "показания"
    assert doc.document.mime_type == "text/plain"
    file = await bot.get_file(doc.document.file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read() == b"meter photo"
    assert photo is not None and photo.photo is not None
    assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 3)
    assert sticker is not None and sticker.sticker is not None and sticker.sticker.emoji == "👍"


async def test_contacts(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user(first_name="Alice", phone="+79161234567")
    await alice.share_contact()
    await alice.share_contact(phone="+79990001122", first_name="Bob")
    own, other = [u.message for u in await updates(bot)]
    assert own is not None and own.contact is not None
    assert own.contact.user_id == alice.id and own.contact.phone_number == "+79161234567"
    assert other is not None and other.contact is not None
    assert other.contact.user_id is None and other.contact.phone_number == "+79990001122"


# --------------------------------------------------------------------------- groups and forums


async def test_forum_topics_and_threads(sb: Sandbox, bot: Bot) -> None:
    staff = sb.supergroup(title="Staff", is_forum=True)
    assert str(staff.id).startswith("-100")
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await bot.send_message(staff.id, "x")
    staff.add_member(bot=True, status="member")
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(staff.id, "Заявки")
    staff.add_member(bot=True, status="administrator")

    topic = await bot.create_forum_topic(staff.id, "Заявки")
    assert isinstance(topic, ForumTopic) and topic.name == "Заявки"
    assert staff.topic_id("Заявки") == topic.message_thread_id

    card = await bot.send_message(
        staff.id,
        "Новая заявка",
        message_thread_id=topic.message_thread_id,
        reply_markup=inline([("Одобрить", "approve")]),
    )
    assert card.message_thread_id == topic.message_thread_id
    assert card.is_topic_message is True
    assert card.chat.is_forum is True and card.chat.type == "supergroup"
    got = await staff.next_message()
    assert got.thread_id == topic.message_thread_id and got.text == "Новая заявка"

    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(staff.id, "x", message_thread_id=999999)

    op = sb.user(first_name="Olga")
    staff.add_member(op, status="administrator")
    reply = await op.send("беру", chat=staff, reply_to=got)
    assert reply.thread_id == topic.message_thread_id  # a reply lands in the same topic
    group_updates = [u for u in await updates(bot) if u.message is not None]
    assert group_updates[-1].message is not None
    assert group_updates[-1].message.text == "беру"
    assert group_updates[-1].message.message_thread_id == topic.message_thread_id

    plain = sb.supergroup(title="Plain")
    plain.add_member(bot=True, status="administrator")
    with pytest.raises(TelegramBadRequest, match="Bad Request: the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "x")


async def test_privacy_mode_in_groups(sb: Sandbox, bot: Bot) -> None:
    group = sb.supergroup(title="Chat")
    bob = sb.user(first_name="Bob")
    group.add_member(bob)
    group.add_member(bot=True, status="member")
    first = await updates(bot)
    assert first[0].my_chat_member is not None
    assert first[0].my_chat_member.new_chat_member.status == "member"
    offset = first[-1].update_id + 1
    await bob.send("just chatting", chat=group)
    await bob.send("/help", chat=group)
    await bob.send("/help@other_bot", chat=group)
    texts = [u.message.text for u in await updates(bot, offset) if u.message]
    assert texts == ["/help"]


async def test_get_chat_member_statuses(sb: Sandbox, bot: Bot) -> None:
    group = sb.supergroup(title="Staff")
    owner, admin, member, stranger = (sb.user(first_name=n) for n in ("O", "A", "M", "S"))
    group.add_member(owner, status="creator")
    group.add_member(admin, status="administrator")
    group.add_member(member)
    group.add_member(bot=True, status="administrator")
    assert isinstance(await bot.get_chat_member(group.id, owner.id), ChatMemberOwner)
    assert isinstance(await bot.get_chat_member(group.id, admin.id), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(group.id, member.id), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(group.id, stranger.id), ChatMemberLeft)
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.get_chat_member(group.id, 42)
    chat = await bot.get_chat(group.id)
    assert chat.title == "Staff" and chat.type == "supergroup"


async def test_copy_and_forward(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user(first_name="Alice")
    staff = sb.supergroup(title="Staff")
    staff.add_member(bot=True, status="administrator")
    original = await alice.send("мой вопрос")
    copied = await bot.copy_message(staff.id, from_chat_id=alice.id, message_id=original.message_id)
    assert isinstance(copied, MessageId)
    got = await staff.next_message()
    assert got.message_id == copied.message_id and got.text == "мой вопрос"
    assert "forward_origin" not in got.raw

    forwarded = await bot.forward_message(staff.id, alice.id, original.message_id)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(staff.id, from_chat_id=alice.id, message_id=9999)


# --------------------------------------------------------------------------- updates


async def test_get_updates_offset_limit_and_long_poll(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    for text in ("one", "two", "three"):
        await alice.send(text)
    batch = await bot.get_updates(limit=2)
    assert [u.message.text for u in batch if u.message] == ["one", "two"]
    again = await bot.get_updates()  # nothing acknowledged yet
    assert len(again) == 3
    rest = await bot.get_updates(offset=batch[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []

    started = time.monotonic()
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=1) == []
    assert time.monotonic() - started >= 0.9

    poll = asyncio.create_task(bot.get_updates(offset=rest[-1].update_id + 1, timeout=10))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await alice.send("four")
    woke = await poll
    assert [u.message.text for u in woke if u.message] == ["four"]
    assert time.monotonic() - started < 2


async def test_second_poller_terminates_the_first(sb: Sandbox, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert await second == []


async def test_allowed_updates_filter(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await bot.get_updates(allowed_updates=["message"])
    await alice.send("/start")
    await bot.send_message(alice.id, "x", reply_markup=inline([("b", "b")]))
    with pytest.raises(SandboxError, match="does not receive callback_query"):
        await alice.press("b")
    assert len(await bot.get_updates()) == 1


async def test_blocked_user(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    alice.block_bot()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(alice.id, "x")
    kinds = [u.event_type for u in await updates(bot)]
    assert kinds == ["message", "my_chat_member"]
    await alice.send("/start")  # restarting the bot unblocks it
    assert (await bot.send_message(alice.id, "back")).text == "back"


# --------------------------------------------------------------------------- webhook


@pytest.fixture
async def hook_server() -> AsyncIterator[tuple[str, list[tuple[str | None, dict]], list[int]]]:
    received: list[tuple[str | None, dict]] = []
    statuses: list[int] = []  # statuses to answer with first; 200 afterwards

    async def handle(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.json_response({}, status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", received, statuses
    await runner.cleanup()


async def test_webhook_delivery_with_secret_and_conflict(
    sb: Sandbox, bot: Bot, hook_server: tuple[str, list[tuple[str | None, dict]], list[int]]
) -> None:
    url, received, statuses = hook_server
    assert await bot.set_webhook(url, secret_token="s3cr3t-token")
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0

    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()

    alice = sb.user()
    statuses.extend([500])
    sent = await alice.send("via webhook")
    await sb.wait_delivered(timeout=5)
    assert len(received) == 2  # the 500 was retried
    secret, body = received[-1]
    assert secret == "s3cr3t-token"
    update = Update.model_validate(body)
    assert update.message is not None and update.message.message_id == sent.message_id
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None and info.pending_update_count == 0

    assert await bot.delete_webhook()
    await alice.send("polling again")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["polling again"]


async def test_webhook_unreachable_keeps_updates_pending(sb: Sandbox, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/nothing-listens-here")
    await sb.user().send("hello")
    for _ in range(50):
        info = await bot.get_webhook_info()
        if info.last_error_message:
            break
        await asyncio.sleep(0.05)
    assert info.last_error_message == "Connection refused"
    assert info.pending_update_count == 1
    await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


# --------------------------------------------------------------------------- flood, commands, misc


async def test_flood_simulation_raises_retry_after(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    other = sb.user()
    await alice.send("/start")
    await other.send("/start")
    sb.simulate_flood("sendMessage", retry_after=3, times=1)
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(alice.id, "x")
    assert flood.value.retry_after == 3
    assert flood.value.message.endswith("Original description: Too Many Requests: retry after 3")
    assert (await bot.send_message(alice.id, "x")).text == "x"

    sb.simulate_flood("sendMessage", retry_after=1, times=2, chat_id=alice.id)
    assert (await bot.send_message(other.id, "fine")).text == "fine"
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(alice.id, "x")
    assert (await bot.send_message(alice.id, "ok")).text == "ok"
    failures = sb.sent(chat_id=alice.id, method="sendMessage", ok=False)
    assert [c.error_code for c in failures] == [429, 429, 429]


async def test_commands_per_scope_and_language(sb: Sandbox, bot: Bot) -> None:
    ru = [BotCommand(command="start", description="Начать")]
    en = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(ru)
    assert await bot.set_my_commands(en, language_code="en")
    assert await bot.set_my_commands(
        [BotCommand(command="admin", description="Админка")], scope=BotCommandScopeChat(chat_id=5)
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["start", "help"]
    assert sb.commands(scope={"type": "chat", "chat_id": 5}) == [
        {"command": "admin", "description": "Админка"}
    ]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert await bot.delete_my_commands(language_code="en")
    assert await bot.get_my_commands(language_code="en") == []
    calls = sb.sent(method="setMyCommands")
    assert calls[0].params["commands"] == [{"command": "start", "description": "Начать"}]


async def test_chat_action_and_sent_log(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    assert await bot.send_chat_action(alice.id, "typing") is True
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(alice.id, "dancing")
    await bot.send_message(alice.id, "hi")
    calls = sb.sent(chat_id=alice.id)
    assert [(c.method, c.ok) for c in calls] == [
        ("sendChatAction", True),
        ("sendChatAction", False),
        ("sendMessage", True),
    ]
    assert calls[-1].params["text"] == "hi"
    assert (await sb.wait_for_call("sendMessage")).result["text"] == "hi"


async def test_expect_no_message_and_next_message_timeout(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    await alice.expect_no_message(within=0.1)
    with pytest.raises(SandboxError, match="no new bot message"):
        await alice.next_message(timeout=0.2)
    await bot.send_message(alice.id, "surprise")
    with pytest.raises(SandboxError, match="surprise"):
        await alice.expect_no_message(within=0.1)


async def test_aiogram_webhook_handler_replying_in_the_response(sb: Sandbox) -> None:
    """aiogram's SimpleRequestHandler(handle_in_background=False) answers with a method call."""
    from aiogram.methods import SendMessage
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> SendMessage:
        return message.answer(f"echo: {message.text}")

    client = make_bot(sb)
    app = web.Application()
    SimpleRequestHandler(
        dp, client, secret_token="hook-secret", handle_in_background=False
    ).register(app, path="/tg")
    setup_application(app, dp, bot=client)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await client.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="hook-secret")
        alice = sb.user()
        await alice.send("привет")
        msg = await alice.next_message()
        assert msg.text == "echo: привет"
        assert (await client.get_webhook_info()).last_error_message is None
    finally:
        await runner.cleanup()


async def test_group_by_username_membership_and_user_edits(sb: Sandbox, bot: Bot) -> None:
    group = sb.supergroup(title="Public", username="kabinet_public")
    outsider = sb.user(first_name="Out")
    with pytest.raises(SandboxError, match="not a member"):
        await outsider.send("hi", chat=group)
    group.add_member(bot=True, status="administrator")
    sent = await bot.send_message("@kabinet_public", "по имени")
    assert sent.chat.id == group.id and sent.chat.username == "kabinet_public"
    assert (await group.next_message()).text == "по имени"

    alice = sb.user()
    original = await alice.send("typo")
    await alice.edit(original, "fixed")
    kinds = [(u.event_type, u) for u in await bot.get_updates(offset=-2)]
    assert [k for k, _ in kinds] == ["message", "edited_message"]
    edited = kinds[1][1].edited_message
    assert edited is not None and edited.text == "fixed" and edited.edit_date is not None
    # a negative offset forgot everything before the last two updates
    assert len(await bot.get_updates()) == 2


async def test_menu_button_and_descriptions_are_accepted(sb: Sandbox, bot: Bot) -> None:
    from aiogram.types import MenuButtonCommands

    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    assert await bot.set_my_description("Личный кабинет", language_code="ru")
    assert [c.method for c in sb.sent()] == [
        "setChatMenuButton",
        "getChatMenuButton",
        "setMyDescription",
    ]
