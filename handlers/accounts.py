"""My accounts and linking (filled in by the account-linking feature)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message

from bot.config import Settings
from storage.uow import UnitOfWork


async def offer_accounts_by_phone(
    message: Message, uow: UnitOfWork, settings: Settings, phone: str
) -> None:
    """Right after registration: offer the accounts whose phone on file is this one."""
    return None


def create_router() -> Router:
    return Router(name="accounts")
