"""Building what a bot sends: text with parse_mode, reply markup, thread and reply, the stored
message. Shared by the method groups that create messages (messages, files)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sandbox.core import BotState, Params, bad
from sandbox.html import HtmlParseError, parse_html, strip_text, utf16_len
from sandbox.records import FileRecord, StoredMessage

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _format(
    p: Params, text_key: str, entities_key: str, *, limit: int, too_long: str, empty: str | None
) -> tuple[str, list[dict[str, Any]], str | None]:
    """(plain text, entities, raw html or None) for text/caption with parse_mode."""
    raw = p.string(text_key) or ""
    mode = (p.string("parse_mode") or "").strip()
    html: str | None = None
    if mode.lower() == "html":
        html = raw
        try:
            text, entities = parse_html(raw)
        except HtmlParseError as exc:
            raise bad(f"can't parse entities: {exc}") from None
    elif mode.lower() in ("", "markdown", "markdownv2"):
        text = raw
        given = p.json(entities_key)
        entities = list(given) if isinstance(given, list) else []
    else:
        raise bad("unsupported parse_mode")
    text, entities = strip_text(text, entities)
    if not text and empty is not None:
        raise bad(empty)
    if utf16_len(text) > limit:
        raise bad(too_long)
    return text, entities, html


def format_message_text(p: Params) -> tuple[str, list[dict[str, Any]], str | None]:
    """``text`` and ``entities`` of sendMessage/editMessageText: (text, entities, html)."""
    return _format(
        p,
        "text",
        "entities",
        limit=MAX_TEXT,
        too_long="message is too long",
        empty="message text is empty",
    )


def format_caption(p: Params) -> tuple[str, list[dict[str, Any]], str | None]:
    """``caption`` and ``caption_entities`` (may be empty): (caption, entities, html)."""
    return _format(
        p,
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        too_long="message caption is too long",
        empty=None,
    )


def validate_markup(p: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
    markup = p.json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad(
                        "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                    )
                actions = [a for a in INLINE_ACTIONS if a in button]
                if not actions:
                    raise bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = str(button["callback_data"]).encode("utf-8")
                    if not 1 <= len(data) <= MAX_CALLBACK_DATA:
                        raise bad("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = str(button["url"])
                    host = re.sub(r"^[a-z]+://", "", url).split("/")[0].split(":")[0]
                    if not url.strip() or " " in url:
                        raise bad("BUTTON_URL_INVALID")
                    if host in ("localhost", "127.0.0.1", "0.0.0.0"):  # noqa: S104
                        raise bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        return {"inline_keyboard": rows}
    if inline_only:
        raise bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad("can't parse reply keyboard markup JSON object")


def echo_markup(data: dict[str, Any], markup: dict[str, Any] | None) -> None:
    if markup and markup.get("inline_keyboard"):
        data["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    else:
        data.pop("reply_markup", None)


def resolve_thread(state: BotState, chat_id: int, p: Params) -> int | None:
    thread_id = p.integer("message_thread_id")
    if thread_id is None or chat_id > 0:
        return None
    group = state.group(chat_id)
    if group.is_forum:
        if thread_id not in group.topics:
            raise bad("message thread not found")
        return thread_id
    if state.get_message(chat_id, thread_id) is None:
        raise bad("message thread not found")
    return thread_id


def resolve_reply(state: BotState, chat_id: int, p: Params) -> StoredMessage | None:
    params = p.json("reply_parameters")
    message_id: int | None = None
    allow_without = p.flag("allow_sending_without_reply")
    if isinstance(params, dict) and params.get("message_id") is not None:
        message_id = int(params["message_id"])
        allow_without = allow_without or bool(params.get("allow_sending_without_reply"))
        other_chat = params.get("chat_id")
        if other_chat is not None and str(other_chat) != str(chat_id):
            if allow_without:
                return None
            raise bad("message to be replied not found")
    else:
        message_id = p.integer("reply_to_message_id")
    if message_id is None:
        return None
    target = state.get_message(chat_id, message_id)
    if target is None and not allow_without:
        raise bad("message to be replied not found")
    return target


def new_bot_message(
    state: BotState,
    chat_id: int,
    p: Params,
    content: dict[str, Any],
    *,
    html: str | None = None,
    markup: dict[str, Any] | None = None,
    files: Iterable[FileRecord] = (),
) -> StoredMessage:
    thread_id = resolve_thread(state, chat_id, p)
    reply_to = resolve_reply(state, chat_id, p)
    if thread_id is None and reply_to is not None:
        thread_id = reply_to.thread_id
    data = state.message_base(chat_id, state.bot_user, thread_id)
    state.attach_reply(data, reply_to, thread_id)
    data.update(content)
    echo_markup(data, markup)
    msg = StoredMessage(
        chat_id,
        data["message_id"],
        data,
        from_bot=True,
        html=html,
        markup=markup,
        files=list(files),
    )
    return state.store(msg)
