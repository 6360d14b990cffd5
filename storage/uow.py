"""One unit of work per update: a session opened on first use, committed once at the end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from storage.repositories.audit import AuditRepository
from storage.repositories.balance import BalanceRepository
from storage.repositories.billing import BillingRepository
from storage.repositories.codes import CodeRepository
from storage.repositories.housekeeping import HousekeepingRepository
from storage.repositories.links import LinkRepository
from storage.repositories.notices import NoticeRepository  # staff
from storage.repositories.readings import ReadingsRepository
from storage.repositories.reminders import RemindersRepository
from storage.repositories.representatives import RepresentativeRepository
from storage.repositories.staff import StaffRepository  # staff
from storage.repositories.stats import StatsRepository
from storage.repositories.support import SupportRepository
from storage.repositories.users import UserRepository

_R = TypeVar("_R")


class UnitOfWork:
    """Lazily opens an `AsyncSession`; the outer middleware commits or rolls back.

    The repositories are its attributes (`uow.links`, `uow.audit`, …), made on first use
    over the one session, so an update that touches no data opens no session at all.
    Repositories never commit; a service that must make something durable before it
    talks to the outside (a code before the SMS goes out, a request before its card is
    posted) calls `commit()` at that named point.
    """

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = session_maker
        self._session: AsyncSession | None = None
        self._repos: dict[type, object] = {}
        self._wrote = False
        #: FSM keys this update wrote (storage/fsm.py does not cache what it reads of them)
        self.fsm_written: set[str] = set()
        #: run in the transaction right before a commit that carries writes (bot/lifecycle.py
        #: claims the update_id there: the claim commits with the update's first writes)
        self.before_commit: list[Callable[[AsyncSession], Awaitable[None]]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._maker(info={_UOW: self})
            self._wrote = False
        return self._session

    def wrote(self) -> None:
        """The session wrote (called by the session events below)."""
        self._wrote = True

    @property
    def has_writes(self) -> bool:
        """Whether the open session wrote, or holds changes not flushed yet."""
        session = self._session
        if session is None:
            return False
        return self._wrote or bool(session.new or session.dirty or session.deleted)

    async def commit_writes(self) -> None:
        """Commit if anything was written (a session that only read is left open): the
        cheap commit before a message is sent."""
        if self.has_writes:
            await self.commit()

    def _repo(self, kind: type[_R]) -> _R:
        repo = self._repos.get(kind)
        if repo is None:
            repo = self._repos[kind] = kind(self.session)  # type: ignore[call-arg]
        return repo  # type: ignore[return-value]

    @property
    def users(self) -> UserRepository:
        return self._repo(UserRepository)

    @property
    def links(self) -> LinkRepository:
        return self._repo(LinkRepository)

    @property
    def audit(self) -> AuditRepository:
        return self._repo(AuditRepository)

    @property
    def codes(self) -> CodeRepository:
        return self._repo(CodeRepository)

    @property
    def billing(self) -> BillingRepository:
        return self._repo(BillingRepository)

    @property
    def readings(self) -> ReadingsRepository:
        return self._repo(ReadingsRepository)

    @property
    def reminders(self) -> RemindersRepository:
        return self._repo(RemindersRepository)

    @property
    def balance(self) -> BalanceRepository:
        return self._repo(BalanceRepository)

    @property
    def housekeeping(self) -> HousekeepingRepository:
        return self._repo(HousekeepingRepository)

    @property
    def stats(self) -> StatsRepository:
        return self._repo(StatsRepository)

    # --- staff ---
    @property
    def staff(self) -> StaffRepository:
        return self._repo(StaffRepository)

    @property
    def notices(self) -> NoticeRepository:
        return self._repo(NoticeRepository)

    # --- end staff ---

    @property
    def support(self) -> SupportRepository:
        return self._repo(SupportRepository)

    @property
    def representatives(self) -> RepresentativeRepository:
        return self._repo(RepresentativeRepository)

    @property
    def opened(self) -> bool:
        return self._session is not None

    async def commit(self) -> None:
        if self._session is not None:
            if self.before_commit and self.has_writes:
                for hook in self.before_commit:
                    await hook(self._session)
            await self._session.commit()
            self._wrote = False

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
            self._wrote = False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._repos.clear()

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


# Whether a unit of work's session wrote: listened to once for every Session (listening per
# session cost a tenth of a millisecond on each update); the session's `info` names its
# unit of work.
_UOW = "kabinet.uow"


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    uow = session.info.get(_UOW)
    if uow is not None:
        uow.wrote()


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        uow = state.session.info.get(_UOW)
        if uow is not None:
            uow.wrote()


#: The unit of work of the update being handled, so that aiogram's FSM writes (which get no
#: handler data) join the same transaction: state and business data commit or roll back
#: together, and SQLite never sees two writers from one update.
current_uow: ContextVar[UnitOfWork | None] = ContextVar("current_uow", default=None)
