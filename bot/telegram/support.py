"""SupportDesk over the Bot API: topics, copies both ways, edits, the rating question."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup, ReplyParameters
from aiogram.utils.i18n import I18n

from bot.services.ports import Delivery, DeskUnavailable, EditResult, ThreadGone
from bot.services.support import ResidentCard, TicketHeader
from bot.telegram.locale import speaking
from handlers.support import keyboards, texts

log = logging.getLogger("kabinet.support")

#: Telegram's words for a topic that is no more (deleted by an operator, or never was)
GONE = ("message thread not found", "topic_id_invalid", "topic_deleted")
#: a topic already shows this title / state: nothing to do
UNCHANGED = ("topic_not_modified", "message is not modified")
NOT_EDITABLE = (
    "there is no text in the message to edit",
    "there is no caption in the message to edit",
    "message can't be edited",
    "message to edit not found",
)
FORUM_TTL = 300.0  # seconds a getChat answer (forum or not) is trusted


def _says(exc: TelegramAPIError, phrases: tuple[str, ...]) -> bool:
    return any(phrase in str(exc.message).lower() for phrase in phrases)


class ChatKinds:
    """Whether a chat is a forum, remembered a while (one per process, not per update)."""

    def __init__(self, ttl: float = FORUM_TTL) -> None:
        self.ttl = ttl
        self._known: dict[int, tuple[bool, float]] = {}

    async def is_forum(self, bot: Bot, chat_id: int) -> bool:
        known = self._known.get(chat_id)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        try:
            chat = await bot.get_chat(chat_id)
        except TelegramAPIError as exc:
            raise DeskUnavailable(str(exc)) from exc
        forum = bool(chat.is_forum)
        self._known[chat_id] = (forum, time.monotonic() + self.ttl)
        return forum


class TelegramSupportDesk:
    """Staff texts in the company's language (DEFAULT_LOCALE), a resident's in theirs."""

    def __init__(
        self, bot: Bot, i18n: I18n, chat_id: int, locale: str, kinds: ChatKinds | None = None
    ) -> None:
        self.bot = bot
        self.i18n = i18n
        self.chat_id = chat_id
        self.locale = locale
        self.kinds = kinds or ChatKinds()

    async def is_forum(self) -> bool:
        return await self.kinds.is_forum(self.bot, self.chat_id)

    def _refused(self, exc: TelegramAPIError) -> DeskUnavailable:
        if isinstance(exc, TelegramBadRequest) and _says(exc, GONE):
            return ThreadGone(str(exc))
        return DeskUnavailable(str(exc))

    async def open_topic(self, title: str) -> int:
        try:
            topic = await self.bot.create_forum_topic(self.chat_id, title)
        except TelegramAPIError as exc:
            raise DeskUnavailable(str(exc)) from exc
        return topic.message_thread_id

    async def retitle_topic(self, thread_id: int, title: str, *, closed: bool | None) -> None:
        await self._topic(self.bot.edit_forum_topic(self.chat_id, thread_id, name=title))
        if closed is True:
            await self._topic(self.bot.close_forum_topic(self.chat_id, thread_id))
        elif closed is False:
            await self._topic(self.bot.reopen_forum_topic(self.chat_id, thread_id))

    async def _topic(self, call: Awaitable[object]) -> None:
        """A topic call; "already so" (TOPIC_NOT_MODIFIED) is fine, a gone topic ThreadGone."""
        try:
            await call
        except TelegramAPIError as exc:
            if isinstance(exc, TelegramBadRequest) and _says(exc, UNCHANGED):
                return
            raise self._refused(exc) from exc

    async def _send(
        self, text: str, thread_id: int | None, markup: InlineKeyboardMarkup | None = None
    ) -> int:
        try:
            sent = await self.bot.send_message(
                self.chat_id, text, message_thread_id=thread_id, reply_markup=markup
            )
        except TelegramAPIError as exc:
            raise self._refused(exc) from exc
        return sent.message_id

    async def post_card(
        self, thread_id: int | None, card: ResidentCard, *, ticket_id: int | None
    ) -> int:
        with speaking(self.i18n, self.locale):
            text = texts.card_text(card, ticket_id)
            markup = keyboards.close_ticket(ticket_id) if ticket_id is not None else None
        return await self._send(text, thread_id, markup)

    async def copy_in(
        self, resident_id: int, message_id: int, thread_id: int | None, header: TicketHeader | None
    ) -> list[int]:
        ids: list[int] = []
        reply: ReplyParameters | None = None
        if header is not None:
            with speaking(self.i18n, self.locale):
                line = texts.header_text(header)
            ids.append(await self._send(line, thread_id))
            reply = ReplyParameters(message_id=ids[0], allow_sending_without_reply=True)
        try:
            copied = await self.bot.copy_message(
                self.chat_id,
                resident_id,
                message_id,
                message_thread_id=thread_id,
                reply_parameters=reply,
            )
        except TelegramAPIError as exc:
            raise self._refused(exc) from exc
        return [*ids, copied.message_id]

    async def copy_out(
        self, resident_id: int, from_chat_id: int, message_id: int, reply_to: int | None = None
    ) -> tuple[Delivery, int | None]:
        quote = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        try:
            copied = await self.bot.copy_message(
                resident_id, from_chat_id, message_id, reply_parameters=quote
            )
        except TelegramForbiddenError:
            return Delivery.BLOCKED, None
        except TelegramAPIError as exc:
            log.warning("could not copy %s to resident %s: %s", message_id, resident_id, exc)
            return Delivery.FAILED, None
        return Delivery.SENT, copied.message_id

    async def edit_out(
        self, resident_id: int, message_id: int, *, text: str | None, caption: str | None
    ) -> EditResult:
        try:
            if text is not None:
                await self.bot.edit_message_text(
                    text=text, chat_id=resident_id, message_id=message_id
                )
            elif caption is not None:
                await self.bot.edit_message_caption(
                    chat_id=resident_id, message_id=message_id, caption=caption
                )
            else:
                return EditResult.NOT_EDITABLE
        except TelegramForbiddenError:
            return EditResult.BLOCKED
        except TelegramBadRequest as exc:
            if _says(exc, UNCHANGED):
                return EditResult.UNCHANGED
            if _says(exc, NOT_EDITABLE):
                return EditResult.NOT_EDITABLE
            log.warning("could not edit %s of resident %s: %s", message_id, resident_id, exc)
            return EditResult.FAILED
        except TelegramAPIError as exc:
            log.warning("could not edit %s of resident %s: %s", message_id, resident_id, exc)
            return EditResult.FAILED
        return EditResult.EDITED

    async def ask_rating(self, resident_id: int, language: str | None, ticket_id: int) -> Delivery:
        with speaking(self.i18n, language or self.locale):
            text = texts.closed_for_resident(ticket_id)
            markup = keyboards.rating(ticket_id)
        try:
            await self.bot.send_message(resident_id, text, reply_markup=markup)
        except TelegramForbiddenError:
            return Delivery.BLOCKED
        except TelegramAPIError as exc:
            log.warning("could not ask resident %s to rate: %s", resident_id, exc)
            return Delivery.FAILED
        return Delivery.SENT

    async def note_rating(self, thread_id: int | None, ticket_id: int, stars: int) -> None:
        with speaking(self.i18n, self.locale):
            text = texts.rated_note(ticket_id, stars)
        try:
            await self._send(text, thread_id)
        except ThreadGone:
            await self.note_rating(None, ticket_id, stars)
        except DeskUnavailable as exc:
            log.warning("could not tell operators the rating of #%s: %s", ticket_id, exc)
