"""Organisations' accounts and their representatives (queries only, no commits)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import RepresentativeStatus
from storage.models import Account, AccountLink, Representative, RepresentativeDocument


class RepresentativeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def accounts_of(self, inn: str, kpp: str | None = None) -> list[Account]:
        """The accounts of an organisation (of one branch when `kpp` is given)."""
        query = select(Account).where(Account.holder_inn == inn)
        if kpp is not None:
            query = query.where(Account.holder_kpp == kpp)
        result = await self.session.execute(query.order_by(Account.id))
        return list(result.scalars())

    def add(self, rep: Representative, documents: list[RepresentativeDocument]) -> None:
        rep.documents = documents
        self.session.add(rep)

    async def get(self, rep_id: int) -> Representative | None:
        result = await self.session.execute(
            select(Representative)
            .where(Representative.id == rep_id)
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def of_user(self, user_id: int) -> list[Representative]:
        result = await self.session.execute(
            select(Representative)
            .where(Representative.user_id == user_id)
            .order_by(Representative.id)
        )
        return list(result.scalars())

    async def of_organisation(self, inn: str) -> list[Representative]:
        result = await self.session.execute(
            select(Representative).where(Representative.holder_inn == inn)
        )
        return list(result.scalars())

    async def delete(self, rep_id: int) -> None:
        await self.session.execute(delete(Representative).where(Representative.id == rep_id))

    async def move(
        self,
        rep_id: int,
        *,
        old: RepresentativeStatus,
        new: RepresentativeStatus,
        at: dt.datetime,
        **values: object,
    ) -> bool:
        """Atomically move a representative from `old` to `new`; False when someone else
        moved it first (two operators pressing at once: one wins)."""
        result = await self.session.execute(
            update(Representative)
            .where(Representative.id == rep_id, Representative.status == old.value)
            .values(status=new.value, updated_at=at, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def drop_links(self, rep_id: int) -> None:
        await self.session.execute(
            delete(AccountLink).where(AccountLink.representative_id == rep_id)
        )
