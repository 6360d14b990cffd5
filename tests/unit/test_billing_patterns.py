"""Account patterns that could freeze the bot (nested repetition) are refused at import."""

from __future__ import annotations

import pytest

from bot.services.billing import Kind
from bot.services.clock import FrozenClock
from storage.db import Database
from tests.support.billing_files import supplier
from tests.unit.test_billing_import import load, rejected


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\d{2})+", r"(?:1|11)*", r"(\d)\1\d{6}"])
async def test_dangerous_patterns_are_refused(
    db: Database, clock: FrozenClock, pattern: str
) -> None:
    lines = await rejected(db, Kind.SUPPLIERS, [supplier(account_pattern=pattern)], clock)
    assert lines[0].startswith("f.csv:2: account_pattern: a repeated group or a back-reference")


@pytest.mark.parametrize("pattern", [r"\d{10}", r"(?:58|59)\d{8}", r"\d{2}-?\d{8}", r"[0-9]{8}"])
async def test_ordinary_patterns_import(db: Database, clock: FrozenClock, pattern: str) -> None:
    summary = await load(db, Kind.SUPPLIERS, [supplier(account_pattern=pattern)], clock)
    assert summary.inserted == 1
