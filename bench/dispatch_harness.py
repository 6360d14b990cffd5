"""The two dispatchers of bench/dispatch.py, their residents and updates, and the timing loop.

The production Dispatcher is `bot.app.create_dispatcher` on a SQLite file with the migrations
applied; residents register through its handlers (/start, consent, shared contact) and are
found by what the keyboards show, so the cases survive a reshaping of the handlers. The bare
one is `aiogram.Dispatcher()` with one async handler that sends one message. Both use the
tests' `RecordingSession` (real Bot API shapes, no network).
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.support: the recording session and the harness

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.fsm.context import FSMContext  # noqa: E402
from aiogram.types import Message, Update  # noqa: E402

from tests.support.fake_session import Call, RecordingSession  # noqa: E402
from tests.support.harness import TOKEN, BotHarness, Person  # noqa: E402

STAFF_CHAT_ID = -1001234567890
ANNA = Person(601, "Anna", phone="+79161234567")  # menu press and /help
BORIS = Person(602, "Boris", phone="+79035550011")  # in the middle of linking
HOLDER_PHONE = "+79261112233"  # on file for the account Boris types: not his own
TYPED_NUMBER = "1000000002"

Reset = Callable[[], Awaitable[None]]


# ------------------------------------------------------------------ the two dispatchers
def bare_bot() -> Bot:
    """Like the harness's Bot, without our request middlewares."""
    return Bot(
        TOKEN, session=RecordingSession(), default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


def bare_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def answer(message: Message) -> None:
        await message.answer("ok")

    return dp


@dataclass
class Full:
    dp: Dispatcher
    bot: Bot
    harness: BotHarness
    db: Any

    async def close(self) -> None:
        await self.dp.storage.close()
        await self.db.dispose()


async def full_dispatcher(folder: Path, **factory_kwargs: Any) -> Full:
    """`create_dispatcher` on a migrated SQLite file with a supplier and two accounts."""
    from bot.app import create_dispatcher
    from bot.config import load_settings
    from bot.integrations import Gateways, LogSmsGateway
    from storage.db import Database
    from storage.migrate import upgrade
    from tests.support import factories as f

    url = f"sqlite+aiosqlite:///{folder / 'kabinet.db'}"
    settings = load_settings(
        bot_token=TOKEN,
        database_url=url,
        staff_chat_id=STAFF_CHAT_ID,
        default_locale="ru",
        consent_version="1",
        redis_url=None,
    )
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    voda = f.supplier()
    await f.add(
        db,
        voda,
        f.account(voda, "1000000001", phones=(ANNA.phone,)),
        f.account(voda, TYPED_NUMBER, address="пр. Мира, д. 5, кв. 7", phones=(HOLDER_PHONE,)),
    )
    dp = create_dispatcher(settings, db, gateways=Gateways(sms=LogSmsGateway()), **factory_kwargs)
    harness = BotHarness(dp)  # setup_bot(Bot(TOKEN, session=RecordingSession(), …))
    return Full(dp, harness.bot, harness, db)


# ------------------------------------------------------------------ residents, through the UI
def button(calls: list[Call], prefix: str) -> tuple[Call, str]:
    """The (last) message with a button whose text starts with `prefix`, and that text."""
    for call in reversed(calls):
        for text in call.button_texts():
            if text.startswith(prefix):
                return call, text
    raise RuntimeError(f"no button {prefix!r} in {[c.button_texts() for c in calls]}")


async def register(h: BotHarness, person: Person) -> list[str]:
    """/start, «✅ agree», share the contact; returns the main-menu keyboard as shown."""
    calls = await h.send(person, "/start")
    call, agree = button(calls, "✅")
    await h.press(person, call.callback_of(agree))
    calls = await h.share_contact(person)
    menu = next(c for c in calls if c.markup and "keyboard" in c.markup)
    return menu.button_texts()


@dataclass
class Case:
    name: str
    person: Person
    text: str
    reset: Reset | None = None  # untimed, before every update of the full Dispatcher
    check: Callable[[list[Call]], Awaitable[None]] | None = None


async def prepare_cases(full: Full) -> list[Case]:
    h = full.harness
    menu = await register(h, ANNA)
    await register(h, BORIS)
    fallback = [c.text for c in await h.send(ANNA, "no such command, surely")]
    # a button whose handler does little work: «💳 Баланс» (a "coming soon" answer)
    balance = next(text for text in menu if text.startswith("💳"))
    accounts = next(text for text in menu if text.startswith("🏠"))

    # Boris opens «My accounts», presses «➕ Link an account»: the bot waits for a number
    calls = await h.send(BORIS, accounts)
    call, link = button(calls, "➕")
    await h.press(BORIS, call.callback_of(link))
    context: FSMContext = full.dp.fsm.get_context(full.bot, chat_id=BORIS.id, user_id=BORIS.id)
    waiting_state, waiting_data = await context.get_state(), await context.get_data()
    if waiting_state is None:
        raise RuntimeError("Boris is not waiting for an account number after «➕»")

    async def back_to_number() -> None:
        await context.set_state(waiting_state)
        await context.set_data(waiting_data)

    async def answered_by_its_handler(calls: list[Call]) -> None:
        said = [c.text for c in calls if c.method == "sendMessage"]
        if len(said) != 1 or said == fallback:
            raise RuntimeError(f"the update fell through or said too much: {said}")

    async def number_accepted(calls: list[Call]) -> None:
        await answered_by_its_handler(calls)
        if await context.get_state() == waiting_state:
            raise RuntimeError(f"the number was not accepted: {[c.text for c in calls]}")

    return [
        Case("menu press", ANNA, balance, check=answered_by_its_handler),
        Case("/help", ANNA, "/help", check=answered_by_its_handler),
        Case("linking step", BORIS, TYPED_NUMBER, back_to_number, number_accepted),
    ]


# ------------------------------------------------------------------ updates and timing
_ids = itertools.count(1_000_000)


def make_update(bot: Bot, person: Person, text: str) -> Update:
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": person.id, "type": "private", "first_name": person.first_name},
        "from": person.as_user(),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return Update.model_validate(
        {"update_id": next(_ids), "message": message}, context={"bot": bot}
    )


async def timed(
    dp: Dispatcher, bot: Bot, case: Case, seconds: float, *, reset: bool, at_least: int = 1
) -> tuple[int, float]:
    """(updates, seconds inside feed_update) over about `seconds` of wall time.

    Each update is timed alone: making it and the case's reset are not counted.
    """
    total, n = 0.0, 0
    deadline = time.perf_counter() + seconds
    while n < at_least or time.perf_counter() < deadline:
        update = make_update(bot, case.person, case.text)
        if reset and case.reset is not None:
            await case.reset()
        started = time.perf_counter()
        await dp.feed_update(bot, update)
        total += time.perf_counter() - started
        n += 1
    bot.session.clear()  # type: ignore[attr-defined]
    return n, total


async def rate(dp: Dispatcher, bot: Bot, case: Case, seconds: float, *, reset: bool) -> float:
    n, total = await timed(dp, bot, case, seconds, reset=reset, at_least=10)
    return n / total


async def paired_round(
    full: tuple[Dispatcher, Bot],
    bare: tuple[Dispatcher, Bot],
    case: Case,
    seconds: float,
    bare_seconds: float,
    *,
    reset: bool,
    slices: int = 10,
) -> tuple[float, float]:
    """Full and bare rates of one round, alternating in slices so both see the same load."""
    full_n = bare_n = 0
    full_s = bare_s = 0.0
    for _ in range(slices):
        n, s = await timed(*full, case, seconds / slices, reset=reset)
        full_n, full_s = full_n + n, full_s + s
        n, s = await timed(*bare, case, bare_seconds / slices, reset=False)
        bare_n, bare_s = bare_n + n, bare_s + s
    return full_n / full_s, bare_n / bare_s


# ------------------------------------------------------------------ what one update costs
@contextmanager
def counting(engine: Any) -> Iterator[Counter[str]]:
    """SQL statements (before_cursor_execute), commits, connection checkouts, thread hops."""
    import aiosqlite.core
    from sqlalchemy import event

    counts: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        counts["sql"] += 1
        counts["sql " + sql.lstrip().split(None, 1)[0].upper()] += 1

    def commit(_conn: Any) -> None:
        counts["commit"] += 1

    def checkout(*_: Any) -> None:
        counts["checkout"] += 1

    listeners: list[tuple[Any, str, Callable[..., Any]]] = [
        (engine.sync_engine, "before_cursor_execute", statement),
        (engine.sync_engine, "commit", commit),
        (engine.sync_engine.pool, "checkout", checkout),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)

    to_thread, aiosqlite_execute = asyncio.to_thread, aiosqlite.core.Connection._execute

    async def counted_to_thread(func: Any, /, *a: Any, **kw: Any) -> Any:
        counts["to_thread"] += 1
        return await to_thread(func, *a, **kw)

    async def counted_execute(self: Any, fn: Any, *a: Any, **kw: Any) -> Any:
        counts["aiosqlite"] += 1
        return await aiosqlite_execute(self, fn, *a, **kw)

    asyncio.to_thread = counted_to_thread
    aiosqlite.core.Connection._execute = counted_execute  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        asyncio.to_thread = to_thread
        aiosqlite.core.Connection._execute = aiosqlite_execute  # type: ignore[method-assign]
        for target, name, fn in listeners:
            event.remove(target, name, fn)


async def per_update(full: Full, case: Case, n: int = 20) -> dict[str, float]:
    """The counts of `counting` per update of the full Dispatcher, and Bot API calls ("api")."""
    totals: Counter[str] = Counter()
    for _ in range(n):
        if case.reset is not None:
            await case.reset()
        update = make_update(full.bot, case.person, case.text)
        with counting(full.db.engine) as counts:
            await full.dp.feed_update(full.bot, update)
        totals += counts
        totals["api"] += len(full.bot.session.calls)  # type: ignore[attr-defined]
        full.bot.session.clear()  # type: ignore[attr-defined]
    return {key: value / n for key, value in totals.items()} | {
        key: 0.0
        for key in ("sql", "commit", "checkout", "aiosqlite", "to_thread", "api")
        if key not in totals
    }
