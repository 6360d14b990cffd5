"""aiogram FSM storage in the database, so a conversation survives a restart.

Inside an update, reads and writes join the update's unit of work (`current_uow`), so the
state moves exactly when the business data it belongs to is committed. Outside one (aiogram
reading the state before the handler, tests, tools) each call is its own short transaction.

With `cache_ttl` (one process owns the database: SQLite) the committed state of a key is
remembered in memory for that many seconds, "no conversation" included, so the update of
a resident whose state did not change costs no database round trip for it. The cache is
filled only by reads of a key the current update has not written (a write that is rolled
back can never leave a wrong entry), every write drops the key, and a write that changes
nothing (clearing an empty state) is skipped. Several processes must not share a database
storage with caches: they use Redis (REDIS_URL), as README says.
"""

from __future__ import annotations

import copy
import time
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
        *,
        cache_ttl: float = 0.0,
        cache_size: int = 100_000,
    ) -> None:
        self._sessions = session_maker
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        self._ttl = cache_ttl
        self._size = cache_size
        self._cache: dict[str, tuple[str | None, dict[str, Any], float]] = {}

    def _cached(self, name: str) -> tuple[str | None, dict[str, Any]] | None:
        item = self._cache.get(name)
        if item is None or item[2] < time.monotonic():
            return None
        return item[0], item[1]

    def _remember(self, name: str, state: str | None, data: dict[str, Any]) -> None:
        uow = current_uow.get()
        if not self._ttl or (uow is not None and name in uow.fsm_written):
            return  # this update wrote the key: what it reads is not committed yet
        if len(self._cache) >= self._size:
            self._cache.clear()
        self._cache[name] = (state, copy.deepcopy(data), time.monotonic() + self._ttl)

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        name = self._key(key)
        known = self._cached(name)
        if known is not None and all(
            (known[0] if field == "state" else known[1]) == value for field, value in values.items()
        ):
            return  # nothing changes (e.g. clearing an empty state): no round trip
        self._cache.pop(name, None)
        uow = current_uow.get()
        if uow is not None:
            uow.fsm_written.add(name)
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

    async def _read(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        name = self._key(key)
        known = self._cached(name)
        if known is not None:
            return known
        uow = current_uow.get()
        if uow is not None and uow.opened:
            record = await uow.session.get(FsmRecord, name)
        else:
            async with self._sessions() as session:
                record = await session.get(FsmRecord, name)
        state, data = (record.state, dict(record.data or {})) if record else (None, {})
        self._remember(name, state, data)
        return state, data

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return copy.deepcopy((await self._read(key))[1])

    async def close(self) -> None:
        return None
