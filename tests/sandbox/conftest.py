import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from sandbox import Sandbox


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


def make_bot(sandbox: Sandbox, token: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    return Bot(token or sandbox.token, session=session)


@pytest.fixture
async def bot(sb: Sandbox) -> AsyncIterator[Bot]:
    client = make_bot(sb)
    yield client
    await client.session.close()


async def read_event(response: aiohttp.ClientResponse, timeout: float = 5) -> tuple[str, Any]:
    """The next server-sent event of a stream: (event name, its JSON data)."""
    event = ""
    while True:
        line = (await asyncio.wait_for(response.content.readline(), timeout)).decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            return event, json.loads(line[6:])
