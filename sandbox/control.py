"""HTTP control endpoints: play users over HTTP, from any language or from a browser.

Mounted under ``/_control/`` on the sandbox's own server (every :class:`sandbox.testing.Sandbox`
and ``python -m sandbox``) and on the browser chat (:mod:`sandbox.webchat`). They drive the same
:class:`sandbox.actors.User` a Python test uses, so a message sent here is an update for the bot
exactly like one sent by a test. JSON in, JSON out; errors are ``{"error": "..."}`` with a 4xx.

    POST /_control/users                       {"first_name", "phone", "language_code", ...}
    POST /_control/users/{id}/send             {"text", "chat_id"?, "thread_id"?, "reply_to"?}
    POST /_control/users/{id}/contact          {"phone"?}: without it, the user's own
    POST /_control/users/{id}/photo            multipart "photo" (+ "caption", "chat_id"...)
    POST /_control/users/{id}/document         multipart "document"
    POST /_control/users/{id}/press            {"message_id", "chat_id"?, "callback_data" |
                                                "text" | "row" + "column"}
    POST /_control/groups                      {"title", "is_forum", "bot": "administrator"}
    POST /_control/groups/{id}/members         {"user_id" | "bot": true, "status"}
    POST /_control/groups/{id}/topics          {"name", "by"?}
    GET  /_control/chats/{id}                  the chat, its reply keyboard, topics, members
    GET  /_control/chats/{id}/messages         ?after=ID&wait=SECONDS&sender=bot|user
    GET  /_control/events                      server-sent events: message / edit / delete
    GET  /_control/calls                       the bot's API calls: ?method=&chat_id=&failed=1
    POST /_control/faults                      {"method" ("*": any), "kind": error | timeout |
                                                drop | drop_after | delay, "times", "chat_id"?,
                                                "status"? (5xx), "delay"? (s)}: the next calls fail
    GET  /_control/faults                      the faults still to come
    DELETE /_control/faults                    no more injected faults
    POST /_control/limits                      {"per_second"?, "private"?, "group"?}: Telegram's
                                                flood limits from now on (sandbox/limits.py;
                                                a window is {"count", "seconds"} or null: none)
    GET  /_control/limits                      the limits and their counters (null: off)
    DELETE /_control/limits                    no flood limits any more
    POST /_control/redeliver                   {"update_id"?}: Telegram sends an update again
                                                (default: the last one delivered)
    GET  /_control/files/{file_id}             the bytes of a photo or document
    GET  /_control/                            the bot, its token, the users and groups
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from aiohttp import web

from sandbox.actors import Group, User
from sandbox.core import BotState
from sandbox.limits import TELEGRAM_GROUP, TELEGRAM_PRIVATE, Window
from sandbox.live import HEARTBEAT, Watch, event_stream, sse
from sandbox.records import FAULT_KINDS, StoredMessage
from sandbox.render import current_reply_keyboard
from sandbox.views import SandboxError, SandboxMessage

if TYPE_CHECKING:
    from sandbox.testing import Sandbox

PREFIX = "/_control"
MAX_WAIT = 60.0
JsonHandler = Callable[["Control", web.Request], Awaitable[Any]]


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _file_json(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    if not payload:
        return None
    return {**payload, "url": f"{PREFIX}/files/{payload['file_id']}"}


def message_json(state: BotState, stored: StoredMessage) -> dict[str, Any]:
    """What the control API says about one message (``raw`` is the Bot API Message)."""
    data = stored.data
    view = SandboxMessage(state, stored)
    markup = stored.markup or {}
    photo = data.get("photo") or []
    return {
        "chat_id": stored.chat_id,
        "message_id": stored.message_id,
        "thread_id": stored.thread_id,
        "from_bot": stored.from_bot,
        "from": data.get("from"),
        "date": data.get("date"),
        "text": str(data.get("text", data.get("caption", ""))),
        "html": stored.html,
        "entities": view.entities,
        "inline_keyboard": view.inline_keyboard,
        "reply_keyboard": view.reply_keyboard_buttons,
        "reply_keyboard_removed": bool(markup.get("remove_keyboard")),
        "force_reply": bool(markup.get("force_reply")),
        "photo": _file_json(photo[-1] if photo else None),
        "document": _file_json(data.get("document")),
        "contact": data.get("contact"),
        "reply_to_message_id": view.reply_to_message_id,
        "edited": view.edited,
        "deleted": stored.deleted,
        "service": stored.service,
        "raw": data,
    }


# --------------------------------------------------------------------------- the endpoints


class Control:
    """The control endpoints over one :class:`~sandbox.testing.Sandbox` (its default bot)."""

    def __init__(self, sb: Sandbox):
        self.sb = sb

    def mount(self, app: web.Application, prefix: str = PREFIX) -> None:
        """Add the routes to an aiohttp app that has not started yet."""
        routes: list[tuple[str, str, JsonHandler]] = [
            ("GET", "/", Control.overview),
            ("GET", "/users", Control.list_users),
            ("POST", "/users", Control.create_user),
            ("POST", "/users/{user_id}/send", Control.send),
            ("POST", "/users/{user_id}/contact", Control.contact),
            ("POST", "/users/{user_id}/photo", Control.photo),
            ("POST", "/users/{user_id}/document", Control.document),
            ("POST", "/users/{user_id}/press", Control.press),
            ("POST", "/groups", Control.create_group),
            ("POST", "/groups/{chat_id}/members", Control.add_member),
            ("POST", "/groups/{chat_id}/topics", Control.create_topic),
            ("DELETE", "/groups/{chat_id}/topics/{thread_id}", Control.delete_topic),
            ("POST", "/users/{user_id}/edit", Control.edit),
            ("GET", "/chats/{chat_id}", Control.chat),
            ("GET", "/chats/{chat_id}/messages", Control.messages),
            ("GET", "/calls", Control.calls),
            ("POST", "/faults", Control.add_fault),
            ("GET", "/faults", Control.list_faults),
            ("DELETE", "/faults", Control.clear_faults),
            ("POST", "/limits", Control.set_limits),
            ("GET", "/limits", Control.get_limits),
            ("DELETE", "/limits", Control.clear_limits),
            ("POST", "/redeliver", Control.redeliver),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, self._json(handler))
        app.router.add_get(prefix + "/events", self.events)
        app.router.add_get(prefix + "/files/{file_id}", self.file)

    def _json(self, handler: JsonHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            try:
                result = await handler(self, request)
            except ControlError as exc:
                return web.json_response({"error": str(exc)}, status=exc.status)
            except SandboxError as exc:
                return web.json_response({"error": str(exc)}, status=409)
            return web.json_response(result, dumps=lambda v: json.dumps(v, ensure_ascii=False))

        return serve

    # ----- looking things up

    def user(self, request: web.Request) -> User:
        user_id = _int(request.match_info["user_id"], "user_id")
        record = self.sb.server.users.get(user_id)
        if record is None or record.is_bot:
            raise ControlError(404, f"no user {user_id}")
        return self.sb.user(id=user_id)

    def group(self, chat_id: int | None) -> Group | None:
        if chat_id is None or chat_id > 0:
            return None
        if chat_id not in self.sb.server.groups:
            raise ControlError(404, f"no group {chat_id}")
        return self.sb.supergroup(id=chat_id)

    def stored(self, chat_id: int, message_id: int) -> StoredMessage:
        stored = self.sb.state.get_message(chat_id, message_id)
        if stored is None:
            raise ControlError(404, f"no message {message_id} in chat {chat_id}")
        return stored

    # ----- the world

    async def overview(self, request: web.Request) -> Any:
        return {
            "bot": self.sb.state.bot_user,
            "token": self.sb.token,
            "api_url": self.sb.url,
            "polling": self.sb.state.polling_seen,
            "webhook": self.sb.state.webhook.url if self.sb.state.webhook else None,
            "users": await self.list_users(request),
            "groups": [self._group_json(g.id) for g in self.sb.server.groups.values()],
        }

    async def list_users(self, request: web.Request) -> Any:
        return [
            {**u.to_api(), "phone": u.phone} for u in self.sb.server.users.values() if not u.is_bot
        ]

    async def create_user(self, request: web.Request) -> Any:
        body = await _body(request)
        user = self.sb.user(
            str(body.get("first_name") or "Test"),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code", "ru"),
            phone=body.get("phone"),
            id=_opt_int(body.get("id"), "id"),
        )
        return {**user.to_dict(), "phone": user.phone}

    async def create_group(self, request: web.Request) -> Any:
        body = await _body(request)
        group = self.sb.supergroup(
            str(body.get("title") or "Group"),
            is_forum=bool(body.get("is_forum")),
            id=_opt_int(body.get("id"), "id"),
            username=body.get("username"),
        )
        if body.get("bot"):
            group.add_member(bot=True, status=_status(body["bot"]))
        return self._group_json(group.id)

    async def add_member(self, request: web.Request) -> Any:
        body = await _body(request)
        group = self.group(_int(request.match_info["chat_id"], "chat_id"))
        assert group is not None
        status = _status(body.get("status", "member"))
        if body.get("bot"):
            group.add_member(bot=True, status=status)
        else:
            user_id = _int(body.get("user_id"), "user_id")
            if user_id not in self.sb.server.users:
                raise ControlError(404, f"no user {user_id}")
            group.add_member(self.sb.user(id=user_id), status=status)
        return self._group_json(group.id)

    async def create_topic(self, request: web.Request) -> Any:
        body = await _body(request)
        group = self.group(_int(request.match_info["chat_id"], "chat_id"))
        assert group is not None
        by = _opt_int(body.get("by"), "by")
        thread_id = group.create_topic(
            str(body.get("name") or "Topic"), by=self.sb.user(id=by) if by else None
        )
        return {"message_thread_id": thread_id, "name": group.topics[thread_id]}

    async def delete_topic(self, request: web.Request) -> Any:
        """An admin deletes a topic (the bot's sends to it fail from then on)."""
        group = self.group(_int(request.match_info["chat_id"], "chat_id"))
        assert group is not None
        thread_id = _int(request.match_info["thread_id"], "thread_id")
        if thread_id not in group.topics:
            raise ControlError(404, f"no topic {thread_id}")
        group.delete_topic(thread_id)
        return self._group_json(group.id)

    def _group_json(self, chat_id: int) -> dict[str, Any]:
        group = self.sb.server.groups[chat_id]
        return {
            **group.to_api(),
            "members": {str(k): v for k, v in group.members.items()},
            "topics": {str(k): t["name"] for k, t in group.topics.items()},
        }

    # ----- acting as a user

    async def send(self, request: web.Request) -> Any:
        user, body = self.user(request), await _body(request)
        text = str(body.get("text") or "")
        if not text.strip():
            raise ControlError(400, "text is empty")
        chat = self.group(_opt_int(body.get("chat_id"), "chat_id"))
        sent = await user.send(
            text,
            chat=chat,
            thread_id=_opt_int(body.get("thread_id"), "thread_id"),
            reply_to=_opt_int(body.get("reply_to"), "reply_to"),
        )
        return message_json(self.sb.state, sent._stored)

    async def edit(self, request: web.Request) -> Any:
        """The user edits their message (text, or caption): the bot gets edited_message."""
        user, body = self.user(request), await _body(request)
        chat_id = _opt_int(body.get("chat_id"), "chat_id") or user.id
        stored = self.stored(chat_id, _int(body.get("message_id"), "message_id"))
        message = SandboxMessage(self.sb.state, stored)
        try:
            if body.get("caption") is not None:
                edited = await user.edit_caption(message, str(body["caption"]))
            else:
                edited = await user.edit(message, str(body.get("text") or ""))
        except SandboxError as exc:
            raise ControlError(400, str(exc)) from exc
        return message_json(self.sb.state, edited._stored)

    async def contact(self, request: web.Request) -> Any:
        user, body = self.user(request), await _body(request)
        if body.get("phone"):
            sent = await user.share_contact(
                phone=str(body["phone"]),
                user_id=_opt_int(body.get("user_id"), "user_id"),
                first_name=body.get("first_name"),
            )
        else:
            sent = await user.share_contact()
        return message_json(self.sb.state, sent._stored)

    async def photo(self, request: web.Request) -> Any:
        return await self._upload(request, "photo")

    async def document(self, request: web.Request) -> Any:
        return await self._upload(request, "document")

    async def _upload(self, request: web.Request, kind: str) -> Any:
        user = self.user(request)
        fields, files = await _form(request)
        upload = files.get(kind)
        if kind == "document" and upload is None:
            raise ControlError(400, "no document in the request")
        chat = self.group(_opt_int(fields.get("chat_id"), "chat_id"))
        common: dict[str, Any] = {
            "caption": fields.get("caption") or None,
            "chat": chat,
            "thread_id": _opt_int(fields.get("thread_id"), "thread_id"),
            "reply_to": _opt_int(fields.get("reply_to"), "reply_to"),
        }
        if kind == "photo":
            sent = await user.send_photo(upload[1] if upload else None, **common)
        else:
            assert upload is not None
            sent = await user.send_document(upload[1], file_name=upload[0], **common)
        return message_json(self.sb.state, sent._stored)

    async def press(self, request: web.Request) -> Any:
        """Press an inline button; waits for the bot's answerCallbackQuery (or says it did not)."""
        user, body = self.user(request), await _body(request)
        chat_id = _opt_int(body.get("chat_id"), "chat_id") or user.id
        stored = self.stored(chat_id, _int(body.get("message_id"), "message_id"))
        data = _callback_data(stored, body)
        timeout = min(float(body.get("timeout") or 10.0), MAX_WAIT)
        try:
            answer = await user.press_data(
                data, message=SandboxMessage(self.sb.state, stored), timeout=timeout
            )
        except SandboxError as exc:
            if "did not answer" not in str(exc):
                raise
            return {"answered": False, "error": str(exc)}
        return {
            "answered": True,
            "text": answer.text,
            "show_alert": answer.show_alert,
            "url": answer.url,
        }

    # ----- reading

    async def chat(self, request: web.Request) -> Any:
        chat_id = _int(request.match_info["chat_id"], "chat_id")
        messages = sorted(self.sb.state.messages.get(chat_id, {}).items())
        keyboard = current_reply_keyboard([m for _, m in messages])
        if chat_id > 0:
            record = self.sb.server.users.get(chat_id)
            if record is None:
                raise ControlError(404, f"no chat {chat_id}")
            info: dict[str, Any] = record.private_chat()
        else:
            if chat_id not in self.sb.server.groups:
                raise ControlError(404, f"no chat {chat_id}")
            info = self._group_json(chat_id)
        return {**info, "messages": len(messages), "reply_keyboard": keyboard}

    async def messages(self, request: web.Request) -> Any:
        """Messages after ``after``; with ``wait``, waits (long polling) until there is one."""
        chat_id = _int(request.match_info["chat_id"], "chat_id")
        after = _opt_int(request.query.get("after"), "after") or 0
        sender = request.query.get("sender", "")
        thread = _opt_int(request.query.get("thread_id"), "thread_id")
        wait = min(float(request.query.get("wait") or 0), MAX_WAIT)

        def found() -> list[StoredMessage]:
            return [
                m
                for mid, m in sorted(self.sb.state.messages.get(chat_id, {}).items())
                if mid > after
                and not m.service
                and (sender != "bot" or m.from_bot)
                and (sender != "user" or not m.from_bot)
                and (thread is None or m.thread_id == thread)
            ]

        if wait > 0:
            await self.sb.server.notifier.wait_for(
                lambda: bool(found()) or self.sb.server.closing, wait
            )
        return {"messages": [message_json(self.sb.state, m) for m in found()]}

    async def calls(self, request: web.Request) -> Any:
        """The bot's recorded API calls (all but getUpdates), oldest first; ``failed=1``: errors."""
        chat_id = _opt_int(request.query.get("chat_id"), "chat_id")
        failed = request.query.get("failed") in ("1", "true")
        found = self.sb.sent(
            chat_id, request.query.get("method") or None, ok=False if failed else None
        )
        return [
            {
                "method": c.method,
                "params": c.params,
                "ok": c.ok,
                "error_code": c.error_code,
                "error": c.error,
                "time": c.time,
            }
            for c in found
        ]

    # ----- Telegram's failures (faults) and re-deliveries

    async def add_fault(self, request: web.Request) -> Any:
        body = await _body(request)
        kind = str(body.get("kind") or "error")
        if kind not in FAULT_KINDS:
            raise ControlError(400, f"kind must be one of {', '.join(FAULT_KINDS)}")
        status = _opt_int(body.get("status"), "status") or 502
        if not 500 <= status <= 599:
            raise ControlError(400, "status must be a 5xx")
        try:
            delay = float(body.get("delay", 30.0))
        except (TypeError, ValueError):
            raise ControlError(400, "delay must be a number of seconds") from None
        rule = self.sb.inject_fault(
            str(body.get("method") or "*"),
            kind=kind,
            times=_opt_int(body.get("times"), "times") or 1,
            chat_id=_opt_int(body.get("chat_id"), "chat_id"),
            status=status,
            delay=delay,
        )
        return rule.to_api()

    async def list_faults(self, request: web.Request) -> Any:
        return [rule.to_api() for rule in self.sb.state.faults]

    async def clear_faults(self, request: web.Request) -> Any:
        self.sb.state.faults.clear()
        return {"ok": True}

    # ----- Telegram's flood limits (sandbox/limits.py)

    async def set_limits(self, request: web.Request) -> Any:
        body = await _body(request)
        try:
            limits = self.sb.enforce_limits(
                per_second=float(body.get("per_second", 30.0)),
                private=_window(body, "private", TELEGRAM_PRIVATE),
                group=_window(body, "group", TELEGRAM_GROUP),
            )
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"bad limits: {exc}") from None
        return limits.to_api()

    async def get_limits(self, request: web.Request) -> Any:
        limits = self.sb.state.rate_limits
        return None if limits is None else limits.to_api()

    async def clear_limits(self, request: web.Request) -> Any:
        self.sb.state.rate_limits = None
        return {"ok": True}

    async def redeliver(self, request: web.Request) -> Any:
        body = await _body(request)
        try:
            update = self.sb.redeliver(_opt_int(body.get("update_id"), "update_id"))
        except KeyError as exc:
            raise ControlError(404, str(exc)) from None
        return {"update_id": update["update_id"]}

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: ``message``, ``edit``, ``delete`` with the message as data."""
        chats = {_int(v, "chat_id") for v in request.query.getall("chat_id", [])} or None
        watch = Watch(self.sb, chats)

        async def frames() -> AsyncIterator[str]:
            while not self.sb.server.closing:
                changes = await watch.next(HEARTBEAT)
                if not changes:
                    yield ": keep-alive\n\n"
                for change in changes:
                    yield sse(change.kind, message_json(self.sb.state, change.stored))

        return await event_stream(request, self.sb, frames())

    async def file(self, request: web.Request) -> web.StreamResponse:
        record = self.sb.state.files.get(request.match_info["file_id"])
        if record is None:
            return web.json_response({"error": "no such file"}, status=404)
        headers = {}
        if record.file_name:
            quoted = record.file_name.replace('"', "")
            headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(quoted, safe='')}"
        content_type = record.mime_type or (
            "image/png" if record.file_path.endswith(".png") else None
        )
        if content_type is None and record.kind == "photo":
            content_type = "image/jpeg"
        return web.Response(
            body=record.data,
            content_type=content_type or "application/octet-stream",
            headers=headers,
        )


# --------------------------------------------------------------------------- parsing requests


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


def _opt_int(value: Any, name: str) -> int | None:
    return None if value in (None, "") else _int(value, name)


def _window(body: dict[str, Any], key: str, default: Window) -> Window | None:
    """A flood limit's window: ``{"count", "seconds"}``; null: none; absent: ``default``."""
    value = body.get(key, default)
    return value if value is None or isinstance(value, Window) else Window.from_api(value)


