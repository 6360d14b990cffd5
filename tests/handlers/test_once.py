"""Each update once: Telegram's re-deliveries, a restart, two instances on PostgreSQL; a failed
update is said and may be tried again; a resident who writes again is reachable again."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiogram.types import Update
from sqlalchemy import func, select

import storage.migrate
from bot.app import create_dispatcher
from bot.config import Settings
from bot.integrations import Gateways, LogSmsGateway
from bot.services.clock import FrozenClock
from bot.services.registration import RegistrationService
from storage.db import Database
from storage.models import ProcessedUpdate, User
from tests.support import factories as f
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, texts

ANNA = Person(501, "Anna")
JOHN = Person(502, "John", language_code="en")
#: update ids of this module: far from the harness's own sequence
_ids = itertools.count(9_000_000)


def start(person: Person) -> dict[str, Any]:
    """A /start from `person` with a fresh update_id (the same dict = a re-delivery)."""
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {"id": person.id, "type": "private", "first_name": person.first_name},
            "from": person.as_user(),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def feed(h: BotHarness, update: dict[str, Any]) -> list[Call]:
    before = len(h.session.calls)
    await h.dp.feed_update(h.bot, Update.model_validate(update, context={"bot": h.bot}))
    return h.session.calls[before:]


def instance(settings: Settings, db: Database) -> BotHarness:
    """Another bot process over the same database (a restart, or a second instance)."""
    dp = create_dispatcher(
        settings, db, clock=FrozenClock(), gateways=Gateways(sms=LogSmsGateway())
    )
    return BotHarness(dp)


async def close(h: BotHarness) -> None:
    await h.dp.storage.close()
    await h.bot.session.close()


async def marks(db: Database) -> int:
    async with db.session_maker() as s:
        return int((await s.execute(select(func.count()).select_from(ProcessedUpdate))).scalar())


async def test_a_redelivered_update_is_answered_once(harness: BotHarness, db: Database) -> None:
    update = start(ANNA)
    first = await feed(harness, update)
    assert texts(first), "the first delivery is answered"
    assert await feed(harness, update) == []
    assert await feed(harness, update) == []
    assert await marks(db) == 1


async def test_two_copies_at_once_are_answered_once(harness: BotHarness) -> None:
    update = start(ANNA)
    await asyncio.gather(feed(harness, update), feed(harness, update))
    greetings = [t for t in texts(harness.session.calls) if t.startswith("Здравствуйте, Anna")]
    assert len(greetings) == 1


async def test_after_a_restart_a_handled_update_is_not_handled_again(
    harness: BotHarness, settings: Settings, db: Database
) -> None:
    update = start(ANNA)
    assert texts(await feed(harness, update))
    restarted = instance(settings, db)  # nothing in its memory: only the database knows
    try:
        assert await feed(restarted, update) == []
        assert texts(await feed(restarted, start(ANNA))), "a new update is handled"
    finally:
        await close(restarted)


async def test_a_read_only_answer_is_remembered_in_a_batch_and_at_shutdown(
    harness: BotHarness, settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the batch is written when an update ends a second after the last write: on a loaded
    # machine the set-up alone can take that long, so the batch waits for the explicit flush
    monkeypatch.setattr("bot.lifecycle.BATCH_EVERY", 3600.0)
    await f.add(db, f.resident(ANNA.id, language="ru"))  # stored: /start only reads
    update = start(ANNA)
    assert texts(await feed(harness, update))  # /start of a registered resident: only reads
    written = await marks(db)
    pending = [update_id for _, update_id, _ in harness.dp["once"].read_only]
    assert update["update_id"] in pending
    await harness.dp["once"].flush()  # each second, and at the dispatcher's shutdown
    assert await marks(db) == written + len(pending)
    restarted = instance(settings, db)
    try:
        assert await feed(restarted, update) == []
    finally:
        await close(restarted)


async def test_a_failed_update_is_said_in_the_residents_language_and_may_be_tried_again(
    harness: BotHarness,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await f.add(db, f.resident(JOHN.id, language="en"))
    update = start(JOHN)

    async def broken(self: RegistrationService, user_id: int) -> None:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(RegistrationService, "step", broken)
    with caplog.at_level(logging.ERROR, logger="kabinet.errors"):
        said = texts(await feed(harness, update))
    assert said == ["Something went wrong on our side. Nothing was changed; please try again."]
    assert f"update {update['update_id']} failed" in caplog.text
    assert await marks(db) == 0, "the failed update's mark rolled back with its writes"

    monkeypatch.undo()
    again = texts(await feed(harness, update))  # Telegram re-sent it, or the resident retried
    assert again and "Something went wrong" not in again[0]


async def test_a_resident_who_writes_again_is_reachable_again(
    harness: BotHarness, db: Database
) -> None:
    resident = f.resident(ANNA.id)
    resident.inactive_since = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    await f.add(db, resident)
    await feed(harness, start(ANNA))
    async with db.session_maker() as s:
        assert (await s.get(User, ANNA.id)).inactive_since is None  # type: ignore[union-attr]


@pytest.mark.postgres
async def test_two_instances_on_postgresql_answer_each_update_once(
    pg_database_url: str, make_settings: Callable[..., Settings]
) -> None:
    await asyncio.to_thread(storage.migrate.upgrade, pg_database_url)
    settings = make_settings(database_url=pg_database_url)
    dbs = [Database(pg_database_url), Database(pg_database_url)]
    one, two = (instance(settings, d) for d in dbs)
    try:
        for person in (Person(601 + n, f"R{n}") for n in range(8)):
            update = start(person)  # the same update to both instances at the same moment
            a, b = await asyncio.gather(feed(one, update), feed(two, update))
            answered = [calls for calls in (a, b) if texts(calls)]
            assert len(answered) == 1, (a, b)
            assert [calls for calls in (a, b) if not texts(calls)] == [[]]
        assert await marks(dbs[0]) == 8
    finally:
        for h in (one, two):
            await close(h)
        for d in dbs:
            await d.dispose()
