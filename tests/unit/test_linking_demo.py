"""The issue's bar: each demo account links by the route that fits it, and no other."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.integrations import LogSmsGateway
from bot.services import linking
from bot.services.clock import FrozenClock
from bot.services.demo import DemoAccount, seed_demo
from bot.services.linking import Outcome
from storage.db import Database
from storage.models import AccountLink
from storage.repositories.billing import BillingRepository
from storage.uow import UnitOfWork
from tests.support.services import RecordingDesk, linking_service, registration_service

LIMIT = 10
TEMPLATE = "Код {code} для лицевого счёта {number}"


async def resident(db: Database, clock: FrozenClock, user_id: int, phone: str) -> None:
    async with UnitOfWork(db.session_maker) as uow:
        await registration_service(uow, clock, consent_version="1").give_consent(user_id)
        await registration_service(uow, clock, consent_version="1").save_phone(user_id, phone)


async def supplier_id(db: Database, account: DemoAccount) -> int:
    async with UnitOfWork(db.session_maker) as uow:
        found = await BillingRepository(uow.session).supplier_by_code(account.supplier_code)
        assert found is not None
        return found.id


async def start(db: Database, clock: FrozenClock, user_id: int, account: DemoAccount):
    sid = await supplier_id(db, account)
    async with UnitOfWork(db.session_maker) as uow:
        return sid, await linking_service(uow, clock, limit=LIMIT).start(
            user_id=user_id, supplier_id=sid, raw_number=account.number
        )


async def link_status(db: Database, user_id: int) -> list[tuple[str, str | None]]:
    async with db.session_maker() as s:
        rows = (
            await s.execute(select(AccountLink).where(AccountLink.user_id == user_id))
        ).scalars()
        return [(r.status, r.method) for r in rows]


async def test_each_demo_account_by_its_route(db: Database, clock: FrozenClock) -> None:
    demo = await seed_demo(db, clock)
    sms = LogSmsGateway()

    # 1. the resident's phone is on file: linked at once (both suppliers of one phone)
    await resident(db, clock, 1001, demo.typical.phones[0])
    for account in (demo.typical, demo.gas):
        _, result = await start(db, clock, 1001, account)
        assert result.outcome is Outcome.LINKED, account.case
    assert await link_status(db, 1001) == [("active", "phone"), ("active", "phone")]

    # ... and either of two phones on file will do
    await resident(db, clock, 1002, demo.two_phones.phones[1])
    _, result = await start(db, clock, 1002, demo.two_phones)
    assert result.outcome is Outcome.LINKED

    # 2. the receipt access code
    await resident(db, clock, 1003, "+79990000003")
    sid, result = await start(db, clock, 1003, demo.access_code)
    assert result.outcome is Outcome.CHOOSE_ROUTE
    assert demo.access_code.access_code is not None
    async with UnitOfWork(db.session_maker) as uow:
        result = await linking_service(uow, clock, limit=LIMIT).enter_access_code(
            user_id=1003,
            supplier_id=sid,
            number=demo.access_code.number,
            code=demo.access_code.access_code,
        )
    assert result.outcome is Outcome.LINKED
    assert await link_status(db, 1003) == [("active", "access_code")]

    # 3. a code by SMS to the phone on file, for a resident with another phone
    await resident(db, clock, 1004, "+79990000004")
    sid, result = await start(db, clock, 1004, demo.debtor)
    assert result.outcome is Outcome.CHOOSE_ROUTE
    async with UnitOfWork(db.session_maker) as uow:
        result = await linking_service(
            uow, clock, sms=sms, limit=LIMIT, ttl_minutes=30
        ).send_sms_code(
            user_id=1004, supplier_id=sid, number=demo.debtor.number, text_template=TEMPLATE
        )
    assert result.outcome is Outcome.CODE_SENT
    phone, text = sms.sent[-1]
    assert phone == sorted(demo.debtor.phones)[0]
    code = re.search(r"Код (\d{6})", text)
    assert code is not None
    async with UnitOfWork(db.session_maker) as uow:
        result = await linking_service(uow, clock, limit=LIMIT).enter_sms_code(
            user_id=1004, supplier_id=sid, number=demo.debtor.number, code=code.group(1)
        )
    assert result.outcome is Outcome.LINKED
    assert await link_status(db, 1004) == [("active", "sms_code")]

    # 4. no phone and no access code: only an operator can decide
    await resident(db, clock, 1005, "+79990000005")
    sid, result = await start(db, clock, 1005, demo.no_phone)
    assert result.outcome is Outcome.CHOOSE_ROUTE
    async with UnitOfWork(db.session_maker) as uow:
        result = await linking_service(
            uow, clock, sms=sms, limit=LIMIT, ttl_minutes=30
        ).send_sms_code(
            user_id=1005, supplier_id=sid, number=demo.no_phone.number, text_template=TEMPLATE
        )
        assert result.outcome is Outcome.NOT_FOUND  # no phone on file to send a code to
        result = await linking_service(uow, clock, limit=LIMIT).open_operator_request(
            user_id=1005, supplier_id=sid, number=demo.no_phone.number
        )
        assert result.outcome is Outcome.REQUEST_OPEN
        desk = RecordingDesk()
        await linking_service(uow, clock, desk=desk).submit_request(
            user_id=1005,
            supplier_id=sid,
            number=demo.no_phone.number,
            name=demo.no_phone.holder_name,
            address=demo.no_phone.address,
            photo_file_id=None,
        )
    [card] = desk.posted
    assert await link_status(db, 1005) == [("pending", "operator")]
    async with UnitOfWork(db.session_maker) as uow:
        decision = await linking_service(uow, clock).decide(
            link_id=card.link_id, approve=True, operator_id=1, operator_name="Ольга", reason=None
        )
    assert decision.outcome is linking.DecisionOutcome.DECIDED
    assert await link_status(db, 1005) == [("active", "operator")]


async def test_a_demo_account_is_not_linked_by_a_stranger(db: Database, clock: FrozenClock) -> None:
    demo = await seed_demo(db, clock)
    await resident(db, clock, 2001, "+79990002001")
    for account in demo.notable:
        sid, result = await start(db, clock, 2001, account)
        assert result.outcome is Outcome.CHOOSE_ROUTE, account.case  # same answer for all
        async with UnitOfWork(db.session_maker) as uow:
            wrong = await linking_service(uow, clock, limit=100).enter_access_code(
                user_id=2001, supplier_id=sid, number=account.number, code="00000000"
            )
        assert wrong.outcome is Outcome.WRONG_CODE, account.case
    assert await link_status(db, 2001) == []
