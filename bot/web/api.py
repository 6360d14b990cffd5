"""The billing HTTP API (README.md, "Billing data"): imports and the readings export.

    POST /api/v1/import/{kind}     text/csv or application/json → JSON summary / errors
                                   (charset utf-8, the default, or windows-1251)
    GET  /api/v1/readings?period=YYYY-MM[&supplier=CODE]   CSV (default) or JSON (Accept)

Every request needs `Authorization: Bearer <ADMIN_API_TOKEN>` (compared in constant time);
without ADMIN_API_TOKEN the API is disabled and /api/* answers 503 with a JSON message.
Errors are JSON objects with an "error" message. Imports run one at a time per process.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import tempfile
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import IO, Any

from aiohttp import web
from sqlalchemy.exc import OperationalError

from bot.config import Settings
from bot.services.billing import (
    BadEncoding,
    CsvFile,
    ExportError,
    ImportRejected,
    Kind,
    UnknownEncoding,
    UnknownKind,
    accepted_readings,
    canonical_encoding,
    csv_chunks,
    decode_text,
    import_rows,
    json_rows,
    parse_kind,
)
from storage.db import Database
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.api")

PREFIX = "/api/v1"
REALM = 'Bearer realm="kabinet-billing"'
SPOOL_IN_MEMORY = 1024 * 1024  # a CSV body beyond this goes to a temporary file
READ_CHUNK = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: how to send a Windows-1251 body (said when the bytes are not UTF-8 but look like it)
CP1251_CSV_ADVICE = "send it with Content-Type: text/csv; charset=windows-1251"
CP1251_JSON_ADVICE = "send it with Content-Type: application/json; charset=windows-1251"


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


class _TooLarge(Exception):
    pass


class BillingApi:
    def __init__(self, settings: Settings, db: Database) -> None:
        assert settings.admin_api_token is not None
        self._token = settings.admin_api_token.get_secret_value().encode("utf-8")
        self.db = db
        self.max_body = int(settings.api_max_body_mb * 1024 * 1024)
        self.max_body_mb = settings.api_max_body_mb
        self.import_lock = asyncio.Lock()
        self.import_workers = settings.import_workers

    # ------------------------------------------------------------------ auth
    def authorized(self, request: web.Request) -> bool:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        given = credentials.strip().encode("utf-8")
        # compare even when the scheme is wrong, so timing tells nothing
        same = hmac.compare_digest(given, self._token)
        return scheme.lower() == "bearer" and same

    def guarded(self, handler: Handler) -> Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            if not self.authorized(request):
                has_header = "Authorization" in request.headers
                response = _error(
                    401,
                    "wrong token" if has_header else "missing Authorization: Bearer <token>",
                )
                challenge = REALM + (', error="invalid_token"' if has_header else "")
                response.headers["WWW-Authenticate"] = challenge
                return response
            return await handler(request)

        return wrapper

    # ------------------------------------------------------------------ body
    def _too_large(self) -> web.Response:
        return _error(413, f"the body is larger than {self.max_body_mb:g} MB (API_MAX_BODY_MB)")

    async def _spool(self, request: web.Request, target: IO[bytes]) -> None:
        size = 0
        while chunk := await request.content.read(READ_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            target.write(chunk)

    # ------------------------------------------------------------------ handlers
    async def import_kind(self, request: web.Request) -> web.StreamResponse:
        try:
            kind = parse_kind(request.match_info["kind"])
        except UnknownKind as exc:
            return _error(404, str(exc))
        content_type = request.content_type
        if content_type not in ("text/csv", "application/json"):
            return _error(
                415,
                f"unsupported Content-Type {content_type!r}: send text/csv or application/json",
            )
        try:
            encoding = canonical_encoding(request.charset or "utf-8")
        except UnknownEncoding:
            return _error(
                415,
                f"unsupported charset {request.charset!r}: send utf-8 (the default) "
                "or windows-1251",
            )
        if request.content_length is not None and request.content_length > self.max_body:
            return self._too_large()

        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            try:
                await self._spool(request, spool)
            except _TooLarge:
                return self._too_large()
            spool.seek(0)
            if content_type == "application/json":
                try:
                    text = decode_text(spool.read(), encoding, advice=CP1251_JSON_ADVICE)
                except BadEncoding as exc:
                    return _error(400, f"the body: {exc}")
                try:
                    items = json.loads(text, parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    return _error(
                        400,
                        f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                        line=exc.lineno,
                    )
                except (ValueError, RecursionError) as exc:
                    # a number beyond Python's digit limit, arrays nested too deep
                    return _error(400, f"malformed JSON: {exc}")
                return await self._run_import(kind, json_rows(kind, items))
            source = CsvFile(kind, spool, encoding=encoding, advice=CP1251_CSV_ADVICE)
            return await self._run_import(kind, source)

    async def _run_import(self, kind: Kind, rows: Any) -> web.Response:
        async with self.import_lock:
            try:
                async with UnitOfWork(self.db.session_maker) as uow:
                    summary = await import_rows(
                        uow, kind, rows, actor="api", workers=self.import_workers
                    )
            except ImportRejected as exc:
                return _error(
                    400,
                    f"{exc.total} error(s); nothing was imported",
                    errors=[e.as_dict() for e in exc.errors],
                    total_errors=exc.total,
                )
            except OperationalError as exc:  # locked by another process's write, unreachable
                log.warning("api import of %s failed: %s", kind.value, exc.orig)
                return _error(
                    503,
                    f"the database did not accept the import ({exc.orig}); "
                    "nothing was imported, try again later",
                )
        log.info("api import: %s", summary.text())
        return web.json_response(summary.as_dict())

    async def readings(self, request: web.Request) -> web.StreamResponse:
        period = request.query.get("period")
        if not period:
            return _error(400, "the period parameter is required (period=YYYY-MM)")
        supplier = request.query.get("supplier") or None
        as_json = "application/json" in request.headers.get("Accept", "")
        async with UnitOfWork(self.db.session_maker) as uow:
            try:
                rows = await accepted_readings(uow, period, supplier)
            except ExportError as exc:
                return _error(400, str(exc))
            response = web.StreamResponse(
                headers={
                    "Content-Type": (
                        "application/json; charset=utf-8" if as_json else "text/csv; charset=utf-8"
                    )
                }
            )
            await response.prepare(request)
            if as_json:
                first = True
                await response.write(b"[")
                async for row in rows:
                    prefix = "" if first else ","
                    await response.write((prefix + json.dumps(row, ensure_ascii=False)).encode())
                    first = False
                await response.write(b"]")
            else:
                async for chunk in csv_chunks(rows):
                    await response.write(chunk.encode("utf-8"))
            await response.write_eof()
            return response

    async def not_found(self, request: web.Request) -> web.StreamResponse:
        return _error(404, f"no such API endpoint: {request.method} {request.path}")


async def _disabled(request: web.Request) -> web.Response:
    return _error(503, "the billing API is disabled: ADMIN_API_TOKEN is not set")


def setup_api(app: web.Application, settings: Settings, db: Database) -> None:
    if settings.admin_api_token is None or not settings.admin_api_token.get_secret_value():
        log.info("billing API disabled: ADMIN_API_TOKEN is not set (/api/* answers 503)")
        app.router.add_route("*", "/api/{tail:.*}", _disabled)
        return
    api = BillingApi(settings, db)
    app.router.add_post(f"{PREFIX}/import/{{kind}}", api.guarded(api.import_kind))
    app.router.add_get(f"{PREFIX}/readings", api.guarded(api.readings))
    app.router.add_route("*", "/api/{tail:.*}", api.guarded(api.not_found))
    log.info("billing API on %s (import, readings)", PREFIX)
