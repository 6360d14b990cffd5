"""The support service: tickets, topics (one per resident, made again when gone), the
message map, closing and rating; SUPPORT_HOURS; the keyed lock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.config import Settings, SettingsError
from bot.services.clock import FrozenClock
from bot.services.ports import Delivery, EditResult
from bot.services.support import (
    AnswerOutcome,
    CloseOutcome,
    HoursError,
    PassOutcome,
    RateOutcome,
    parse_hours,
)
from storage.db import Database
from storage.locks import LocalKeyedLock
from storage.models import Charge, SupportTopic, Ticket, TicketMessage, User
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.services import RecordingSupportDesk, support_service

ANNA, BORIS = 501, 502
MSK = dt.timezone(dt.timedelta(hours=3))


async def seed(db: Database) -> None:
    anna = f.resident(ANNA, "+79161234567", language="ru")
    anna.first_name = "Анна"
    await f.add(db, anna, f.resident(BORIS, "+79167654321"))


# --------------------------------------------------------------------------- hours
def test_hours_format() -> None:
    hours = parse_hours("Mon-Fri 09:00-18:00; Sat 10:00-14:00")
    assert [(s.days, s.start, s.end) for s in hours.shifts] == [
        ((0, 1, 2, 3, 4), dt.time(9), dt.time(18)),
        ((5,), dt.time(10), dt.time(14)),
    ]
    friday_noon = dt.datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
    assert hours.open_at(friday_noon)
    assert not hours.open_at(friday_noon.replace(hour=18))  # the end is not included
    assert hours.open_at(dt.datetime(2026, 11, 21, 10, 0, tzinfo=MSK))  # Saturday
    assert not hours.open_at(dt.datetime(2026, 11, 22, 12, 0, tzinfo=MSK))  # Sunday
    assert not hours.open_at(dt.datetime(2026, 11, 20, 5, 59, tzinfo=dt.UTC))  # 08:59 MSK
    assert parse_hours(None).always and parse_hours("  ").open_at(friday_noon)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("weekdays 9-18", "not like 'Mon-Fri 09:00-18:00'"),
        ("Fri-Mon 09:00-18:00", "backwards"),
        ("Mon-Fri 18:00-09:00", "the end is not after the start"),
        ("Mon-Fri 09:00-25:00", "not a time of day"),
        ("Mon-Fry 09:00-18:00", "days are Mon Tue Wed Thu Fri Sat Sun"),
    ],
)
def test_hours_refused_with_a_reason(value: str, says: str) -> None:
    with pytest.raises(HoursError, match=says):
        parse_hours(value)


def test_settings_validate_support_hours(make_settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match=r"SUPPORT_HOURS: .*not like"):
        make_settings(support_hours="всегда")
    settings: Settings = make_settings(support_hours=" Mon-Fri 09:00-18:00 ")
    assert settings.support_hours == "Mon-Fri 09:00-18:00"
    assert make_settings(support_hours="").support_hours is None
    assert make_settings().staff_see_full_phone is False


# --------------------------------------------------------------------------- keyed lock
async def test_keyed_lock_orders_one_key_and_forgets_it() -> None:
    locks = LocalKeyedLock()
    order: list[str] = []

    async def hold(key: str, name: str, pause: float) -> None:
        async with locks(key):
            order.append(f"{name}+")
            await asyncio.sleep(pause)
            order.append(f"{name}-")

    await asyncio.gather(hold("r:1", "a", 0.05), hold("r:1", "b", 0), hold("r:2", "c", 0))
    assert order.index("a-") < order.index("b+")  # one key: one at a time, in order
    assert order.index("c+") < order.index("a-")  # another key does not wait
    assert locks.held() == 0


# --------------------------------------------------------------------------- residents
async def test_first_messages_together_make_one_topic(db: Database, clock: FrozenClock) -> None:
    await seed(db)
    desk = RecordingSupportDesk(slow=0.05)
    locks = LocalKeyedLock()

    async def write(message_id: int) -> PassOutcome:
        async with UnitOfWork(db.session_maker) as uow:
            service = support_service(uow, clock, desk=desk, locks=locks)
            return (await service.pass_on(ANNA, message_id)).outcome

    assert await asyncio.gather(write(1), write(2)) == [PassOutcome.PASSED] * 2
    assert list(desk.topics.values()) == ["🟢 Анна · #1"]
    assert len(desk.cards) == 1 and [c[1] for c in desk.copied_in] == [1, 2]
    async with db.session_maker() as s:
        assert len((await s.execute(select(SupportTopic))).scalars().all()) == 1
        tickets = (await s.execute(select(Ticket))).scalars().all()
        assert [(t.kind, t.status, t.user_id) for t in tickets] == [("question", "open", ANNA)]


async def test_without_the_lock_the_race_makes_two_topics(db: Database, clock: FrozenClock) -> None:
    """The test above can fail: with a lock that holds nothing, two topics are made."""
    await seed(db)
    desk = RecordingSupportDesk(slow=0.05)

    @contextlib.asynccontextmanager
    async def no_lock(key: str) -> AsyncIterator[None]:
        yield

    async def write(message_id: int) -> None:
        async with UnitOfWork(db.session_maker) as uow:
            await support_service(uow, clock, desk=desk, locks=no_lock).pass_on(ANNA, message_id)

    with contextlib.suppress(Exception):
        await asyncio.gather(write(1), write(2))
    assert len(desk.topics) == 2


async def test_card_masks_the_phone_and_shows_balance(
    db: Database, uow: UnitOfWork, clock: FrozenClock
) -> None:
    await seed(db)
    voda = f.supplier()
    account = f.account(voda, "1000000001", address="ул. Садовая, 3")
    await f.add(db, voda, account)
    await f.add(
        db,
        f.link(ANNA, account.id, "active", "phone"),
        Charge(account_id=account.id, period="2026-10", service="Вода",
               charged=Decimal("812.40"), paid=Decimal("0")),
    )  # fmt: skip
    card = await support_service(uow, clock).card(ANNA)
    assert (card.name, card.phone, card.language) == ("Анна", "+7 *** ***-45-67", "ru")
    [line] = card.accounts
    assert (line.supplier, line.number, line.balance) == (
        "Водоканал",
        "1000000001",
        Decimal("812.40"),
    )
    assert (await support_service(uow, clock, full_phone=True).card(ANNA)).phone == "+79161234567"


async def test_deleted_topic_is_made_again(
    db: Database, uow: UnitOfWork, clock: FrozenClock
) -> None:
    await seed(db)
    desk = RecordingSupportDesk()
    service = support_service(uow, clock, desk=desk)
    await service.pass_on(ANNA, 1)
    [first] = desk.topics
    desk.gone.add(first)
    passed = await service.pass_on(ANNA, 2)
    assert passed.outcome is PassOutcome.PASSED and not passed.new_ticket
    second = max(desk.topics)
    assert second != first and desk.copied_in[-1][2] == second
    assert desk.cards[-1][0] == second and desk.cards[-1][2] == passed.ticket_id  # card on top
    assert await uow.support.topic(ANNA, desk.chat_id) == second
    assert await service.thread_of(ANNA) == second  # escalations follow


async def test_plain_chat_copies_under_a_header(
    uow: UnitOfWork, db: Database, clock: FrozenClock
) -> None:
    await seed(db)
    desk = RecordingSupportDesk(forum=False)
    service = support_service(uow, clock, desk=desk, hours="Mon-Fri 13:00-18:00")
    passed = await service.pass_on(ANNA, 7)
    assert desk.topics == {} and await service.thread_of(ANNA) is None
    [(_, _, thread, header)] = desk.copied_in
    assert thread is None and header is not None and (header.name, header.ticket_id) == ("Анна", 1)
    assert not passed.working_now and passed.hours.text == "Mon-Fri 13:00-18:00"  # 12:00 MSK
    mapped = (await uow.session.execute(select(TicketMessage))).scalars().all()
    assert [(m.direction, m.user_message_id) for m in mapped] == [("in", 7), ("in", 7)]
    # an operator's reply to the header or to the copy reaches Anna
    answered = await service.answer(9001, thread_id=None, reply_to=mapped[1].staff_message_id)
    assert answered.outcome is AnswerOutcome.SENT and desk.copied_out == [(ANNA, 9001)]
    assert desk.quoted == [7]  # Anna's copy of the answer quotes her message
    unknown = await service.answer(9002, thread_id=None, reply_to=12345)
    assert unknown.outcome is AnswerOutcome.NOT_A_CONVERSATION


async def test_no_staff_chat(uow: UnitOfWork, db: Database, clock: FrozenClock) -> None:
    await seed(db)
    service = support_service(uow, clock, no_desk=True)
    assert not service.enabled
    assert (await service.pass_on(ANNA, 1)).outcome is PassOutcome.DISABLED


# --------------------------------------------------------------------------- operators
async def test_answer_blocked_then_reachable(
    uow: UnitOfWork, db: Database, clock: FrozenClock
) -> None:
    await seed(db)
    desk = RecordingSupportDesk()
    service = support_service(uow, clock, desk=desk)
    await service.pass_on(ANNA, 1)
    [thread] = desk.topics
    desk.out = Delivery.BLOCKED
    assert (
        await service.answer(10, thread_id=thread, reply_to=None)
    ).outcome is AnswerOutcome.BLOCKED
    assert (await uow.users.get(ANNA)).inactive_since == clock.now()  # type: ignore[union-attr]
    desk.out = Delivery.SENT
    assert (await service.answer(11, thread_id=thread, reply_to=None)).outcome is AnswerOutcome.SENT
    assert (await uow.users.get(ANNA)).inactive_since is None  # type: ignore[union-attr]
    assert (await service.answer(12, thread_id=thread + 99, reply_to=None)).outcome is (
        AnswerOutcome.NOT_A_CONVERSATION
    )


async def test_edit_follows_only_answers(uow: UnitOfWork, db: Database, clock: FrozenClock) -> None:
    await seed(db)
    desk = RecordingSupportDesk()
    service = support_service(uow, clock, desk=desk)
    await service.pass_on(ANNA, 1)
    [thread] = desk.topics
    await service.answer(20, thread_id=thread, reply_to=None)
    result = await service.edit(20, text="<b>Исправлено</b>", caption=None)
    assert result is EditResult.EDITED
    assert desk.edits[-1][0] == ANNA and desk.edits[-1][2:] == ("<b>Исправлено</b>", None)
    assert await service.edit(21, text="не ответ", caption=None) is None  # not mapped
    incoming = desk.copied_in[0]
    assert incoming[1] == 1  # the resident's own message: operators cannot edit it


async def test_close_rate_once_and_reopen(
    uow: UnitOfWork, db: Database, clock: FrozenClock
) -> None:
    await seed(db)
    desk = RecordingSupportDesk()
    service = support_service(uow, clock, desk=desk)
    first = await service.pass_on(ANNA, 1)
    [thread] = desk.topics
    closed = await service.close(thread_id=thread, operator_id=77)
    assert (closed.outcome, closed.delivery) == (CloseOutcome.CLOSED, Delivery.SENT)
    assert desk.topics[thread] == f"✅ Анна · #{first.ticket_id}" and desk.closed[thread] is True
    assert desk.asked == [(ANNA, "ru", first.ticket_id)]
    again = await service.close(ticket_id=first.ticket_id)
    assert again.outcome is CloseOutcome.ALREADY_CLOSED
    assert not await service.is_open(first.ticket_id or 0)
    ticket_id = first.ticket_id or 0
    assert await service.rate(BORIS, ticket_id, 5) is RateOutcome.REFUSED  # not his
    assert await service.rate(ANNA, ticket_id, 6) is RateOutcome.REFUSED
    assert await service.rate(ANNA, ticket_id, 4) is RateOutcome.RATED
    assert await service.rate(ANNA, ticket_id, 1) is RateOutcome.ALREADY_RATED
    assert desk.ratings == [(thread, ticket_id, 4)]
    second = await service.pass_on(ANNA, 2)
    assert second.new_ticket and second.ticket_id != ticket_id
    assert desk.topics[thread] == f"🟢 Анна · #{second.ticket_id}" and desk.closed[thread] is False
    rows = (await uow.session.execute(select(Ticket).order_by(Ticket.id))).scalars().all()
    assert [(t.status, t.rating) for t in rows] == [("closed", 4), ("open", None)]


async def test_an_answer_to_a_closed_conversation_opens_a_ticket(
    uow: UnitOfWork, db: Database, clock: FrozenClock
) -> None:
    await seed(db)
    desk = RecordingSupportDesk()
    service = support_service(uow, clock, desk=desk)
    await service.pass_on(ANNA, 1)
    [thread] = desk.topics
    await service.close(thread_id=thread)
    answered = await service.answer(30, thread_id=thread, reply_to=None)
    assert answered.outcome is AnswerOutcome.SENT and answered.reopened
    assert desk.topics[thread] == f"🟢 Анна · #{answered.ticket_id}"
    # the new ticket has its card (and close button) in the topic, as a resident's would
    assert [(t, c.name, i) for t, c, i in desk.cards][-1] == (thread, "Анна", answered.ticket_id)
    ticket = await uow.support.ticket(answered.ticket_id or 0)
    assert ticket is not None and ticket.staff_message_id is not None
    assert await service.has_open_ticket(ANNA)
    assert (await service.close(thread_id=thread + 5)).outcome is CloseOutcome.NOT_FOUND


async def test_a_topic_for_an_escalation(uow: UnitOfWork, db: Database, clock: FrozenClock) -> None:
    await seed(db)
    desk = RecordingSupportDesk()
    service = support_service(uow, clock, desk=desk)
    thread = await service.thread_of(ANNA)
    assert thread is not None and desk.topics == {thread: "Анна"} and desk.cards == []
    assert await service.thread_of(ANNA) == thread  # once
    assert await service.thread_of(999) is None  # no such resident: no topic
    renewed = await service.thread_gone(ANNA, thread)
    assert renewed not in (None, thread)
    assert await service.thread_gone(ANNA, thread) == renewed  # someone made it already
    user = await uow.session.get(User, ANNA)
    assert user is not None


async def test_redis_keyed_lock_across_processes(redis_url: str) -> None:
    """Two lock objects (two bot processes) on one Redis: one holder of a key at a time."""
    from storage.locks import RedisKeyedLock

    first, second = RedisKeyedLock(redis_url, poll=0.01), RedisKeyedLock(redis_url, poll=0.01)
    order: list[str] = []

    async def hold(locks: RedisKeyedLock, name: str, pause: float) -> None:
        async with locks("resident:42"):
            order.append(f"{name}+")
            await asyncio.sleep(pause)
            order.append(f"{name}-")

    try:
        await asyncio.gather(hold(first, "a", 0.1), hold(second, "b", 0))
        assert order in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])
        assert await first.redis.get("kabinet:keyed:resident:42") is None  # released
    finally:
        await first.close()
        await second.close()
