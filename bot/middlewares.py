"""Outer middlewares: the unit of work of an update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.uow import UnitOfWork, current_uow


class UnitOfWorkMiddleware(BaseMiddleware):
    """One lazily opened session per update: committed once when the handler returns."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self.session_maker = session_maker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with UnitOfWork(self.session_maker) as uow:
            data["uow"] = uow
            token = current_uow.set(uow)
            try:
                return await handler(event, data)
            finally:
                current_uow.reset(token)
