"""An in-memory stand-in for the Telegram Bot API, served over HTTP with aiohttp.

Requests arrive at ``/bot{token}/{method}`` and file downloads at
``/file/bot{token}/{file_path}``, exactly like api.telegram.org, so a bot built
with ``TelegramAPIServer.from_base(url)`` talks to it unchanged.

The world (users, groups and their members) is shared; everything a bot sees
(chats' messages, pending updates, webhook, files, commands, recorded calls) is
kept per bot token in :class:`BotState`. Test code drives the world directly
through :mod:`sandbox.testing`, in the same event loop as the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.html import HtmlParseError, parse_html, strip_text, utf16_len
from sandbox.media import image_size

log = logging.getLogger("sandbox")

TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]{35,}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
DEFAULT_ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
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
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def now() -> int:
    return int(time.time())


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def forbidden(description: str) -> ApiError:
    return ApiError(403, f"Forbidden: {description}")


# --------------------------------------------------------------------------- waiting


class Notifier:
    """Wakes every waiter whenever anything in the sandbox changes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until ``predicate()`` is true; False when ``timeout`` passes first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            event = self._event
            if predicate():
                return True
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


# --------------------------------------------------------------------------- records


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


# --------------------------------------------------------------------------- params


class Params:
    """Request parameters from a query string, JSON body, or (multipart) form."""

    JSON_FIELDS = frozenset(
        {
            "reply_markup",
            "entities",
            "caption_entities",
            "commands",
            "scope",
            "allowed_updates",
            "reply_parameters",
            "link_preview_options",
            "menu_button",
            "message_ids",
            "media",
            "rights",
        }
    )

    def __init__(self, fields: dict[str, Any], files: dict[str, Upload] | None = None):
        self.fields = fields
        self.files = files or {}

    def has(self, name: str) -> bool:
        return self.fields.get(name) not in (None, "") or name in self.files

    def string(self, name: str) -> str | None:
        value = self.fields.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise bad(f"{name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self.fields.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.fields.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return bool(value)
        return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes")

    def json(self, name: str) -> Any:
        value = self.fields.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                if name == "reply_markup":
                    raise bad("can't parse reply keyboard markup JSON object") from None
                raise bad(f"can't parse {name} JSON object") from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (directly or via ``attach://``), or a file_id/URL string."""
        if name in self.files:
            return self.files[name]
        value = self.string(name)
        if not value:
            return None
        if value.startswith("attach://"):
            key = value[len("attach://") :]
            if key not in self.files:
                raise bad(f"file {key!r} must be uploaded in the request")
            return self.files[key]
        return value

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in self.fields.items():
            if key in self.JSON_FIELDS and isinstance(value, str):
                try:
                    result[key] = json.loads(value)
                except ValueError:
                    result[key] = value
            elif isinstance(value, str) and value.startswith("attach://"):
                upload = self.files.get(value[len("attach://") :])
                result[key] = _upload_summary(upload) if upload else value
            else:
                result[key] = value
        for key, upload in self.files.items():
            if key not in result and not any(
                v == f"attach://{key}" for v in self.fields.values() if isinstance(v, str)
            ):
                result[key] = _upload_summary(upload)
        return result


def _upload_summary(upload: Upload) -> dict[str, Any]:
    return {"file_name": upload.filename, "size": len(upload.data)}


async def read_params(request: web.Request) -> Params:
    fields: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad("JSON object expected")
            fields.update(body)
        elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.file.read(), value.filename, value.content_type)
                elif isinstance(value, bytes | bytearray):
                    fields[key] = bytes(value).decode("utf-8", "replace")
                else:
                    fields[key] = value
    return Params(fields, files)


# --------------------------------------------------------------------------- per-bot state


Handler = Callable[["SandboxServer", "BotState", Params], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}


def api_method(*names: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for name in names:
            METHODS[name.lower()] = (name, func)
        return func

    return register


class BotState:
    """Everything one bot token sees."""

    def __init__(self, server: SandboxServer, info: BotInfo):
        self.server = server
        self.info = info
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self.pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(10_000)
        self.delivered_upto = 0
        self.allowed_updates: list[str] | None = None
        self.poll_generation = 0
        self.polling_seen = False
        self.webhook: Webhook | None = None
        self._webhook_generation = 0
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.started: set[int] = set()
        self.blocked: set[int] = set()
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self._file_counter = itertools.count(1)
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.descriptions: dict[str, str] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.flood: list[FloodRule] = []
        self.calls: list[ApiCall] = []
        #: ("message" | "edit" | "delete", chat_id, message_id) for every bot-side change
        self.events: list[tuple[str, int, int]] = []

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.info.to_api()

    def notify(self) -> None:
        self.server.notifier.notify()

    # ----- messages

    def allocate_message_id(self, chat_id: int) -> int:
        value = self._next_message_id.get(chat_id, 10)
        self._next_message_id[chat_id] = value + 1
        return value

    def get_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        msg = self.messages.get(chat_id, {}).get(message_id)
        return None if msg is None or msg.deleted else msg

    def store(self, msg: StoredMessage) -> StoredMessage:
        msg.versions.append(json.loads(json.dumps(msg.data)))
        self.messages.setdefault(msg.chat_id, {})[msg.message_id] = msg
        if msg.from_bot and not msg.service:
            self.events.append(("message", msg.chat_id, msg.message_id))
        self.notify()
        return msg

    def record_edit(self, msg: StoredMessage) -> None:
        msg.versions.append(json.loads(json.dumps(msg.data)))
        self.events.append(("edit", msg.chat_id, msg.message_id))
        self.notify()

    def chat_dict(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return self.server.users[chat_id].private_chat()
        return self.server.groups[chat_id].to_api()

    def message_base(
        self, chat_id: int, sender: dict[str, Any], thread_id: int | None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.allocate_message_id(chat_id),
            "from": sender,
            "chat": self.chat_dict(chat_id),
            "date": now(),
        }
        if thread_id is not None:
            data["message_thread_id"] = thread_id
            group = self.server.groups.get(chat_id)
            if group is not None and group.is_forum:
                data["is_topic_message"] = True
        return data

    def attach_reply(
        self, data: dict[str, Any], reply_to: StoredMessage | None, thread_id: int | None
    ) -> None:
        """Set reply_to_message; in forum topics Telegram points it at the topic's first message."""
        if reply_to is None and thread_id is not None:
            reply_to = self.get_message(data["chat"]["id"], thread_id)
        if reply_to is not None:
            nested = dict(reply_to.data)
            nested.pop("reply_to_message", None)
            data["reply_to_message"] = nested

    # ----- updates

    def wants(self, update_type: str) -> bool:
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        if not allowed:
            return update_type in DEFAULT_ALLOWED_UPDATES
        return update_type in allowed

    def enqueue(self, update_type: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if not self.wants(update_type):
            return None
        update = {"update_id": next(self._update_ids), update_type: payload}
        self.pending.append(update)
        self.notify()
        return update

    def all_delivered(self) -> bool:
        return all(u["update_id"] <= self.delivered_upto for u in self.pending)

    # ----- files

    def add_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: tuple[int, int] | None = None,
    ) -> FileRecord:
        n = next(self._file_counter)
        prefix = {
            "document": "BQACAgIAAxkBAA",
            "photo": "AgACAgIAAxkBAA",
            "sticker": "CAACAgIAAxkBAA",
        }
        ext = ".jpg" if kind == "photo" else ".webp" if kind == "sticker" else ""
        if kind == "photo" and data[:4] == b"\x89PNG":
            ext = ".png"
        if kind == "document":
            if file_name and "." in file_name:
                ext = "." + file_name.rsplit(".", 1)[1].lower()
            if mime_type is None and file_name:
                mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        folder = {"document": "documents", "photo": "photos", "sticker": "stickers"}[kind]
        record = FileRecord(
            file_id=prefix[kind] + secrets.token_urlsafe(40),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{n}{ext}",
            file_name=file_name,
            mime_type=mime_type,
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        self.files[record.file_id] = record
        self.files_by_path[record.file_path] = record
        return record

    def photo_sizes(self, record: FileRecord) -> list[dict[str, Any]]:
        """PhotoSize array, smallest first; large photos also get a thumbnail size."""
        width, height = record.width or 0, record.height or 0
        sizes = []
        if max(width, height) > 320:
            scale = 320 / max(width, height)
            thumb = self.add_file(
                "photo",
                record.data,
                size=(max(1, round(width * scale)), max(1, round(height * scale))),
            )
            sizes.append(thumb.to_api())
        sizes.append(record.to_api())
        return sizes

    # ----- chats

    def group(self, chat_id: int) -> GroupRecord:
        group = self.server.groups.get(chat_id)
        if group is None:
            raise bad("chat not found")
        return group

    def bot_status(self, group: GroupRecord) -> str:
        return group.members.get(self.info.id, "left")

    def resolve_chat_id(self, p: Params, name: str = "chat_id") -> int:
        raw = p.fields.get(name)
        if raw is None or raw == "":
            raise bad(f"{name} is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            for group in self.server.groups.values():
                if (group.username or "").lower() == wanted:
                    return group.id
            raise bad("chat not found")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise bad("chat not found") from None

    def check_can_write(self, chat_id: int) -> None:
        if chat_id > 0:
            user = self.server.users.get(chat_id)
            if user is None:
                raise bad("chat not found")
            if user.is_bot:
                raise forbidden("bot can't send messages to bots")
            if chat_id in self.blocked:
                raise forbidden("bot was blocked by the user")
            if chat_id not in self.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        group = self.group(chat_id)
        status = self.bot_status(group)
        if status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")
        if status not in ("creator", "administrator", "member"):
            raise forbidden("bot is not a member of the supergroup chat")

    def check_can_read(self, chat_id: int) -> None:
        if chat_id > 0:
            if chat_id not in self.server.users:
                raise bad("chat not found")
            return
        group = self.group(chat_id)
        if self.bot_status(group) not in ("creator", "administrator", "member"):
            raise forbidden("bot is not a member of the supergroup chat")


# --------------------------------------------------------------------------- the server


class SandboxServer:
    """The HTTP server and the shared world. Use :class:`sandbox.testing.Sandbox` in tests."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        callback_timeout: float = 15.0,
        webhook_retry_delays: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0),
        webhook_timeout: float = 10.0,
    ):
        self.host = host
        self.port = port
        self.callback_timeout = callback_timeout
        self.webhook_retry_delays = webhook_retry_delays
        self.webhook_timeout = webhook_timeout
        self.notifier = Notifier()
        self.bots: dict[str, BotState] = {}
        self.registry: dict[str, BotInfo] = {}
        self.users: dict[int, UserRecord] = {}
        self.groups: dict[int, GroupRecord] = {}
        self._user_ids = itertools.count(700_000_001)
        self._group_ids = itertools.count(1_000_000_001)
        self._callback_ids = itertools.count(4_630_000_000_000_000_001)
        self.closing = False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.app = self._make_app()

    # ----- lifecycle

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/", self._handle_index)
        return app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.closing = False
        self._runner = web.AppRunner(
            self.app, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])
        log.info("Telegram sandbox listening on %s", self.url)

    async def stop(self) -> None:
        self.closing = True
        self.notifier.notify()
        tasks = [st.webhook.task for st in self.bots.values() if st.webhook and st.webhook.task]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----- world

    def register_bot(
        self,
        token: str,
        *,
        username: str = "kabinet_test_bot",
        first_name: str = "Kabinet",
        privacy_mode: bool = True,
    ) -> BotInfo:
        match = TOKEN_RE.match(token)
        if match is None:
            raise ValueError(f"not a bot token: {token!r}")
        info = BotInfo(token, int(match.group(1)), username, first_name, privacy_mode)
        self.registry[token] = info
        if token in self.bots:
            self.bots[token].info = info
        return info

    def bot(self, token: str) -> BotState:
        state = self.bots.get(token)
        if state is None:
            info = self.registry.get(token)
            if info is None:
                match = TOKEN_RE.match(token)
                if match is None:
                    raise ValueError(f"not a bot token: {token!r}")
                info = BotInfo(token, int(match.group(1)))
                self.registry[token] = info
            state = self.bots[token] = BotState(self, info)
            bot_record = UserRecord(info.id, info.first_name, username=info.username, is_bot=True)
            self.users.setdefault(info.id, bot_record)
        return state

    def add_user(self, user: UserRecord) -> UserRecord:
        self.users[user.id] = user
        return user

    def next_user_id(self) -> int:
        while True:
            value = next(self._user_ids)
            if value not in self.users:
                return value

    def next_group_id(self) -> int:
        while True:
            value = -(1_000_000_000_000 + next(self._group_ids))
            if value not in self.groups:
                return value

    def next_callback_id(self) -> str:
        return str(next(self._callback_ids))

    # ----- http handlers

    async def _handle_index(self, request: web.Request) -> web.Response:
        return web.Response(text="Telegram Bot API sandbox\n")

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        state = self.bots.get(token) if TOKEN_RE.match(token) else None
        record = state.files_by_path.get(request.match_info["path"]) if state else None
        if record is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not TOKEN_RE.match(token):
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        entry = METHODS.get(request.match_info["method"].lower())
        if entry is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        state = self.bot(token)
        try:
            params = await read_params(request)
        except ApiError as exc:
            return web.json_response(exc.payload(), status=exc.code)
        body = await self.call(state, entry[0], params)
        return web.json_response(body, status=200 if body["ok"] else int(body["error_code"]))

    async def call(self, state: BotState, method: str, params: Params) -> dict[str, Any]:
        """Run one API method as if requested over HTTP; returns the response body."""
        entry = METHODS.get(method.lower())
        if entry is None:
            return ApiError(404, "Not Found").payload()
        name, handler = entry
        record = name not in ("getUpdates", "getWebhookInfo")
        call = ApiCall(name, params.summary(), ok=False, time=time.time())
        try:
            self._check_flood(state, name, params)
            result = await handler(self, state, params)
        except ApiError as exc:
            call.error_code, call.error = exc.code, exc.description
            if record:
                state.calls.append(call)
                state.notify()
            return exc.payload()
        call.ok, call.result = True, result
        if record:
            state.calls.append(call)
            state.notify()
        body: dict[str, Any] = {"ok": True, "result": result}
        if isinstance(result, bool) and name in _DESCRIPTIONS:
            body["description"] = _DESCRIPTIONS[name](state, params)
        return body

    def _check_flood(self, state: BotState, method: str, p: Params) -> None:
        for rule in state.flood:
            if rule.method.lower() != method.lower() or rule.times <= 0:
                continue
            if rule.chat_id is not None:
                try:
                    if int(p.fields.get("chat_id", 0)) != rule.chat_id:
                        continue
                except (TypeError, ValueError):
                    continue
            rule.times -= 1
            state.flood = [r for r in state.flood if r.times > 0]
            raise ApiError(
                429,
                f"Too Many Requests: retry after {rule.retry_after}",
                {"retry_after": rule.retry_after},
            )

    # ----- webhook delivery

    def client(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession()
        return self._client

    def start_webhook(self, state: BotState, hook: Webhook) -> None:
        old = state.webhook
        if old is not None and old.task is not None:
            old.task.cancel()
        state.webhook = hook
        hook.task = asyncio.get_running_loop().create_task(self._deliver(state, hook))
        state.notify()

    def stop_webhook(self, state: BotState) -> None:
        old = state.webhook
        state.webhook = None
        if old is not None and old.task is not None:
            old.task.cancel()
        state.notify()

    async def _deliver(self, state: BotState, hook: Webhook) -> None:
        attempt = 0
        while not self.closing and state.webhook is hook:
            await self.notifier.wait_for(
                lambda: bool(state.pending) or self.closing or state.webhook is not hook, None
            )
            if self.closing or state.webhook is not hook:
                return
            update = state.pending[0]
            error = await self._post_update(state, hook, update)
            if error is None:
                attempt = 0
                state.pending = [u for u in state.pending if u["update_id"] != update["update_id"]]
                state.delivered_upto = max(state.delivered_upto, update["update_id"])
                state.notify()
                continue
            state.last_error_date = now()
            state.last_error_message = error
            state.notify()
            delays = self.webhook_retry_delays or (1.0,)
            delay = delays[min(attempt, len(delays) - 1)]
            attempt += 1
            await self.notifier.wait_for(
                lambda: self.closing or state.webhook is not hook, timeout=delay
            )

    async def _post_update(
        self, state: BotState, hook: Webhook, update: dict[str, Any]
    ) -> str | None:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with self.client().post(
                hook.url,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as resp:
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                reply = await self._read_webhook_reply(resp)
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as exc:
            return f"Connection error: {exc}"
        if reply is not None and isinstance(reply.fields.get("method"), str):
            method = str(reply.fields.pop("method"))
            await self.call(state, method, reply)
        return None

    async def _read_webhook_reply(self, resp: aiohttp.ClientResponse) -> Params | None:
        """A bot may answer a webhook request with a method call (JSON or multipart)."""
        ctype = resp.content_type
        if ctype == "application/json":
            try:
                body = await resp.json()
            except ValueError:
                return None
            return Params(body) if isinstance(body, dict) else None
        if ctype.startswith("multipart/"):
            fields: dict[str, Any] = {}
            files: dict[str, Upload] = {}
            reader = aiohttp.MultipartReader.from_response(resp)
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                    continue
                payload = await part.read()
                if part.filename:
                    files[part.name] = Upload(bytes(payload), part.filename, None)
                else:
                    fields[part.name] = bytes(payload).decode("utf-8", "replace")
            return Params(fields, files)
        return None


def _webhook_description(state: BotState, p: Params) -> str:
    return "Webhook was set" if state.webhook else "Webhook was deleted"


_DESCRIPTIONS: dict[str, Callable[[BotState, Params], str]] = {
    "setWebhook": _webhook_description,
    "deleteWebhook": lambda st, p: "Webhook was deleted",
}


# --------------------------------------------------------------------------- helpers for methods


def _format_text(
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


def _validate_markup(p: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
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


def _echo_markup(data: dict[str, Any], markup: dict[str, Any] | None) -> None:
    if markup and markup.get("inline_keyboard"):
        data["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    else:
        data.pop("reply_markup", None)


def _resolve_thread(state: BotState, chat_id: int, p: Params) -> int | None:
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


def _resolve_reply(state: BotState, chat_id: int, p: Params) -> StoredMessage | None:
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


def _new_bot_message(
    state: BotState,
    chat_id: int,
    p: Params,
    content: dict[str, Any],
    *,
    html: str | None = None,
    markup: dict[str, Any] | None = None,
    files: Iterable[FileRecord] = (),
) -> StoredMessage:
    thread_id = _resolve_thread(state, chat_id, p)
    reply_to = _resolve_reply(state, chat_id, p)
    if thread_id is None and reply_to is not None:
        thread_id = reply_to.thread_id
    data = state.message_base(chat_id, state.bot_user, thread_id)
    state.attach_reply(data, reply_to, thread_id)
    data.update(content)
    _echo_markup(data, markup)
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


def _resolve_upload(state: BotState, p: Params, key: str, kind: str) -> tuple[FileRecord, bool]:
    """(file record, is new upload) for a document/photo parameter."""
    value = p.file(key)
    if value is None:
        raise bad(f"there is no {key} in the request")
    if isinstance(value, str):
        record = state.files.get(value)
        if record is None:
            if value.startswith(("http://", "https://")):
                raise bad("failed to get HTTP URL content")
            raise bad("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad(f"can't use file of type {record.kind.title()} as {kind.title()}")
        return record, False
    if not value.data:
        raise bad("file must be non-empty")
    if kind == "document" and len(value.data) > 50 * 1024 * 1024:
        raise ApiError(413, "Request Entity Too Large")
    if kind == "photo":
        size = image_size(value.data)
        if size is None:
            raise bad("IMAGE_PROCESS_FAILED")
        return state.add_file("photo", value.data, size=size), True
    return (
        state.add_file(
            "document",
            value.data,
            file_name=value.filename,
            mime_type=value.content_type
            if value.content_type not in (None, "application/octet-stream")
            else None,
        ),
        True,
    )


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


def scope_key(scope: Any) -> str:
    if not isinstance(scope, dict):
        scope = {"type": "default"}
    normal: dict[str, Any] = {"type": scope.get("type", "default")}
    for key in ("chat_id", "user_id"):
        if scope.get(key) is not None:
            normal[key] = int(scope[key])
    return json.dumps(normal, sort_keys=True)


def member_dict(status: str, user: dict[str, Any]) -> dict[str, Any]:
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(
            (
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
                "can_pin_messages",
                "can_manage_topics",
            ),
            True,
        )
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            **rights,
        }
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status == "member":
        return {"status": "member", "user": user}
    return {"status": "left", "user": user}


# --------------------------------------------------------------------------- methods


@api_method("getMe")
async def get_me(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return {
        **st.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": not st.info.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut", "close")
async def log_out(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return True


@api_method("getUpdates")
async def get_updates(srv: SandboxServer, st: BotState, p: Params) -> Any:
    if st.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    st.polling_seen = True
    st.poll_generation += 1
    generation = st.poll_generation
    offset = p.integer("offset")
    limit = max(1, min(100, p.integer("limit") or 100))
    timeout = max(0.0, p.number("timeout") or 0.0)
    allowed = p.json("allowed_updates")
    if isinstance(allowed, list):
        st.allowed_updates = [str(a) for a in allowed]
    if offset is not None:
        if offset < 0:
            st.pending = st.pending[offset:]
        else:
            st.pending = [u for u in st.pending if u["update_id"] >= offset]
    st.notify()

    def ready() -> bool:
        return (
            bool(st.pending)
            or srv.closing
            or st.poll_generation != generation
            or st.webhook is not None
        )

    await srv.notifier.wait_for(ready, timeout)
    if st.poll_generation != generation:
        raise ApiError(409, CONFLICT_POLLING)
    if st.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    batch = st.pending[:limit]
    if batch:
        st.delivered_upto = max(st.delivered_upto, batch[-1]["update_id"])
        st.notify()
    return batch


@api_method("setWebhook")
async def set_webhook(srv: SandboxServer, st: BotState, p: Params) -> Any:
    url = (p.string("url") or "").strip()
    if p.flag("drop_pending_updates"):
        st.pending.clear()
    if not url:
        srv.stop_webhook(st)
        return True
    if not re.match(r"^https?://[^/\s]+", url):
        raise bad("bad webhook: HTTPS url must be provided for webhook")
    secret = p.string("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad("secret token contains unallowed characters")
    allowed = p.json("allowed_updates")
    st._webhook_generation += 1
    hook = Webhook(
        url=url,
        secret_token=secret or None,
        max_connections=p.integer("max_connections") or 40,
        allowed_updates=[str(a) for a in allowed] if isinstance(allowed, list) else None,
        generation=st._webhook_generation,
    )
    st.last_error_date = None
    st.last_error_message = None
    srv.start_webhook(st, hook)
    return True


@api_method("deleteWebhook")
async def delete_webhook(srv: SandboxServer, st: BotState, p: Params) -> Any:
    if p.flag("drop_pending_updates"):
        st.pending.clear()
    srv.stop_webhook(st)
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(srv: SandboxServer, st: BotState, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": st.webhook.url if st.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(st.pending),
    }
    if st.webhook is not None:
        info["max_connections"] = st.webhook.max_connections
        info["ip_address"] = "127.0.0.1"
        if st.webhook.allowed_updates is not None:
            info["allowed_updates"] = st.webhook.allowed_updates
    if st.last_error_date is not None:
        info["last_error_date"] = st.last_error_date
        info["last_error_message"] = st.last_error_message
    return info


@api_method("sendMessage")
async def send_message(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    text, entities, html = _format_text(
        p,
        "text",
        "entities",
        limit=MAX_TEXT,
        too_long="message is too long",
        empty="message text is empty",
    )
    markup = _validate_markup(p)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    msg = _new_bot_message(st, chat_id, p, content, html=html, markup=markup)
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
    _echo_markup(new, markup)
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
    text, entities, html = _format_text(
        p,
        "text",
        "entities",
        limit=MAX_TEXT,
        too_long="message is too long",
        empty="message text is empty",
    )
    markup = _validate_markup(p, inline_only=True)
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
    caption, entities, html = _format_text(
        p,
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        too_long="message caption is too long",
        empty=None,
    )
    markup = _validate_markup(p, inline_only=True)
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
    markup = _validate_markup(p, inline_only=True)
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


async def _send_file(st: BotState, p: Params, kind: str) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    record, _ = _resolve_upload(st, p, kind, kind)
    caption, entities, html = _format_text(
        p,
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        too_long="message caption is too long",
        empty=None,
    )
    markup = _validate_markup(p)
    content: dict[str, Any] = {}
    files = [record]
    if kind == "photo":
        content["photo"] = st.photo_sizes(record)
    else:
        content["document"] = record.to_api()
    if caption:
        content["caption"] = caption
    if entities:
        content["caption_entities"] = entities
    msg = _new_bot_message(st, chat_id, p, content, html=html, markup=markup, files=files)
    return msg.data


@api_method("sendDocument")
async def send_document(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return await _send_file(st, p, "document")


@api_method("sendPhoto")
async def send_photo(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return await _send_file(st, p, "photo")


@api_method("getFile")
async def get_file(srv: SandboxServer, st: BotState, p: Params) -> Any:
    file_id = p.string("file_id") or ""
    record = st.files.get(file_id)
    if record is None:
        raise bad("invalid file_id")
    if len(record.data) > 20 * 1024 * 1024:
        raise bad("file is too big")
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": len(record.data),
        "file_path": record.file_path,
    }


@api_method("createForumTopic")
async def create_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    if chat_id > 0:
        raise bad("the chat is not a forum")
    st.check_can_write(chat_id)
    group = st.group(chat_id)
    if not group.is_forum:
        raise bad("the chat is not a forum")
    if st.bot_status(group) not in ("creator", "administrator"):
        raise bad("not enough rights to create a topic")
    name = (p.string("name") or "").strip()
    if not name:
        raise bad("TOPIC_TITLE_EMPTY")
    if len(name) > 128:
        raise bad("TOPIC_TITLE_INVALID")
    icon_color = p.integer("icon_color") or 7322096
    topic = create_topic(st, group, name, icon_color, st.bot_user, from_bot=True)
    emoji = p.string("icon_custom_emoji_id")
    if emoji:
        topic["icon_custom_emoji_id"] = emoji
    return topic


def create_topic(
    st: BotState,
    group: GroupRecord,
    name: str,
    icon_color: int,
    sender: dict[str, Any],
    *,
    from_bot: bool,
) -> dict[str, Any]:
    """Create a topic: its first (service) message's id becomes the thread id."""
    message_id = st.allocate_message_id(group.id)
    group.topics[message_id] = {"name": name, "icon_color": icon_color}
    data = {
        "message_id": message_id,
        "from": sender,
        "chat": group.to_api(),
        "date": now(),
        "message_thread_id": message_id,
        "is_topic_message": True,
        "forum_topic_created": {"name": name, "icon_color": icon_color},
    }
    st.store(StoredMessage(group.id, message_id, data, from_bot=from_bot, service=True))
    return {"message_thread_id": message_id, "name": name, "icon_color": icon_color}


@api_method("editForumTopic")
async def edit_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    group = st.group(chat_id)
    st.check_can_write(chat_id)
    thread_id = p.integer("message_thread_id", required=True)
    if thread_id not in group.topics:
        raise bad("message thread not found")
    name = p.string("name")
    if name:
        group.topics[thread_id]["name"] = name
    return True


@api_method("closeForumTopic", "reopenForumTopic")
async def close_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    group = st.group(chat_id)
    st.check_can_write(chat_id)
    if p.integer("message_thread_id", required=True) not in group.topics:
        raise bad("message thread not found")
    return True


@api_method("deleteForumTopic")
async def delete_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    group = st.group(chat_id)
    st.check_can_write(chat_id)
    thread_id = p.integer("message_thread_id", required=True)
    if thread_id not in group.topics:
        raise bad("message thread not found")
    del group.topics[thread_id]
    for msg in st.messages.get(chat_id, {}).values():
        if msg.thread_id == thread_id:
            msg.deleted = True
    st.notify()
    return True


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
    msg = _new_bot_message(st, chat_id, p, content, files=source.files)
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
        caption, entities, html = _format_text(
            p,
            "caption",
            "caption_entities",
            limit=MAX_CAPTION,
            too_long="message caption is too long",
            empty=None,
        )
        content.pop("caption", None)
        content.pop("caption_entities", None)
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    markup = _validate_markup(p)
    msg = _new_bot_message(st, chat_id, p, content, html=html, markup=markup, files=source.files)
    return {"message_id": msg.message_id}


@api_method("setMyCommands")
async def set_my_commands(srv: SandboxServer, st: BotState, p: Params) -> Any:
    commands = p.json("commands")
    if not isinstance(commands, list):
        raise bad("commands is empty" if commands is None else "can't parse commands JSON object")
    if len(commands) > 100:
        raise bad("too many commands specified")
    clean = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad("can't parse BotCommand")
        command = str(item.get("command", "")).strip().removeprefix("/")
        description = str(item.get("description", "")).strip()
        if not COMMAND_RE.match(command):
            raise bad("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": command, "description": description})
    key = (scope_key(p.json("scope")), p.string("language_code") or "")
    if clean:
        st.commands[key] = clean
    else:
        st.commands.pop(key, None)
    return True


@api_method("getMyCommands")
async def get_my_commands(srv: SandboxServer, st: BotState, p: Params) -> Any:
    key = (scope_key(p.json("scope")), p.string("language_code") or "")
    return st.commands.get(key, [])


@api_method("deleteMyCommands")
async def delete_my_commands(srv: SandboxServer, st: BotState, p: Params) -> Any:
    st.commands.pop((scope_key(p.json("scope")), p.string("language_code") or ""), None)
    return True


@api_method("setChatMenuButton")
async def set_chat_menu_button(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = p.integer("chat_id")
    button = p.json("menu_button") or {"type": "default"}
    st.menu_buttons[chat_id] = button
    return True


@api_method("getChatMenuButton")
async def get_chat_menu_button(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = p.integer("chat_id")
    button = st.menu_buttons.get(chat_id) or st.menu_buttons.get(None) or {"type": "commands"}
    return {"type": "commands"} if button.get("type") == "default" else button


@api_method(
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setMyDefaultAdministratorRights",
)
async def set_my_text(srv: SandboxServer, st: BotState, p: Params) -> Any:
    for key in ("description", "short_description", "name"):
        if p.fields.get(key) is not None:
            st.descriptions[f"{key}:{p.string('language_code') or ''}"] = p.string(key) or ""
    return True


@api_method("sendChatAction")
async def send_chat_action(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    if (p.string("action") or "") not in CHAT_ACTIONS:
        raise bad("wrong parameter action in request")
    _resolve_thread(st, chat_id, p)
    return True


@api_method("getChatMember")
async def get_chat_member(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    user_id = p.integer("user_id", required=True)
    assert user_id is not None
    st.check_can_read(chat_id)
    user = srv.users.get(user_id)
    if user is None:
        raise bad("user not found")
    if chat_id > 0:
        if user_id != chat_id and user_id != st.info.id:
            raise bad("user not found")
        return member_dict("member", user.to_api())
    group = st.group(chat_id)
    return member_dict(group.members.get(user_id, "left"), user.to_api())


@api_method("getChat")
async def get_chat(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_read(chat_id)
    data = st.chat_dict(chat_id)
    data.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
    )
    return data


@api_method("pinChatMessage", "unpinChatMessage")
async def pin_chat_message(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    message_id = p.integer("message_id")
    if message_id is not None and st.get_message(chat_id, message_id) is None:
        raise bad("message to pin not found")
    return True


@api_method("unpinAllChatMessages")
async def unpin_all(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    return True


def supported_methods() -> list[str]:
    return sorted(name for name, _ in METHODS.values())
