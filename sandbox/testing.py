"""Test-side helpers: start a sandbox, create users and groups, act as them, assert on the bot.

    async with Sandbox() as sb:
        alice = sb.user(first_name="Alice", phone="+79161234567")
        await alice.send("/start")
        msg = await alice.next_message()
        await alice.press("Согласен", message=msg)

Everything runs in the caller's event loop; waits are event-driven (no sleeping loops).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

from sandbox.actors import Group, User
from sandbox.control import Control
from sandbox.core import BotState
from sandbox.limits import TELEGRAM_GROUP, TELEGRAM_PRIVATE, RateLimits, Window
from sandbox.media import make_png
from sandbox.methods.profile import scope_key
from sandbox.records import FAULT_KINDS, ApiCall, FaultRule, FloodRule, GroupRecord, UserRecord
from sandbox.server import SandboxServer
from sandbox.views import BotMessage, CallbackAnswer, FileInfo, SandboxError, SandboxMessage

__all__ = [
    "ApiCall",
    "BotMessage",
    "CallbackAnswer",
    "FileInfo",
    "Group",
    "Sandbox",
    "SandboxError",
    "SandboxMessage",
    "User",
    "make_png",
    "random_token",
]


def random_token(bot_id: int | None = None) -> str:
    """A syntactically valid bot token: ``<digits>:<35 chars>``."""
    if bot_id is None:
        bot_id = 6_000_000_000 + secrets.randbelow(999_999_999)
    return f"{bot_id}:AA{secrets.token_urlsafe(33)[:33]}"


class Sandbox:
    """Runs a :class:`SandboxServer` on 127.0.0.1 for the duration of a test."""

    def __init__(
        self,
        *,
        token: str | None = None,
        username: str = "kabinet_test_bot",
        first_name: str = "Kabinet",
        privacy_mode: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_timeout: float = 15.0,
        webhook_retry_delays: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0),
    ):
        self.server = SandboxServer(
            host,
            port,
            callback_timeout=callback_timeout,
            webhook_retry_delays=webhook_retry_delays,
        )
        self.token = token or random_token()
        self.server.register_bot(
            self.token, username=username, first_name=first_name, privacy_mode=privacy_mode
        )
        self.state = self.server.bot(self.token)
        #: the HTTP control endpoints (``/_control/...``, docs/sandbox.md): users over HTTP
        self.control = Control(self)
        self.control.mount(self.server.app)

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    @property
    def url(self) -> str:
        """Base URL for ``TelegramAPIServer.from_base`` (TELEGRAM_API_URL)."""
        return self.server.url

    @property
    def bot_id(self) -> int:
        return self.state.info.id

    @property
    def bot_username(self) -> str:
        return self.state.info.username

    def new_token(
        self,
        *,
        username: str | None = None,
        first_name: str = "Kabinet",
        privacy_mode: bool = True,
    ) -> str:
        """Register another bot; returns its token."""
        token = random_token()
        info = self.server.register_bot(
            token,
            username=username or f"kabinet_test_{len(self.server.registry)}_bot",
            first_name=first_name,
            privacy_mode=privacy_mode,
        )
        self.server.bot(info.token)
        return token

    def bot_state(self, bot: str | None = None) -> BotState:
        return self.state if bot is None else self.server.bot(bot)

    def user(
        self,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
        id: int | None = None,
        bot: str | None = None,
    ) -> User:
        """A user; the same ``id`` may be reused to get a handle for another bot (``bot=``)."""
        existing = self.server.users.get(id) if id is not None else None
        if existing is not None and not existing.is_bot:
            record = existing
        else:
            record = self.server.add_user(
                UserRecord(
                    id=id if id is not None else self.server.next_user_id(),
                    first_name=first_name,
                    last_name=last_name,
                    username=username,
                    language_code=language_code,
                    phone=phone,
                )
            )
        return User(self, self.bot_state(bot), record)

    def supergroup(
        self,
        title: str = "Group",
        *,
        is_forum: bool = False,
        id: int | None = None,
        username: str | None = None,
        bot: str | None = None,
    ) -> Group:
        """A supergroup with a -100... id; the bot is not in it until add_member(bot=True)."""
        record = self.server.groups.get(id) if id is not None else None
        if record is None:
            record = GroupRecord(
                id=id if id is not None else self.server.next_group_id(),
                title=title,
                is_forum=is_forum,
                username=username,
            )
            self.server.groups[record.id] = record
        return Group(self, self.bot_state(bot), record)

    def simulate_flood(
        self,
        method: str,
        *,
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | None = None,
        bot: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (optionally to ``chat_id``) answer 429."""
        self.bot_state(bot).flood.append(FloodRule(method, retry_after, times, chat_id))

    def enforce_limits(
        self,
        *,
        per_second: float = 30.0,
        private: Window | None = TELEGRAM_PRIVATE,
        group: Window | None = TELEGRAM_GROUP,
        bot: str | None = None,
    ) -> RateLimits:
        """Answer 429 like Telegram when the bot sends faster than its flood limits: over
        ``per_second`` overall, over a burst of 3 within a second to one private chat, over 20
        a minute to one group (sandbox/limits.py). Returns the limiter (``refused`` counts the
        429s); ``bot_state().rate_limits = None`` turns it off."""
        limits = RateLimits(per_second, private=private, group=group)
        self.bot_state(bot).rate_limits = limits
        return limits

    def inject_fault(
        self,
        method: str = "*",
        *,
        kind: str = "error",
        times: int = 1,
        chat_id: int | None = None,
        status: int = 502,
        delay: float = 30.0,
        bot: str | None = None,
    ) -> FaultRule:
        """The next ``times`` calls of ``method`` fail as ``kind`` says (sandbox.records.FaultRule:
        error, timeout, drop, drop_after, delay)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        rule = FaultRule(method.lower(), kind, times, chat_id, status, delay)
        self.bot_state(bot).faults.append(rule)
        return rule

    def redeliver(self, update_id: int | None = None, *, bot: str | None = None) -> dict[str, Any]:
        """Telegram sends an update again (it thinks the first delivery failed): the same
        update_id goes back into the queue. Default: the last update of the bot."""
        state = self.bot_state(bot)
        if not state.history:
            raise KeyError("no update was sent yet")
        key = next(reversed(state.history)) if update_id is None else update_id
        if key not in state.history:
            raise KeyError(f"no update {key}")
        update = state.history[key]
        copy = json.loads(json.dumps(update))
        state.pending.append(copy)
        state.notify()
        return copy

    def limit_flood(
        self, per_second: int = 30, per_chat: float = 1.0, *, bot: str | None = None
    ) -> RateLimits:
        """Refuse with 429 what goes over Telegram's limits as a strict rate: ``per_second``
        messages in any second, one a ``per_chat`` seconds in any chat (sandbox/limits.py,
        ``RateLimits.one_per_chat``); returns the limiter, whose counters (accepted, refused,
        first, last) give the rate the sandbox saw."""
        limits = RateLimits.one_per_chat(per_second, per_chat)
        self.bot_state(bot).rate_limits = limits
        return limits

    def sent(
        self,
        chat_id: int | None = None,
        method: str | None = None,
        *,
        ok: bool | None = None,
        bot: str | None = None,
    ) -> list[ApiCall]:
        """Recorded bot calls (all but getUpdates/getWebhookInfo), oldest first, failed too."""
        return list(self._calls(chat_id, method, ok, bot))

    def _calls(
        self, chat_id: int | None, method: str | None, ok: bool | None, bot: str | None
    ) -> Iterator[ApiCall]:
        for call in self.bot_state(bot).calls:
            if method is not None and call.method.lower() != method.lower():
                continue
            if chat_id is not None and call.chat_id != chat_id:
                continue
            if ok is not None and call.ok != ok:
                continue
            yield call

    async def wait_for_call(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        timeout: float = 10.0,
        bot: str | None = None,
    ) -> ApiCall:
        """The first recorded call of ``method`` (waits for it if none was made yet)."""
        ok = await self.server.notifier.wait_for(
            lambda: next(self._calls(chat_id, method, None, bot), None) is not None, timeout
        )
        call = next(self._calls(chat_id, method, None, bot), None)
        if not ok or call is None:
            raise SandboxError(f"the bot made no {method} call within {timeout}s")
        return call

    async def wait_until_receiving(self, timeout: float = 15.0, bot: str | None = None) -> None:
        """Wait until the bot polls getUpdates or has a webhook set (i.e. it is up)."""
        state = self.bot_state(bot)
        ok = await self.server.notifier.wait_for(
            lambda: state.polling_seen or state.webhook is not None, timeout
        )
        if not ok:
            raise SandboxError(f"the bot neither polled nor set a webhook within {timeout}s")

    async def wait_delivered(self, timeout: float = 10.0, bot: str | None = None) -> None:
        """Wait until every pending update was handed to the bot."""
        state = self.bot_state(bot)
        if not await self.server.notifier.wait_for(state.all_delivered, timeout):
            raise SandboxError(f"{len(state.pending)} update(s) not delivered within {timeout}s")

    def commands(
        self,
        *,
        scope: dict[str, Any] | None = None,
        language_code: str = "",
        bot: str | None = None,
    ) -> list[dict[str, Any]]:
        """Commands the bot set with setMyCommands for this scope and language."""
        return list(self.bot_state(bot).commands.get((scope_key(scope), language_code), []))

    def _diagnostics(self, state: BotState, chat_id: int) -> str:
        failed = [c for c in state.calls if not c.ok and c.chat_id in (chat_id, None)][-5:]
        lines = [f"\n  {c.method} -> {c.error_code} {c.error}" for c in failed]
        if not state.polling_seen and state.webhook is None:
            lines.append("\n  (the bot never called getUpdates nor set a webhook)")
        elif state.pending:
            lines.append(f"\n  ({len(state.pending)} update(s) still pending for the bot)")
        return ("; failed calls:" if failed else "") + "".join(lines)
