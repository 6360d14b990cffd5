"""End to end: the real bot process (`python run_bot.py run`) against sandbox/ over HTTP.

One sandbox and one bot process per module and mode (long polling, webhook); each test plays
its own residents, so tests stay independent while the process start is paid once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from sandbox.testing import Group, Sandbox, User

ROOT = Path(__file__).resolve().parents[2]
STAFF_GROUP_ID = -1009876543210


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BotProcess:
    """The bot as a child process, started and stopped like in production."""

    env: dict[str, str]
    log_path: Path
    web_port: int
    proc: asyncio.subprocess.Process | None = None
    starts: int = field(default=0)

    async def start(self, timeout: float = 30.0) -> None:
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "run_bot.py"),
            "run",
            cwd=str(ROOT),
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        self.starts += 1
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(
                        f"the bot exited with {self.proc.returncode}:\n{self.log()}"
                    )
                try:
                    async with http.get(f"http://127.0.0.1:{self.web_port}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"the bot did not come up in {timeout}s:\n{self.log()}")
                await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return int(self.proc.returncode or 0)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-6000:]


@dataclass
class World:
    """What an end-to-end test plays with."""

    sb: Sandbox
    bot: BotProcess
    mode: str
    database_url: str
    staff: Group
    operator: User

    def resident(
        self, first_name: str = "Анна", *, language_code: str = "ru", phone: str | None = None
    ) -> User:
        if phone is None:
            phone = "+7916" + "".join(secrets.choice("0123456789") for _ in range(7))
        return self.sb.user(first_name, language_code=language_code, phone=phone)


def bot_env(sb: Sandbox, tmp: Path, mode: str, web_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    env.update(
        BOT_TOKEN=sb.token,
        TELEGRAM_API_URL=sb.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'kabinet.db'}",
        STAFF_CHAT_ID=str(STAFF_GROUP_ID),
        DEFAULT_LOCALE="ru",
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(web_port),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.pop("REDIS_URL", None)
    if mode == "webhook":
        env["WEBHOOK_URL"] = f"http://127.0.0.1:{web_port}/tg/webhook"
        env["WEBHOOK_SECRET"] = secrets.token_urlsafe(24)
    env.update(extra)
    return env


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["polling", "webhook"])
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    mode: str = request.param
    tmp = tmp_path_factory.mktemp(f"e2e-{mode}")
    async with Sandbox() as sb:
        staff = sb.supergroup("Операторы", is_forum=True, id=STAFF_GROUP_ID)
        operator = sb.user("Ольга", language_code="ru")
        staff.add_member(bot=True, status="administrator")
        staff.add_member(operator, status="administrator")
        port = free_port()
        # a test module may set BOT_ENV = {"NAME": "value"} for its bot process
        env = bot_env(sb, tmp, mode, port, **dict(getattr(request.module, "BOT_ENV", {})))
        process = BotProcess(env=env, log_path=tmp / "bot.log", web_port=port)
        await process.start()
        await sb.wait_until_receiving()
        try:
            yield World(sb, process, mode, env["DATABASE_URL"], staff, operator)
        finally:
            code = await process.stop()
            if code not in (0, -signal.SIGTERM):
                print(process.log())
            assert code in (0, -signal.SIGTERM), f"the bot exited with {code}"
