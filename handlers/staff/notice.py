"""/notice SUPPLIER text: a preview with Send / Cancel, then the run (bot/services/notices.py).

Send and Cancel are decisions (administrators only with STAFF_ADMINS_ONLY); the first
press wins. The run goes on in a task of its own (bot/telegram/notice_board.py), one at a
time; its progress is one line in the staff chat, edited as it goes.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.notices import NoticeProblem, NoticeService, StartOutcome
from bot.telegram.notice_board import NoticeRunner
from handlers.staff import texts
from handlers.staff.access import DECISION
from handlers.staff.callbacks import NoticeAction, NoticeCb


def preview_keyboard(notice_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("📤 Send"), callback_data=NoticeCb(action=NoticeAction.SEND, notice_id=notice_id)
    )
    kb.button(
        text=_("✖️ Cancel"),
        callback_data=NoticeCb(action=NoticeAction.CANCEL, notice_id=notice_id),
    )
    kb.adjust(2)
    return kb.as_markup()


async def notice(message: Message, command: CommandObject, notices: NoticeService) -> None:
    assert message.from_user is not None
    parts = (command.args or "").split(maxsplit=1)
    code, text = [*parts, "", ""][:2]
    draft = await notices.draft(
        code,
        text,
        operator_id=message.from_user.id,
        operator_name=message.from_user.full_name,
        chat_id=message.chat.id,
        thread_id=message.message_thread_id if message.is_topic_message else None,
    )
    if isinstance(draft, NoticeProblem):
        await message.reply(texts.notice_problem(draft, code))
        return
    await message.reply(texts.notice_preview(draft), reply_markup=preview_keyboard(draft.notice_id))


async def send(
    query: CallbackQuery,
    callback_data: NoticeCb,
    bot: Bot,
    notices: NoticeService,
    notice_runner: NoticeRunner,
) -> None:
    notice_id = callback_data.notice_id
    outcome = await notice_runner.begin(
        bot, notice_id, lambda: notices.start(notice_id, operator_id=query.from_user.id)
    )
    await query.answer(
        texts.notice_start_answer(outcome), show_alert=outcome is not StartOutcome.STARTED
    )
    if outcome is not StartOutcome.BUSY and isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def cancel(query: CallbackQuery, callback_data: NoticeCb, notices: NoticeService) -> None:
    why_not = await notices.cancel(callback_data.notice_id, operator_id=query.from_user.id)
    if why_not is not None:
        await query.answer(texts.notice_start_answer(why_not), show_alert=True)
    else:
        await query.answer(texts.notice_cancelled())
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if why_not is None:
            await query.message.reply(texts.notice_cancelled())


def register(router: Router) -> None:
    decision = {DECISION: True}
    router.message.register(notice, Command("notice"), flags=decision)
    router.callback_query.register(
        send, NoticeCb.filter(F.action == NoticeAction.SEND), flags=decision
    )
    router.callback_query.register(
        cancel, NoticeCb.filter(F.action == NoticeAction.CANCEL), flags=decision
    )
