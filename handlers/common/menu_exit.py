"""One main-menu exit: a main-menu button pressed in any conversation leaves it.

An outer middleware on private messages: when the text is one of the main menu's buttons
(in any language) and the resident is in a conversation, the state is cleared before any
router looks at the message, so the conversation's steps do not take the button as an
answer and the button's own feature opens as from the main menu. No feature keeps a list
of the others' buttons; the main menu's definition (`texts.MAIN_MENU`) is the only list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject

from handlers.common.filters import is_main_menu_button


class MainMenuExit(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if (
            isinstance(event, Message)
            and event.chat.type == "private"
            and data.get("raw_state") is not None
            and is_main_menu_button(event.text, data["i18n"])
        ):
            state: FSMContext = data["state"]
            await state.clear()
            data["raw_state"] = None
        return await handler(event, data)
