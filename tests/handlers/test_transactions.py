"""One transaction rule (README, Development): handlers never commit; a service commits at
named points where an outside effect follows; nothing is left half-stored when Telegram
refuses the step after one."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from bot.services.linking import REQUESTED, SubmitOutcome
from storage.db import Database
from storage.models import AccountLink, AuditLog, Ticket
from storage.uow import UnitOfWork
from tests.handlers.test_linking import BORIS, OPERATOR, SKIP_PHOTO, enter_number, last_with, seed
from tests.support.harness import BotHarness, texts
from tests.support.services import RecordingDesk, linking_service

ROOT = Path(__file__).resolve().parents[2]


def test_handlers_never_commit() -> None:
    """No call of `.commit()` anywhere in handlers/ (docstrings may speak of it)."""
    calls = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"commit", "rollback"}
            ):
                calls.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert calls == []


async def _rows(db: Database) -> tuple[list[AccountLink], list[Ticket], list[str]]:
    async with db.session_maker() as s:
        links = list((await s.execute(select(AccountLink))).scalars())
        tickets = list((await s.execute(select(Ticket))).scalars())
        actions = [
            a.action for a in (await s.execute(select(AuditLog).order_by(AuditLog.id))).scalars()
        ]
    return links, tickets, actions


async def test_card_refused_after_the_request_was_committed_leaves_nothing(
    harness: BotHarness, db: Database
) -> None:
    """The request is committed before its card is posted (named point); when Telegram
    refuses the card, the request is undone: no pending link, no ticket — and the resident
    is told so."""
    await seed(db)
    calls = await enter_number(harness, BORIS, "1000000003")
    await harness.press(BORIS, last_with(calls, OPERATOR).callback_of(OPERATOR))
    await harness.send(BORIS, "Борис Петров")
    calls = await harness.send(BORIS, "Ленина 1")
    harness.session.queue(
        "sendMessage",
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked"},
    )
    calls = await harness.press(BORIS, last_with(calls, SKIP_PHOTO).callback_of(SKIP_PHOTO))
    assert "Ничего не сохранено" in texts(calls)[-1]
    links, tickets, actions = await _rows(db)
    assert links == [] and tickets == []
    assert actions[-2:] == [REQUESTED, "link_request_failed"]  # what happened stays audited


async def test_service_undoes_a_request_whose_card_was_refused(db: Database, clock) -> None:
    ids = await seed(db)
    async with UnitOfWork(db.session_maker) as uow:
        service = linking_service(uow, clock, desk=RecordingDesk(fail=True))
        submitted = await service.submit_request(
            user_id=BORIS.id,
            supplier_id=ids["supplier"],
            number="1000000003",
            name="Борис",
            address="Ленина 1",
            photo_file_id=None,
        )
    assert submitted.outcome is SubmitOutcome.DESK_FAILED
    links, tickets, _actions = await _rows(db)
    assert links == [] and tickets == []


async def test_service_records_the_card_it_posted(db: Database, clock) -> None:
    ids = await seed(db)
    desk = RecordingDesk(first_message_id=55)
    async with UnitOfWork(db.session_maker) as uow:
        submitted = await linking_service(uow, clock, desk=desk).submit_request(
            user_id=BORIS.id,
            supplier_id=ids["supplier"],
            number="1000000003",
            name="Борис",
            address="Ленина 1",
            photo_file_id=None,
        )
    assert submitted.outcome is SubmitOutcome.SUBMITTED
    [link], [ticket], _actions = await _rows(db)
    assert (link.status, ticket.link_id, ticket.staff_message_id) == ("pending", link.id, 55)
    assert [card.link_id for card in desk.posted] == [link.id]
