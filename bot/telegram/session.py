"""The HTTP session our Bots talk to the Bot API with: JSON bodies unless a file is uploaded.

aiogram's `AiohttpSession` sends every call as an HTML form: each parameter dumped to JSON
on its own, then the whole body percent-encoded in Python, byte by byte — for a Russian
balance text of 1–2 KB that is a few thousand `%D0%B1`s per message. The Bot API takes
`application/json` for any call that uploads no file ("Making requests",
https://core.telegram.org/bots/api#making-requests), so `JsonAiohttpSession` dumps the
parameters once as one JSON object; a call with an `InputFile` (a receipt PDF, a chart)
goes as multipart form data exactly as aiogram sends it. Answers, errors and timeouts are
aiogram's own: only how the body is built differs. Measured on the latency benchmark
(bench/README.md, "Fourth pass").
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

JSON_HEADERS = {"Content-Type": "application/json"}


class JsonAiohttpSession(AiohttpSession):
    """`AiohttpSession` sending JSON bodies; multipart only when a file is uploaded."""

    def parameters(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any] | None:
        """The call's parameters, JSON-ready (the bot's defaults such as parse_mode filled
        in; unset and empty ones left out, as the form leaves them out), or None when the
        call uploads a file."""
        files: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":
                continue
            payload[key] = prepared
        return None if files else payload

    def build_json(self, bot: Bot, method: TelegramMethod[Any]) -> str | None:
        """The call's parameters as one JSON object, or None when the call uploads a file."""
        payload = self.parameters(bot, method)
        return None if payload is None else cast(str, self.json_dumps(payload))

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        body = self.build_json(bot, method)
        if body is None:  # a file: aiogram's multipart form
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
