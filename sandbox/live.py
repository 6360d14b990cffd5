"""Following chats live: which messages are new, edited or deleted since the last look, and
serving a stream of them as server-sent events. Used by :mod:`sandbox.control`
(``/_control/events``) and by the browser chat (:mod:`sandbox.webchat`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.records import StoredMessage

if TYPE_CHECKING:
    from sandbox.testing import Sandbox

#: a stream says something at least this often (a comment line), so proxies keep it open
HEARTBEAT = 15.0


@dataclass(frozen=True)
class Change:
    kind: str  # message / edit / delete
    stored: StoredMessage


class Watch:
    """What changed in some chats since the last look: new, edited and deleted messages.

    It compares each message's number of versions and its deleted flag with what it saw, so
    it covers users' messages and edits as well as the bot's, with nothing to subscribe to.
    """

    def __init__(self, sb: Sandbox, chats: set[int] | None, *, seen_now: bool = True):
        self.sb = sb
        self.chats = chats
        self.seen: dict[tuple[int, int], tuple[int, bool]] = {}
        if seen_now:
            self.seen = {key: mark for key, mark, _ in self._marks()}

    def _marks(self) -> list[tuple[tuple[int, int], tuple[int, bool], StoredMessage]]:
        out = []
        for chat_id, messages in list(self.sb.state.messages.items()):
            if self.chats is not None and chat_id not in self.chats:
                continue
            for message_id, stored in list(messages.items()):
                out.append(((chat_id, message_id), (len(stored.versions), stored.deleted), stored))
        return out

    def pending(self) -> bool:
        return any(self.seen.get(key) != mark for key, mark, _ in self._marks())

    def take(self) -> list[Change]:
        changes = []
        for key, mark, stored in self._marks():
            before = self.seen.get(key)
            if before == mark:
                continue
            self.seen[key] = mark
            if stored.deleted:
                if before is not None:
                    changes.append(Change("delete", stored))
            else:
                changes.append(Change("message" if before is None else "edit", stored))
        changes.sort(key=lambda c: (c.stored.chat_id, c.stored.message_id))
        return changes

    async def next(self, timeout: float) -> list[Change]:
        """The changes since the last call; [] when ``timeout`` passes without any."""
        await self.sb.server.notifier.wait_for(
            lambda: self.pending() or self.sb.server.closing, timeout
        )
        return self.take()


async def event_stream(
    request: web.Request, sb: Sandbox, frames: AsyncIterator[str]
) -> web.StreamResponse:
    """Serve ``frames`` (``event: ...\\ndata: ...\\n\\n`` strings) as server-sent events."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
        await response.write(b": connected\n\n")
        async for frame in frames:
            if sb.server.closing:
                break
            await response.write(frame.encode("utf-8"))
    return response


def sse(event: str, data: Any) -> str:
    body = json.dumps(data, ensure_ascii=False).replace("\n", "\\n")
    return f"event: {event}\ndata: {body}\n\n"
