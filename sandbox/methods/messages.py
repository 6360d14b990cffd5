"""Messages the bot sends and changes: send, edit, delete, forward, copy, the chat action, and
answers to callback queries."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sandbox.compose import (
    echo_markup,
    format_caption,
    format_message_text,
    new_bot_message,
    resolve_thread,
    validate_markup,
)
from sandbox.core import ApiError, BotState, Params, api_method, bad, forbidden, now
from sandbox.records import StoredMessage

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "document",
    "photo",
    "sticker",
    "contact",
    "location",
    "voice",
    "video",
    "audio",
    "animation",
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@api_method("sendMessage")
async def send_message(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    text, entities, html = format_message_text(p)
    markup = validate_markup(p)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    msg = new_bot_message(st, chat_id, p, content, html=html, markup=markup)
    return msg.data


def _editable(st: BotState, p: Params) -> StoredMessage:
    if p.has("inline_message_id"):
        raise bad("message to edit not found")
    chat_id = st.resolve_chat_id(p)
    st.check_can_read(chat_id)
    if chat_id in st.blocked:
        raise forbidden("bot was blocked by the user")
    message_id = p.integer("message_id", required=True)
    assert message_id is not None
    msg = st.get_message(chat_id, message_id)
    if msg is None:
        raise bad("message to edit not found")
    if not msg.from_bot or msg.service:
        raise bad("message can't be edited")
    return msg


def _apply_edit(
    st: BotState,
    msg: StoredMessage,
    changes: dict[str, Any],
    removed: Iterable[str],
    markup: dict[str, Any] | None,
    html: str | None,
) -> dict[str, Any]:
    new = dict(msg.data)
    new.update(changes)
    for key in removed:
        new.pop(key, None)
    echo_markup(new, markup)
    same_content = all(msg.data.get(k) == new.get(k) for k in CONTENT_KEYS)
    if same_content and msg.data.get("reply_markup") == new.get("reply_markup"):
        raise bad(NOT_MODIFIED)
    new["edit_date"] = now()
    msg.data = new
    msg.markup = markup
    if html is not None or "text" in changes:
        msg.html = html
    st.record_edit(msg)
    return msg.data


@api_method("editMessageText")
async def edit_message_text(srv: SandboxServer, st: BotState, p: Params) -> Any:
    msg = _editable(st, p)
    if "text" not in msg.data:
        raise bad("there is no text in the message to edit")
    text, entities, html = format_message_text(p)
    markup = validate_markup(p, inline_only=True)
    changes: dict[str, Any] = {"text": text}
    removed = []
    if entities:
        changes["entities"] = entities
    else:
        removed.append("entities")
    return _apply_edit(st, msg, changes, removed, markup, html)


@api_method("editMessageCaption")
async def edit_message_caption(srv: SandboxServer, st: BotState, p: Params) -> Any:
    msg = _editable(st, p)
    if "text" in msg.data:
        raise bad("there is no caption in the message to edit")
    caption, entities, html = format_caption(p)
    markup = validate_markup(p, inline_only=True)
    changes: dict[str, Any] = {}
    removed = []
    if caption:
        changes["caption"] = caption
    else:
        removed.append("caption")
    if entities:
        changes["caption_entities"] = entities
    else:
        removed.append("caption_entities")
    return _apply_edit(st, msg, changes, removed, markup, html)


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(srv: SandboxServer, st: BotState, p: Params) -> Any:
    msg = _editable(st, p)
    markup = validate_markup(p, inline_only=True)
    return _apply_edit(st, msg, {}, (), markup, None)


@api_method("deleteMessage")
async def delete_message(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_read(chat_id)
    message_id = p.integer("message_id", required=True)
    assert message_id is not None
    _delete_one(st, chat_id, message_id)
    return True


def _delete_one(st: BotState, chat_id: int, message_id: int) -> None:
    msg = st.get_message(chat_id, message_id)
    if msg is None:
        raise bad("message to delete not found")
    if (
        chat_id < 0
        and not msg.from_bot
        and st.bot_status(st.group(chat_id)) not in ("creator", "administrator")
    ):
        raise bad("message can't be deleted")
    msg.deleted = True
    st.events.append(("delete", chat_id, message_id))
    st.notify()


@api_method("deleteMessages")
async def delete_messages(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_read(chat_id)
    ids = p.json("message_ids")
    if not isinstance(ids, list) or not ids:
        raise bad("message_ids is empty")
    for message_id in ids:
        with contextlib.suppress(ApiError):
            _delete_one(st, chat_id, int(message_id))
    return True


@api_method("answerCallbackQuery")
async def answer_callback_query(srv: SandboxServer, st: BotState, p: Params) -> Any:
    query_id = p.string("callback_query_id") or ""
    record = st.callbacks.get(query_id)
    if (
        record is None
        or record.answered
        or time.monotonic() - record.created > srv.callback_timeout
    ):
        raise bad(QUERY_TOO_OLD)
    text = p.string("text")
    if text is not None and len(text) > 200:
        raise bad("MESSAGE_TOO_LONG")
    record.answered = True
    record.answer = {
        "text": text,
        "show_alert": p.flag("show_alert"),
        "url": p.string("url"),
        "cache_time": p.integer("cache_time") or 0,
    }
    st.notify()
    return True


def _content_of(msg: StoredMessage) -> dict[str, Any]:
    return {k: v for k, v in msg.data.items() if k in CONTENT_KEYS}


def _source_message(state: BotState, p: Params, not_found: str) -> StoredMessage:
    from_chat = state.resolve_chat_id(p, "from_chat_id")
    state.check_can_read(from_chat)
    message_id = p.integer("message_id", required=True)
    assert message_id is not None
    source = state.get_message(from_chat, message_id)
    if source is None:
        raise bad(not_found)
    return source


@api_method("forwardMessage")
async def forward_message(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    source = _source_message(st, p, "message to forward not found")
    if source.service:
        raise bad("message can't be forwarded")
    content = _content_of(source)
    origin_date = source.data.get("forward_origin", {}).get("date", source.data["date"])
    content["forward_origin"] = source.data.get("forward_origin") or {
        "type": "user",
        "sender_user": source.data["from"],
        "date": origin_date,
    }
    msg = new_bot_message(st, chat_id, p, content, files=source.files)
    return msg.data


@api_method("copyMessage")
async def copy_message(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    source = _source_message(st, p, "message to copy not found")
    if source.service:
        raise bad("message can't be copied")
    content = _content_of(source)
    html = source.html
    if p.fields.get("caption") is not None and "text" not in content:
        caption, entities, html = format_caption(p)
        content.pop("caption", None)
        content.pop("caption_entities", None)
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    markup = validate_markup(p)
    msg = new_bot_message(st, chat_id, p, content, html=html, markup=markup, files=source.files)
    return {"message_id": msg.message_id}


@api_method("sendChatAction")
async def send_chat_action(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    if (p.string("action") or "") not in CHAT_ACTIONS:
        raise bad("wrong parameter action in request")
    resolve_thread(st, chat_id, p)
    return True
