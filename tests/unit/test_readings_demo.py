"""The billing side of readings: a wrapped window imports; the demo data has some window
open on every day of the year (one of them wrapped), so readings can be tried any day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.services.billing import Kind, import_rows
from bot.services.billing.sources import RawRow
from bot.services.clock import FrozenClock
from bot.services.demo import SUPPLIERS, seed_demo
from bot.services.readings_rules import window_state
from storage.db import Database
from storage.models import Account, AccountLink, Supplier
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.billing_files import supplier
from tests.support.services import readings_service


async def test_a_window_over_the_month_end_is_imported(db: Database, clock: FrozenClock) -> None:
    rows = [supplier(window_start_day="28", window_end_day="5")]
    async with UnitOfWork(db.session_maker) as uow:
        summary = await import_rows(
            uow,
            Kind.SUPPLIERS,
            (RawRow(line=2, item=None, values=row) for row in rows),
            clock=clock,
        )
    assert summary.inserted == 1
    async with db.session_maker() as s:
        row = (await s.execute(select(Supplier))).scalar_one()
    assert (row.window_start_day, row.window_end_day) == (28, 5)


def test_demo_windows_cover_every_day_and_one_wraps() -> None:
    windows = [(int(s["window_start_day"]), int(s["window_end_day"])) for s in SUPPLIERS]
    assert any(start > end for start, end in windows)
    for n in range(366 * 2):
        today = dt.date(2027, 1, 1) + dt.timedelta(days=n)
        assert any(window_state(today, *w).open for w in windows), today


async def test_the_demo_resident_can_send_readings_any_day(db: Database) -> None:
    """The typical demo resident (a flat of the UK and a gas account on one phone) finds
    an open window on the first, the last and the edge days of the month."""
    start = FrozenClock(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    demo = await seed_demo(db, start)
    async with db.session_maker() as s:
        accounts = (
            await s.execute(
                select(Account).where(Account.number.in_([demo.typical.number, demo.gas.number]))
            )
        ).scalars()
        ids = [a.id for a in accounts]
        s.add(f.resident(42))
        s.add_all(AccountLink(user_id=42, account_id=i, status="active") for i in ids)
        await s.commit()
    for day in (1, 14, 15, 25, 26, 30):
        clock = FrozenClock(dt.datetime(2026, 11, day, 9, tzinfo=dt.UTC))
        async with UnitOfWork(db.session_maker) as uow:
            service = readings_service(uow, clock)
            open_ = [
                sub
                for i in ids
                if (sub := await service.submission(42, i)) is not None and sub.state.open
            ]
        assert len(open_) == 1 and open_[0].meters, day
