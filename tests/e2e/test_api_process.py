"""The billing API as the operators run it: `run_bot.py serve-api` alone, over real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.services.billing import Kind
from tests.e2e.conftest import ROOT, free_port
from tests.support.billing_files import account, csv_text, supplier

pytestmark = pytest.mark.e2e
TOKEN = "api-token-for-the-e2e-test"


async def _wait_healthy(http: aiohttp.ClientSession, url: str, proc, log: Path) -> None:
    for _ in range(300):
        if proc.returncode is not None:
            raise AssertionError(f"serve-api exited {proc.returncode}: {log.read_text()}")
        try:
            async with http.get(f"{url}/healthz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"serve-api did not come up: {log.read_text()}")


async def test_serve_api_alone(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'api.db'}",
        ADMIN_API_TOKEN=TOKEN,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
    )
    env.pop("BOT_TOKEN", None)  # the API needs no bot
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "run_bot.py"), "serve-api",
            cwd=str(tmp_path), env=env, stdout=out, stderr=out,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await _wait_healthy(http, url, proc, log)
            async with http.get(f"{url}/healthz") as r:
                assert (await r.json())["database"] == "ok"
            body = csv_text(Kind.SUPPLIERS, [supplier()])
            async with http.post(
                f"{url}/api/v1/import/suppliers", data=body, headers={"Content-Type": "text/csv"}
            ) as r:
                assert r.status == 401  # no token: nothing touched
            auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
            async with http.post(f"{url}/api/v1/import/suppliers", data=body, headers=auth) as r:
                assert r.status == 200 and (await r.json())["inserted"] == 1
            body = csv_text(Kind.ACCOUNTS, [account()])
            async with http.post(f"{url}/api/v1/import/accounts", data=body, headers=auth) as r:
                assert r.status == 200 and (await r.json())["inserted"] == 1
            async with http.post(f"{url}/api/v1/import/accounts", data=body, headers=auth) as r:
                assert (await r.json())["unchanged"] == 1  # again: nothing changes
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
    assert code == 0, log.read_text()
