"""StaffDesk over the Bot API: link-request and meter-reading cards in the staff supergroup."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup, InputMediaDocument, InputMediaPhoto
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.services.enums import LinkStatus
from bot.services.linking import LinkCard
from bot.services.ports import Delivery, DeskUnavailable, PostedCard, ResidentThreads, ThreadGone
from bot.services.readings import ReadingCard
from bot.services.representatives import Page, RepresentativeCard
from bot.telegram.locale import speaking
from bot.telegram.support import GONE
from handlers.staff import readings as reading_cards
from handlers.staff import representatives as rep_cards
from handlers.staff.cards import card_keyboard, card_text, delivery_note

log = logging.getLogger("kabinet.desk")


class TelegramStaffDesk:
    """Cards in STAFF_CHAT_ID, in the company's language (DEFAULT_LOCALE)."""

    def __init__(self, bot: Bot, i18n: I18n, chat_id: int, locale: str) -> None:
        self.bot = bot
        self.i18n = i18n
        self.chat_id = chat_id
        self.locale = locale
        self.threads: ResidentThreads | None = None

    def use_threads(self, threads: ResidentThreads) -> None:
        self.threads = threads

    async def post_link_card(self, card: LinkCard) -> PostedCard:
        with speaking(self.i18n, self.locale):
            text, markup = card_text(card), card_keyboard(card.link_id)
        return await self._post(text, card.photo_file_id, markup, card.user_id)

    async def _post(
        self,
        text: str,
        photo_file_id: str | None,
        markup: InlineKeyboardMarkup | None,
        resident_id: int | None = None,
    ) -> PostedCard:
        """In the resident's topic when the staff chat is a forum (made if needed, made
        again when Telegram says it is gone), else where cards always went."""
        threads = self.threads if resident_id is not None else None
        thread = None
        if threads is not None and resident_id is not None:
            try:
                thread = await threads.thread_of(resident_id)
            except DeskUnavailable as exc:  # no topic today: the card goes to General
                log.warning("no topic for resident %s: %s", resident_id, exc)
        try:
            return await self._send(text, photo_file_id, markup, thread)
        except ThreadGone:
            if threads is None or thread is None or resident_id is None:
                raise
            thread = await threads.thread_gone(resident_id, thread)
            return await self._send(text, photo_file_id, markup, thread)

    async def _send(
        self,
        text: str,
        photo_file_id: str | None,
        markup: InlineKeyboardMarkup | None,
        thread: int | None,
    ) -> PostedCard:
        try:
            if photo_file_id:
                sent = await self.bot.send_photo(
                    self.chat_id,
                    photo_file_id,
                    caption=text,
                    reply_markup=markup,
                    message_thread_id=thread,
                )
            else:
                sent = await self.bot.send_message(
                    self.chat_id, text, reply_markup=markup, message_thread_id=thread
                )
        except TelegramAPIError as exc:
            if thread is not None and any(g in str(exc).lower() for g in GONE):
                raise ThreadGone(str(exc)) from exc
            raise DeskUnavailable(str(exc)) from exc
        return PostedCard(sent.chat.id, sent.message_id, sent.message_thread_id)

    async def post_reading_card(self, card: ReadingCard) -> PostedCard:
        with speaking(self.i18n, self.locale):
            text, markup = reading_cards.card_text(card), reading_cards.card_keyboard(card)
        return await self._post(text, card.photo_file_id, markup, card.resident_id)

    async def show_reading_card(
        self, card: ReadingCard, *, delivery: Delivery | None = None
    ) -> None:
        if not (card.staff_chat_id and card.staff_message_id):
            return
        with speaking(self.i18n, self.locale):
            text = reading_cards.card_text(card, delivery=delivery)
            markup = reading_cards.card_keyboard(card)
        await self._edit(
            card.staff_chat_id, card.staff_message_id, text, bool(card.photo_file_id), markup
        )

    async def show_link_card(self, card: LinkCard, *, delivery: Delivery | None = None) -> None:
        if not (card.staff_chat_id and card.staff_message_id):
            return
        with speaking(self.i18n, self.locale):
            text = card_text(card, note=delivery_note(delivery))
            markup = card_keyboard(card.link_id) if card.status is LinkStatus.PENDING else None
        await self._edit(
            card.staff_chat_id, card.staff_message_id, text, bool(card.photo_file_id), markup
        )

    async def _edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        photo: bool,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        try:
            if photo:
                await self.bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=text, reply_markup=markup
                )
            else:
                await self.bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
        except TelegramAPIError as exc:  # a deleted card, a bot removed from the group…
            if "message is not modified" in str(exc):
                return  # the card already shows this (e.g. the other operator's press)
            log.warning("could not edit the card %s/%s: %s", chat_id, message_id, exc)

    async def mark_withdrawn(self, chat_id: int, message_id: int) -> None:
        with speaking(self.i18n, self.locale):
            text = _("↩️ The resident withdrew this request.")
        try:
            await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
            await self.bot.send_message(chat_id, text, reply_to_message_id=message_id)
        except TelegramAPIError as exc:
            log.warning("could not mark the card %s/%s withdrawn: %s", chat_id, message_id, exc)

    async def erase_card(self, chat_id: int, message_id: int) -> None:
        try:
            await self.bot.delete_message(chat_id, message_id)
            return
        except TelegramAPIError as exc:
            log.info("could not delete the card %s/%s (%s): editing it", chat_id, message_id, exc)
        with speaking(self.i18n, self.locale):
            text = _("🗑 The resident deleted their data; this request is closed.")
        try:
            await self.bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id)
        except TelegramAPIError:  # a photo card has a caption, not a text
            try:
                await self.bot.edit_message_caption(
                    caption=text, chat_id=chat_id, message_id=message_id
                )
            except TelegramAPIError as exc:
                log.warning("could not clear the card %s/%s: %s", chat_id, message_id, exc)

    # ------------------------------------------------------------ organisations (issue 14)
    async def erase_topic(self, chat_id: int, thread_id: int) -> None:
        try:
            await self.bot.delete_forum_topic(chat_id, thread_id)
            return
        except TelegramAPIError as exc:
            log.info("could not delete the topic %s/%s (%s): renaming it", chat_id, thread_id, exc)
        with speaking(self.i18n, self.locale):
            title = _("🗑 Data deleted")
        try:
            await self.bot.edit_forum_topic(chat_id, thread_id, name=title)
            await self.bot.close_forum_topic(chat_id, thread_id)
        except TelegramAPIError as exc:
            log.warning("could not clear the topic %s/%s: %s", chat_id, thread_id, exc)

    async def post_representative_card(self, card: RepresentativeCard) -> PostedCard:
        """The card (a text message with the decision buttons), then the power of attorney
        as replies to it: one page by sendDocument / sendPhoto, several by sendMediaGroup
        (documents and photos in separate albums: Telegram does not mix them)."""
        with speaking(self.i18n, self.locale):
            text, markup = rep_cards.card_text(card), rep_cards.card_keyboard(card)
        posted = await self._post(text, None, markup, card.user_id)  # the resident's topic
        pages: list[int] = []
        try:
            for kind in ("document", "photo"):
                of_kind = [p for p in card.pages if p.kind == kind]
                pages += await self._pages(of_kind, posted)
        except TelegramAPIError as exc:  # a card without its proof must not wait for a decision
            try:
                await self.bot.delete_message(posted.chat_id, posted.message_id)
            except TelegramAPIError:
                log.warning("could not delete the card %s without its pages", posted.message_id)
            raise DeskUnavailable(str(exc)) from exc
        return replace(posted, extra_message_ids=tuple(pages))

    async def _pages(self, pages: list[Page], card: PostedCard) -> list[int]:
        """Post the pages as replies to the card (in its topic, if any); their message ids."""
        where: dict[str, Any] = {
            "reply_to_message_id": card.message_id,
            "message_thread_id": card.thread_id,
        }
        if len(pages) == 1:
            page = pages[0]
            send = self.bot.send_document if page.kind == "document" else self.bot.send_photo
            sent = await send(card.chat_id, page.file_id, **where)
            return [sent.message_id]
        if pages:
            media: list[Any] = [
                InputMediaDocument(media=p.file_id)
                if p.kind == "document"
                else InputMediaPhoto(media=p.file_id)
                for p in pages
            ]
            album = await self.bot.send_media_group(card.chat_id, media, **where)
            return [m.message_id for m in album]
        return []

    async def show_representative_card(
        self, card: RepresentativeCard, *, delivery: Delivery | None = None
    ) -> None:
        if not (card.staff_chat_id and card.staff_message_id):
            return
        with speaking(self.i18n, self.locale):
            text = rep_cards.card_text(card, delivery=delivery)
            markup = rep_cards.card_keyboard(card)
        await self._edit(card.staff_chat_id, card.staff_message_id, text, False, markup)
