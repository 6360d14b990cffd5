"""Test-side helpers: start a sandbox, create users and groups, act as them, assert on the bot.

    async with Sandbox() as sb:
        alice = sb.user(first_name="Alice", phone="+79161234567")
        await alice.send("/start")
        msg = await alice.next_message()
        await alice.press("Согласен", message=msg)

Everything runs in the caller's event loop; waits are event-driven (no sleeping loops).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.core import BotState, now
from sandbox.media import image_size, make_png
from sandbox.methods.chats import member_dict
from sandbox.methods.forum import create_topic
from sandbox.methods.profile import scope_key
from sandbox.records import (
    ApiCall,
    CallbackRecord,
    FileRecord,
    FloodRule,
    GroupRecord,
    StoredMessage,
    UserRecord,
)
from sandbox.server import SandboxServer

__all__ = [
    "ApiCall",
    "BotMessage",
    "CallbackAnswer",
    "FileInfo",
    "Group",
    "Sandbox",
    "SandboxError",
    "SandboxMessage",
    "User",
    "make_png",
    "random_token",
]

_OWN: Any = object()
TELEGRAM_SERVICE_USER: dict[str, Any] = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


class SandboxError(AssertionError):
    """A test expectation about the bot failed (no message, no button, no answer...)."""


def random_token(bot_id: int | None = None) -> str:
    """A syntactically valid bot token: ``<digits>:<35 chars>``."""
    if bot_id is None:
        bot_id = 6_000_000_000 + secrets.randbelow(999_999_999)
    return f"{bot_id}:AA{secrets.token_urlsafe(33)[:33]}"


@dataclass
class CallbackAnswer:
    """What the bot passed to answerCallbackQuery."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass
class FileInfo:
    """A document or photo attached to a message."""

    file_id: str
    file_unique_id: str
    name: str | None
    mime_type: str | None
    size: int
    width: int | None
    height: int | None
    _record: FileRecord | None

    @property
    def data(self) -> bytes:
        if self._record is None:
            raise SandboxError(f"file {self.file_id} is not stored in the sandbox")
        return self._record.data

    async def download(self) -> bytes:
        return self.data


