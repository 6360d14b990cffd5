"""What a test reads back from the sandbox: live views of messages, their files, the answers to
callback queries, and :class:`SandboxError` for a failed expectation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.core import BotState
from sandbox.records import FileRecord, StoredMessage


class SandboxError(AssertionError):
    """A test expectation about the bot failed (no message, no button, no answer...)."""


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
