"""E-mail over SMTP with aiosmtplib (enabled when SMTP_HOST and SMTP_FROM are set).

SMTP_TLS: `starttls` (port 587: plain connection upgraded with STARTTLS, required),
`tls` (port 465: TLS from the first byte) or `none` (a trusted local relay only).
SMTP_USER / SMTP_PASSWORD log in when set. One connection per message (codes are rare).

Connection problems, timeouts and temporary (4xx) SMTP answers are retried with exponential
backoff (`tries` in all, 3 by default; SMTP_TIMEOUT bounds each try). Permanent (5xx)
answers — bad credentials, a refused recipient — are not retried. DeliveryError after the
last try. The body (it carries a code) is never logged.
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from bot.config import Settings
from bot.integrations import DeliveryError, Retryable, with_retries

log = logging.getLogger("kabinet.delivery.smtp")


def mask_email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def _is_temporary(exc: aiosmtplib.SMTPException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(400 <= r.code < 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    # disconnected, connect errors, timeouts: the server may be back in a moment
    return isinstance(
        exc,
        aiosmtplib.SMTPServerDisconnected
        | aiosmtplib.SMTPConnectError
        | aiosmtplib.SMTPTimeoutError,
    )


class SmtpEmailGateway:
    def __init__(
        self,
        settings: Settings,
        *,
        tries: int = 3,
        backoff_s: float = 1.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if not (settings.smtp_host and settings.smtp_from):
            raise ValueError("e-mail needs SMTP_HOST and SMTP_FROM")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.sender = settings.smtp_from
        self.user = settings.smtp_user or None
        self._password = settings.smtp_password
        self.tls = settings.smtp_tls
        self.timeout = settings.smtp_timeout
        self.tries = tries
        self.backoff_s = backoff_s
        self.tls_context = tls_context  # tests trust their self-signed certificate with it

    def build(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()  # policy=default: UTF-8 headers/body, no CR/LF injection
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.sender.rpartition("@")[2].strip("> ") or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(body, charset="utf-8")
        return message

    async def _send_once(self, message: EmailMessage) -> None:
        password = self._password.get_secret_value() if self._password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.user,
                password=password if self.user else None,
                use_tls=self.tls == "tls",
                start_tls=self.tls == "starttls",
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPException as exc:
            if _is_temporary(exc):
                raise Retryable(type(exc).__name__) from None
            raise
        except (OSError, TimeoutError) as exc:
            raise Retryable(type(exc).__name__) from None

    async def send_email(self, to: str, subject: str, body: str) -> None:
        masked = mask_email(to)
        try:
            message = self.build(to, subject, body)
        except (ValueError, TypeError) as exc:
            raise DeliveryError(f"the message cannot be built: {exc}") from None
        try:
            await with_retries(
                lambda: self._send_once(message),
                tries=self.tries,
                backoff_s=self.backoff_s,
                what="SMTP",
                to=masked,
                logger=log,
            )
        except aiosmtplib.SMTPException as exc:
            log.error("e-mail to %s refused: %s", masked, type(exc).__name__)
            raise DeliveryError(f"SMTP refused the message: {type(exc).__name__}") from None
        log.info("e-mail to %s handed over", masked)

    async def aclose(self) -> None:
        """Nothing is kept open between messages."""
        return None
