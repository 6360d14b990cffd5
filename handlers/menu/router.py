"""The main menu's items whose features come in later issues: a polite "coming soon".

They have no router of their own: the main-menu router (handlers/common/main_menu.py)
registers them."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.common.main_menu import MenuItem
from handlers.common.texts import BTN_SUPPORT


async def support(message: Message) -> None:
    await message.answer(
        _("Writing to support from the bot is coming soon: we are preparing this section.")
    )


#: the main-menu items not released yet (handlers/common/main_menu.py)
MENU_ITEMS: list[MenuItem] = [(BTN_SUPPORT, support)]
