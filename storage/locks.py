"""Leases for scheduled jobs: only one of several bot instances runs a job at a time.

`acquire()` takes the lease or renews it (the holder calls it again before it runs out);
it is False while another instance holds an unexpired lease. A holder that dies simply
stops renewing: after `ttl` another instance takes over. Two implementations: a row in
the database (`scheduler_locks`) and, when REDIS_URL is set, a Redis key.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import SchedulerLock


def holder_name() -> str:
    """This process, as other instances see it in the lock."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobLock(Protocol):
    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


class DatabaseLock:
    """A row per job name; taken by an UPDATE that only matches a free or own lease."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        name: str,
        *,
        ttl: dt.timedelta,
        now: Callable[[], dt.datetime],
        holder: str | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.name = name
        self.ttl = ttl
        self.now = now
        self.holder = holder or holder_name()

    async def acquire(self) -> bool:
        now = self.now()
        async with self.session_maker() as session:
            taken = await session.execute(
                update(SchedulerLock)
                .where(
                    SchedulerLock.name == self.name,
                    or_(SchedulerLock.holder == self.holder, SchedulerLock.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
                .execution_options(synchronize_session=False)
            )
            if getattr(taken, "rowcount", 0) == 1:
                await session.commit()
                return True
            if await session.get(SchedulerLock, self.name) is not None:
                await session.rollback()
                return False
            session.add(
                SchedulerLock(name=self.name, holder=self.holder, expires_at=now + self.ttl)
            )
            try:
                await session.commit()
            except IntegrityError:  # another instance inserted it first
                await session.rollback()
                return False
            return True

    async def release(self) -> None:
        async with self.session_maker() as session:
            await session.execute(
                delete(SchedulerLock).where(
                    SchedulerLock.name == self.name, SchedulerLock.holder == self.holder
                )
            )
            await session.commit()


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLock:
    """SET NX PX with a random holder value; renewed and released only by its holder."""

    def __init__(
        self, url: str, name: str, *, ttl: dt.timedelta, holder: str | None = None
    ) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.key = f"kabinet:lock:{name}"
        self.ttl_ms = int(ttl.total_seconds() * 1000)
        self.holder = holder or holder_name()

    async def acquire(self) -> bool:
        if await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            return True
        return bool(await self.redis.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.holder)

    async def close(self) -> None:
        await self.redis.aclose()