class SandboxMessage:
    """A live view of one message: attributes always reflect its latest edit."""

    def __init__(self, state: BotState, stored: StoredMessage):
        self._state = state
        self._stored = stored

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.raw.get('from', {}).get('id')}"
        flags = " deleted" if self.deleted else ""
        return (
            f"<message {self.message_id} in {self.chat_id} from {who}{flags}: "
            f"{self.text!r} buttons={self.buttons}>"
        )

    @property
    def raw(self) -> dict[str, Any]:
        """The current Bot API Message object (as the bot last saw it)."""
        return self._stored.data

    @property
    def message_id(self) -> int:
        return self._stored.message_id

    @property
    def chat_id(self) -> int:
        return self._stored.chat_id

    @property
    def from_bot(self) -> bool:
        return self._stored.from_bot

    @property
    def text(self) -> str:
        """Plain text (or caption) with HTML tags stripped, as Telegram shows it."""
        return str(self.raw.get("text", self.raw.get("caption", "")))

    @property
    def html(self) -> str | None:
        """The raw text/caption the bot sent with parse_mode=HTML (None for other modes)."""
        return self._stored.html

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.raw.get("entities", self.raw.get("caption_entities", [])))

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The reply_markup as the bot sent it, reply keyboards included."""
        return self._stored.markup

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.raw.get("reply_markup") or {}
        return list(markup.get("inline_keyboard", []))

    @property
    def buttons(self) -> list[list[str]]:
        """Texts of the inline buttons, row by row ([] when there are none)."""
        return [[str(b.get("text", "")) for b in row] for row in self.inline_keyboard]

    def button(self, text: str) -> dict[str, Any] | None:
        """The inline button with exactly this text (dict with callback_data/url/...)."""
        for row in self.inline_keyboard:
            for b in row:
                if b.get("text") == text:
                    return dict(b)
        return None

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Texts of the reply keyboard this message carried, or None."""
        markup = self._stored.markup or {}
        if "keyboard" not in markup:
            return None
        return [
            [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
            for row in markup["keyboard"]
        ]

    @property
    def reply_keyboard_buttons(self) -> list[list[dict[str, Any]]] | None:
        """The reply keyboard's buttons as dicts (to check request_contact and the like)."""
        markup = self._stored.markup or {}
        if "keyboard" not in markup:
            return None
        return [
            [{"text": b} if isinstance(b, str) else dict(b) for b in row]
            for row in markup["keyboard"]
        ]

    @property
    def reply_keyboard_removed(self) -> bool:
        return bool((self._stored.markup or {}).get("remove_keyboard"))

    def _file(self, payload: dict[str, Any] | None) -> FileInfo | None:
        if not payload:
            return None
        record = self._state.files.get(payload["file_id"])
        return FileInfo(
            file_id=payload["file_id"],
            file_unique_id=payload["file_unique_id"],
            name=payload.get("file_name"),
            mime_type=payload.get("mime_type"),
            size=int(payload.get("file_size", 0)),
            width=payload.get("width"),
            height=payload.get("height"),
            _record=record,
        )

    @property
    def document(self) -> FileInfo | None:
        return self._file(self.raw.get("document"))

    @property
    def photo(self) -> FileInfo | None:
        """The largest size of the photo, if the message has one."""
        sizes = self.raw.get("photo") or []
        return self._file(sizes[-1] if sizes else None)

    async def download(self) -> bytes:
        """Bytes of the document (or largest photo) in this message."""
        info = self.document or self.photo
        if info is None:
            raise SandboxError(f"message {self.message_id} has no document or photo")
        return info.data

    @property
    def thread_id(self) -> int | None:
        return self._stored.thread_id

    @property
    def reply_to_message_id(self) -> int | None:
        nested = self.raw.get("reply_to_message")
        return int(nested["message_id"]) if nested else None

    @property
    def deleted(self) -> bool:
        return self._stored.deleted

    @property
    def edited(self) -> bool:
        return len(self._stored.versions) > 1

    @property
    def versions(self) -> list[dict[str, Any]]:
        """Every version of the message, first as sent, last as it is now."""
        return list(self._stored.versions)


BotMessage = SandboxMessage


class _ChatHandle:
    """Waiting and asserting on what the bot sends to one chat."""

    def __init__(self, sandbox: Sandbox, state: BotState, chat_id: int):
        self._sb = sandbox
        self._state = state
        self._chat_id = chat_id
        self._consumed: set[int] = set()
        self._edit_pos = len(state.events)

    def _bot_messages(self, thread_id: int | None = None) -> list[StoredMessage]:
        stored = self._state.messages.get(self._chat_id, {})
        return [
            m
            for _, m in sorted(stored.items())
            if m.from_bot and not m.service and (thread_id is None or m.thread_id == thread_id)
        ]

    def messages(self, *, thread_id: int | None = None) -> list[SandboxMessage]:
        """Every message the bot sent to this chat so far (deleted ones included)."""
        return [SandboxMessage(self._state, m) for m in self._bot_messages(thread_id)]

    @property
    def last_message(self) -> SandboxMessage | None:
        items = [m for m in self._bot_messages() if not m.deleted]
        return SandboxMessage(self._state, items[-1]) if items else None

    def _unconsumed(self, thread_id: int | None) -> list[StoredMessage]:
        return [m for m in self._bot_messages(thread_id) if m.message_id not in self._consumed]

    async def next_message(
        self, timeout: float = 10.0, *, thread_id: int | None = None
    ) -> SandboxMessage:
        """The oldest bot message in this chat not yet returned by next_message.

        Each bot message is returned once, in order, even if it was sent before the call.
        """
        ok = await self._sb.server.notifier.wait_for(
            lambda: bool(self._unconsumed(thread_id)), timeout
        )
        if not ok:
            raise SandboxError(
                f"no new bot message in chat {self._chat_id} within {timeout}s"
                + self._sb._diagnostics(self._state, self._chat_id)
            )
        msg = self._unconsumed(thread_id)[0]
        self._consumed.add(msg.message_id)
        return SandboxMessage(self._state, msg)

    def skip_messages(self) -> int:
        """Mark every bot message so far as seen; returns how many were skipped."""
        pending = self._unconsumed(None)
        self._consumed.update(m.message_id for m in pending)
        return len(pending)

    async def next_edit(self, timeout: float = 10.0) -> SandboxMessage:
        """The next edit the bot made to a message in this chat (in order, each once)."""

        def find() -> int | None:
            events = self._state.events
            for index in range(self._edit_pos, len(events)):
                kind, chat_id, _ = events[index]
                if kind == "edit" and chat_id == self._chat_id:
                    return index
            return None

        ok = await self._sb.server.notifier.wait_for(lambda: find() is not None, timeout)
        index = find()
        if not ok or index is None:
            raise SandboxError(
                f"the bot edited no message in chat {self._chat_id} within {timeout}s"
                + self._sb._diagnostics(self._state, self._chat_id)
            )
        self._edit_pos = index + 1
        message_id = self._state.events[index][2]
        return SandboxMessage(self._state, self._state.messages[self._chat_id][message_id])

    async def expect_no_message(self, within: float = 1.0, *, thread_id: int | None = None) -> None:
        """Assert the bot sends nothing new (not yet seen by next_message) within the window."""
        await self._sb.server.notifier.wait_for(lambda: bool(self._unconsumed(thread_id)), within)
        extra = self._unconsumed(thread_id)
        if extra:
            texts = [SandboxMessage(self._state, m).text for m in extra]
            raise SandboxError(f"unexpected bot message(s) in chat {self._chat_id}: {texts!r}")


class User(_ChatHandle):
    """A Telegram user talking to the bot (their private chat is ``chat_id == id``)."""

    def __init__(self, sandbox: Sandbox, state: BotState, record: UserRecord):
        super().__init__(sandbox, state, record.id)
        self.record = record

    def __repr__(self) -> str:
        return f"<User {self.id} {self.first_name!r}>"

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def first_name(self) -> str:
        return self.record.first_name

    @property
    def last_name(self) -> str | None:
        return self.record.last_name

    @property
    def username(self) -> str | None:
        return self.record.username

    @property
    def language_code(self) -> str | None:
        return self.record.language_code

    @property
    def phone(self) -> str | None:
        return self.record.phone

    @property
    def chat_id(self) -> int:
        return self.record.id

    def to_dict(self) -> dict[str, Any]:
        return self.record.to_api()

    @property
    def keyboard(self) -> list[list[str]] | None:
        """The reply keyboard the user currently sees in the private chat, if any."""
        for stored in reversed(self._bot_messages()):
            markup = stored.markup or {}
            if "keyboard" in markup:
                return SandboxMessage(self._state, stored).reply_keyboard
            if markup.get("remove_keyboard"):
                return None
        return None

    # ----- sending

    def _target(self, chat: Group | None) -> int:
        if chat is None:
            if self.id in self._state.blocked:
                self.unblock_bot()
            self._state.started.add(self.id)
            return self.id
        status = chat.record.members.get(self.id, "left")
        if status not in ("creator", "administrator", "member"):
            raise SandboxError(f"{self!r} is not a member of {chat.record.title!r}")
        return chat.id

    async def _post(
        self,
        content: dict[str, Any],
        *,
        chat: Group | None,
        reply_to: SandboxMessage | int | None,
        thread_id: int | None,
    ) -> SandboxMessage:
        st = self._state
        chat_id = self._target(chat)
        reply: StoredMessage | None = None
        if reply_to is not None:
            reply_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
            reply = st.get_message(chat_id, reply_id)
            if reply is None:
                raise SandboxError(f"no message {reply_id} in chat {chat_id} to reply to")
            if thread_id is None:
                thread_id = reply.thread_id
        if (
            thread_id is not None
            and chat is not None
            and chat.is_forum
            and thread_id not in chat.record.topics
        ):
            raise SandboxError(f"no topic {thread_id} in {chat.record.title!r}")
        data = st.message_base(chat_id, self.record.to_api(), thread_id)
        st.attach_reply(data, reply, thread_id)
        data.update(content)
        stored = st.store(StoredMessage(chat_id, data["message_id"], data, from_bot=False))
        if chat is None or _bot_sees(st, chat.record, data):
            st.enqueue("message", data)
        return SandboxMessage(st, stored)

    async def send(
        self,
        text: str,
        *,
        chat: Group | None = None,
        reply_to: SandboxMessage | int | None = None,
        thread_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> SandboxMessage:
        """Send a text message (to the private chat with the bot, or to ``chat``)."""
        content: dict[str, Any] = {"text": text}
        found = entities if entities is not None else _command_entities(text)
        if found:
            content["entities"] = found
        return await self._post(content, chat=chat, reply_to=reply_to, thread_id=thread_id)

    async def send_photo(
        self,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        chat: Group | None = None,
        reply_to: SandboxMessage | int | None = None,
        thread_id: int | None = None,
    ) -> SandboxMessage:
        """Send a photo (a small valid PNG by default). Undecodable bytes count as 1280x960."""
        payload = data if data is not None else make_png(4, 4)
        size = image_size(payload) or (1280, 960)
        record = self._state.add_file("photo", payload, size=size)
        content: dict[str, Any] = {"photo": self._state.photo_sizes(record)}
        if caption:
            content["caption"] = caption
        return await self._post(content, chat=chat, reply_to=reply_to, thread_id=thread_id)

    async def send_document(
        self,
        data: bytes,
        *,
        file_name: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
        chat: Group | None = None,
        reply_to: SandboxMessage | int | None = None,
        thread_id: int | None = None,
    ) -> SandboxMessage:
        record = self._state.add_file("document", data, file_name=file_name, mime_type=mime_type)
        content: dict[str, Any] = {"document": record.to_api()}
        if caption:
            content["caption"] = caption
        return await self._post(content, chat=chat, reply_to=reply_to, thread_id=thread_id)

    async def send_sticker(
        self, *, emoji: str = "👍", chat: Group | None = None, thread_id: int | None = None
    ) -> SandboxMessage:
        record = self._state.add_file("sticker", b"RIFF\x00\x00\x00\x00WEBP", size=(512, 512))
        sticker = {
            **record.to_api(),
            "type": "regular",
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "SandboxStickers",
        }
        return await self._post({"sticker": sticker}, chat=chat, reply_to=None, thread_id=thread_id)

    async def send_location(
        self, latitude: float, longitude: float, *, chat: Group | None = None
    ) -> SandboxMessage:
        location = {"latitude": latitude, "longitude": longitude}
        return await self._post({"location": location}, chat=chat, reply_to=None, thread_id=None)

    async def share_contact(
        self,
        *,
        phone: str | None = None,
        user_id: int | None = _OWN,
        first_name: str | None = None,
        last_name: str | None = None,
        chat: Group | None = None,
    ) -> SandboxMessage:
        """Share a contact. Without ``phone``: the user's own (user_id = own id, own phone).

        With ``phone`` it is someone else's contact: ``user_id`` defaults to None then.
        """
        if phone is None:
            if self.phone is None:
                raise SandboxError(f"{self!r} has no phone; pass phone=... or sb.user(phone=...)")
            phone = self.phone
            if user_id is _OWN:
                user_id = self.id
            first_name = first_name or self.first_name
            last_name = last_name if last_name is not None else self.last_name
        elif user_id is _OWN:
            user_id = None
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name or "Contact"}
        if last_name:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return await self._post({"contact": contact}, chat=chat, reply_to=None, thread_id=None)

    async def edit(self, message: SandboxMessage, text: str) -> SandboxMessage:
        """Edit one of the user's own text messages (the bot gets an edited_message update)."""
        stored = message._stored
        if stored.from_bot or stored.data.get("from", {}).get("id") != self.id:
            raise SandboxError("users can only edit their own messages")
        stored.data = {**stored.data, "text": text, "edit_date": now()}
        stored.data.pop("entities", None)
        stored.versions.append(json.loads(json.dumps(stored.data)))
        group = self._sb.server.groups.get(stored.chat_id)
        if group is None or _bot_sees(self._state, group, stored.data):
            self._state.enqueue("edited_message", stored.data)
        return message

    # ----- buttons

    def _find_button(
        self, text: str, message: SandboxMessage | None
    ) -> tuple[StoredMessage, dict[str, Any]]:
        if message is not None:
            button = message.button(text)
            if button is None or message.deleted:
                raise SandboxError(
                    f"no inline button {text!r} on {message!r}"
                    + (" (deleted)" if message.deleted else "")
                )
            return message._stored, button
        for stored in reversed(self._bot_messages()):
            if stored.deleted:
                continue
            button = SandboxMessage(self._state, stored).button(text)
            if button is not None:
                return stored, button
        recent = [SandboxMessage(self._state, m).buttons for m in self._bot_messages()[-3:]]
        raise SandboxError(
            f"no inline button {text!r} in the private chat of {self!r}; "
            f"buttons on the latest messages: {recent}"
        )

    async def press(
        self, text: str, *, message: SandboxMessage | None = None, timeout: float = 10.0
    ) -> CallbackAnswer:
        """Press an inline callback button by its text and wait for answerCallbackQuery."""
        stored, button = self._find_button(text, message)
        if "callback_data" not in button:
            raise SandboxError(f"button {text!r} is not a callback button: {button}")
        return await self._press(stored, str(button["callback_data"]), timeout)

    async def press_data(
        self, data: str, *, message: SandboxMessage, timeout: float = 10.0
    ) -> CallbackAnswer:
        """Send a callback query with arbitrary (possibly forged) data for ``message``."""
        return await self._press(message._stored, data, timeout)

    async def _press(self, stored: StoredMessage, data: str, timeout: float) -> CallbackAnswer:
        st = self._state
        if stored.chat_id > 0 and stored.chat_id != self.id:
            raise SandboxError(f"{self!r} cannot see message {stored.message_id} in another chat")
        group = self._sb.server.groups.get(stored.chat_id)
        if group is not None and group.members.get(self.id) not in (
            "creator",
            "administrator",
            "member",
        ):
            raise SandboxError(f"{self!r} is not a member of {group.title!r}")
        record = CallbackRecord(
            id=self._sb.server.next_callback_id(),
            created=time.monotonic(),
            user_id=self.id,
            chat_id=stored.chat_id,
            message_id=stored.message_id,
            data=data,
        )
        st.callbacks[record.id] = record
        query = {
            "id": record.id,
            "from": self.record.to_api(),
            "message": json.loads(json.dumps(stored.data)),
            "chat_instance": str(abs(stored.chat_id) * 7919 % 10**18),
            "data": data,
        }
        if st.enqueue("callback_query", query) is None:
            raise SandboxError(
                "the bot does not receive callback_query updates "
                f"(allowed_updates={st.allowed_updates})"
            )
        answered = await self._sb.server.notifier.wait_for(lambda: record.answered, timeout)
        if not answered or record.answer is None:
            raise SandboxError(
                f"the bot did not answer callback query {data!r} within {timeout}s"
                + self._sb._diagnostics(st, stored.chat_id)
            )
        answer = record.answer
        return CallbackAnswer(
            query_id=record.id,
            text=answer.get("text"),
            show_alert=bool(answer.get("show_alert")),
            url=answer.get("url"),
            cache_time=int(answer.get("cache_time") or 0),
        )

    # ----- blocking

    def block_bot(self) -> None:
        """The user blocks the bot: sends fail with 403, the bot gets my_chat_member."""
        if self.id in self._state.blocked:
            return
        self._state.blocked.add(self.id)
        self._member_update("member", "kicked")

    def unblock_bot(self) -> None:
        if self.id not in self._state.blocked:
            return
        self._state.blocked.discard(self.id)
        self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> None:
        bot = self._state.bot_user
        old_member: dict[str, Any] = {"status": old, "user": bot}
        new_member: dict[str, Any] = {"status": new, "user": bot}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        self._state.enqueue(
            "my_chat_member",
            {
                "chat": self.record.private_chat(),
                "from": self.record.to_api(),
                "date": now(),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )


class Group(_ChatHandle):
    """A supergroup (optionally a forum) that the bot and users can be members of."""

    def __init__(self, sandbox: Sandbox, state: BotState, record: GroupRecord):
        super().__init__(sandbox, state, record.id)
        self.record = record

    def __repr__(self) -> str:
        return f"<Group {self.id} {self.title!r}>"

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def chat_id(self) -> int:
        return self.record.id

    @property
    def title(self) -> str:
        return self.record.title

    @property
    def is_forum(self) -> bool:
        return self.record.is_forum

    @property
    def topics(self) -> dict[int, str]:
        """thread id -> topic name."""
        return {tid: str(t["name"]) for tid, t in self.record.topics.items()}

    def topic_id(self, name: str) -> int:
        for tid, topic_name in self.topics.items():
            if topic_name == name:
                return tid
        raise SandboxError(f"no topic {name!r} in {self.title!r}; topics: {self.topics}")

    def add_member(
        self, user: User | None = None, *, bot: bool | str = False, status: str = "member"
    ) -> None:
        """Add a user, or the bot (``bot=True``, or another bot's token), with a status.

        status: creator / administrator / member / left / kicked. Calling again changes it.
        """
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"bad status {status!r}")
        if bot:
            state = self._state if bot is True else self._sb.server.bot(str(bot))
            old = self.record.members.get(state.info.id, "left")
            self.record.members[state.info.id] = status
            if old != status:
                _bot_member_update(state, self.record, old, status)
            return
        if user is None:
            raise ValueError("pass a user or bot=True")
        self.record.members[user.id] = status
        self._state.notify()

    def remove_member(self, user: User | None = None, *, bot: bool | str = False) -> None:
        self.add_member(user, bot=bot, status="left")

    def create_topic(self, name: str, *, by: User | None = None, icon_color: int = 7322096) -> int:
        """A user (an admin) creates a forum topic; returns its message_thread_id."""
        if not self.is_forum:
            raise SandboxError(f"{self.title!r} is not a forum")
        sender = (
            by.record.to_api() if by else {"id": 777000, "is_bot": False, "first_name": "Telegram"}
        )
        topic = create_topic(self._state, self.record, name, icon_color, sender, from_bot=False)
        thread_id = int(topic["message_thread_id"])
        service = self._state.messages[self.id][thread_id].data
        if _bot_sees(self._state, self.record, service):
            self._state.enqueue("message", service)
        return thread_id


def _bot_member_update(state: BotState, group: GroupRecord, old: str, new: str) -> None:
    def member(status: str) -> dict[str, Any]:
        data: dict[str, Any] = {"status": status, "user": state.bot_user}
        if status == "administrator":
            data = member_dict("administrator", state.bot_user)
        if status == "kicked":
            data["until_date"] = 0
        if status == "creator":
            data["is_anonymous"] = False
        return data

    state.enqueue(
        "my_chat_member",
        {
            "chat": group.to_api(),
            "from": dict(TELEGRAM_SERVICE_USER),
            "date": now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        },
    )


def _bot_sees(state: BotState, group: GroupRecord, data: dict[str, Any]) -> bool:
    """Does a bot receive this group message? (membership + privacy mode rules)"""
    status = group.members.get(state.info.id, "left")
    if status not in ("creator", "administrator", "member"):
        return False
    if status in ("creator", "administrator") or not state.info.privacy_mode:
        return True
    if "forum_topic_created" in data:
        return True
    text = str(data.get("text") or data.get("caption") or "")
    username = state.info.username.lower()
    if text.startswith("/"):
        command = text.split()[0]
        return "@" not in command or command.split("@", 1)[1].lower() == username
    reply = data.get("reply_to_message") or {}
    if reply.get("from", {}).get("id") == state.info.id and "forum_topic_created" not in reply:
        return True
    return f"@{username}" in text.lower()


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    command = text.split()[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


class Sandbox:
    """Runs a :class:`SandboxServer` on 127.0.0.1 for the duration of a test."""

    def __init__(
        self,
        *,
        token: str | None = None,
        username: str = "kabinet_test_bot",
        first_name: str = "Kabinet",
        privacy_mode: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_timeout: float = 15.0,
        webhook_retry_delays: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0),
    ):
        self.server = SandboxServer(
            host,
            port,
            callback_timeout=callback_timeout,
            webhook_retry_delays=webhook_retry_delays,
        )
        self.token = token or random_token()
        self.server.register_bot(
            self.token, username=username, first_name=first_name, privacy_mode=privacy_mode
        )
        self.state = self.server.bot(self.token)

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    @property
    def url(self) -> str:
        """Base URL for ``TelegramAPIServer.from_base`` (TELEGRAM_API_URL)."""
        return self.server.url

    @property
    def bot_id(self) -> int:
        return self.state.info.id

    @property
    def bot_username(self) -> str:
        return self.state.info.username

    def new_token(
        self,
        *,
        username: str | None = None,
        first_name: str = "Kabinet",
        privacy_mode: bool = True,
    ) -> str:
        """Register another bot; returns its token."""
        token = random_token()
        info = self.server.register_bot(
            token,
            username=username or f"kabinet_test_{len(self.server.registry)}_bot",
            first_name=first_name,
            privacy_mode=privacy_mode,
        )
        self.server.bot(info.token)
        return token

    def bot_state(self, bot: str | None = None) -> BotState:
        return self.state if bot is None else self.server.bot(bot)

    def user(
        self,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
        id: int | None = None,
        bot: str | None = None,
    ) -> User:
        """A user; the same ``id`` may be reused to get a handle for another bot (``bot=``)."""
        existing = self.server.users.get(id) if id is not None else None
        if existing is not None and not existing.is_bot:
            record = existing
        else:
            record = self.server.add_user(
                UserRecord(
                    id=id if id is not None else self.server.next_user_id(),
                    first_name=first_name,
                    last_name=last_name,
                    username=username,
                    language_code=language_code,
                    phone=phone,
                )
            )
        return User(self, self.bot_state(bot), record)

    def supergroup(
        self,
        title: str = "Group",
        *,
        is_forum: bool = False,
        id: int | None = None,
        username: str | None = None,
        bot: str | None = None,
    ) -> Group:
        """A supergroup with a -100... id; the bot is not in it until add_member(bot=True)."""
        record = self.server.groups.get(id) if id is not None else None
        if record is None:
            record = GroupRecord(
                id=id if id is not None else self.server.next_group_id(),
                title=title,
                is_forum=is_forum,
                username=username,
            )
            self.server.groups[record.id] = record
        return Group(self, self.bot_state(bot), record)

    def simulate_flood(
        self,
        method: str,
        *,
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | None = None,
        bot: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (optionally to ``chat_id``) answer 429."""
        self.bot_state(bot).flood.append(FloodRule(method, retry_after, times, chat_id))

    def sent(
        self,
        chat_id: int | None = None,
        method: str | None = None,
        *,
        ok: bool | None = None,
        bot: str | None = None,
    ) -> list[ApiCall]:
        """Recorded bot calls (all but getUpdates/getWebhookInfo), oldest first, failed too."""
        return list(self._calls(chat_id, method, ok, bot))

    def _calls(
        self, chat_id: int | None, method: str | None, ok: bool | None, bot: str | None
    ) -> Iterator[ApiCall]:
        for call in self.bot_state(bot).calls:
            if method is not None and call.method.lower() != method.lower():
                continue
            if chat_id is not None and call.chat_id != chat_id:
                continue
            if ok is not None and call.ok != ok:
                continue
            yield call

    async def wait_for_call(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        timeout: float = 10.0,
        bot: str | None = None,
    ) -> ApiCall:
        """The first recorded call of ``method`` (waits for it if none was made yet)."""
        ok = await self.server.notifier.wait_for(
            lambda: next(self._calls(chat_id, method, None, bot), None) is not None, timeout
        )
        call = next(self._calls(chat_id, method, None, bot), None)
        if not ok or call is None:
            raise SandboxError(f"the bot made no {method} call within {timeout}s")
        return call

    async def wait_until_receiving(self, timeout: float = 15.0, bot: str | None = None) -> None:
        """Wait until the bot polls getUpdates or has a webhook set (i.e. it is up)."""
        state = self.bot_state(bot)
        ok = await self.server.notifier.wait_for(
            lambda: state.polling_seen or state.webhook is not None, timeout
        )
        if not ok:
            raise SandboxError(f"the bot neither polled nor set a webhook within {timeout}s")

    async def wait_delivered(self, timeout: float = 10.0, bot: str | None = None) -> None:
        """Wait until every pending update was handed to the bot."""
        state = self.bot_state(bot)
        if not await self.server.notifier.wait_for(state.all_delivered, timeout):
            raise SandboxError(f"{len(state.pending)} update(s) not delivered within {timeout}s")

    def commands(
        self,
        *,
        scope: dict[str, Any] | None = None,
        language_code: str = "",
        bot: str | None = None,
    ) -> list[dict[str, Any]]:
        """Commands the bot set with setMyCommands for this scope and language."""
        return list(self.bot_state(bot).commands.get((scope_key(scope), language_code), []))

    def _diagnostics(self, state: BotState, chat_id: int) -> str:
        failed = [c for c in state.calls if not c.ok and c.chat_id in (chat_id, None)][-5:]
        lines = [f"\n  {c.method} -> {c.error_code} {c.error}" for c in failed]
        if not state.polling_seen and state.webhook is None:
            lines.append("\n  (the bot never called getUpdates nor set a webhook)")
        elif state.pending:
            lines.append(f"\n  ({len(state.pending)} update(s) still pending for the bot)")
        return ("; failed calls:" if failed else "") + "".join(lines)
