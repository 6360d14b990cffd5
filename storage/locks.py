"""Leases for scheduled jobs: only one of several bot instances runs a job at a time.

`acquire()` takes the lease or renews it (the holder calls it again before it runs out);
it is False while another instance holds an unexpired lease. A holder that dies simply
stops renewing: after `ttl` another instance takes over. Two implementations: a row in
the database (`scheduler_locks`) and, when REDIS_URL is set, a Redis key.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
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


# --------------------------------------------------------------------------- keyed locks
#: how long a keyed lock in Redis lives when its holder dies without releasing it
KEYED_TTL = dt.timedelta(seconds=30)


class KeyedLock(Protocol):
    """One holder per key at a time (e.g. "a resident's updates in order"):
    `async with locks("resident:42"): ...` waits while another task or process holds it."""

    def __call__(self, key: str) -> contextlib.AbstractAsyncContextManager[None]: ...


class LocalKeyedLock:
    """An asyncio.Lock per key, in this process; a key's lock is forgotten when nobody
    holds or waits for it, so the table does not grow with every resident ever seen."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def held(self) -> int:
        """Keys held or waited for now (tests: nothing is left behind)."""
        return len(self._locks)


class RedisKeyedLock:
    """The same across processes: SET NX PX per key (a random holder value), polled until
    free, released only by its holder; the local lock first, so tasks of one process queue
    in order without polling Redis. A holder that dies frees the key after `ttl`."""

    def __init__(
        self,
        url: str,
        *,
        ttl: dt.timedelta = KEYED_TTL,
        poll: float = 0.05,
        wait: float = 30.0,
    ) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.ttl_ms = int(ttl.total_seconds() * 1000)
        self.poll = poll
        self.wait = wait
        self.local = LocalKeyedLock()

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        name = f"kabinet:keyed:{key}"
        async with self.local(key):
            holder = uuid.uuid4().hex
            deadline = asyncio.get_running_loop().time() + self.wait
            while not await self.redis.set(name, holder, nx=True, px=self.ttl_ms):
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"the lock {key!r} is held elsewhere for too long")
                await asyncio.sleep(self.poll)
            try:
                yield
            finally:
                await self.redis.eval(_RELEASE, 1, name, holder)

    async def close(self) -> None:
        await self.redis.aclose()


def create_keyed_lock(redis_url: str | None) -> LocalKeyedLock | RedisKeyedLock:
    """Redis when REDIS_URL is set (several bot processes), this process's locks otherwise."""
    return RedisKeyedLock(redis_url) if redis_url else LocalKeyedLock()
