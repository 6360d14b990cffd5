"""Cards the scheduler posts (a reading waiting too long, posted again) land in the
resident's topic too: the topic is found or made in a unit of work of its own."""

from __future__ import annotations

from sqlalchemy import select

from bot.config import Settings
from bot.scheduler import ScheduledThreads
from bot.services.clock import FrozenClock
from storage.db import Database
from storage.locks import LocalKeyedLock
from storage.models import SupportTopic
from tests.support import factories as f
from tests.support.services import RecordingSupportDesk


async def test_the_scheduler_finds_or_makes_the_residents_topic(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    await f.add(db, f.resident(4401, "+79161230044"))
    desk = RecordingSupportDesk()
    threads = ScheduledThreads(db, clock, desk, LocalKeyedLock(), settings)

    first = await threads.thread_of(4401)
    assert first is not None and list(desk.topics) == [first]
    assert await threads.thread_of(4401) == first  # remembered, not made again
    async with db.session_maker() as s:
        stored = (await s.execute(select(SupportTopic.thread_id))).scalars().all()
    assert stored == [first]

    desk.gone.add(first)  # an operator deleted the topic
    again = await threads.thread_gone(4401, first)
    assert again is not None and again != first
    assert await threads.thread_of(4401) == again
    assert await threads.thread_of(9999) is None  # nobody: no topic


async def test_a_plain_staff_chat_has_no_topics(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    await f.add(db, f.resident(4402, "+79161230045"))
    desk = RecordingSupportDesk(forum=False)
    threads = ScheduledThreads(db, clock, desk, LocalKeyedLock(), settings)
    assert await threads.thread_of(4402) is None
    assert desk.topics == {}
