"""Delivery of pending updates to a webhook, concurrently the way Telegram's Bot API server does it.

Telegram (tdlib/telegram-bot-api, ``WebhookActor``) keeps up to the webhook's
``max_connections`` requests in flight. Every update belongs to a *queue*: the updates of one
queue are POSTed one after another — the next only once the previous was accepted (2xx) —
while different queues go in parallel, each started in update_id order. The queue of an update
is what the server's ``Client::add_update`` gives it (:func:`queue_key`): the chat for messages
(edits and channel posts too) and for ``my_chat_member``, the user for callback queries, inline
queries, payments and ``chat_member``. An update with no chat and no user has a queue of its own.

A failed POST (a non-2xx answer, a timeout, a connection error) keeps the update pending, shows
the error in getWebhookInfo and retries that update — only it, and so only its queue — after
the next of ``SandboxServer.webhook_retry_delays``. A method the webhook returns in its
response (JSON or multipart) is executed before the next update of the queue is posted.

deleteWebhook and a new setWebhook stop starting requests; the requests already in flight
finish (bounded by ``webhook_timeout``) and settle their update, and no other delivery — the
new webhook, getUpdates — hands out an update while a request for it is in flight. Stopping the
sandbox cancels them; what was not accepted stays pending.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import aiohttp

from sandbox.core import BotState, Params, now
from sandbox.records import Upload, Webhook

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

__all__ = ["deliver", "queue_key"]

#: update type -> (queue family, where its id is): as ``Client::add_update`` in telegram-bot-api
_QUEUES: dict[str, tuple[str, str]] = {
    "message": ("chat", "chat"),
    "edited_message": ("chat", "chat"),
    "channel_post": ("chat", "chat"),
    "edited_channel_post": ("chat", "chat"),
    "inline_query": ("inline_query", "from"),
    "chosen_inline_result": ("chosen_inline_result", "from"),
    "callback_query": ("callback_query", "from"),
    "shipping_query": ("payment", "from"),
    "pre_checkout_query": ("payment", "from"),
    "purchased_paid_media": ("purchased_paid_media", "from"),
    "my_chat_member": ("my_chat_member", "chat"),
    "chat_member": ("member", "new_chat_member.user"),
    "chat_join_request": ("member", "from"),
    "chat_boost": ("boost", "chat"),
    "removed_chat_boost": ("boost", "chat"),
    "message_reaction": ("message_reaction", "chat"),
    "message_reaction_count": ("message_reaction_count", "chat"),
    "business_connection": ("business_connection", "user"),
    "business_message": ("business", "chat"),
    "edited_business_message": ("business", "chat"),
    "deleted_business_messages": ("business", "chat"),
    "poll": ("poll", "id"),
    "poll_answer": ("poll", "poll_id"),
}


def queue_key(update: dict[str, Any]) -> tuple[str, Any] | None:
    """The queue an update is delivered in order with; None: a queue of its own."""
    for kind, (family, path) in _QUEUES.items():
        payload = update.get(kind)
        if not isinstance(payload, dict):
            continue
        value: Any = payload
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, dict):
            value = value.get("id")
        return None if value is None else (family, value)
    return None


async def deliver(srv: SandboxServer, state: BotState, hook: Webhook) -> None:
    """Start POSTs of pending updates to ``hook`` while it is the bot's webhook (its task)."""
    delivery = _Delivery(srv, state, hook)
    while not delivery.stopped():
        for update in await delivery.wait_ready():
            delivery.start(update)


