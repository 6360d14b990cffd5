"""The people and groups a test acts as: :class:`User` sends messages, presses buttons and blocks
the bot; :class:`Group` holds members and forum topics. Both wait on what the bot sends to
their chat."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from sandbox.actors_media import UserMedia
from sandbox.core import BotState, now
from sandbox.media import image_size, make_png
from sandbox.methods.chats import member_dict
from sandbox.methods.forum import create_topic, delete_topic
from sandbox.records import CallbackRecord, GroupRecord, StoredMessage, UserRecord
from sandbox.views import CallbackAnswer, SandboxError, SandboxMessage

if TYPE_CHECKING:
    from sandbox.testing import Sandbox

_OWN: Any = object()
TELEGRAM_SERVICE_USER: dict[str, Any] = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


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


class User(UserMedia, _ChatHandle):
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

    def delete_topic(self, thread_id: int) -> None:
        """An admin deletes a topic with its messages; the bot's sends to it fail then with
        "message thread not found", as in Telegram."""
        if thread_id not in self.record.topics:
            raise SandboxError(f"no topic {thread_id} in {self.title!r}")
        delete_topic(self._state, self.record, thread_id)

    def topic_closed(self, thread_id: int) -> bool:
        """Whether a topic is closed (closeForumTopic / reopenForumTopic)."""
        if thread_id not in self.record.topics:
            raise SandboxError(f"no topic {thread_id} in {self.title!r}")
        return bool(self.record.topics[thread_id].get("closed"))


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
