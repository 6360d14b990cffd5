"""Linking rules (bot/services/linking.py) without Telegram."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from sqlalchemy import select

from bot.integrations import DeliveryError, LogSmsGateway
from bot.services import linking
from bot.services.clock import FrozenClock
from bot.services.codes import CodeProblem
from bot.services.linking import DecisionOutcome, Outcome, SubmitOutcome
from storage.db import Database
from storage.enums import LinkStatus
from storage.models import AccountLink, AuditLog, Ticket
from storage.uow import UnitOfWork
from tests.support import factories as f
from tests.support.services import STAFF_CHAT, RecordingDesk, linking_service

ANNA_PHONE = "+79161234567"
BORIS_PHONE = "+79035550011"
HOLDER_PHONE = "+79261112233"
TEMPLATE = "code {code} for {number}"


async def seed(db: Database) -> dict[str, int]:
    voda = f.supplier()
    mine = f.account(voda, "1000000001", phones=(ANNA_PHONE,), access_code="AB12CD")
    coded = f.account(voda, "1000000002", phones=(HOLDER_PHONE,), access_code="XY34ZW")
    bare = f.account(voda, "1000000003")  # no phone, no code
    await f.add(db, voda, mine, coded, bare, f.resident(1, ANNA_PHONE), f.resident(2, BORIS_PHONE))
    return {"supplier": voda.id, "mine": mine.id, "coded": coded.id, "bare": bare.id}


async def links(db: Database) -> list[AccountLink]:
    async with db.session_maker() as s:
        return list((await s.execute(select(AccountLink).order_by(AccountLink.id))).scalars())


async def audit(db: Database, action: str | None = None) -> list[AuditLog]:
    async with db.session_maker() as s:
        q = select(AuditLog).order_by(AuditLog.id)
        if action:
            q = q.where(AuditLog.action == action)
        return list((await s.execute(q)).scalars())


def test_number_format_tolerates_spaces_and_dashes() -> None:
    assert linking.normalize_number(r"\d{10}", " 10-000 00 001 ") == "1000000001"
    assert linking.normalize_number(r"\d{10}", "100000000") is None  # full match only
    assert linking.normalize_number(r"\d{10}", "10000000012") is None
    assert linking.normalize_number(r"\d{10}", "abc") is None
    assert linking.normalize_number(r"\d{10}", "") is None
    assert linking.normalize_number(r"[", "1") is None  # a broken pattern refuses, not crashes


async def test_bad_format_is_not_an_attempt(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    for _ in range(5):
        result = await linking_service(uow, clock, limit=3).start(
            user_id=2, supplier_id=ids["supplier"], raw_number="12"
        )
        assert result.outcome is Outcome.BAD_FORMAT
    await uow.commit()
    assert await linking_service(uow, clock, limit=3).locked_until(2) is None
    assert await audit(db) == []


async def test_phone_on_file_links_at_once(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    result = await linking_service(uow, clock, limit=10).start(
        user_id=1, supplier_id=ids["supplier"], raw_number="1000-000-001"
    )
    await uow.commit()
    assert result.outcome is Outcome.LINKED
    assert result.account is not None and result.account.address.startswith("ул. Ленина")
    [link] = await links(db)
    assert (link.user_id, link.account_id, link.status, link.method) == (
        1,
        ids["mine"],
        "active",
        "phone",
    )
    again = await linking_service(uow, clock, limit=10).start(
        user_id=1, supplier_id=ids["supplier"], raw_number="1000000001"
    )
    assert again.outcome is Outcome.ALREADY_LINKED
    assert [a.action for a in await audit(db)] == ["account_linked"]


async def test_existence_is_not_revealed(db: Database, uow: UnitOfWork, clock) -> None:
    """Someone else's account, one without phone or code, and a missing one look alike."""
    ids = await seed(db)
    seen = []
    for number in ("1000000002", "1000000003", "1999999999"):
        first = await linking_service(uow, clock, limit=10).start(
            user_id=2, supplier_id=ids["supplier"], raw_number=number
        )
        code = await linking_service(uow, clock, limit=100).enter_access_code(
            user_id=2, supplier_id=ids["supplier"], number=number, code="WRONG1"
        )
        seen.append((first.outcome, first.account, code.outcome, code.account))
    assert seen == [(Outcome.CHOOSE_ROUTE, None, Outcome.WRONG_CODE, None)] * 3
    await uow.commit()
    assert await links(db) == []
    assert len(await audit(db, linking.FAILED_ACCESS_CODE)) == 3


