"""Storage of production concerns: update_ids handled once, residents reachable again.

`claim()` runs inside the update's own transaction (the unit of work of the update): the
mark commits together with what the update wrote (at the first message the bot sends, or at
the end), and a crash before that commit takes the mark away with the writes, so Telegram's
re-delivery of that update is handled again — nothing lost, nothing doubled. On PostgreSQL a
second instance inserting the same update_id waits on the first one's row until it commits
(then it is a duplicate) or rolls back (then it handles the update).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ProcessedUpdate, User


async def claim(session: AsyncSession, bot_id: int, update_id: int, at: dt.datetime) -> bool:
    """Mark the update as handled in the open transaction; False if it already was."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(ProcessedUpdate)
        .values(bot_id=bot_id, update_id=update_id, handled_at=at)
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0) == 1)


async def last_handled(session: AsyncSession, bot_id: int) -> int:
    """The highest update_id remembered for the bot (0: none). Telegram's update_ids grow,
    so a later one was never handled before this process started."""
    result = await session.execute(
        select(func.max(ProcessedUpdate.update_id)).where(ProcessedUpdate.bot_id == bot_id)
    )
    return int(result.scalar() or 0)


async def handled(session: AsyncSession, bot_id: int, update_id: int) -> bool:
    """Whether the update_id is remembered as handled (a read: no write lock on SQLite)."""
    result = await session.execute(
        select(ProcessedUpdate.update_id).where(
            ProcessedUpdate.bot_id == bot_id, ProcessedUpdate.update_id == update_id
        )
    )
    return result.scalar_one_or_none() is not None


async def claim_many(
    session_maker: async_sessionmaker[AsyncSession], rows: list[tuple[int, int, dt.datetime]]
) -> None:
    """Remember update_ids handled without writing anything (one statement for many)."""
    if not rows:
        return
    async with session_maker() as session:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = [{"bot_id": b, "update_id": u, "handled_at": at} for b, u, at in rows]
        await session.execute(
            insert(ProcessedUpdate).on_conflict_do_nothing(index_elements=["bot_id", "update_id"]),
            values,
        )
        await session.commit()


async def purge(session_maker: async_sessionmaker[AsyncSession], before: dt.datetime) -> int:
    """Forget update_ids handled before `before` (Telegram re-sends for 24 h at most)."""
    async with session_maker() as session:
        result = await session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.handled_at < before)
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_unreachable(
    session_maker: async_sessionmaker[AsyncSession], user_id: int, at: dt.datetime
) -> bool:
    """Telegram refused to deliver to the resident (blocked, chat not found): in a session of
    its own, because the update that tried usually fails and rolls back."""
    async with session_maker() as session:
        result = await session.execute(
            update(User)
            .where(User.id == user_id, User.inactive_since.is_(None))
            .values(inactive_since=at)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def mark_reachable(session: AsyncSession, user_id: int) -> bool:
    """The resident wrote or pressed again: reachable, in the update's transaction.

    Read first: on SQLite an UPDATE — even one that matches no row — takes the database's
    write lock until the update commits, and every other writer of the process (a lease, a
    notice run, a batch) would wait on it. Only a resident who was unreachable is written.
    """
    inactive = await session.execute(
        select(User.id).where(User.id == user_id, User.inactive_since.is_not(None))
    )
    if inactive.scalar_one_or_none() is None:
        return False
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.inactive_since.is_not(None))
        .values(inactive_since=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
