"""Delivery of codes and mail to the outside world, behind Protocols.

`create_gateways(settings)` picks the implementations; tests pass their own or point the
real ones at local servers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.config import Settings

log = logging.getLogger("kabinet.delivery")


class DeliveryError(Exception):
    """The message could not be handed over (after retries)."""


class Retryable(Exception):
    """A failure worth another try: network, timeout, HTTP 5xx/429, SMTP 4xx."""


T = TypeVar("T")


async def with_retries(
    send: Callable[[], Awaitable[T]],
    *,
    tries: int,
    backoff_s: float,
    what: str,
    to: str,
    logger: logging.Logger,
) -> T:
    """Call `send` until it succeeds or fails for good; exponential backoff between tries.

    Only `Retryable` is tried again; after the last try it becomes `DeliveryError`. `to` is
    the masked recipient, the only part of the message that is logged.
    """
    done = 0
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(tries),
            wait=wait_exponential(multiplier=backoff_s, max=30 * backoff_s),
            retry=retry_if_exception_type(Retryable),
            reraise=True,
        ):
            with attempt:
                done += 1
                try:
                    return await send()
                except Retryable as exc:
                    logger.warning("%s to %s: try %d failed (%s)", what, to, done, exc)
                    raise
    except Retryable as exc:
        logger.error("%s to %s not sent after %d tries (%s)", what, to, done, exc)
        raise DeliveryError(f"{what} failed after {done} tries: {exc}") from None
    raise AssertionError("unreachable")  # pragma: no cover


class SmsGateway(Protocol):
    async def send_sms(self, phone: str, text: str) -> None: ...


class EmailGateway(Protocol):
    async def send_email(self, to: str, subject: str, body: str) -> None: ...


class LogSmsGateway:
    """Development delivery: the SMS text goes to the log (codes included, on purpose)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_sms(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))
        log.warning("SMS to %s (SMS_PROVIDER=log, not really sent): %s", phone, text)


@dataclass
class Gateways:
    sms: SmsGateway
    email: EmailGateway | None = None

    async def aclose(self) -> None:
        """Close what the gateways keep open (the HTTP SMS gateway's session)."""
        for gateway in (self.sms, self.email):
            close = getattr(gateway, "aclose", None)
            if close is not None:
                await close()


def create_gateways(settings: Settings) -> Gateways:
    sms: SmsGateway
    if settings.sms_provider == "http":
        from bot.integrations.sms_http import HttpSmsGateway

        sms = HttpSmsGateway(settings)
    else:
        sms = LogSmsGateway()
    email: EmailGateway | None = None
    if settings.email_enabled:
        from bot.integrations.smtp import SmtpEmailGateway

        email = SmtpEmailGateway(settings)
    return Gateways(sms=sms, email=email)
