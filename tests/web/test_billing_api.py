"""The billing HTTP API over the real app (create_web_app) on a loopback test server."""

# ruff: noqa: E501  (tables of expected messages read best one per line)
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.config import Settings
from bot.services.billing import Kind
from bot.web.app import create_web_app
from storage.db import Database
from storage.models import Account, Charge, Reading, Supplier
from tests.support.billing_files import EXCEL_ACCOUNTS, account, charge, csv_text, meter, supplier

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CSV = {**AUTH, "Content-Type": "text/csv"}
JSON = {**AUTH, "Content-Type": "application/json"}


async def _client(settings: Settings, db: Database) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(create_web_app(settings, db)))
    await client.start_server()
    return client


@pytest.fixture
async def api(
    make_settings: Callable[..., Settings], db: Database
) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(make_settings(admin_api_token=TOKEN, api_max_body_mb=0.01), db)
    yield client
    await client.close()


async def count(db: Database, model: Any) -> int:
    async with db.session_maker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def seed(api: TestClient[Any, Any]) -> None:
    for kind, rows in [(Kind.SUPPLIERS, [supplier()]), (Kind.ACCOUNTS, [account()])]:
        response = await api.post(f"/api/v1/import/{kind}", data=csv_text(kind, rows), headers=CSV)
        assert response.status == 200, await response.text()


# ------------------------------------------------------------------ auth
@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="kabinet-billing"'),
        ({"Authorization": "Bearer wrong"}, 'Bearer realm="kabinet-billing", error="invalid_token"'),
        ({"Authorization": f"Basic {TOKEN}"}, 'Bearer realm="kabinet-billing", error="invalid_token"'),
        ({"Authorization": f"Bearer {TOKEN}x"}, 'Bearer realm="kabinet-billing", error="invalid_token"'),
    ],
)  # fmt: skip
async def test_without_the_right_token_nothing_is_touched(
    api: TestClient[Any, Any], db: Database, headers: dict[str, str], challenge: str
) -> None:
    body = csv_text(Kind.SUPPLIERS, [supplier()])
    response = await api.post(
        "/api/v1/import/suppliers", data=body, headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == challenge
    assert "error" in await response.json()
    assert await count(db, Supplier) == 0
    for path in ("/api/v1/readings?period=2026-11", "/api/v1/nothing"):
        assert (await api.get(path, headers=headers)).status == 401


async def test_disabled_without_a_token(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    client = await _client(make_settings(admin_api_token=None), db)
    try:
        response = await client.post("/api/v1/import/suppliers", data="x", headers=CSV)
        assert response.status == 503
        assert await response.json() == {
            "error": "the billing API is disabled: ADMIN_API_TOKEN is not set"
        }
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()


# ------------------------------------------------------------------ imports
async def test_csv_import_twice_answers_summaries(api: TestClient[Any, Any], db: Database) -> None:
    body = "\ufeff" + csv_text(Kind.SUPPLIERS, [supplier(), supplier(code="gas")])
    first = await api.post("/api/v1/import/suppliers", data=body.encode(), headers=CSV)
    assert first.status == 200
    assert await first.json() == {
        "kind": "suppliers", "rows": 2, "inserted": 2, "updated": 0, "unchanged": 0,
        "separator": ",", "encoding": "utf-8",
    }  # fmt: skip
    again = await api.post("/api/v1/import/suppliers", data=body.encode(), headers=CSV)
    assert (await again.json())["unchanged"] == 2
    assert await count(db, Supplier) == 2


async def test_json_import_with_numbers(api: TestClient[Any, Any], db: Database) -> None:
    await seed(api)
    items = [{**charge(), "charged": 1234.5, "paid": 0}]
    response = await api.post("/api/v1/import/charges", data=json.dumps(items), headers=JSON)
    assert response.status == 200, await response.text()
    assert (await response.json())["inserted"] == 1
    async with db.session_maker() as session:
        charged = (await session.execute(select(Charge.charged))).scalar_one()
    assert str(charged) == "1234.50"


async def test_invalid_rows_answer_400_with_lines_and_nothing_is_applied(
    api: TestClient[Any, Any], db: Database
) -> None:
    await seed(api)
    body = csv_text(Kind.ACCOUNTS, [account("10000002"), account("12", phones="abc")])
    response = await api.post("/api/v1/import/accounts", data=body, headers=CSV)
    assert response.status == 400
    answer = await response.json()
    assert answer["total_errors"] == 2
    assert answer["errors"] == [
        {
            "line": 3,
            "column": "account_number",
            "message": "'12' does not match the pattern of supplier 'uk' (\\d{8})",
        },
        {"line": 3, "column": "phones", "message": "not a phone number: 'abc'"},
    ]
    assert await count(db, Account) == 1


async def test_invalid_json_items_are_named_by_index(api: TestClient[Any, Any]) -> None:
    await seed(api)
    items = [charge(), {**charge(period="2026-09"), "charged": "abc"}]
    response = await api.post("/api/v1/import/charges", data=json.dumps(items), headers=JSON)
    assert response.status == 400
    assert (await response.json())["errors"] == [
        {
            "item": 1,
            "column": "charged",
            "message": "not a number: 'abc' (write 1234.56 or 1234,56)",
        }
    ]


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ("[{", JSON, 400, "malformed JSON: Expecting property name enclosed in double quotes (line 1, column 3)"),
        ('{"a": 1}', JSON, 400, None),
        (b"\xff\xfe", JSON, 400, "the body: the file is UTF-16 (Excel's “Unicode text”): save it as “CSV UTF-8” or plain CSV"),
        (b"[\xc8\xe2\xe0\xed]", JSON, 400, "the body: not valid UTF-8 text: the file looks like Windows-1251 (cp1251, as Excel in Russia saves CSV); send it with Content-Type: application/json; charset=windows-1251"),
        ("code\n", {**AUTH, "Content-Type": "text/plain"}, 415, "unsupported Content-Type 'text/plain': send text/csv or application/json"),
        ("code\n", {**AUTH, "Content-Type": "text/csv; charset=koi8-r"}, 415, "unsupported charset 'koi8-r': send utf-8 (the default) or windows-1251"),
        (b"code,name,account_pattern\n\xff,x,y\n", CSV, 400, "1 error(s); nothing was imported"),
    ],
)  # fmt: skip
async def test_malformed_bodies(
    api: TestClient[Any, Any],
    db: Database,
    body: Any,
    headers: dict[str, str],
    status: int,
    message: str | None,
) -> None:
    response = await api.post("/api/v1/import/suppliers", data=body, headers=headers)
    assert response.status == status
    answer = await response.json()
    if message is not None:
        assert answer["error"] == message
    assert await count(db, Supplier) == 0


