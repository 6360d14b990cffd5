"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, optionally STARTTLS/TLS and AUTH.

with running_smtp(tmp_path, starttls=True, users={"bot": "secret"}) as server:
    ... SmtpEmailGateway(settings, tls_context=server.client_tls) ...
    server.messages[0].message["Subject"]
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (openssl; `cryptography` is not installed)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    auth_attempts: list[str] = field(default_factory=list)
    auth_sessions: list[Any] = field(default_factory=list)  # one per connection that logged in
    client_tls: ssl.SSLContext | None = None  # trusts the server's self-signed certificate


class _Recorder:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.server.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, login)
        )
        return "250 OK"


@contextmanager
def running_smtp(
    folder: Path,
    *,
    starttls: bool = False,
    implicit_tls: bool = False,
    users: dict[str, str] | None = None,
) -> Iterator[SmtpServer]:
    server = SmtpServer(host="127.0.0.1", port=free_port())
    kwargs: dict[str, Any] = {}
    ssl_context = None
    if starttls or implicit_tls:
        cert, key = self_signed_cert(folder)
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(cert, key)
        server.client_tls = ssl.create_default_context(cafile=str(cert))
        if starttls:
            kwargs.update(tls_context=server_tls, require_starttls=True)
        else:
            ssl_context = server_tls
    if users is not None:

        def authenticator(
            smtp: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
        ) -> AuthResult:
            if not isinstance(auth_data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login = auth_data.login.decode()
            server.auth_attempts.append(login)
            if not any(seen is session for seen in server.auth_sessions):
                server.auth_sessions.append(session)
            ok = users.get(login) == auth_data.password.decode()
            return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

        kwargs.update(
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=starttls or implicit_tls,
        )
    controller = Controller(
        _Recorder(server),
        hostname=server.host,
        port=server.port,
        ssl_context=ssl_context,
        server_hostname="127.0.0.1",
        **kwargs,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
