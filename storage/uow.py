"""One unit of work per update: a session opened on first use, committed once at the end."""

from __future__ import annotations

from contextvars import ContextVar
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class UnitOfWork:
    """Lazily opens an `AsyncSession`; the outer middleware commits or rolls back.

    Repositories never commit; a use case that must make something durable before it
    talks to the outside (e.g. a code before the SMS goes out) calls `commit()` itself.
    """

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = session_maker
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._maker()
        return self._session

    @property
    def opened(self) -> bool:
        return self._session is not None

    async def commit(self) -> None:
        if self._session is not None:
            await self._session.commit()

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.commit()
            else:
                await self.rollback()
        finally:
            await self.close()


#: The unit of work of the update being handled, so that aiogram's FSM writes (which get no
#: handler data) join the same transaction: state and business data commit or roll back
#: together, and SQLite never sees two writers from one update.
current_uow: ContextVar[UnitOfWork | None] = ContextVar("current_uow", default=None)
