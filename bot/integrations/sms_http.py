"""A generic HTTP SMS gateway (SMS_PROVIDER=http), configured entirely from settings.

SMS_HTTP_URL       where to send; may hold {phone} and {text} (URL-encoded there)
SMS_HTTP_METHOD    POST (the body is SMS_HTTP_BODY) or GET (SMS_HTTP_BODY, if any, becomes
                   the query string, so write it as `to={phone}&msg={text}`)
SMS_HTTP_AUTH_HEADER  the whole Authorization header value, e.g. `Bearer abc…` (secret)
SMS_HTTP_BODY      a template with {phone} and {text}; values are JSON-escaped when the
                   content type is JSON, URL-encoded when it is a form (or a GET), raw otherwise
SMS_HTTP_CONTENT_TYPE, SMS_HTTP_TIMEOUT (seconds per try), SMS_HTTP_RETRIES (tries in all)

Network errors, timeouts, 5xx and 429 are retried with exponential backoff; other 4xx are
not (the request is wrong; trying again would not help). DeliveryError after the last try.
The SMS text (it carries a code) and the auth header are never logged: only the masked
phone and the HTTP status.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, quote_plus

import aiohttp

from bot.config import Settings
from bot.integrations import DeliveryError, Retryable, with_retries
from bot.services.phones import mask_phone

log = logging.getLogger("kabinet.delivery.sms")

PHONE, TEXT = "{phone}", "{text}"


def _encoder(content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return "json"
    if kind == "application/x-www-form-urlencoded":
        return "form"
    return "raw"


def _escape(value: str, how: str) -> str:
    if how == "json":
        return json.dumps(value, ensure_ascii=False)[1:-1]
    if how == "form":
        return quote_plus(value, safe="")
    if how == "url":
        return quote(value, safe="")
    return value


def render(template: str, *, phone: str, text: str, how: str) -> str:
    """Fill {phone} and {text} in one pass (a text containing "{phone}" stays as it is)."""
    out: list[str] = []
    i = 0
    while i < len(template):
        if template.startswith(PHONE, i):
            out.append(_escape(phone, how))
            i += len(PHONE)
        elif template.startswith(TEXT, i):
            out.append(_escape(text, how))
            i += len(TEXT)
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def render_url(url: str, *, phone: str, text: str) -> str:
    url = url.replace("%7Bphone%7D", PHONE).replace("%7Btext%7D", TEXT)
    return render(url, phone=phone, text=text, how="url")


class HttpSmsGateway:
    """One aiohttp session per gateway (opened on first use); close it with `aclose()`."""

    def __init__(self, settings: Settings, *, backoff_s: float = 0.5) -> None:
        if settings.sms_http_url is None:
            raise ValueError("SMS_PROVIDER=http needs SMS_HTTP_URL")
        self.url = str(settings.sms_http_url)
        self.method = settings.sms_http_method
        self.body = settings.sms_http_body
        self.content_type = settings.sms_http_content_type
        self._auth = settings.sms_http_auth_header
        self.timeout = aiohttp.ClientTimeout(total=settings.sms_http_timeout)
        self.tries = settings.sms_http_retries
        self.backoff_s = backoff_s
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def _request(self, phone: str, text: str) -> tuple[str, dict[str, str], bytes | None]:
        url = render_url(self.url, phone=phone, text=text)
        headers: dict[str, str] = {}
        if self._auth is not None:
            headers["Authorization"] = self._auth.get_secret_value()
        if self.method == "GET":
            if self.body.strip() and (PHONE in self.body or TEXT in self.body):
                query = render(self.body, phone=phone, text=text, how="form")
                url += ("&" if "?" in url else "?") + query
            return url, headers, None
        headers["Content-Type"] = self.content_type
        data = render(self.body, phone=phone, text=text, how=_encoder(self.content_type))
        return url, headers, data.encode("utf-8")

    async def _try_once(self, url: str, headers: dict[str, str], data: bytes | None) -> int:
        try:
            async with self._client().request(
                self.method, url, headers=headers, data=data
            ) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Retryable(type(exc).__name__) from None
        if status == 429 or status >= 500:
            raise Retryable(f"HTTP {status}")
        return status

    async def send_sms(self, phone: str, text: str) -> None:
        masked = mask_phone(phone)
        url, headers, data = self._request(phone, text)
        status = await with_retries(
            lambda: self._try_once(url, headers, data),
            tries=self.tries,
            backoff_s=self.backoff_s,
            what="SMS gateway",
            to=masked,
            logger=log,
        )
        if not 200 <= status < 300:
            log.error("SMS to %s refused by the gateway: HTTP %d", masked, status)
            raise DeliveryError(f"SMS gateway refused the message: HTTP {status}")
        log.info("SMS to %s handed over: HTTP %d", masked, status)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