async def test_access_code_route(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    result = await linking_service(uow, clock, limit=10).enter_access_code(
        user_id=2, supplier_id=ids["supplier"], number="1000000002", code="  XY34ZW "
    )
    await uow.commit()
    assert result.outcome is Outcome.LINKED
    [link] = await links(db)
    assert (link.user_id, link.account_id, link.method) == (2, ids["coded"], "access_code")


async def test_sms_route(db: Database, uow: UnitOfWork, clock: FrozenClock) -> None:
    ids = await seed(db)
    sms = LogSmsGateway()
    args = {"user_id": 2, "supplier_id": ids["supplier"], "number": "1000000002"}
    sent = await linking_service(uow, clock, sms=sms, limit=10, ttl_minutes=30).send_sms_code(
        **args, text_template=TEMPLATE
    )
    assert sent.outcome is Outcome.CODE_SENT
    assert sent.masked_phone == "+7 *** ***-22-33"
    [(phone, text)] = sms.sent
    assert phone == HOLDER_PHONE and text.endswith("for 1000000002")
    code = text.split()[1]

    again = await linking_service(uow, clock, sms=sms, limit=10, ttl_minutes=30).send_sms_code(
        **args, text_template=TEMPLATE
    )
    assert again.outcome is Outcome.RESEND_TOO_SOON and again.wait_seconds == 60

    wrong = "000000" if code != "000000" else "111111"
    bad = await linking_service(uow, clock, limit=10).enter_sms_code(**args, code=wrong)
    assert (bad.outcome, bad.problem, bad.attempts_left) == (
        Outcome.CODE_REJECTED,
        CodeProblem.WRONG,
        4,
    )
    good = await linking_service(uow, clock, limit=10).enter_sms_code(**args, code=code)
    assert good.outcome is Outcome.LINKED
    used = await linking_service(uow, clock, limit=10).enter_sms_code(**args, code=code)
    assert used.outcome is Outcome.CODE_REJECTED and used.problem is CodeProblem.USED
    await uow.commit()
    [link] = await links(db)
    assert (link.user_id, link.account_id, link.method) == (2, ids["coded"], "sms_code")
    assert len(await audit(db, linking.FAILED_SMS_CODE)) == 1


async def test_sms_code_expires(db: Database, uow: UnitOfWork, clock: FrozenClock) -> None:
    ids = await seed(db)
    sms = LogSmsGateway()
    args = {"user_id": 2, "supplier_id": ids["supplier"], "number": "1000000002"}
    await linking_service(uow, clock, sms=sms, limit=10, ttl_minutes=30).send_sms_code(
        **args, text_template=TEMPLATE
    )
    clock.advance(minutes=31)
    late = await linking_service(uow, clock, limit=10).enter_sms_code(
        **args, code=sms.sent[0][1].split()[1]
    )
    assert late.problem is CodeProblem.EXPIRED


async def test_sms_without_phone_on_file_is_a_counted_lookup(
    db: Database, uow: UnitOfWork, clock
) -> None:
    ids = await seed(db)
    sms = LogSmsGateway()
    for number in ("1000000003", "1999999999"):
        result = await linking_service(uow, clock, sms=sms, limit=10, ttl_minutes=30).send_sms_code(
            user_id=2, supplier_id=ids["supplier"], number=number, text_template=TEMPLATE
        )
        assert result.outcome is Outcome.NOT_FOUND and result.masked_phone is None
    assert sms.sent == []
    await uow.commit()
    assert len(await audit(db, linking.FAILED_LOOKUP)) == 2


async def test_sms_delivery_failure_discards_the_code(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)

    class Broken:
        async def send_sms(self, phone: str, text: str) -> None:
            raise DeliveryError("gateway down")

    result = await linking_service(
        uow, clock, sms=Broken(), limit=10, ttl_minutes=30
    ).send_sms_code(
        user_id=2, supplier_id=ids["supplier"], number="1000000002", text_template=TEMPLATE
    )
    await uow.commit()
    assert result.outcome is Outcome.DELIVERY_FAILED
    assert [a.action for a in await audit(db)][-1] == linking.SMS_DELIVERY_FAILED
    missing = await linking_service(uow, clock, limit=10).enter_sms_code(
        user_id=2, supplier_id=ids["supplier"], number="1000000002", code="123456"
    )
    assert missing.problem is CodeProblem.MISSING


async def test_lockout_until_the_next_moscow_day(
    db: Database, uow: UnitOfWork, clock: FrozenClock
) -> None:
    ids = await seed(db)
    clock.set(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC))  # 23:00 in Moscow
    args = {"user_id": 2, "supplier_id": ids["supplier"], "number": "1000000002"}
    outcomes = []
    for _ in range(3):
        result = await linking_service(uow, clock, limit=3).enter_access_code(**args, code="nope")
        outcomes.append((result.outcome, result.attempts_left))
    assert outcomes == [(Outcome.WRONG_CODE, 2), (Outcome.WRONG_CODE, 1), (Outcome.LOCKED, 0)]
    midnight_moscow = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)
    assert result.unlock_at == midnight_moscow
    # locked: even the right code is not checked, nor a new number
    right = await linking_service(uow, clock, limit=3).enter_access_code(**args, code="XY34ZW")
    assert (right.outcome, right.unlock_at) == (Outcome.LOCKED, midnight_moscow)
    start = await linking_service(uow, clock, limit=3).start(
        user_id=2, supplier_id=ids["supplier"], raw_number="1000000003"
    )
    assert start.outcome is Outcome.LOCKED
    # another resident is not affected
    other = await linking_service(uow, clock, limit=3).start(
        user_id=1, supplier_id=ids["supplier"], raw_number="1000000003"
    )
    assert other.outcome is Outcome.CHOOSE_ROUTE
    clock.set(midnight_moscow - dt.timedelta(seconds=1))
    assert await linking_service(uow, clock, limit=3).locked_until(2) == midnight_moscow
    clock.set(midnight_moscow)
    assert await linking_service(uow, clock, limit=3).locked_until(2) is None
    right = await linking_service(uow, clock, limit=3).enter_access_code(**args, code="XY34ZW")
    assert right.outcome is Outcome.LINKED