class _Delivery:
    """One webhook's scheduling state: its requests in flight and its updates waiting to retry."""

    def __init__(self, srv: SandboxServer, state: BotState, hook: Webhook):
        self.srv, self.state, self.hook = srv, state, hook
        self.in_flight: set[int] = set()  # update_ids this webhook is posting
        self.attempts: dict[int, int] = {}  # update_id -> failed tries so far
        self.retry_at: dict[int, float] = {}  # update_id -> loop time of the next try
        self.keys: dict[int, tuple[str, Any]] = {}  # update_id -> its queue (looked up once)

    def stopped(self) -> bool:
        return self.srv.closing or self.state.webhook is not self.hook

    async def wait_ready(self) -> list[dict[str, Any]]:
        """Wait until an update can be POSTed (a new one, a free connection, its queue's turn,
        its retry due) or the webhook is gone; the updates to start now."""
        loop = asyncio.get_running_loop()
        wake = self.next_retry(loop.time())
        ready: list[dict[str, Any]] = []

        def can_start() -> bool:
            at = loop.time()
            ready[:] = self.startable(at)
            # a retry scheduled since, or one come due, changes when to wake: look again
            return bool(ready) or self.stopped() or self.next_retry(at) != wake

        await self.srv.notifier.wait_for(can_start, None if wake is None else wake - loop.time())
        return [] if self.stopped() else ready

    def next_retry(self, at: float) -> float | None:
        """The loop time the earliest retry after ``at`` is due (None: none). One already due
        needs no timer: it starts now or when a connection or its queue frees (a notify)."""
        return min((t for t in self.retry_at.values() if t > at), default=None)

    def startable(self, at: float) -> list[dict[str, Any]]:
        """The updates to POST now: the head of each queue that is neither in flight nor waiting
        for its retry, in update_id order, as many as free connections allow."""
        free = self.hook.max_connections - len(self.in_flight)
        if free <= 0:
            return []
        busy = self.state.webhook_posts
        taken: set[tuple[str, Any]] = set()
        ready: list[dict[str, Any]] = []
        for update in sorted(self.state.pending, key=lambda u: int(u["update_id"])):
            update_id = update["update_id"]
            key = self.keys.get(update_id)
            if key is None:
                key = self.keys[update_id] = queue_key(update) or ("update", update_id)
            if key in taken:
                continue  # an earlier update of this queue is not accepted yet
            taken.add(key)
            if update_id in busy or self.retry_at.get(update_id, at) > at:
                continue
            ready.append(update)
            if len(ready) == free:
                break
        return ready

    def start(self, update: dict[str, Any]) -> None:
        update_id = update["update_id"]
        self.retry_at.pop(update_id, None)
        self.in_flight.add(update_id)
        task = asyncio.get_running_loop().create_task(self._post(update))
        self.state.webhook_posts[update_id] = task

    async def _post(self, update: dict[str, Any]) -> None:
        update_id = update["update_id"]
        try:
            error = await _post_update(self.srv, self.state, self.hook, update)
        finally:
            self.in_flight.discard(update_id)
            self.state.webhook_posts.pop(update_id, None)
            self.state.notify()
        if error is None:
            self.attempts.pop(update_id, None)
            self.keys.pop(update_id, None)
            _accepted(self.state, update)
        elif not self.stopped():  # an old webhook's failure: the next delivery tries anew
            self.state.last_error_date = now()
            self.state.last_error_message = error
            delays = self.srv.webhook_retry_delays or (1.0,)
            attempt = self.attempts.get(update_id, 0)
            self.attempts[update_id] = attempt + 1
            delay = delays[min(attempt, len(delays) - 1)]
            self.retry_at[update_id] = asyncio.get_running_loop().time() + delay
        self.state.notify()


def _accepted(state: BotState, update: dict[str, Any]) -> None:
    """The webhook took ``update``: it leaves the queue, and ``delivered_upto`` moves up to just
    below the oldest update still waiting (never past one)."""
    state.pending = [u for u in state.pending if u is not update]
    waiting = [u["update_id"] for u in state.pending if u["update_id"] > state.delivered_upto]
    upto = min(waiting) - 1 if waiting else next(reversed(state.history), update["update_id"])
    state.delivered_upto = max(state.delivered_upto, upto, 0)


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
