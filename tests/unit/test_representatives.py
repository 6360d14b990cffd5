"""Representatives' rules (bot/services/representatives.py) without Telegram."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.services.clock import FrozenClock
from bot.services.enums import RepresentativeRole, RepresentativeStatus
from bot.services.inn import InnProblem
from bot.services.linking import MAX_REASON_LENGTH
from bot.services.representatives import (
    MAX_DOCUMENT_BYTES,
    MAX_PAGES,
    DocProblem,
    Page,
    PendingRequest,
    Result,
    Step,
    clean_position,
    page_problem,
)
from storage.db import Database
from storage.models import (
    Account,
    AccountLink,
    AuditLog,
    Representative,
    RepresentativeDocument,
)
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.services import RecordingDesk, RecordingNotifier, representatives_service

LEGAL, PERSON = "7707083893", "500100732259"
PDF = Page("document", "poa", "доверенность.pdf", "application/pdf", 10_000)


async def seed(db: Database) -> dict[str, int]:
    voda = f.supplier()
    office = f.account(voda, "2000000001", holder="ООО «Ромашка»")
    office.holder_inn, office.holder_kpp, office.contract_number = LEGAL, "773601001", "Д-15"
    shop = f.account(voda, "2000000002", holder="ИП Петров П. П.")
    shop.holder_inn, shop.contract_number = PERSON, "17"
    await f.add(db, voda, office, shop, f.resident(1), f.resident(2, "+79035550011"))
    return {"office": office.id, "shop": shop.id}


async def count(db: Database, model: type) -> int:
    async with db.session_maker() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


def test_page_rules() -> None:
    assert page_problem(PDF, 0) is None
    assert page_problem(Page("photo", "p", size=5_000_000), 3) is None
    assert page_problem(PDF, MAX_PAGES) is DocProblem.TOO_MANY
    big = Page("document", "b", "scan.pdf", "application/pdf", MAX_DOCUMENT_BYTES + 1)
    assert page_problem(big, 0) is DocProblem.TOO_BIG
    assert page_problem(Page("document", "v", "film.mp4", "video/mp4", 10), 0) is DocProblem.TYPE
    assert page_problem(Page("document", "x", "x.bin", None, 10), 0) is DocProblem.TYPE
    assert page_problem(Page("document", "y", "Скан.PDF", None, 10), 0) is None
    assert clean_position("главный бухгалтер") == "главный бухгалтер"
    assert clean_position("  ") is None and clean_position("42") is None


async def test_lookups_count_failures_and_an_ip_has_no_branches(
    db: Database, clock: FrozenClock
) -> None:
    ids = await seed(db)
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, limit=2)
        bad = await reps.find_organisation(1, "7707083894")
        assert (bad.step, bad.problem) == (Step.BAD_INN, InnProblem.CHECKSUM)  # not counted
        ip = await reps.find_organisation(1, PERSON)
        assert (ip.step, ip.kpp, ip.name) == (Step.FOUND, None, "ИП Петров П. П.")
        found = await reps.find_contract(1, PERSON, None, "17")
        assert found.accounts == ("2000000002",)
        missing = await reps.find_organisation(1, "7736207543")  # valid, not a customer
        assert (missing.step, missing.attempts_left) == (Step.NOT_FOUND, 1)
        missing = await reps.find_contract(1, LEGAL, "773601001", "Д-99")
        assert missing.unlock_at is not None  # the daily limit is reached
        locked = await reps.find_organisation(1, LEGAL)
        assert locked.step is Step.LOCKED
        # a branch button of another organisation's account is refused
        assert (await reps.choose_branch(LEGAL, ids["shop"])).step is Step.UNAVAILABLE


async def test_a_refused_card_keeps_nothing(db: Database, clock: FrozenClock) -> None:
    await seed(db)
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, desk=RecordingDesk(fail=True))
        outcome = await reps.submit(
            user_id=1, inn=LEGAL, kpp="773601001", reference="Д15", name="Анна Иванова",
            position="директор", pages=[PDF],
        )  # fmt: skip
    assert outcome.result is Result.DESK_FAILED
    assert await count(db, Representative) == await count(db, RepresentativeDocument) == 0


async def test_two_operators_at_once_one_decision(db: Database, clock: FrozenClock) -> None:
    ids = await seed(db)
    desk, notifier = RecordingDesk(), RecordingNotifier()
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
        submitted = await reps.submit(
            user_id=1, inn=LEGAL, kpp="773601001", reference="д-15", name="Анна Иванова",
            position="директор", pages=[PDF, Page("photo", "p2")],
        )  # fmt: skip
    assert submitted.card is not None and len(submitted.card.pages) == 2
    rep_id = submitted.card.rep_id

    async def decide(role: RepresentativeRole, who: int) -> Result:
        async with UnitOfWork(db.session_maker) as uow:
            reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
            outcome = await reps.decide(
                rep_id=rep_id, role=role, operator_id=who, operator_name=str(who)
            )
            return outcome.result

    results = await asyncio.gather(
        decide(RepresentativeRole.MANAGER, 10), decide(RepresentativeRole.ACCOUNTANT, 11)
    )
    assert sorted(results) == [Result.ALREADY, Result.DONE]
    assert len(notifier.representatives_told) == 1
    async with db.session_maker() as s:
        [link] = (await s.execute(select(AccountLink))).scalars().all()
        rep = await s.get(Representative, rep_id)
    assert rep is not None and rep.status == RepresentativeStatus.ACTIVE.value
    assert (link.account_id, link.role, link.representative_id) == (ids["office"], rep.role, rep_id)


async def test_an_accountant_gets_no_reading_reminders_a_manager_does(db: Database) -> None:
    import datetime as dt

    from bot.services.readings_reminders import ReminderService
    from tests.support.services import RecordingReadingNotifier

    start = dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC)  # a 15..25 window opens, Moscow noon
    ids = await seed(db)
    async with db.session_maker() as s:
        office = await s.get(Account, ids["office"])
        shop = await s.get(Account, ids["shop"])
        assert office is not None and shop is not None
        s.add_all([f.meter(office, "ХВ1"), f.meter(shop, "ХВ2")])
        for user_id, account, role in ((1, office, "accountant"), (2, shop, "manager")):
            link = f.link(user_id, account.id, "active")
            link.role = role
            s.add(link)
        await s.commit()
    notifier = RecordingReadingNotifier()
    async with UnitOfWork(db.session_maker) as uow:
        reminders = ReminderService(
            uow, FrozenClock(start), notifier=notifier, consent_version="1",
            from_hour=10, to_hour=20, chunk=25,
        )  # fmt: skip
        await reminders.enqueue()
        await reminders.send_queued()
    assert [(r.resident_id, r.account_id) for r in notifier.reminded] == [(2, ids["shop"])]


async def test_the_readings_service_refuses_an_accountant_whatever_the_button(
    db: Database,
) -> None:
    import datetime as dt

    from bot.services.readings import Entry, SubmitOutcome
    from tests.support.services import readings_service

    ids = await seed(db)
    async with db.session_maker() as s:
        office = await s.get(Account, ids["office"])
        assert office is not None
        meter = f.meter(office, "ХВ1")
        link = f.link(1, office.id, "active")
        link.role = "accountant"
        s.add_all([meter, link])
        await s.commit()
    clock = FrozenClock(dt.datetime(2026, 11, 18, 9, tzinfo=dt.UTC))  # the window is open
    async with UnitOfWork(db.session_maker) as uow:
        readings = readings_service(uow, clock)
        assert not await readings.may_send(1, office.id)
        assert await readings.may_send(2, office.id)  # not theirs at all: other checks say no
        assert await readings.check(1, office.id, meter.id, 1, "123") is None
        entry = Entry(meter_id=meter.id, zone=1, value="123")
        result = await readings.submit(user_id=1, account_id=office.id, batch="b1", entries=[entry])
        assert result.outcome is SubmitOutcome.UNAVAILABLE
        assert await readings.submission(1, office.id) is not None  # history stays readable


async def submitted(db: Database, clock: FrozenClock, desk: RecordingDesk) -> int:
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, desk=desk)
        outcome = await reps.submit(
            user_id=1, inn=LEGAL, kpp="773601001", reference="д-15", name="Анна Иванова",
            position="директор", pages=[PDF],
        )  # fmt: skip
    assert outcome.card is not None
    return outcome.card.rep_id


async def status_of(db: Database, rep_id: int) -> str | None:
    async with db.session_maker() as s:
        rep = await s.get(Representative, rep_id)
        return rep.status if rep is not None else None


async def test_only_the_resident_withdraws_their_pending_request(
    db: Database, clock: FrozenClock
) -> None:
    await seed(db)
    seen: list[str | None] = []

    class Desk(RecordingDesk):
        async def mark_withdrawn(self, chat_id: int, message_id: int) -> None:
            seen.append(await status_of(db, rep_id))  # what another session reads by then
            await super().mark_withdrawn(chat_id, message_id)

    desk, notifier = Desk(), RecordingNotifier()
    rep_id = await submitted(db, clock, desk)
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
        assert await reps.pending_of(1) == [PendingRequest(rep_id, "ООО «Ромашка»")]
        assert await reps.pending_of(2) == []
        assert await reps.withdraw(user_id=2, rep_id=rep_id) is None  # not his
        assert await reps.withdraw(user_id=1, rep_id=rep_id + 1) is None  # no such request
        assert desk.withdrawn == []
        done = await reps.withdraw(user_id=1, rep_id=rep_id)
        assert done == PendingRequest(rep_id, "ООО «Ромашка»")
    assert seen == ["withdrawn"]  # committed before the staff chat is told
    posted = desk.representatives_posted[0]
    async with db.session_maker() as s:
        rep = await s.get(Representative, rep_id)
        assert rep is not None and desk.withdrawn == [(rep.staff_chat_id, rep.staff_message_id)]
        audit = (await s.execute(select(AuditLog.action, AuditLog.actor_id))).all()
    assert ("representative_withdrawn", 1) in audit and posted.rep_id == rep_id
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
        assert await reps.withdraw(user_id=1, rep_id=rep_id) is None  # twice: once
        outcome = await reps.decide(
            rep_id=rep_id, role=RepresentativeRole.MANAGER, operator_id=10, operator_name="Оля"
        )
        assert outcome.result is Result.WITHDRAWN
        assert await reps.pending_of(1) == []
    assert notifier.representatives_told == [] and len(desk.withdrawn) == 1
    assert await count(db, AccountLink) == 0 and await status_of(db, rep_id) == "withdrawn"


async def test_a_withdrawal_and_a_decision_at_once_one_wins(
    db: Database, clock: FrozenClock
) -> None:
    await seed(db)
    desk, notifier = RecordingDesk(), RecordingNotifier()
    rep_id = await submitted(db, clock, desk)

    async def withdraw() -> bool:
        async with UnitOfWork(db.session_maker) as uow:
            reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
            return await reps.withdraw(user_id=1, rep_id=rep_id) is not None

    async def decide() -> Result:
        async with UnitOfWork(db.session_maker) as uow:
            reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
            outcome = await reps.decide(
                rep_id=rep_id, role=None, operator_id=10, operator_name="Оля", reason="нет"
            )
            return outcome.result

    withdrawn, decided = await asyncio.gather(withdraw(), decide())
    status = await status_of(db, rep_id)
    if withdrawn:
        assert (decided, status, len(notifier.representatives_told)) == (
            Result.WITHDRAWN,
            "withdrawn",
            0,
        )
    else:
        assert (decided, status, len(notifier.representatives_told)) == (Result.DONE, "rejected", 1)
    assert len(desk.withdrawn) == int(withdrawn)


async def test_an_own_reason_is_stored_as_written_within_the_limit(
    db: Database, clock: FrozenClock
) -> None:
    await seed(db)
    desk, notifier = RecordingDesk(), RecordingNotifier()
    rep_id = await submitted(db, clock, desk)
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
        outcome = await reps.decide(
            rep_id=rep_id,
            role=None,
            operator_id=10,
            operator_name="Оля",
            reason="  <b>Не та</b> организация" + "!" * MAX_REASON_LENGTH,
        )
    assert outcome.result is Result.DONE and outcome.card is not None
    stored = outcome.card.reason or ""
    assert stored.startswith("<b>Не та</b> организация") and len(stored) == MAX_REASON_LENGTH
    [(_, _, told)] = notifier.representatives_told
    assert told.reason == stored


async def test_two_revokes_at_once_one_wins(db: Database, clock: FrozenClock) -> None:
    await seed(db)
    desk, notifier = RecordingDesk(), RecordingNotifier()
    rep_id = await submitted(db, clock, desk)
    async with UnitOfWork(db.session_maker) as uow:
        reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
        await reps.decide(
            rep_id=rep_id, role=RepresentativeRole.MANAGER, operator_id=10, operator_name="Оля"
        )

    async def revoke(who: int) -> Result:
        async with UnitOfWork(db.session_maker) as uow:
            reps = representatives_service(uow, clock, desk=desk, notifier=notifier)
            outcome = await reps.revoke(rep_id=rep_id, operator_id=who, operator_name=str(who))
            return outcome.result

    assert sorted(await asyncio.gather(revoke(10), revoke(11))) == [Result.ALREADY, Result.DONE]
    assert len(notifier.representatives_told) == 2  # approved, then revoked once
    assert await count(db, AccountLink) == 0 and await status_of(db, rep_id) == "revoked"
