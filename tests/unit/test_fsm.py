"""The FSM storage keeps a conversation across restarts (database) and in Redis."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.app import create_fsm_storage
from handlers.common.states import Registration
from storage.db import Database
from storage.fsm import SQLAlchemyStorage
from storage.uow import UnitOfWork, current_uow

KEY = StorageKey(bot_id=1, chat_id=77, user_id=77)


async def test_state_and_data_survive_a_new_storage(db: Database) -> None:
    first = SQLAlchemyStorage(db.session_maker)
    await first.set_state(KEY, Registration.phone)
    await first.update_data(KEY, {"supplier": 3, "number": "5812345678"})
    second = SQLAlchemyStorage(db.session_maker)  # as after a restart
    assert await second.get_state(KEY) == "Registration:phone"
    assert await second.get_data(KEY) == {"supplier": 3, "number": "5812345678"}
    other = StorageKey(bot_id=1, chat_id=78, user_id=78)
    assert await second.get_state(other) is None and await second.get_data(other) == {}


async def test_clearing_removes_the_row(db: Database) -> None:
    from sqlalchemy import func, select

    from storage.models import FsmRecord

    storage = SQLAlchemyStorage(db.session_maker)
    await storage.set_state(KEY, "X:y")
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    async with db.session_maker() as s:
        assert (await s.execute(select(func.count()).select_from(FsmRecord))).scalar() == 0


async def test_writes_inside_an_update_commit_with_it(db: Database) -> None:
    storage = SQLAlchemyStorage(db.session_maker)
    uow = UnitOfWork(db.session_maker)
    token = current_uow.set(uow)
    try:
        await storage.set_state(KEY, "X:rolled_back")
        assert await storage.get_state(KEY) == "X:rolled_back"  # visible inside the update
        await uow.rollback()
    finally:
        current_uow.reset(token)
        await uow.close()
    assert await storage.get_state(KEY) is None  # gone with the failed update

    async with UnitOfWork(db.session_maker) as uow2:
        token = current_uow.set(uow2)
        try:
            await storage.set_state(KEY, "X:committed")
        finally:
            current_uow.reset(token)
    assert await storage.get_state(KEY) == "X:committed"


@pytest.mark.redis
async def test_redis_storage_when_redis_url_is_set(
    make_settings, db: Database, redis_url: str
) -> None:
    settings = make_settings(redis_url=redis_url)
    storage, isolation = create_fsm_storage(settings, db)
    try:
        assert type(storage).__name__ == "RedisStorage"
        key = StorageKey(bot_id=2, chat_id=99, user_id=99)
        await storage.set_state(key, Registration.consent)
        await storage.set_data(key, {"a": 1})
        again, _ = create_fsm_storage(settings, db)
        try:
            assert await again.get_state(key) == "Registration:consent"
            assert await again.get_data(key) == {"a": 1}
            await again.set_state(key, None)
            await again.set_data(key, {})
        finally:
            await again.close()
    finally:
        await isolation.close()
        await storage.close()


class Statements:
    """Counts the SQL statements a block sends (the cache must spare the round trips)."""

    def __init__(self, db: Database) -> None:
        from sqlalchemy import event

        self.count = 0
        self._engine = db.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self._engine, "before_cursor_execute", self._seen)


async def test_cache_spares_reads_and_empty_clears(db: Database) -> None:
    storage = SQLAlchemyStorage(db.session_maker, cache_ttl=60)
    await storage.set_state(KEY, "Linking:number")
    await storage.set_data(KEY, {"supplier_id": 1})
    assert await storage.get_state(KEY) == "Linking:number"  # read once, remembered
    sql = Statements(db)
    try:
        for _ in range(5):
            assert await storage.get_state(KEY) == "Linking:number"
            data = await storage.get_data(KEY)
            data["mutated"] = True  # a caller's copy, not the cache
        assert await storage.get_data(KEY) == {"supplier_id": 1}
        assert sql.count == 0
        other = StorageKey(bot_id=1, chat_id=79, user_id=79)
        assert await storage.get_state(other) is None  # "no conversation" is remembered too
        before = sql.count
        await storage.set_state(other, None)  # clearing an empty state changes nothing
        await storage.set_data(other, {})
        assert await storage.get_state(other) is None
        assert sql.count == before
    finally:
        sql.close()


async def test_a_rolled_back_write_leaves_no_cached_state(db: Database) -> None:
    storage = SQLAlchemyStorage(db.session_maker, cache_ttl=60)
    assert await storage.get_state(KEY) is None
    uow = UnitOfWork(db.session_maker)
    token = current_uow.set(uow)
    try:
        assert uow.session is not None  # opened, as a handler that reads data would
        await storage.set_state(KEY, "Linking:number")
        assert await storage.get_state(KEY) == "Linking:number"  # seen inside the update
        await uow.rollback()
        await uow.close()
    finally:
        current_uow.reset(token)
    assert await storage.get_state(KEY) is None  # not the rolled-back value
