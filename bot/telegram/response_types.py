"""Keep aiogram's parsed-answer classes alive for the life of the process.

aiogram reads every Bot API answer through `Response[method.__returning__]`, a pydantic
generic model made on first use. pydantic keeps the models it made in a *weak* cache
(`pydantic._internal._generics._GENERIC_TYPES_CACHE`, a WeakValueDictionary), and such a
class sits in reference cycles, so every run of the cyclic garbage collector may drop it
and the next answer builds it again: 10–20 ms of schema building on the event loop, which
every update waiting behind it pays. Measured in bench/: one in seven answers of a
«💳 Баланс» press rebuilt `Response[Message]` (bench/README.md, "Latency").

`KeepResponseTypes` holds one strong reference per answer type the bot has used, so each
is built once per process. A few dozen classes at most (one per distinct return type of
the Bot API methods the bot calls).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

#: return type of a Bot API method → its `Response[...]` model, alive while the process is
_KEPT: dict[Any, type[Response[Any]]] = {}


def keep_response_type(returning: Any) -> type[Response[Any]]:
    """`Response[returning]`, made once and kept (see the module's docstring)."""
    kept = _KEPT.get(returning)
    if kept is None:
        kept = _KEPT[returning] = Response[returning]
    return kept


class KeepResponseTypes(BaseRequestMiddleware):
    """Before a request: make sure the model its answer is read with stays alive."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        keep_response_type(method.__returning__)
        return await make_request(bot, method)
