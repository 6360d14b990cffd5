"""Getting updates: long polling (getUpdates) and the webhook (set, delete, info). The delivery of
pending updates to a webhook — concurrent up to ``max_connections``, in order per chat — is
:mod:`sandbox.delivery`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.core import ApiError, BotState, Params, api_method, bad
from sandbox.records import Webhook

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

#: setWebhook's max_connections: the default and the most Telegram allows (it clamps to 1..100)
DEFAULT_MAX_CONNECTIONS = 40
MAX_CONNECTIONS = 100
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
    if st.webhook_posts:  # a deleted webhook's requests in flight settle their updates first
        await srv.notifier.wait_for(
            lambda: not st.webhook_posts or srv.closing, srv.webhook_timeout
        )
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
        max_connections=_max_connections(p),
        allowed_updates=[str(a) for a in allowed] if isinstance(allowed, list) else None,
        generation=st._webhook_generation,
    )
    st.last_error_date = None
    st.last_error_message = None
    srv.start_webhook(st, hook)
    return True


def _max_connections(p: Params) -> int:
    """Like Telegram (Client::get_webhook_max_connections): 40 when not given, and a value out of
    1..100 is brought into it rather than refused."""
    value = p.integer("max_connections")
    return DEFAULT_MAX_CONNECTIONS if value is None else max(1, min(MAX_CONNECTIONS, value))


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
