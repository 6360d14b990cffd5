"""Services of the staff chat: look-up, counts, bans, notices (without Telegram)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.bans import BanList, BanOutcome, BanService, Stopped, Target, split_target
from bot.services.clock import FrozenClock
from bot.services.notices import NoticeProblem, NoticeService, StartOutcome, run_notice
from bot.services.ports import NoticeProgress
from bot.services.staff_lookup import FindPage, Query, QueryProblem, StaffLookupService, parse_query
from bot.services.staff_stats import StaffStatsService
from storage.db import Database
from storage.models import Notice, User
from storage.models import NoticeRecipient as RecipientRow
from storage.uow import UnitOfWork
from tests.conftest import STAFF_CHAT_ID
from tests.support import factories as f
from tests.support.services import RecordingNoticeBoard, RecordingReadingNotifier


@pytest.mark.parametrize(
    ("text", "target", "reason"),
    [
        ("+7 916 123-45-67 грубит", Target(phone="+79161234567"), "грубит"),
        ("8 (916) 123-45-67 спам", Target(phone="+79161234567"), "спам"),
        ("+44 20 7946 0958 spam", Target(phone="+442079460958"), "spam"),
        ("123456789 спам", Target(user_id=123456789), "спам"),
        ("id42 спам", Target(user_id=42), "спам"),
        ("９１６１２３４５６７ x", Target(user_id=9161234567, phone="+79161234567"), "x"),
        ("@anna спам", Target(username="anna"), "спам"),
        ("Анна спам", None, "спам"),
        ("", None, ""),
    ],
)
def test_split_target(text: str, target: Target | None, reason: str) -> None:
    assert split_target(text) == (target, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, QueryProblem.EMPTY),
        ("  ", QueryProblem.EMPTY),
        ("ab", QueryProblem.TOO_SHORT),
        ("+7 (916) 123-45-67", Query("+7 (916) 123-45-67", phone="+79161234567")),
        ("8 916 1234567", Query("8 916 1234567", phone="+79161234567", number="89161234567")),
        ("١٠٠٠", Query("1000", number="1000")),  # Arabic-Indic digits
    ],
)
def test_parse_query(raw: str | None, expected: Query | QueryProblem) -> None:
    assert parse_query(raw) == expected


def test_parse_query_of_words_tries_cases() -> None:
    query = parse_query("ленина")
    assert isinstance(query, Query) and {"ленина", "Ленина", "ЛЕНИНА"} <= set(query.words)


async def seed(db: Database, residents: int = 3) -> list[int]:
    voda = f.supplier()
    flats = [
        f.account(voda, f"10000000{i:02}", address=f"ул. Ленина, д. {i}") for i in range(residents)
    ]
    people = [f.resident(700 + i, f"+7916000{i:04}") for i in range(residents)]
    await f.add(db, voda, *flats, *people)
    await f.add(
        db, *(f.link(p.id, a.id, "active", "phone") for p, a in zip(people, flats, strict=True))
    )
    return [p.id for p in people]


async def test_lookup_pages_and_balances(db: Database, uow: UnitOfWork) -> None:
    await seed(db, residents=7)
    found = await StaffLookupService(uow).find("Ленина", page=1)
    assert isinstance(found, FindPage)
    assert (found.total, found.page, found.pages) == (7, 1, 2)
    assert [r.user_id for r in found.residents] == [705, 706]
    assert found.residents[0].accounts[0].balance is None
    beyond = await StaffLookupService(uow).find("Ленина", page=99)
    assert isinstance(beyond, FindPage) and beyond.page == 1  # the last page


async def test_stats_count_what_is_on_the_desk(db: Database, uow: UnitOfWork) -> None:
    await seed(db)
    users = [row.id for row in (await uow.session.execute(select(User))).scalars()]
    tickets = uow.support
    first = await tickets.new_ticket(users[0], STAFF_CHAT_ID)
    await tickets.new_ticket(users[1], STAFF_CHAT_ID)
    await tickets.close_ticket(first.id, FrozenClock().now())
    stats = await StaffStatsService(uow, FrozenClock()).stats()
    assert {line.label: line.value for line in stats.lines} == {
        "Registered residents": 3,
        "Link requests waiting": 0,
        "Readings sent this period": 0,
        "Readings waiting for review": 0,
        "Open support tickets": 1,
        "Banned residents": 0,
    }


async def test_ban_is_stored_told_once_and_lifted(db: Database, uow: UnitOfWork) -> None:
    ids = await seed(db)
    clock = FrozenClock()
    banned = BanList()
    service = BanService(uow, clock, banned)
    assert not await service.is_banned(ids[0])
    result = await service.ban(Target(phone="+79160000000"), "  спам ", operator_id=9)
    assert (result.outcome, result.user_id, result.reason) == (BanOutcome.BANNED, ids[0], "спам")
    await uow.commit()
    assert await service.is_banned(ids[0])
    assert await BanService(uow, clock, BanList()).is_banned(ids[0])  # another process
    assert await service.stopped(ids[0]) == Stopped(tell=True, reason="спам")
    assert await service.stopped(ids[0]) == Stopped(tell=False)
    assert await service.stopped(ids[1]) is None
    result = await service.unban(Target(user_id=ids[0]), operator_id=9)
    assert result.outcome is BanOutcome.UNBANNED
    await uow.commit()
    assert not await service.is_banned(ids[0])
    user = await uow.users.get(ids[0])
    assert user is not None and (user.banned_at, user.banned_by, user.ban_told_at) == (
        None,
        None,
        None,
    )


async def test_ban_of_a_shared_phone_asks_for_an_id(db: Database, uow: UnitOfWork) -> None:
    await f.add(db, f.resident(1, "+79161234567"), f.resident(2, "+79161234567"))
    result = await BanService(uow, FrozenClock(), BanList()).ban(
        Target(phone="+79161234567"), "x", operator_id=9
    )
    assert (result.outcome, result.candidates) == (BanOutcome.AMBIGUOUS, (1, 2))


class FakeLock:
    def __init__(self) -> None:
        self.released = False

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        self.released = True


async def started(db: Database, uow: UnitOfWork) -> int:
    service = NoticeService(uow, FrozenClock())
    assert await service.draft("NOPE", "x", operator_id=9, operator_name="O", chat_id=-1,
                               thread_id=None) == NoticeProblem.UNKNOWN_SUPPLIER  # fmt: skip
    draft = await service.draft("voda", "Воды не будет", operator_id=9, operator_name="O",
                                chat_id=-100, thread_id=None)  # fmt: skip
    assert not isinstance(draft, NoticeProblem) and draft.audience == 25
    assert await service.start(draft.notice_id, operator_id=9) is StartOutcome.STARTED
    assert await service.start(draft.notice_id, operator_id=9) is StartOutcome.ALREADY
    return draft.notice_id


async def test_notice_run_counts_and_is_not_sent_twice_after_a_stop(
    db: Database, uow: UnitOfWork
) -> None:
    ids = await seed(db, residents=25)
    notice_id = await started(db, uow)
    clock, board, lock = FrozenClock(), RecordingNoticeBoard(), FakeLock()
    ticks = iter(range(1000))
    first = RecordingReadingNotifier(
        blocked={ids[3]}, stop_after=12
    )  # a shutdown after 12 messages

    def run(notifier: RecordingReadingNotifier) -> object:
        return run_notice(notice_id, new_uow=lambda: UnitOfWork(db.session_maker), clock=clock,
                          notifier=notifier, board=board, lock=lock, batch=10, every=5.0,
                          monotonic=lambda: float(next(ticks)),
                          stopping=lambda: notifier.stop_after is not None)  # fmt: skip

    progress = await run(first)  # type: ignore[misc]
    assert lock.released and progress.delivered + progress.blocked == 12 and not progress.done
    second = RecordingReadingNotifier(blocked={ids[3]})
    progress = await run(second)  # type: ignore[misc]
    assert sorted(first.noticed + second.noticed) == sorted(ids)  # each once
    assert (progress.delivered, progress.blocked, progress.failed, progress.done) == (
        24,
        1,
        0,
        True,
    )
    assert all(p.message_id == 500 for p in board.shown[1:])  # one line, edited
    edits = [p for p in board.shown if not p.done]
    assert 3 <= len(edits) <= 12  # at most every `every` ticks, not per message
    async with db.session_maker() as s:
        notice = await s.get(Notice, notice_id)
        statuses = (await s.execute(select(RecipientRow.status))).scalars().all()
        blocked = await s.get(User, ids[3])
    assert notice is not None and (notice.status, notice.delivered, notice.blocked) == (
        "done",
        24,
        1,
    )
    assert sorted(set(statuses)) == ["blocked", "sent"]
    assert blocked is not None and blocked.inactive_since is not None
    assert await run(RecordingReadingNotifier()) is None  # type: ignore[misc]  # done: nothing to run


async def run_once(
    db: Database, notice_id: int, notifier: RecordingReadingNotifier, **options: Any
) -> NoticeProgress | None:
    return await run_notice(
        notice_id,
        new_uow=lambda: UnitOfWork(db.session_maker),
        clock=FrozenClock(),
        notifier=notifier,
        board=RecordingNoticeBoard(),
        lock=FakeLock(),
        **options,
    )


async def test_crash_mid_batch_never_resends(db: Database, uow: UnitOfWork) -> None:
    """Recipients handed to the sender (`sending`) when the process died are not sent again."""
    await seed(db, residents=25)
    notice_id = await started(db, uow)
    async with db.session_maker() as s:
        rows = (
            (await s.execute(select(RecipientRow).order_by(RecipientRow.user_id))).scalars().all()
        )
        for row in rows[:5]:
            row.status = "sending"
        await s.commit()
    notifier = RecordingReadingNotifier()
    progress = await run_once(db, notice_id, notifier)
    assert progress is not None and progress.done and len(notifier.noticed) == 20
    assert Decimal(progress.delivered) == 20


async def test_recipients_telegram_could_not_be_reached_for_are_tried_again(
    db: Database, uow: UnitOfWork
) -> None:
    ids = await seed(db, residents=25)
    notice_id = await started(db, uow)
    notifier = RecordingReadingNotifier(stop_after=5)  # Telegram unreachable after 5

    pauses: list[float] = []

    async def back_again(seconds: float) -> None:
        pauses.append(seconds)
        notifier.stop_after = None

    progress = await run_once(db, notice_id, notifier, sleep=back_again)
    assert pauses == [30.0]
    assert progress is not None and progress.done and progress.delivered == 25
    assert sorted(notifier.noticed) == sorted(ids)  # each once


async def test_a_ban_lifted_in_another_process_lets_the_resident_in_at_once(
    db: Database, uow: UnitOfWork
) -> None:
    ids = await seed(db)
    clock, here = FrozenClock(), BanList()
    await BanService(uow, clock, here).ban(Target(user_id=ids[0]), "x", operator_id=9)
    await uow.commit()
    there = BanService(uow, clock, BanList())  # another process: it lifts the ban
    await there.unban(Target(user_id=ids[0]), operator_id=9)
    await uow.commit()
    assert await BanService(uow, clock, here).stopped(ids[0]) is None  # here still listed it
    assert ids[0] not in here
