"""What the sandbox stores: people, groups, bots, files, messages, calls, callbacks, webhooks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def private_chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class GroupRecord:
    id: int
    title: str
    is_forum: bool = False
    username: str | None = None
    #: user id (people and bots) -> creator/administrator/member/left/kicked
    members: dict[int, str] = field(default_factory=dict)
    #: thread id -> {"name": ..., "icon_color": ...}
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class BotInfo:
    token: str
    id: int
    username: str = "kabinet_test_bot"
    first_name: str = "Kabinet"
    privacy_mode: bool = True

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str  # document / photo / sticker
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.kind == "document":
            if self.file_name:
                data["file_name"] = self.file_name
            if self.mime_type:
                data["mime_type"] = self.mime_type
        if self.kind in ("photo", "sticker"):
            data["width"] = self.width or 0
            data["height"] = self.height or 0
        return data


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    data: dict[str, Any]
    from_bot: bool
    service: bool = False
    html: str | None = None
    #: the reply_markup as the bot sent it (reply keyboards too, which are not echoed)
    markup: dict[str, Any] | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    #: the files behind document/photo, for tests
    files: list[FileRecord] = field(default_factory=list)
    #: the markup the message was sent with: an edit replaces ``markup`` (inline keyboards only),
    #: but a reply keyboard it set or removed stays in force, as in Telegram
    sent_markup: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.sent_markup is None:
            self.sent_markup = self.markup

    @property
    def thread_id(self) -> int | None:
        value = self.data.get("message_thread_id")
        return int(value) if value is not None else None


@dataclass
class ApiCall:
    """One request the bot made (parameters decoded; uploaded files summarised)."""

    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None
    error_code: int | None = None
    error: str | None = None
    time: float = 0.0

    @property
    def chat_id(self) -> int | str | None:
        value = self.params.get("chat_id")
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return str(value)


@dataclass
class FloodRule:
    method: str
    retry_after: int
    times: int
    chat_id: int | None = None


@dataclass
class CallbackRecord:
    id: str
    created: float
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class Webhook:
    """A bot's webhook as setWebhook set it; ``task`` is its delivery (sandbox.delivery), which
    keeps up to ``max_connections`` (1..100) requests in flight, one chat's updates in order."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    generation: int
    task: asyncio.Task[None] | None = None


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


#: what an injected fault does to a Bot API call (see SandboxServer._faulted)
FAULT_KINDS = ("error", "timeout", "drop", "drop_after", "delay")


@dataclass
class FaultRule:
    """The next ``times`` calls of ``method`` (``*``: any; optionally to ``chat_id``) fail:

    - ``error``: answered with ``status`` (5xx) and not done;
    - ``timeout``: no answer for ``delay`` seconds (then ``status``), not done;
    - ``drop``: the connection is closed before the call is done;
    - ``drop_after``: the call is done, then the connection is closed (the bot cannot know);
    - ``delay``: done after ``delay`` seconds (a slow Telegram).
    """

    method: str
    kind: str = "error"
    times: int = 1
    chat_id: int | None = None
    status: int = 502
    delay: float = 30.0

    def matches(self, method: str, chat_id: object) -> bool:
        if self.times <= 0 or self.method not in ("*", method.lower()):
            return False
        if self.chat_id is None:
            return True
        try:
            return int(str(chat_id)) == self.chat_id
        except (TypeError, ValueError):
            return False

    def to_api(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kind": self.kind,
            "times": self.times,
            "chat_id": self.chat_id,
            "status": self.status,
            "delay": self.delay,
        }
