"""``python -m sandbox`` serves the API on the given port and prints its base URL."""

import asyncio
import socket
import sys

import aiohttp

from sandbox import random_token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_cli_serves_get_me() -> None:
    port = free_port()
    token = random_token(5_000_000_001)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        str(port),
        "--bot",
        f"{token}=cli_bot",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        url = line.decode().strip()
        assert url == f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http, http.get(f"{url}/bot{token}/getMe") as resp:
            body = await resp.json()
        assert body["result"]["username"] == "cli_bot"
        assert body["result"]["id"] == 5_000_000_001
    finally:
        proc.terminate()
        await proc.wait()