async def test_family_links_are_verified_separately(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    first = await linking_service(uow, clock, limit=10).start(
        user_id=1, supplier_id=ids["supplier"], raw_number="1000000001"
    )
    assert first.outcome is Outcome.LINKED
    # Boris lives there too, but his phone is not on file: Anna's link proves nothing for him
    second = await linking_service(uow, clock, limit=10).start(
        user_id=2, supplier_id=ids["supplier"], raw_number="1000000001"
    )
    assert second.outcome is Outcome.CHOOSE_ROUTE
    code = await linking_service(uow, clock, limit=10).enter_access_code(
        user_id=2, supplier_id=ids["supplier"], number="1000000001", code="AB12CD"
    )
    assert code.outcome is Outcome.LINKED
    await uow.commit()
    assert [(x.user_id, x.method) for x in await links(db)] == [(1, "phone"), (2, "access_code")]
    # one leaves, the other stays
    gone = await linking_service(uow, clock).unlink(user_id=1, account_id=ids["mine"])
    await uow.commit()
    assert gone.ok
    assert [(x.user_id, x.status) for x in await links(db)] == [(2, "active")]
    assert await linking_service(uow, clock).active_account_ids(2) == [ids["mine"]]
    assert await linking_service(uow, clock).active_account_ids(1) == []


async def test_unlink_someone_elses_account_does_nothing(
    db: Database, uow: UnitOfWork, clock
) -> None:
    ids = await seed(db)
    await linking_service(uow, clock, limit=10).start(
        user_id=1, supplier_id=ids["supplier"], raw_number="1000000001"
    )
    await uow.commit()
    assert await linking_service(uow, clock).link_view(2, ids["mine"]) is None
    result = await linking_service(uow, clock).unlink(user_id=2, account_id=ids["mine"])
    await uow.commit()
    assert not result.ok
    assert len(await links(db)) == 1
    assert [a.action for a in await audit(db)] == ["account_linked"]


async def test_suggestions_by_phone(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    found = await linking_service(uow, clock).suggest_by_phone(1, ANNA_PHONE)
    assert [a.id for a in found] == [ids["mine"]]
    # a forged suggestion: Anna's phone is not on file for "coded"
    forged = await linking_service(uow, clock).link_by_phone(user_id=1, account_id=ids["coded"])
    assert forged.outcome is Outcome.UNAVAILABLE
    missing = await linking_service(uow, clock).link_by_phone(user_id=1, account_id=99999)
    assert missing.outcome is Outcome.UNAVAILABLE
    done = await linking_service(uow, clock).link_by_phone(user_id=1, account_id=ids["mine"])
    assert done.outcome is Outcome.LINKED
    assert await linking_service(uow, clock).suggest_by_phone(1, ANNA_PHONE) == []


async def request(
    uow: UnitOfWork, ids: dict[str, int], clock, number: str = "1000000003"
) -> linking.LinkCard:
    opened = await linking_service(uow, clock).open_operator_request(
        user_id=2, supplier_id=ids["supplier"], number=number
    )
    assert opened.outcome is Outcome.REQUEST_OPEN
    desk = RecordingDesk(first_message_id=77)
    submitted = await linking_service(uow, clock, desk=desk).submit_request(
        user_id=2,
        supplier_id=ids["supplier"],
        number=number,
        name="Борис Петров",
        address="Ленина 1-3",
        photo_file_id=None,
        locale="en",
    )
    assert submitted.outcome is SubmitOutcome.SUBMITTED
    await uow.commit()
    [card] = desk.posted
    assert card.link_id == submitted.link_id
    return card


async def test_operator_request_for_a_missing_account_is_a_counted_lookup(
    db: Database, uow: UnitOfWork, clock
) -> None:
    ids = await seed(db)
    result = await linking_service(uow, clock, limit=10).open_operator_request(
        user_id=2, supplier_id=ids["supplier"], number="1999999999"
    )
    assert result.outcome is Outcome.NOT_FOUND and result.attempts_left == 9


async def test_concurrent_decisions_one_wins(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    card = await request(uow, ids, clock)
    assert card.status is LinkStatus.PENDING and card.masked_phone == "+7 *** ***-00-11"

    async def decide(operator: int, approve: bool) -> linking.Decision:
        async with UnitOfWork(db.session_maker) as unit:
            return await linking_service(unit, clock).decide(
                link_id=card.link_id,
                approve=approve,
                operator_id=operator,
                operator_name=f"Operator {operator}",
                reason=None if approve else "preset:mismatch",
            )

    first, second = await asyncio.gather(decide(901, True), decide(902, False))
    outcomes = sorted([first.outcome, second.outcome])
    assert outcomes == [DecisionOutcome.ALREADY_DECIDED, DecisionOutcome.DECIDED]
    winner = first if first.outcome is DecisionOutcome.DECIDED else second
    loser = second if winner is first else first
    [link] = await links(db)
    assert winner.card is not None and loser.card is not None
    assert link.status == winner.card.status.value
    assert loser.card.decided_by_name == winner.card.decided_by_name == link.decided_by_name
    assert winner.resident_id == 2 and winner.resident_language == "en"
    assert len(await audit(db, linking.DECIDED)) == 1
    async with db.session_maker() as s:
        [ticket] = (await s.execute(select(Ticket))).scalars().all()
    assert ticket.status == "closed" and ticket.staff_message_id == 77


async def test_withdrawn_request_cannot_be_decided(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    card = await request(uow, ids, clock)
    desk = RecordingDesk()
    result = await linking_service(uow, clock, desk=desk).unlink(user_id=2, account_id=ids["bare"])
    await uow.commit()
    assert result.ok and desk.withdrawn == [(STAFF_CHAT, 77)]
    decision = await linking_service(uow, clock).decide(
        link_id=card.link_id, approve=True, operator_id=901, operator_name="Op", reason=None
    )
    assert decision.outcome is DecisionOutcome.WITHDRAWN
    assert await links(db) == []


async def test_rejected_request_may_be_made_again(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    card = await request(uow, ids, clock)
    await linking_service(uow, clock).decide(
        link_id=card.link_id,
        approve=False,
        operator_id=901,
        operator_name="Op",
        reason="  Не совпадает адрес  ",
    )
    await uow.commit()
    [view] = await linking_service(uow, clock).my_links(2)
    assert (view.status, view.reason, view.address) == (
        LinkStatus.REJECTED,
        "Не совпадает адрес",
        None,
    )
    again = await request(uow, ids, clock)
    # a new request, a new number: «request #N» never means two requests
    assert again.link_id > card.link_id and again.status is LinkStatus.PENDING
    assert again.reason is None and again.decided_by_name is None


async def test_audit_keeps_no_codes_or_phones(db: Database, uow: UnitOfWork, clock) -> None:
    ids = await seed(db)
    sms = LogSmsGateway()
    args = {"user_id": 2, "supplier_id": ids["supplier"], "number": "1000000002"}
    await linking_service(uow, clock, sms=sms, limit=10, ttl_minutes=30).send_sms_code(
        **args, text_template=TEMPLATE
    )
    code = sms.sent[0][1].split()[1]
    await linking_service(uow, clock, limit=10).enter_access_code(**args, code="XY34ZX")
    await linking_service(uow, clock, limit=10).enter_sms_code(**args, code=code)
    await uow.commit()
    dumped = json.dumps([a.details for a in await audit(db)], ensure_ascii=False)
    assert code not in dumped and "XY34ZX" not in dumped
    assert HOLDER_PHONE not in dumped and HOLDER_PHONE[1:] not in dumped
    assert {"account_linked", "code_sent", linking.FAILED_ACCESS_CODE} <= {
        a.action for a in await audit(db)
    }


def test_what_an_operator_request_accepts() -> None:
    assert linking.clean_request_name("  Зоя Иванова ") == "Зоя Иванова"
    for not_a_name in ("", "😀😀😀", "12345", "—", "Я", "Ж" * 256):
        assert linking.clean_request_name(not_a_name) is None, not_a_name
    assert linking.clean_request_address(" Садовая 3 ") == "Садовая 3"
    assert linking.clean_request_address("  ") is None
    assert linking.clean_request_address("д" * 513) is None
