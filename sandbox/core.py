"""The sandbox's shared core: Bot API errors, request parameters, the method registry and
:class:`BotState`, everything one bot token sees.

Method groups live in :mod:`sandbox.methods`; each registers its handlers with
:func:`api_method`, and :class:`sandbox.server.SandboxServer` dispatches to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import mimetypes
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.records import (
    ApiCall,
    BotInfo,
    CallbackRecord,
    FaultRule,
    FileRecord,
    FloodRule,
    GroupRecord,
    StoredMessage,
    Upload,
    Webhook,
)

if TYPE_CHECKING:
    from sandbox.limits import RateLimits
    from sandbox.server import SandboxServer

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


# --------------------------------------------------------------------------- the method registry


Handler = Callable[["SandboxServer", "BotState", Params], Awaitable[Any]]
Describe = Callable[["BotState", Params], str]


@dataclass(frozen=True)
class Method:
    """One registered Bot API method."""

    name: str
    handler: Handler
    #: False for methods a bot calls all the time (polling); they stay out of ``BotState.calls``
    recorded: bool = True
    #: the ``description`` Telegram adds to a ``true`` result (setWebhook: "Webhook was set")
    describe: Describe | None = None


#: lower-cased method name -> Method; filled by :func:`api_method` as method modules load
METHODS: dict[str, Method] = {}


def api_method(
    *names: str, recorded: bool = True, describe: Describe | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler under one or more Bot API method names (matched case-insensitively)."""

    def register(func: Handler) -> Handler:
        for name in names:
            key = name.lower()
            if key in METHODS:
                raise RuntimeError(f"{name} is registered twice: {METHODS[key].handler!r}")
            METHODS[key] = Method(name, func, recorded, describe)
        return func

    return register


# --------------------------------------------------------------------------- per-bot state


class BotState:
    """Everything one bot token sees."""

    def __init__(self, server: SandboxServer, info: BotInfo):
        self.server = server
        self.info = info
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self.pending: list[dict[str, Any]] = []
        #: every update made, by update_id (for re-deliveries: sandbox.testing.redeliver)
        self.history: dict[int, dict[str, Any]] = {}
        self._update_ids = itertools.count(10_000)
        self.delivered_upto = 0
        self.allowed_updates: list[str] | None = None
        self.poll_generation = 0
        self.polling_seen = False
        self.webhook: Webhook | None = None
        #: update_id -> the request POSTing it to a webhook, the current one's or an old one's
        #: still finishing (sandbox.delivery); such an update is handed to nobody else meanwhile
        self.webhook_posts: dict[int, asyncio.Task[None]] = {}
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
        #: Telegram's flood limits when a test or a benchmark turns them on (sandbox/limits.py:
        #: Sandbox.enforce_limits, Sandbox.limit_flood, POST /_control/limits); None: off
        self.rate_limits: RateLimits | None = None
        #: injected failures of calls: 5xx, timeouts, dropped connections (sandbox.records)
        self.faults: list[FaultRule] = []
        self.calls: list[ApiCall] = []
        #: ("message" | "edit" | "delete", chat_id, message_id) for every bot-side change
        self.events: list[tuple[str, int, int]] = []

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.info.to_api()

    def notify(self) -> None:
        self.server.notifier.notify()

    def take_fault(self, method: str, chat_id: object) -> FaultRule | None:
        """The injected fault this call meets (counted down), if any."""
        for rule in self.faults:
            if rule.matches(method, chat_id):
                rule.times -= 1
                self.faults = [r for r in self.faults if r.times > 0]
                return rule
        return None

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
        update_id = next(self._update_ids)
        update = {"update_id": update_id, update_type: payload}
        self.pending.append(update)
        self.history[update_id] = update
        self.notify()
        return update

    def all_delivered(self) -> bool:
        """Every update was handed to the bot: with a webhook, accepted by it (nothing pending,
        an update sent again included); with getUpdates, returned by it."""
        if self.webhook is not None:
            return not self.pending
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
            "voice": "AwACAgIAAxkBAA",
            "video": "BAACAgIAAxkBAA",
        }
        ext = {"photo": ".jpg", "sticker": ".webp", "voice": ".oga", "video": ".mp4"}.get(kind, "")
        if kind == "photo" and data[:4] == b"\x89PNG":
            ext = ".png"
        if kind == "document":
            if file_name and "." in file_name:
                ext = "." + file_name.rsplit(".", 1)[1].lower()
            if mime_type is None and file_name:
                mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        folder = {
            "document": "documents",
            "photo": "photos",
            "sticker": "stickers",
            "voice": "voice",
            "video": "videos",
        }[kind]
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
