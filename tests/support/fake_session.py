"""A recording aiogram session: no network, real Bot API response shapes.

Every request is recorded; the answer is built in Telegram's JSON shape and decoded by
aiogram's own `check_response`, so aiogram's types and error classes run as in production.
Tests may queue answers (FIFO, per method) to play errors such as 429 or 403.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

BOT_ID = 7000000001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Kabinet", "username": "kabinet_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        return self.params.get("text") or self.params.get("caption")

    @property
    def chat_id(self) -> int | None:
        return self.params.get("chat_id")

    @property
    def markup(self) -> dict[str, Any] | None:
        return self.params.get("reply_markup")

    def inline_buttons(self) -> list[dict[str, Any]]:
        markup = self.markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def button_texts(self) -> list[str]:
        markup = self.markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b["text"] for row in rows for b in row]

    def callback_of(self, text: str) -> str:
        for button in self.inline_buttons():
            if button["text"] == text:
                return str(button["callback_data"])
        raise AssertionError(f"no inline button {text!r} in {self.button_texts()}")


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.files: dict[str, Any] = {}
        self.queued: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._ids = itertools.count(1000)
        #: getChatMember answers per user id ("member" when absent; "left", "kicked" too)
        self.chat_member_status: dict[int, str] = {}
        #: getChat of a group: a forum (topics) or a plain supergroup
        self.forum = False

    def queue(self, method: str, response: dict[str, Any]) -> None:
        """The next call of `method` answers `response` (a raw Bot API reply)."""
        self.queued[method].append(response)

    def clear(self) -> None:
        self.calls.clear()

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        yield b""

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id") or 0
        chat: dict[str, Any] = (
            {"id": chat_id, "type": "private", "first_name": "Resident"}
            if isinstance(chat_id, int) and chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "Staff", "is_forum": True}
        )
        message: dict[str, Any] = {
            "message_id": params.get("message_id") or next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
        }
        if "text" in params:
            message["text"] = params["text"]
        if "caption" in params:
            message["caption"] = params["caption"]
        if params.get("message_thread_id"):
            message["message_thread_id"] = params["message_thread_id"]
            message["is_topic_message"] = True
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if "document" in params:
            message["document"] = {"file_id": "doc1", "file_unique_id": "u1", "file_name": "f"}
        if "photo" in params:
            message["photo"] = [{"file_id": "ph1", "file_unique_id": "u2", "width": 1, "height": 1}]
        if "media_group_id" in params:
            message["media_group_id"] = params["media_group_id"]
        return message

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name in {
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
            "sendDocument",
            "sendPhoto",
            "forwardMessage",
            "editMessageCaption",
        }:
            return self._message(params)
        if name == "copyMessage":
            return {"message_id": next(self._ids)}
        if name == "sendMediaGroup":  # one message per item, the album's id shared
            media = params.get("media")
            items = json.loads(media) if isinstance(media, str) else media or []
            return [
                self._message({**params, item["type"]: item["media"], "media_group_id": "1"})
                for item in items
            ]
        if name == "createForumTopic":
            return {
                "message_thread_id": next(self._ids),
                "name": params.get("name", ""),
                "icon_color": 7322096,
            }
        if name == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if name == "getChat":
            chat_id = params.get("chat_id") or 0
            return {
                "id": chat_id,
                "type": "supergroup" if isinstance(chat_id, int) and chat_id < 0 else "private",
                "title": "Staff",
                "is_forum": self.forum,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        if name == "getChatMember":
            status = self.chat_member_status.get(params.get("user_id") or 0, "member")
            member: dict[str, Any] = {
                "status": status,
                "user": {"id": params.get("user_id"), "is_bot": False, "first_name": "Member"},
            }
            if status == "kicked":
                member["until_date"] = 0
            if status in ("administrator", "creator"):  # what aiogram's models require
                member["is_anonymous"] = False
            if status == "administrator":
                member.update(
                    dict.fromkeys(
                        (
                            "can_be_edited",
                            "can_manage_chat",
                            "can_delete_messages",
                            "can_manage_video_chats",
                            "can_restrict_members",
                            "can_promote_members",
                            "can_change_info",
                            "can_invite_users",
                            "can_post_stories",
                            "can_edit_stories",
                            "can_delete_stories",
                            "can_send_welcome_messages",
                        ),
                        False,
                    )
                )
            return member
        return True

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        name = method.__api_method__
        files: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                params[key] = prepared
        self.files.update(files)
        self.calls.append(Call(name, params))
        if self.queued[name]:
            raw = self.queued[name].popleft()
            status = int(raw.get("error_code", 200))
        else:
            raw = {"ok": True, "result": self._result(name, params)}
            status = 200
        response = self.check_response(bot, method, status, json.dumps(raw))
        return response.result  # type: ignore[return-value]
