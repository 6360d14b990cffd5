"""What of a message can reach the other side of a conversation (async filters)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message

#: what a resident may send operators (Telegram's content types)
RESIDENT_CONTENT = frozenset(
    {"text", "photo", "document", "voice", "video", "video_note", "audio", "animation"}
)
#: what an operator's message may carry to a resident (no service messages)
STAFF_CONTENT = RESIDENT_CONTENT | {"sticker", "location", "contact", "venue"}


class Relayable(Filter):
    """A resident's message operators can receive."""

    async def __call__(self, message: Message) -> bool:
        return message.content_type in RESIDENT_CONTENT


class OperatorAnswer(Filter):
    """A staff-chat message that may be an answer: content, not a command, not the bot's."""

    async def __call__(self, message: Message) -> bool:
        if message.content_type not in STAFF_CONTENT:
            return False
        if message.from_user is None or message.from_user.is_bot:
            return False
        return not (message.text or "").startswith("/")
