"""Support conversations, the operators' side (the staff chat only): a message in a
resident's topic — or a reply to a resident's copied message in a plain chat — is copied
to the resident; an edit follows it; /close and «Close ticket» close the ticket.

Staff texts are in DEFAULT_LOCALE. Operators' names never reach residents: copyMessage
carries no author.
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.services.ports import Delivery, EditResult
from bot.services.support import AnswerOutcome, CloseOutcome, SupportService
from handlers.common.filters import ChatId
from handlers.common.staff_locale import StaffLocale
from handlers.common.texts import stale_button
from handlers.support import texts
from handlers.support.callbacks import TicketAction, TicketCb
from handlers.support.filters import OperatorAnswer


def _where(message: Message) -> tuple[int | None, int | None]:
    """(topic, replied-to message) of a staff-chat message."""
    thread = message.message_thread_id if message.is_topic_message else None
    reply = message.reply_to_message
    replied = reply.message_id if reply is not None and reply.message_id != thread else None
    return thread, replied


async def answer(message: Message, support: SupportService) -> None:
    """An operator's message in a conversation reaches the resident; a problem is said."""
    thread, replied = _where(message)
    reply = message.reply_to_message
    to_bot = bool(
        replied is not None
        and reply is not None
        and reply.from_user is not None
        and message.bot is not None
        and reply.from_user.id == message.bot.id
    )
    answered = await support.answer(
        message.message_id, thread_id=thread, reply_to=replied, reply_to_bot=to_bot
    )
    if answered.outcome is AnswerOutcome.KEPT_AMONG_STAFF:
        await message.reply(texts.kept_among_staff())
    elif answered.outcome is AnswerOutcome.RESIDENT_GONE:
        await message.reply(texts.resident_gone())
    elif answered.outcome is AnswerOutcome.BLOCKED:
        await message.reply(texts.blocked())
    elif answered.outcome is AnswerOutcome.FAILED:
        await message.reply(texts.not_delivered())
    elif answered.reopened and answered.ticket_id is not None:
        await message.reply(texts.reopened(answered.ticket_id))


async def edited(message: Message, support: SupportService) -> None:
    """An operator edited an answer: the resident's copy follows where Telegram allows."""
    text = message.html_text if message.text is not None else None
    caption = message.html_text if message.caption is not None else None
    result = await support.edit(message.message_id, text=text, caption=caption)
    if result is EditResult.NOT_EDITABLE:
        await message.reply(texts.not_editable())
    elif result is EditResult.BLOCKED:
        await message.reply(texts.blocked())
    elif result is EditResult.FAILED:
        await message.reply(texts.edit_failed())


def _closed_text(outcome: CloseOutcome, ticket_id: int | None, delivery: Delivery | None) -> str:
    if outcome is CloseOutcome.NOT_FOUND:
        return texts.nothing_to_close()
    if outcome is CloseOutcome.ALREADY_CLOSED:
        return texts.already_closed(ticket_id)
    assert ticket_id is not None
    if delivery is Delivery.BLOCKED:
        return texts.closed_blocked(ticket_id)
    return texts.closed_note(ticket_id)


async def close_command(message: Message, support: SupportService, bot: Bot) -> None:
    """/close in a resident's topic, or replying to their message in a plain chat."""
    thread, replied = _where(message)
    operator = message.from_user.id if message.from_user else None
    closed = await support.close(thread_id=thread, reply_to=replied, operator_id=operator)
    if closed.outcome is CloseOutcome.CLOSED and closed.card_message_id is not None:
        # the card's «Close ticket» button goes, as when it is pressed
        with suppress(TelegramBadRequest):  # the card was deleted, or has no button
            await bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=closed.card_message_id, reply_markup=None
            )
    await message.reply(_closed_text(closed.outcome, closed.ticket_id, closed.delivery))


async def close_button(
    query: CallbackQuery, callback_data: TicketCb, support: SupportService
) -> None:
    """«Close ticket #N»: an old button (already closed) is told so, nothing else happens."""
    ticket_id = callback_data.ticket_id
    if not await support.is_open(ticket_id):
        known = await support.exists(ticket_id)  # a forged id is not "already closed"
        await query.answer(
            texts.already_closed(ticket_id) if known else stale_button(), show_alert=True
        )
        return
    await query.answer()  # before the Telegram calls of closing
    closed = await support.close(ticket_id=ticket_id, operator_id=query.from_user.id)
    if isinstance(query.message, Message):
        if closed.outcome is CloseOutcome.CLOSED:
            await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_closed_text(closed.outcome, ticket_id, closed.delivery))


def create_router(staff_chat_id: int, locale: str) -> Router:
    """After the staff router (its commands and steps come first)."""
    router = Router(name="support-staff")
    router.message.filter(ChatId(staff_chat_id))
    router.edited_message.filter(ChatId(staff_chat_id))
    router.callback_query.filter(ChatId(staff_chat_id))
    for observer in (router.message, router.edited_message, router.callback_query):
        observer.middleware(StaffLocale(locale))
    router.message.register(close_command, Command("close"))
    router.message.register(answer, OperatorAnswer())
    router.edited_message.register(edited, OperatorAnswer())
    router.callback_query.register(close_button, TicketCb.filter(F.action == TicketAction.CLOSE))
    return router
