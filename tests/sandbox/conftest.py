from collections.abc import AsyncIterator

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
