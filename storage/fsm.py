"""aiogram FSM storage in the database, so a conversation survives a restart.

Inside an update, reads and writes join the update's unit of work (`current_uow`), so the
state moves exactly when the business data it belongs to is committed. Outside one (aiogram
reading the state before the handler, tests, tools) each call is its own short transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRecord
from storage.uow import current_uow


class SQLAlchemyStorage(BaseStorage):
    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self._sessions = session_maker
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        name = self._key(key)
        uow = current_uow.get()
        if uow is not None:
            await self._apply(uow.session, name, values)
            await uow.session.flush()
            return
        for attempt in range(2):
            async with self._sessions() as session:
                await self._apply(session, name, values)
                try:
                    await session.commit()
                    return
                except IntegrityError:
                    # another writer inserted the same key first: go again as an update
                    if attempt:
                        raise

    @staticmethod
    async def _apply(session: AsyncSession, name: str, values: dict[str, Any]) -> None:
        record = await session.get(FsmRecord, name)
        fresh = record is None
        if record is None:
            record = FsmRecord(key=name, state=None, data={})
        for field, value in values.items():
            setattr(record, field, value)
        if record.state is None and not record.data:
            if not fresh:  # nothing left to remember: drop the row
                await session.delete(record)
        elif fresh:
            session.add(record)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        uow = current_uow.get()
        if uow is not None and uow.opened:
            return await uow.session.get(FsmRecord, self._key(key))
        async with self._sessions() as session:
            return await session.get(FsmRecord, self._key(key))

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._read(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._read(key)
        return dict(record.data) if record and record.data else {}

    async def close(self) -> None:
        return None