async def test_a_windows_1251_excel_file(api: TestClient[Any, Any], db: Database) -> None:
    await seed(api)
    body = EXCEL_ACCOUNTS.encode("cp1251")
    response = await api.post("/api/v1/import/accounts", data=body, headers=CSV)
    assert response.status == 400
    assert (await response.json())["errors"] == [
        {"line": 2, "column": "file", "message": "not valid UTF-8 text: the file looks like Windows-1251 (cp1251, as Excel in Russia saves CSV); send it with Content-Type: text/csv; charset=windows-1251"}
    ]  # fmt: skip
    assert await count(db, Account) == 1  # seed's own

    for charset in ("windows-1251", "CP1251"):
        headers = {**AUTH, "Content-Type": f"text/csv; charset={charset}"}
        response = await api.post("/api/v1/import/accounts", data=body, headers=headers)
        assert response.status == 200, await response.text()
        answer = await response.json()
        assert (answer["separator"], answer["encoding"], answer["rows"]) == (";", "cp1251", 2)
    async with db.session_maker() as session:
        names = set((await session.execute(select(Account.holder_name))).scalars())
    assert {"Иванов Иван Иванович", "Попова Анна"} <= names


async def test_windows_1251_json(api: TestClient[Any, Any], db: Database) -> None:
    body = json.dumps([supplier(name="ООО «Тест»")], ensure_ascii=False).encode("cp1251")
    headers = {**AUTH, "Content-Type": "application/json; charset=windows-1251"}
    response = await api.post("/api/v1/import/suppliers", data=body, headers=headers)
    assert response.status == 200, await response.text()
    assert "separator" not in await response.json()
    async with db.session_maker() as session:
        assert (await session.execute(select(Supplier.name))).scalar_one() == "ООО «Тест»"


async def test_a_json_object_instead_of_a_list(api: TestClient[Any, Any]) -> None:
    response = await api.post("/api/v1/import/suppliers", data='{"a": 1}', headers=JSON)
    assert (await response.json())["errors"] == [
        {"line": None, "column": "body", "message": "expected a JSON array of objects"}
    ]


async def test_unknown_kind_is_404(api: TestClient[Any, Any]) -> None:
    response = await api.post("/api/v1/import/users", data="x", headers=CSV)
    assert response.status == 404
    assert "unknown kind 'users'" in (await response.json())["error"]


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_over_the_limit_is_413(
    api: TestClient[Any, Any], db: Database, declared: bool
) -> None:
    rows = [supplier(code=f"s{i}") for i in range(200)]  # ≈ 40 KB > 0.01 MB
    body = csv_text(Kind.SUPPLIERS, rows).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    data: Any = body if declared else chunks()
    response = await api.post("/api/v1/import/suppliers", data=data, headers=CSV)
    assert response.status == 413
    assert (await response.json())["error"] == "the body is larger than 0.01 MB (API_MAX_BODY_MB)"
    assert await count(db, Supplier) == 0


# ------------------------------------------------------------------ readings
async def test_readings_as_csv_and_json(api: TestClient[Any, Any], db: Database) -> None:
    await seed(api)
    body = csv_text(Kind.METERS, [meter()])
    assert (await api.post("/api/v1/import/meters", data=body, headers=CSV)).status == 200
    assert await count(db, Reading) == 1

    response = await api.get("/api/v1/readings?period=2026-11", headers=AUTH)
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert (await response.text()).splitlines() == [
        "supplier_code,account_number,serial,zone,value,submitted_at,source",
        "uk,10000001,ХВ1234567,1,123.456,2026-11-10T00:00:00+00:00,billing",
    ]
    response = await api.get(
        "/api/v1/readings?period=2026-11&supplier=uk",
        headers={**AUTH, "Accept": "application/json"},
    )
    assert await response.json() == [
        {
            "supplier_code": "uk",
            "account_number": "10000001",
            "serial": "ХВ1234567",
            "zone": 1,
            "value": "123.456",
            "submitted_at": "2026-11-10T00:00:00+00:00",
            "source": "billing",
        }
    ]
    empty = await api.get(
        "/api/v1/readings?period=2026-10", headers={**AUTH, "Accept": "application/json"}
    )
    assert await empty.json() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the period parameter is required (period=YYYY-MM)"),
        ("?period=2026-13", "not a period YYYY-MM: '2026-13'"),
        ("?period=2026-11&supplier=nope", "unknown supplier 'nope'"),
    ],
)
async def test_bad_readings_queries(api: TestClient[Any, Any], query: str, message: str) -> None:
    response = await api.get(f"/api/v1/readings{query}", headers=AUTH)
    assert response.status == 400
    assert await response.json() == {"error": message}
