"""The main menu's buttons, tried right after the staff chat: the hot path.

Every feature with a main-menu item hands its opener here (`MENU_ITEM = (BTN_X, handler)`
in its router module; `handlers/__init__.py` collects them). One async router filter — is
the text one of the menu's labels in any language, a set built once — lets every other
message pass at the cost of one set lookup, and a press reaches its handler without
walking the other features' routers and state filters. The registration gate runs only
for a press (inner middleware).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from handlers.common.filters import ButtonText, PrivateChat, is_main_menu_button
from handlers.common.gate import RegisteredOnly

MenuItem = tuple[str, Callable[..., Awaitable[Any]]]


class MainMenuButton(Filter):
    async def __call__(self, message: Message, i18n: I18n) -> bool:
        return is_main_menu_button(message.text, i18n)


def create_router(items: list[MenuItem]) -> Router:
    router = Router(name="main-menu")
    router.message.filter(PrivateChat(), MainMenuButton())
    router.message.middleware(RegisteredOnly())
    for msgid, handler in items:
        router.message.register(handler, ButtonText(msgid))
    return router
