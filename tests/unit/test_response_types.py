"""aiogram reads answers with pydantic models that pydantic keeps only weakly: the bot keeps
the ones it used, so the garbage collector cannot make it build them again mid-update."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.methods import Response
from aiogram.types import Message

from bot.app import create_bot
from bot.config import Settings
from sandbox.testing import Sandbox


@pytest.fixture
async def bot(make_settings: object) -> AsyncIterator[tuple[Bot, Sandbox]]:
    async with Sandbox() as sb:
        settings: Settings = make_settings(  # type: ignore[operator]
            bot_token=sb.token, telegram_api_url=sb.url
        )
        production = create_bot(settings)
        yield production, sb
        await production.session.close()


async def test_the_model_an_answer_was_read_with_outlives_a_garbage_collection(
    bot: tuple[Bot, Sandbox],
) -> None:
    production, sb = bot
    user = sb.user("Анна")
    await user.send("/start")  # the chat exists: the bot may write to it
    sent = await production.send_message(user.id, "Добрый день")
    assert sent.text == "Добрый день"
    model = weakref.ref(Response[Message])
    gc.collect()
    assert model() is not None, "Response[Message] was collected: the next answer rebuilds it"
    assert Response[Message] is model()
