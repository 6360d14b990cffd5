"""The billing HTTP API takes the organisation columns of accounts (issue 14)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.config import Settings
from bot.services.billing import Kind
from storage.db import Database
from storage.models import Account
from tests.support.billing_files import account, csv_text
from tests.web.test_billing_api import CSV, JSON, TOKEN, _client, seed


@pytest.fixture
async def api(
    make_settings: Callable[..., Settings], db: Database
) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(make_settings(admin_api_token=TOKEN), db)
    yield client
    await client.close()


async def test_organisation_columns_over_http(api: TestClient[Any, Any], db: Database) -> None:
    await seed(api)
    org = {"holder_inn": "7707083893", "holder_kpp": "773601001", "contract_number": "Д-15"}
    bad = csv_text(
        Kind.ACCOUNTS, [account("10000002", **org), account("10000003", holder_inn="7707083839")]
    )
    response = await api.post("/api/v1/import/accounts", data=bad, headers=CSV)
    assert response.status == 400
    assert (await response.json())["errors"] == [
        {
            "line": 3,
            "column": "holder_inn",
            "message": "INN control digit does not match (FNS algorithm): a typo?",
        }
    ]
    items = [account("10000002", **org), account("10000003", holder_inn="500100732259")]
    response = await api.post("/api/v1/import/accounts", data=json.dumps(items), headers=JSON)
    assert response.status == 200, await response.text()
    async with db.session_maker() as session:
        rows = await session.execute(
            select(Account.number, Account.holder_inn, Account.holder_kpp, Account.contract_number)
            .where(Account.holder_inn.is_not(None))
            .order_by(Account.number)
        )
        assert [tuple(r) for r in rows] == [
            ("10000002", "7707083893", "773601001", "Д-15"),
            ("10000003", "500100732259", None, None),
        ]
