"""The staff supergroup (filled in by the account-linking feature)."""

from __future__ import annotations

from aiogram import Router

from handlers.filters import ChatId


def create_router(staff_chat_id: int) -> Router:
    router = Router(name="staff")
    router.message.filter(ChatId(staff_chat_id))
    router.callback_query.filter(ChatId(staff_chat_id))
    return router
