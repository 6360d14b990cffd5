"""Old codes and abandoned conversations are deleted; what is still needed stays."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.services import housekeeping
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.enums import CodePurpose
from storage.models import ConfirmationCode, FsmRecord, ReminderLog
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.services import codes_service


async def _issue(db: Database, clock: FrozenClock, target: str) -> None:
    async with UnitOfWork(db.session_maker) as uow:
        await codes_service(uow, clock).issue(
            purpose=CodePurpose.LINK_SMS, target=target, user_id=None, subject="1"
        )


async def test_purge_keeps_what_is_still_needed(db: Database, clock: FrozenClock) -> None:
    await _issue(db, clock, "+79160000001")  # 3 days old at the purge: gone
    clock.advance(days=2)
    await _issue(db, clock, "+79160000002")  # 1 day old: still counts for the daily limit
    clock.advance(days=1)
    now = clock.now()
    async with db.session_maker() as s:
        for key, idle in (("fsm:1:5:5:default", 31), ("fsm:1:6:6:default", 20)):
            s.add(FsmRecord(key=key, state="Linking:number", data={"number": "10200000"},
                            updated_at=now - dt.timedelta(days=idle)))  # fmt: skip
        await s.commit()
    async with UnitOfWork(db.session_maker) as uow:
        purged = await housekeeping.purge(uow, clock=clock)
    assert (purged.codes, purged.conversations) == (1, 1)
    async with db.session_maker() as s:
        targets = (await s.execute(select(ConfirmationCode.target))).scalars().all()
        keys = (await s.execute(select(FsmRecord.key))).scalars().all()
    assert targets == ["+79160000002"]
    assert keys == ["fsm:1:6:6:default"]


def test_housekeeping_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    assert main(["housekeeping"]) == 0
    assert (
        "0 old one-time code(s), 0 abandoned conversation(s) and 0 old reminder record(s) deleted"
        in capsys.readouterr().out
    )


async def test_reminder_records_are_kept_through_the_window(
    db: Database, clock: FrozenClock
) -> None:
    voda = f.supplier()
    flat = f.account(voda, "1000000001")
    await f.add(db, voda, flat, f.resident(7001, "+79160000007"))
    now = clock.now()
    async with db.session_maker() as s:
        for period, age in (("2026-06", 150), ("2026-10", 40)):
            s.add(ReminderLog(user_id=7001, account_id=flat.id, period=period, kind="open",
                              status="sent", created_at=now - dt.timedelta(days=age)))  # fmt: skip
        await s.commit()
    async with UnitOfWork(db.session_maker) as uow:
        purged = await housekeeping.purge(uow, clock=clock)
    assert purged.reminders == 1
    async with db.session_maker() as s:
        periods = (await s.execute(select(ReminderLog.period))).scalars().all()
    assert periods == ["2026-10"]
