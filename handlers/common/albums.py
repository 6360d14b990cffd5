"""One album is one answer.

Photos sent together arrive as separate messages sharing a `media_group_id`. The first one
is handled as usual; the rest of the same album are dropped before routing, so a step that
takes one photo (the receipt for an operator) gets one answer, and the fallback does not
say "I did not understand" to the second photo (in a support conversation every photo goes
on to the operators, `EVERY_PHOTO`). The album's id is kept in the resident's
FSM data (`ALBUM_KEY`), which survives the step clearing its state only as that one key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject

from handlers.common.states import Representing, Support

ALBUM_KEY = "album"
#: states in which every photo of an album is handled (the support conversation passes
#: each one on to the operators, and answers the album once itself)
EVERY_PHOTO = frozenset({Support.talking.state})
#: steps that take every message of an album (the pages of a power of attorney): their
#: handler answers the album once itself, with ALBUM_KEY
COLLECTING = frozenset({Representing.pages.state})


class OneAnswerPerAlbum(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Message) or not event.media_group_id:
            return await handler(event, data)
        state: FSMContext | None = data.get("state")
        if state is None or event.chat.type != "private":
            return await handler(event, data)
        if data.get("raw_state") in COLLECTING:
            return await handler(event, data)
        seen = (await state.get_data()).get(ALBUM_KEY) == event.media_group_id
        if seen and data.get("raw_state") not in EVERY_PHOTO:
            return None  # the album was answered with its first photo
        result = await handler(event, data)
        if not seen:
            await state.update_data({ALBUM_KEY: event.media_group_id})
        return result
