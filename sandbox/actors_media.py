"""What a user sends besides text: voice, video, an album, and a caption edit (a mixin of
:class:`sandbox.actors.User`)."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

from sandbox.core import BotState, now
from sandbox.media import make_png
from sandbox.records import UserRecord
from sandbox.views import SandboxError, SandboxMessage

if TYPE_CHECKING:
    from sandbox.actors import Group
    from sandbox.testing import Sandbox

_ALBUMS = itertools.count(13_000_000_000_000_000)


class UserMedia:
    _sb: Sandbox
    _state: BotState
    record: UserRecord

    async def _post(
        self,
        content: dict[str, Any],
        *,
        chat: Group | None,
        reply_to: SandboxMessage | int | None,
        thread_id: int | None,
    ) -> SandboxMessage:
        raise NotImplementedError

    async def send_voice(
        self,
        data: bytes = b"OggS\x00voice",
        *,
        duration: int = 3,
        caption: str | None = None,
        chat: Group | None = None,
        thread_id: int | None = None,
    ) -> SandboxMessage:
        """A voice message (OGG/Opus in Telegram; any bytes here)."""
        record = self._state.add_file("voice", data, mime_type="audio/ogg")
        content: dict[str, Any] = {"voice": {**record.to_api(), "duration": duration}}
        if caption:
            content["caption"] = caption
        return await self._post(content, chat=chat, reply_to=None, thread_id=thread_id)

    async def send_video(
        self,
        data: bytes = b"\x00\x00\x00\x18ftypmp42",
        *,
        duration: int = 5,
        caption: str | None = None,
        chat: Group | None = None,
        thread_id: int | None = None,
    ) -> SandboxMessage:
        record = self._state.add_file("video", data, mime_type="video/mp4", size=(640, 360))
        video = {**record.to_api(), "width": 640, "height": 360, "duration": duration}
        content: dict[str, Any] = {"video": video}
        if caption:
            content["caption"] = caption
        return await self._post(content, chat=chat, reply_to=None, thread_id=thread_id)

    async def send_album(
        self,
        count: int = 3,
        *,
        caption: str | None = None,
        chat: Group | None = None,
        thread_id: int | None = None,
    ) -> list[SandboxMessage]:
        """Photos sent together: one message each, sharing a media_group_id (the caption on
        the first), all delivered to the bot at once as Telegram does."""
        group_id = str(next(_ALBUMS))
        sent = []
        for n in range(count):
            record = self._state.add_file("photo", make_png(4 + n, 4), size=(1280, 960))
            content: dict[str, Any] = {
                "photo": self._state.photo_sizes(record),
                "media_group_id": group_id,
            }
            if caption and n == 0:
                content["caption"] = caption
            sent.append(await self._post(content, chat=chat, reply_to=None, thread_id=thread_id))
        return sent

    async def edit_caption(self, message: SandboxMessage, caption: str) -> SandboxMessage:
        """Edit the caption of one of the user's own media messages (edited_message)."""
        stored = message._stored
        from sandbox.actors import _bot_sees

        if stored.from_bot or stored.data.get("from", {}).get("id") != self.record.id:
            raise SandboxError("users can only edit their own messages")
        if "text" in stored.data:
            raise SandboxError("a text message has no caption: use edit()")
        stored.data = {**stored.data, "caption": caption, "edit_date": now()}
        stored.data.pop("caption_entities", None)
        stored.versions.append(json.loads(json.dumps(stored.data)))
        group = self._sb.server.groups.get(stored.chat_id)
        if group is None or _bot_sees(self._state, group, stored.data):
            self._state.enqueue("edited_message", stored.data)
        return message