def _status(value: Any) -> str:
    status = str(value)
    if status not in ("creator", "administrator", "member", "left", "kicked"):
        raise ControlError(400, f"bad status {status!r}")
    return status


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ControlError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ControlError(400, "a JSON object expected")
        return {**request.query, **body}
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields, _ = await _form(request)
        return fields
    return dict(request.query)


async def _form(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """(fields, files: name -> (file name, bytes)) of a form or multipart body."""
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await _body(request), {}
    fields: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):  # a client may send the name %-encoded (RFC 5987)
            files[key] = (unquote(value.filename or key), value.file.read())
        else:
            fields[key] = (
                value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
            )
    return fields, files


def _callback_data(stored: StoredMessage, body: dict[str, Any]) -> str:
    """The callback_data to press: given, or of the button found by text or by position."""
    if body.get("callback_data") is not None:
        return str(body["callback_data"])
    rows = (stored.data.get("reply_markup") or {}).get("inline_keyboard") or []
    button: dict[str, Any] | None = None
    if body.get("text") is not None:
        button = next((b for row in rows for b in row if b.get("text") == body["text"]), None)
    elif body.get("row") is not None:
        row, column = _int(body.get("row"), "row"), _int(body.get("column", 0), "column")
        if 0 <= row < len(rows) and 0 <= column < len(rows[row]):
            button = rows[row][column]
    else:
        raise ControlError(400, "say which button: callback_data, text, or row and column")
    if button is None:
        raise ControlError(404, f"no such inline button on message {stored.message_id}")
    if "callback_data" not in button:
        raise ControlError(400, f"button {button.get('text')!r} is not a callback button")
    return str(button["callback_data"])
