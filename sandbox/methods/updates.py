"""Getting updates: long polling (getUpdates), the webhook (set, delete, info) and the delivery
of pending updates to a webhook."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import aiohttp

from sandbox.core import ApiError, BotState, Params, api_method, bad, now
from sandbox.records import Upload, Webhook

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@api_method("getUpdates", recorded=False)
async def get_updates(srv: SandboxServer, st: BotState, p: Params) -> Any:
    if st.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    st.polling_seen = True
    st.poll_generation += 1
    generation = st.poll_generation
    offset = p.integer("offset")
    limit = max(1, min(100, p.integer("limit") or 100))
    timeout = max(0.0, p.number("timeout") or 0.0)
    allowed = p.json("allowed_updates")
    if isinstance(allowed, list):
        st.allowed_updates = [str(a) for a in allowed]
    if offset is not None:
        if offset < 0:
            st.pending = st.pending[offset:]
        else:
            st.pending = [u for u in st.pending if u["update_id"] >= offset]
    st.notify()

    def ready() -> bool:
        return (
            bool(st.pending)
            or srv.closing
            or st.poll_generation != generation
            or st.webhook is not None
        )

    await srv.notifier.wait_for(ready, timeout)
    if st.poll_generation != generation:
        raise ApiError(409, CONFLICT_POLLING)
    if st.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    batch = st.pending[:limit]
    if batch:
        st.delivered_upto = max(st.delivered_upto, batch[-1]["update_id"])
        st.notify()
    return batch


def _webhook_description(state: BotState, p: Params) -> str:
    return "Webhook was set" if state.webhook else "Webhook was deleted"


def _webhook_deleted(state: BotState, p: Params) -> str:
    return "Webhook was deleted"


@api_method("setWebhook", describe=_webhook_description)
async def set_webhook(srv: SandboxServer, st: BotState, p: Params) -> Any:
    url = (p.string("url") or "").strip()
    if p.flag("drop_pending_updates"):
        st.pending.clear()
    if not url:
        srv.stop_webhook(st)
        return True
    if not re.match(r"^https?://[^/\s]+", url):
        raise bad("bad webhook: HTTPS url must be provided for webhook")
    secret = p.string("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad("secret token contains unallowed characters")
    allowed = p.json("allowed_updates")
    st._webhook_generation += 1
    hook = Webhook(
        url=url,
        secret_token=secret or None,
        max_connections=p.integer("max_connections") or 40,
        allowed_updates=[str(a) for a in allowed] if isinstance(allowed, list) else None,
        generation=st._webhook_generation,
    )
    st.last_error_date = None
    st.last_error_message = None
    srv.start_webhook(st, hook)
    return True


@api_method("deleteWebhook", describe=_webhook_deleted)
async def delete_webhook(srv: SandboxServer, st: BotState, p: Params) -> Any:
    if p.flag("drop_pending_updates"):
        st.pending.clear()
    srv.stop_webhook(st)
    return True


@api_method("getWebhookInfo", recorded=False)
async def get_webhook_info(srv: SandboxServer, st: BotState, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": st.webhook.url if st.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(st.pending),
    }
    if st.webhook is not None:
        info["max_connections"] = st.webhook.max_connections
        info["ip_address"] = "127.0.0.1"
        if st.webhook.allowed_updates is not None:
            info["allowed_updates"] = st.webhook.allowed_updates
    if st.last_error_date is not None:
        info["last_error_date"] = st.last_error_date
        info["last_error_message"] = st.last_error_message
    return info


# --------------------------------------------------------------------------- webhook delivery


async def deliver(srv: SandboxServer, state: BotState, hook: Webhook) -> None:
    """POST pending updates to the webhook one at a time, in order, retrying with backoff."""
    attempt = 0
    while not srv.closing and state.webhook is hook:
        await srv.notifier.wait_for(
            lambda: bool(state.pending) or srv.closing or state.webhook is not hook, None
        )
        if srv.closing or state.webhook is not hook:
            return
        update = state.pending[0]
        error = await _post_update(srv, state, hook, update)
        if error is None:
            attempt = 0
            state.pending = [u for u in state.pending if u["update_id"] != update["update_id"]]
            state.delivered_upto = max(state.delivered_upto, update["update_id"])
            state.notify()
            continue
        state.last_error_date = now()
        state.last_error_message = error
        state.notify()
        delays = srv.webhook_retry_delays or (1.0,)
        delay = delays[min(attempt, len(delays) - 1)]
        attempt += 1
        await srv.notifier.wait_for(lambda: srv.closing or state.webhook is not hook, timeout=delay)


async def _post_update(
    srv: SandboxServer, state: BotState, hook: Webhook, update: dict[str, Any]
) -> str | None:
    """POST one update; None when the webhook took it, else the error getWebhookInfo shows."""
    headers = {"Content-Type": "application/json"}
    if hook.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
    try:
        async with srv.client().post(
            hook.url,
            data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=srv.webhook_timeout),
        ) as resp:
            if not 200 <= resp.status < 300:
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
            reply = await _read_webhook_reply(resp)
    except TimeoutError:
        return "Read timeout expired"
    except aiohttp.ClientConnectorError:
        return "Connection refused"
    except aiohttp.ClientError as exc:
        return f"Connection error: {exc}"
    if reply is not None and isinstance(reply.fields.get("method"), str):
        method = str(reply.fields.pop("method"))
        await srv.call(state, method, reply)
    return None


async def _read_webhook_reply(resp: aiohttp.ClientResponse) -> Params | None:
    """A bot may answer a webhook request with a method call (JSON or multipart)."""
    ctype = resp.content_type
    if ctype == "application/json":
        try:
            body = await resp.json()
        except ValueError:
            return None
        return Params(body) if isinstance(body, dict) else None
    if ctype.startswith("multipart/"):
        fields: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        reader = aiohttp.MultipartReader.from_response(resp)
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                continue
            payload = await part.read()
            if part.filename:
                files[part.name] = Upload(bytes(payload), part.filename, None)
            else:
                fields[part.name] = bytes(payload).decode("utf-8", "replace")
        return Params(fields, files)
    return None
