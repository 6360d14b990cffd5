"""Demo data with residents linked to its edge cases, for the balance, receipt and payment
tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.services.clock import FrozenClock
from bot.services.demo import DemoAccount, DemoSummary, seed_demo
from storage.db import Database
from storage.models import Account, Supplier
from tests.support import factories as f


async def account_id(db: Database, demo: DemoAccount) -> int:
    async with db.session_maker() as session:
        return int(
            (
                await session.execute(
                    select(Account.id)
                    .join(Supplier)
                    .where(Supplier.code == demo.supplier_code, Account.number == demo.number)
                )
            ).scalar_one()
        )


@dataclass
class Seeded:
    demo: DemoSummary
    ids: dict[str, int]  # case → account id


async def seed_linked(
    db: Database,
    clock: FrozenClock,
    user_id: int,
    cases: tuple[str, ...],
    *,
    language: str | None = None,
) -> Seeded:
    """The demo data, and a registered resident with ACTIVE links to the `cases`
    (attribute names of DemoSummary: "typical", "debtor", "overpaid", "no_charges" …)."""
    demo = await seed_demo(db, clock)
    ids = {case: await account_id(db, getattr(demo, case)) for case in cases}
    await f.add(db, f.resident(user_id, "+79990001122", language=language))
    await f.add(db, *(f.link(user_id, i, "active", "phone") for i in ids.values()))
    return Seeded(demo, ids)
