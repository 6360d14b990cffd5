"""Readings on PostgreSQL: the batch once (the unique key after the pre-check), correction,
the operator's atomic decision, the reminders' lease."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.services.clock import FrozenClock
from bot.services.readings import DecisionOutcome, SubmitOutcome
from bot.services.readings_rules import Caution
from storage.db import Database
from storage.locks import DatabaseLock
from storage.uow import UnitOfWork
from tests.support.services import RecordingReadingDesk, RecordingReadingNotifier, readings_service
from tests.unit.test_readings import ANNA, mine, seed, submit, water
from tests.unit.test_reminders import START_DAY
from tests.unit.test_reminders import run as remind
from tests.unit.test_reminders import seed as seed_reminders

pytestmark = pytest.mark.postgres


async def test_submit_correct_and_decide(pg: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FrozenClock()
    ids = await seed(pg)
    desk = RecordingReadingDesk()
    first = await submit(pg, clock, ids, [water(ids, "200", Caution.SPIKE)], desk=desk)
    assert first.outcome is SubmitOutcome.STORED

    async def nothing_yet(self: object, batch: str) -> bool:
        return False

    with monkeypatch.context() as patch:
        patch.setattr("storage.repositories.readings.ReadingsRepository.batch_stored", nothing_yet)
        again = await submit(pg, clock, ids, [water(ids, "200", Caution.SPIKE)], desk=desk)
    assert again.outcome is SubmitOutcome.ALREADY_STORED
    [pending] = await mine(pg)
    async with UnitOfWork(pg.session_maker) as uow:
        service = readings_service(uow, clock, desk=desk)
        decided = await service.decide(
            reading_id=pending.id, accept=True, operator_id=1, operator_name="Ольга"
        )
        late = await service.decide(
            reading_id=pending.id, accept=False, operator_id=2, operator_name="Пётр"
        )
    assert (decided.outcome, late.outcome) == (
        DecisionOutcome.DECIDED,
        DecisionOutcome.ALREADY_DECIDED,
    )
    fixed = await submit(pg, clock, ids, [water(ids, "140")], batch="bbbbbbbbbbbb")
    assert fixed.outcome is SubmitOutcome.STORED
    assert [r.status for r in await mine(pg)] == ["corrected", "accepted"]
    async with UnitOfWork(pg.session_maker) as uow:
        sub = await readings_service(uow, clock).submission(ANNA, ids["account"])
    assert sub is not None and sub.meters[0].sent[0] is not None


async def test_reminders_and_their_lease(pg: Database) -> None:
    await seed_reminders(pg)
    clock = FrozenClock(START_DAY)
    queued, report = await remind(pg, clock, RecordingReadingNotifier())
    assert (queued, report.sent) == (3, 3)
    ttl = dt.timedelta(minutes=1)
    one = DatabaseLock(pg.session_maker, "job", ttl=ttl, now=clock.now, holder="one")
    two = DatabaseLock(pg.session_maker, "job", ttl=ttl, now=clock.now, holder="two")
    assert await one.acquire() and not await two.acquire()
    results = await asyncio.gather(*(two.acquire() for _ in range(5)))
    assert not any(results)
