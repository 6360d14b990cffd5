"""/find, /stats, /ban and /unban in the staff chat (members only: handlers/staff/access.py).

/find's result is a reply to the command; its page buttons read the query from the message
it replies to, so a page is redrawn from the database as it is now, with no stored state.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.bans import BanService, split_target
from bot.services.staff_lookup import FindPage, QueryProblem, StaffLookupService
from bot.services.staff_stats import StaffStatsService
from handlers.staff import texts
from handlers.staff.access import DECISION
from handlers.staff.callbacks import FindPageCb


def pages_keyboard(found: FindPage) -> InlineKeyboardMarkup | None:
    if found.pages <= 1:
        return None
    kb = InlineKeyboardBuilder()
    if found.page > 0:
        kb.button(text="◀️", callback_data=FindPageCb(page=found.page - 1))
    kb.button(text=f"{found.page + 1}/{found.pages}", callback_data=FindPageCb(page=found.page))
    if found.page + 1 < found.pages:
        kb.button(text="▶️", callback_data=FindPageCb(page=found.page + 1))
    kb.adjust(3)
    return kb.as_markup()


async def find(message: Message, command: CommandObject, staff_lookup: StaffLookupService) -> None:
    found = await staff_lookup.find(command.args)
    if isinstance(found, QueryProblem):
        await message.reply(texts.find_usage())
        return
    await message.reply(texts.find_text(found), reply_markup=pages_keyboard(found))


def _query_of(message: Message | None) -> str | None:
    """The query of the /find message a results message replies to."""
    if not isinstance(message, Message) or message.reply_to_message is None:
        return None
    text = message.reply_to_message.text or ""
    if not text.startswith("/find"):
        return None
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def find_page(
    query: CallbackQuery, callback_data: FindPageCb, staff_lookup: StaffLookupService
) -> None:
    asked = _query_of(query.message if isinstance(query.message, Message) else None)
    if asked is None:
        await query.answer(texts.find_gone(), show_alert=True)
        return
    await query.answer()
    found = await staff_lookup.find(asked, callback_data.page)
    if isinstance(found, QueryProblem) or not isinstance(query.message, Message):
        return
    await query.message.edit_text(texts.find_text(found), reply_markup=pages_keyboard(found))


async def stats(message: Message, staff_stats: StaffStatsService) -> None:
    await message.reply(texts.stats_text(await staff_stats.stats()))


async def ban(message: Message, command: CommandObject, bans: BanService) -> None:
    assert message.from_user is not None
    target, reason = split_target(command.args or "")
    if target is None or not reason.strip():
        await message.reply(texts.ban_usage())
        return
    result = await bans.ban(target, reason, operator_id=message.from_user.id)
    await message.reply(texts.ban_text(result))


async def unban(message: Message, command: CommandObject, bans: BanService) -> None:
    assert message.from_user is not None
    target, _ = split_target(command.args or "")
    if target is None:
        await message.reply(texts.unban_usage())
        return
    result = await bans.unban(target, operator_id=message.from_user.id)
    await message.reply(texts.ban_text(result))


def register(router: Router) -> None:
    router.message.register(find, Command("find"))
    router.callback_query.register(find_page, FindPageCb.filter())
    router.message.register(stats, Command("stats"))
    router.message.register(ban, Command("ban"), flags={DECISION: True})
    router.message.register(unban, Command("unban"), flags={DECISION: True})
