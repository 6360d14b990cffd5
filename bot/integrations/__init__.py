"""Delivery of codes and mail to the outside world, behind Protocols.

`create_gateways(settings)` picks the implementations; tests pass their own or point the
real ones at local servers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.config import Settings

log = logging.getLogger("kabinet.delivery")


class DeliveryError(Exception):
    """The message could not be handed over (after retries)."""


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
