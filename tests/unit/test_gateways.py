"""Delivery gateways against real local servers: aiohttp for SMS, aiosmtpd for e-mail."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from bot.config import Settings
from bot.integrations import DeliveryError, Gateways, LogSmsGateway, create_gateways
from bot.integrations.sms_http import HttpSmsGateway, render
from bot.integrations.smtp import SmtpEmailGateway
from tests.support.smtp import free_port, running_smtp

PHONE = "+79161234567"
TEXT = 'Код: 123456. Никому не сообщайте "его"\n{phone}'
SECRET = "Bearer s3cr3t-token"


@dataclass
class SmsServer:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    hang: asyncio.Event = field(default_factory=asyncio.Event)
    slow: bool = False


@pytest.fixture
async def sms_server() -> AsyncIterator[SmsServer]:
    server = SmsServer(url="")

    async def handle(request: web.Request) -> web.Response:
        server.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string,
                "headers": dict(request.headers),
                "body": await request.text(),
            }
        )
        if server.slow:
            await server.hang.wait()
        status = server.statuses.pop(0) if server.statuses else 200
        return web.Response(status=status, text="{}")

    app = web.Application()
    app.router.add_route("*", "/send", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}/send"
    yield server
    server.hang.set()
    await runner.cleanup()


@pytest.fixture
async def gateway_for(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[Callable[..., HttpSmsGateway]]:
    made: list[HttpSmsGateway] = []

    def make(url: str, **overrides: Any) -> HttpSmsGateway:
        settings = make_settings(sms_provider="http", sms_http_url=url, **overrides)
        gateway = HttpSmsGateway(settings, backoff_s=0.01)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        await gateway.aclose()


# --------------------------------------------------------------------------- SMS over HTTP
def test_render_escapes_for_each_content_type() -> None:
    template = '{"to": "{phone}", "text": "{text}"}'
    body = render(template, phone=PHONE, text=TEXT, how="json")
    assert json.loads(body) == {"to": PHONE, "text": TEXT}
    form = render("to={phone}&msg={text}", phone=PHONE, text="a&b=c d", how="form")
    assert parse_qs(form) == {"to": [PHONE], "msg": ["a&b=c d"]}


async def test_json_post_with_auth_header(
    sms_server: SmsServer,
    gateway_for: Callable[..., HttpSmsGateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = gateway_for(sms_server.url, sms_http_auth_header=SECRET)
    with caplog.at_level(logging.DEBUG, logger="kabinet"):
        await gateway.send_sms(PHONE, TEXT)
    [req] = sms_server.requests
    assert req["method"] == "POST"
    assert req["headers"]["Authorization"] == SECRET
    assert req["headers"]["Content-Type"] == "application/json"
    assert json.loads(req["body"]) == {"to": PHONE, "text": TEXT}
    # neither the text (it carries the code), the token nor the full phone reach the log
    assert "123456" not in caplog.text and "s3cr3t" not in caplog.text
    assert PHONE not in caplog.text
    assert "+7 *** ***-45-67" in caplog.text and "200" in caplog.text


async def test_form_post(sms_server: SmsServer, gateway_for: Callable[..., HttpSmsGateway]) -> None:
    gateway = gateway_for(
        sms_server.url,
        sms_http_body="login=kabinet&phones={phone}&mes={text}",
        sms_http_content_type="application/x-www-form-urlencoded",
    )
    await gateway.send_sms(PHONE, "a&b=c d")
    [req] = sms_server.requests
    assert "Authorization" not in req["headers"]
    assert parse_qs(req["body"]) == {"login": ["kabinet"], "phones": [PHONE], "mes": ["a&b=c d"]}


async def test_get_with_query_template(
    sms_server: SmsServer, gateway_for: Callable[..., HttpSmsGateway]
) -> None:
    gateway = gateway_for(
        sms_server.url + "?api_id=1&to={phone}",
        sms_http_method="GET",
        sms_http_body="msg={text}",
    )
    await gateway.send_sms(PHONE, "Код 123 & ещё")
    [req] = sms_server.requests
    assert req["method"] == "GET" and req["body"] == ""
    assert parse_qs(req["query"]) == {"api_id": ["1"], "to": [PHONE], "msg": ["Код 123 & ещё"]}


async def test_retries_on_500_then_succeeds(
    sms_server: SmsServer, gateway_for: Callable[..., HttpSmsGateway]
) -> None:
    sms_server.statuses = [500, 429]
    gateway = gateway_for(sms_server.url, sms_http_retries=3)
    await gateway.send_sms(PHONE, TEXT)
    assert len(sms_server.requests) == 3
    assert all(json.loads(r["body"])["to"] == PHONE for r in sms_server.requests)


async def test_no_retry_on_400(
    sms_server: SmsServer, gateway_for: Callable[..., HttpSmsGateway]
) -> None:
    sms_server.statuses = [400]
    gateway = gateway_for(sms_server.url, sms_http_retries=3)
    with pytest.raises(DeliveryError, match="HTTP 400"):
        await gateway.send_sms(PHONE, TEXT)
    assert len(sms_server.requests) == 1


async def test_delivery_error_after_the_last_try(
    sms_server: SmsServer,
    gateway_for: Callable[..., HttpSmsGateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sms_server.statuses = [503] * 10
    gateway = gateway_for(sms_server.url, sms_http_retries=4)
    with caplog.at_level(logging.DEBUG, logger="kabinet"), pytest.raises(DeliveryError) as info:
        await gateway.send_sms(PHONE, TEXT)
    assert len(sms_server.requests) == 4
    assert "123456" not in str(info.value) and "123456" not in caplog.text


async def test_timeout_is_retried_then_fails(
    sms_server: SmsServer, gateway_for: Callable[..., HttpSmsGateway]
) -> None:
    sms_server.slow = True
    gateway = gateway_for(sms_server.url, sms_http_timeout=0.2, sms_http_retries=2)
    with pytest.raises(DeliveryError, match="TimeoutError"):
        await gateway.send_sms(PHONE, TEXT)
    assert len(sms_server.requests) == 2


async def test_server_down(gateway_for: Callable[..., HttpSmsGateway]) -> None:
    gateway = gateway_for(f"http://127.0.0.1:{free_port()}/send", sms_http_retries=2)
    with pytest.raises(DeliveryError, match="after 2 tries"):
        await gateway.send_sms(PHONE, TEXT)


async def test_one_session_closed_by_aclose(
    sms_server: SmsServer, make_settings: Callable[..., Settings]
) -> None:
    gateways = create_gateways(make_settings(sms_provider="http", sms_http_url=sms_server.url))
    assert isinstance(gateways.sms, HttpSmsGateway) and gateways.email is None
    await gateways.sms.send_sms(PHONE, TEXT)
    session = gateways.sms._session
    await gateways.sms.send_sms(PHONE, TEXT)
    assert session is not None and gateways.sms._session is session
    await gateways.aclose()
    assert session.closed


async def test_log_gateway_is_the_default(make_settings: Callable[..., Settings]) -> None:
    gateways = create_gateways(make_settings())
    assert isinstance(gateways.sms, LogSmsGateway) and gateways.email is None
    await gateways.aclose()


# --------------------------------------------------------------------------- e-mail over SMTP
def smtp_gateway(
    make_settings: Callable[..., Settings], port: int, **overrides: Any
) -> SmtpEmailGateway:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "Кабинет <bot@example.org>",
        "smtp_tls": "none",
        "smtp_timeout": 5,
    }
    values.update(overrides)
    tls_context = values.pop("tls_context", None)
    settings = make_settings(**values)
    return SmtpEmailGateway(settings, backoff_s=0.01, tls_context=tls_context)


async def test_email_is_delivered_with_headers_and_utf8(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    with running_smtp(tmp_path) as server:
        gateway = smtp_gateway(make_settings, server.port)
        await gateway.send_email("anna@example.org", "Код подтверждения", "Ваш код: 123456")
    [got] = server.messages
    assert got.mail_from == "bot@example.org" and got.rcpt_tos == ["anna@example.org"]
    assert got.message["From"] == "Кабинет <bot@example.org>"
    assert got.message["To"] == "anna@example.org"
    assert got.message["Subject"] == "Код подтверждения"
    assert got.message["Message-ID"].endswith("@example.org>")
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content_charset() == "utf-8"
    assert got.message.get_content().strip() == "Ваш код: 123456"


async def test_starttls_and_auth(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    with running_smtp(tmp_path, starttls=True, users={"bot": "pa55"}) as server:
        gateway = smtp_gateway(
            make_settings,
            server.port,
            smtp_tls="starttls",
            smtp_user="bot",
            smtp_password="pa55",
            tls_context=server.client_tls,
        )
        await gateway.send_email("anna@example.org", "Subject", "Body")
    [got] = server.messages
    assert got.login == "bot" and got.message["Subject"] == "Subject"


async def test_implicit_tls(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    with running_smtp(tmp_path, implicit_tls=True) as server:
        gateway = smtp_gateway(
            make_settings, server.port, smtp_tls="tls", tls_context=server.client_tls
        )
        await gateway.send_email("anna@example.org", "Subject", "Body over TLS")
    [got] = server.messages
    assert got.message.get_content().strip() == "Body over TLS"


async def test_wrong_password_is_not_retried(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    with running_smtp(tmp_path, starttls=True, users={"bot": "pa55"}) as server:
        gateway = smtp_gateway(
            make_settings,
            server.port,
            smtp_tls="starttls",
            smtp_user="bot",
            smtp_password="wrong",
            tls_context=server.client_tls,
        )
        with pytest.raises(DeliveryError, match="SMTPAuthenticationError"):
            await gateway.send_email("anna@example.org", "Subject", "Body")
    # one connection (aiosmtplib may try several mechanisms in it), no second try
    assert len(server.auth_sessions) == 1 and set(server.auth_attempts) == {"bot"}
    assert server.messages == []


async def test_starttls_required_but_not_offered(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    with running_smtp(tmp_path) as server:
        gateway = smtp_gateway(make_settings, server.port, smtp_tls="starttls")
        with pytest.raises(DeliveryError):
            await gateway.send_email("anna@example.org", "Subject", "Body")
    assert server.messages == []


async def test_untrusted_certificate_is_refused(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    with running_smtp(tmp_path, starttls=True) as server:
        gateway = smtp_gateway(make_settings, server.port, smtp_tls="starttls")
        with pytest.raises(DeliveryError):
            await gateway.send_email("anna@example.org", "Subject", "Body")
    assert server.messages == []


async def test_smtp_server_down(make_settings: Callable[..., Settings]) -> None:
    gateway = smtp_gateway(make_settings, free_port())
    with pytest.raises(DeliveryError, match="after 3 tries"):
        await gateway.send_email("anna@example.org", "Subject", "Body")


async def test_header_injection_is_refused(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    with running_smtp(tmp_path) as server:
        gateway = smtp_gateway(make_settings, server.port)
        with pytest.raises(DeliveryError):
            await gateway.send_email("anna@example.org\r\nBcc: eve@example.org", "S", "B")
        with pytest.raises(DeliveryError):
            await gateway.send_email("anna@example.org", "S\r\nBcc: eve@example.org", "B")
    assert server.messages == []


async def test_create_gateways_with_smtp(make_settings: Callable[..., Settings]) -> None:
    gateways = create_gateways(make_settings(smtp_host="127.0.0.1", smtp_from="bot@example.org"))
    assert isinstance(gateways.email, SmtpEmailGateway)
    assert isinstance(gateways, Gateways)
    await gateways.aclose()
