"""Which language to answer in, and the gettext catalogs (aiogram's I18n)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from storage.uow import UnitOfWork

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def create_i18n(default_locale: str) -> I18n:
    i18n = I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)
    missing = {"ru", "en"} - set(i18n.available_locales)
    if missing:
        raise RuntimeError(
            f"compiled catalogs missing for {sorted(missing)}: run `make i18n` (or `make run`)"
        )
    return i18n


def telegram_language(user: User | None, default_locale: str) -> str:
    """English for residents whose Telegram speaks English, the default otherwise."""
    code = (user.language_code or "") if user else ""
    return "en" if code.lower().startswith("en") else default_locale


class LanguageCache:
    """The chosen language per resident, so resolving it costs no query on most updates.

    Entries live `ttl` seconds; the process that changes a language updates its entry.
    """

    def __init__(self, ttl: float = 300.0, max_size: int = 100_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._items: dict[int, tuple[str | None, float]] = {}

    def get(self, user_id: int) -> tuple[bool, str | None]:
        item = self._items.get(user_id)
        if item is None or item[1] < time.monotonic():
            return False, None
        return True, item[0]

    def put(self, user_id: int, language: str | None) -> None:
        if len(self._items) >= self.max_size:
            self._items.clear()
        self._items[user_id] = (language, time.monotonic() + self.ttl)

    def forget(self, user_id: int) -> None:
        self._items.pop(user_id, None)


class ResidentI18nMiddleware(I18nMiddleware):
    def __init__(self, i18n: I18n, cache: LanguageCache) -> None:
        super().__init__(i18n)
        self.cache = cache

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        fallback = telegram_language(user, self.i18n.default_locale)
        if user is None or user.is_bot:
            return fallback
        known, language = self.cache.get(user.id)
        if not known:
            uow: UnitOfWork | None = data.get("uow")
            if uow is None:
                return fallback
            registered, language = await uow.users.language_of(user.id)
            if registered and language is None:
                if not _in_private(data):  # not remembered: their next private message stores it
                    return fallback
                # registered before registration stored it: keep what they are answered in,
                # so notices and reminders (sent with no update to read it from) match
                language = fallback
                await uow.users.adopt_language(user.id, language)
            self.cache.put(user.id, language)
        return language or fallback


def _in_private(data: dict[str, Any]) -> bool:
    chat: Chat | None = data.get("event_chat")
    return chat is not None and chat.type == "private"
