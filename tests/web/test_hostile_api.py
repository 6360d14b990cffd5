"""A hostile or broken billing system against the API (the real web app on a test server)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.config import Settings
from storage.db import Database
from storage.models import Base, Supplier
from tests.web.test_billing_api import AUTH, CSV, JSON, TOKEN, _client, count, seed


@pytest.fixture
async def api(
    make_settings: Callable[..., Settings], db: Database
) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(make_settings(admin_api_token=TOKEN, api_max_body_mb=1), db)
    yield client
    await client.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" + b"9" * 5000 + b"]", "malformed JSON"),  # beyond Python's int digit limit
        (b'[{"code": ' + b"9" * 5000 + b"}]", "malformed JSON"),
        (b"[" * 100_000, "malformed JSON"),  # nesting deeper than the parser's recursion
        (b"{" * 100_000, "malformed JSON"),
    ],
)
async def test_json_bodies_that_break_the_parser_answer_400(
    api: TestClient[Any, Any], db: Database, body: bytes, message: str
) -> None:
    response = await api.post("/api/v1/import/suppliers", data=body, headers=JSON)
    assert response.status == 400
    assert (await response.json())["error"].startswith(message)
    assert await count(db, Supplier) == 0


async def test_a_lone_surrogate_in_json_is_a_row_error(
    api: TestClient[Any, Any], db: Database
) -> None:
    body = b'[{"code": "x", "name": "\\ud800 broken", "account_pattern": "\\\\d{8}"}]'
    response = await api.post("/api/v1/import/suppliers", data=body, headers=JSON)
    assert response.status == 400, await response.text()
    assert (await response.json())["errors"] == [
        {"item": 0, "column": "name", "message": "not valid Unicode text"}
    ]
    assert await count(db, Supplier) == 0


async def test_period_in_other_scripts_digits_is_read_as_ascii(
    api: TestClient[Any, Any], db: Database
) -> None:
    """`\\d` matches any Unicode digit: '２０２６-１１' is 2026-11, never a period of its own."""
    for period in ("２０２６-１１", "٢٠٢٦-١١"):
        response = await api.get(f"/api/v1/readings?period={period}", headers=AUTH)
        assert response.status == 200
        assert (await response.text()).splitlines() == [
            "supplier_code,account_number,serial,zone,value,submitted_at,source"
        ]
    await seed(api)  # supplier 'uk'
    response = await api.get("/api/v1/readings?period=2026-11&supplier=ｕｋ", headers=AUTH)
    assert response.status == 200, await response.text()
    response = await api.get("/api/v1/readings?period=٢٠٢٦-١٣", headers=AUTH)
    assert response.status == 400
    assert (await response.json()) == {"error": "not a period YYYY-MM: '2026-13'"}


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer  ", f"Token {TOKEN}", TOKEN, f"Bearer {TOKEN.upper()}"],
)
async def test_malformed_authorization_is_401(
    api: TestClient[Any, Any], db: Database, authorization: str
) -> None:
    response = await api.post(
        "/api/v1/import/suppliers",
        data=b"code,name,account_pattern\r\nx,y,\\d{8}\r\n",
        headers={"Authorization": authorization, "Content-Type": "text/csv"},
    )
    assert response.status == 401
    assert await count(db, Supplier) == 0


async def test_a_bad_utf8_byte_is_reported_on_its_line(
    api: TestClient[Any, Any], db: Database
) -> None:
    body = b"code,name,account_pattern\r\na,A,\\d{8}\r\nb,\xc0\xafB,\\d{8}\r\n"
    response = await api.post("/api/v1/import/suppliers", data=body, headers=CSV)
    assert response.status == 400
    assert (await response.json())["errors"] == [
        {"line": 3, "column": "file", "message": "not valid UTF-8 text (save the file as UTF-8)"}
    ]
    assert await count(db, Supplier) == 0


async def test_a_busy_database_answers_503_and_imports_nothing(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process (the command, a second API) holds the SQLite write lock."""
    import storage.db

    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    settings = make_settings(admin_api_token=TOKEN)
    database = Database(settings.database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    client = await _client(settings, database)
    holder = sqlite3.connect(tmp_path / "kabinet.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        body = b"code,name,account_pattern\r\na,A,\\d{8}\r\n"
        response = await client.post("/api/v1/import/suppliers", data=body, headers=CSV)
        assert response.status == 503
        assert await response.json() == {
            "error": "the database did not accept the import (database is locked); "
            "nothing was imported, try again later"
        }
        holder.execute("ROLLBACK")
        response = await client.post("/api/v1/import/suppliers", data=body, headers=CSV)
        assert response.status == 200
    finally:
        holder.close()
        await client.close()
        await database.dispose()
