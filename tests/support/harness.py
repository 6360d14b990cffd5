"""Drive the production Dispatcher with hand-made updates and a recording session."""

from __future__ import annotations

import itertools
import time
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import Update

from bot.app import setup_bot
from tests.support.fake_session import BOT_ID, BOT_USER, Call, RecordingSession

TOKEN = f"{BOT_ID}:AAtest-token-abcdefghijklmnopqrstuvwxyz012"
#: Telegram never hands out an update_id twice, whichever process asks: harnesses over one
#: database (a restart, a second instance) continue the same sequence, as the bot handles
#: an update_id once (bot/lifecycle.py)
_UPDATE_IDS = itertools.count(1)


class Person:
    def __init__(
        self,
        user_id: int,
        first_name: str = "Anna",
        language_code: str = "ru",
        phone: str = "+79161234567",
    ) -> None:
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.phone = phone

    def as_user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }


class BotHarness:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dp = dispatcher
        self.session = RecordingSession()
        self.bot = setup_bot(
            Bot(
                TOKEN, session=self.session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
            )
        )
        self._update_ids = _UPDATE_IDS
        self._message_ids = itertools.count(1)

    async def feed(self, update: dict[str, Any]) -> list[Call]:
        start = len(self.session.calls)
        update = {"update_id": next(self._update_ids), **update}
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )
        return self.session.calls[start:]

    def _chat(self, person: Person, chat_id: int | None) -> dict[str, Any]:
        if chat_id is None or chat_id == person.id:
            return {"id": person.id, "type": "private", "first_name": person.first_name}
        return {"id": chat_id, "type": "supergroup", "title": "Staff", "is_forum": True}

    async def send(
        self, person: Person, text: str | None = None, *, chat_id: int | None = None, **extra: Any
    ) -> list[Call]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(person, chat_id),
            "from": person.as_user(),
            **extra,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.feed({"message": message})

    async def share_contact(
        self, person: Person, *, phone: str | None = None, user_id: int | str | None = "self"
    ) -> list[Call]:
        contact: dict[str, Any] = {
            "phone_number": (phone or person.phone).lstrip("+"),
            "first_name": person.first_name,
        }
        if user_id == "self":
            contact["user_id"] = person.id
        elif user_id is not None:
            contact["user_id"] = user_id
        return await self.send(person, contact=contact)

    async def press(
        self,
        person: Person,
        data: str,
        *,
        message_id: int = 1,
        chat_id: int | None = None,
        text: str = "…",
        reply_to: dict[str, Any] | None = None,
    ) -> list[Call]:
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(person, chat_id),
            "from": BOT_USER,
            "text": text,
        }
        if reply_to is not None:  # the message the pressed one replies to
            message["reply_to_message"] = reply_to
        query = {
            "id": str(next(self._update_ids)),
            "from": person.as_user(),
            "chat_instance": "ci",
            "data": data,
            "message": message,
        }
        return await self.feed({"callback_query": query})


def texts(calls: list[Call], method: str | None = None) -> list[str]:
    return [c.text or "" for c in calls if (method is None or c.method == method) and c.text]


def answers(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "answerCallbackQuery"]
