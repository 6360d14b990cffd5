"""Where the time of one update goes: the diagnostics of bench/dispatch.py.

    --statements   the SQL of one update of each case
    --breakdown    wall time per update inside the parts that cost (timers wrapped around them)
    --whatif       the menu press with each fix simulated in this process only
    --profile CASE pyinstrument over the updates of one case

Everything here patches the code under test in this process only, by name, and skips a
name it does not find (the handlers are being reshaped): it measures, it changes nothing
on disk. The figures of a run are in bench/README.md, "Dispatcher hot path".
"""

from __future__ import annotations

import gc
import importlib
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import dispatch_harness as harness
from aiogram import Dispatcher, Router

if TYPE_CHECKING:
    import argparse


# ------------------------------------------------------------------ patching by name
@contextmanager
def patched(path: str, make: Callable[[Any], Any]) -> Iterator[bool]:
    """Replace `module.attr` or `module.Class.attr` by `make(original)`; False when missing."""
    module_name, _, rest = path.partition(":")
    try:
        owner: Any = importlib.import_module(module_name)
        *parents, attr = rest.split(".")
        for name in parents:
            owner = getattr(owner, name)
        original = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)
    except (ImportError, AttributeError, KeyError):
        yield False
        return
    setattr(owner, attr, make(original))
    try:
        yield True
    finally:
        setattr(owner, attr, original)


def timer(spent: defaultdict[str, float], label: str) -> Callable[[Any], Any]:
    def make(original: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started
                spent["#" + label] += 1

        return timed

    return make


#: (where, what it is) — inclusive wall time; none of these runs inside another for the cases
TIMED = [
    ("storage.fsm:SQLAlchemyStorage.get_state", "FSM get_state through the database"),
    ("storage.fsm:SQLAlchemyStorage.get_data", "FSM get_data through the database"),
    ("storage.fsm:SQLAlchemyStorage.set_state", "FSM set_state (session get + flush)"),
    ("storage.fsm:SQLAlchemyStorage.set_data", "FSM set_data (session get + flush)"),
    ("bot.services.registration:get_user", "RegisteredOnly gate: the resident's row"),
    ("bot.i18n:ResidentI18nMiddleware.get_locale", "language middleware (get_locale)"),
    ("storage.uow:UnitOfWork.commit", "unit of work commit (before a send and at the end)"),
    ("storage.uow:UnitOfWork.close", "unit of work close (connection back to the pool)"),
    ("asyncio:to_thread", "sync filters/handlers run via asyncio.to_thread"),
    ("bot.services.linking:start", "linking.start (the service call of the step)"),
    (
        "tests.support.fake_session:RecordingSession.make_request",
        "the Bot API call in the recording session (bare pays it too)",
    ),
]


async def breakdown(
    full: harness.Full, cases: list[harness.Case], args: argparse.Namespace
) -> None:

    print("wall time per update of the full Dispatcher, inside the parts that cost:")
    for case in cases:
        await harness.rate(full.dp, full.bot, case, 0.3, reset=True)  # warm-up
        spent: defaultdict[str, float] = defaultdict(float)
        total = 0.0
        with ExitStack() as stack:
            for path, label in TIMED:
                stack.enter_context(patched(path, timer(spent, label)))
            for _ in range(args.updates):
                if case.reset is not None:
                    before = dict(spent)
                    await case.reset()
                    spent.clear()  # the reset's own FSM writes do not count
                    spent.update(before)
                update = harness.make_update(full.bot, case.person, case.text)
                started = time.perf_counter()
                await full.dp.feed_update(full.bot, update)
                total += time.perf_counter() - started
            full.bot.session.clear()  # type: ignore[attr-defined]
        n = args.updates
        print(f"  {case.name}: {total / n * 1e6:,.0f} µs per update")
        accounted = 0.0
        for _, label in TIMED:
            if spent[label]:
                accounted += spent[label]
                calls = spent["#" + label] / n
                print(
                    f"    {spent[label] / n * 1e6:7,.0f} µs {spent[label] / total:6.1%}  "
                    f"{label} (×{calls:g})"
                )
        rest = total - accounted
        print(
            f"    {rest / n * 1e6:7,.0f} µs {rest / total:6.1%}  the rest: aiogram routing, "
            "async filters, middlewares, session objects, the handler body"
        )
    await session_costs(full, cases[0].person.id)


async def session_costs(full: harness.Full, user_id: int, n: int = 300) -> None:
    """What an AsyncSession costs on this machine, next to one statement."""
    from sqlalchemy import select

    from storage.models import User

    maker = full.db.session_maker

    async def fresh() -> None:
        async with maker() as session:
            await session.get(User, user_id)

    async def fresh_commit() -> None:
        async with maker() as session:
            await session.get(User, user_id)
            await session.commit()

    async with maker() as open_session:
        query = select(User).where(User.id == user_id).execution_options(populate_existing=True)

        async def in_open() -> None:
            (await open_session.execute(query)).scalar_one()

        timings = {}
        for label, fn in [
            ("open + SELECT by key + close (a session of its own)", fresh),
            ("open + SELECT + COMMIT + close", fresh_commit),
            ("one SELECT in a session already open", in_open),
        ]:
            for _ in range(30):
                await fn()
            started = time.perf_counter()
            for _ in range(n):
                await fn()
            timings[label] = (time.perf_counter() - started) / n
    print("  an AsyncSession on this machine (aiosqlite, the bot's engine):")
    for label, seconds in timings.items():
        print(f"    {seconds * 1e6:7,.0f} µs  {label}")


# ------------------------------------------------------------------ statements
async def statements(full: harness.Full, cases: list[harness.Case]) -> None:
    from sqlalchemy import event

    for case in cases:
        if case.reset is not None:
            await case.reset()
        seen: list[str] = []

        def record(_c: Any, _cur: Any, sql: str, *_: Any, into: list[str] = seen) -> None:
            into.append(" ".join(sql.split())[:150])

        event.listen(full.db.engine.sync_engine, "before_cursor_execute", record)
        try:
            await full.dp.feed_update(
                full.bot, harness.make_update(full.bot, case.person, case.text)
            )
        finally:
            event.remove(full.db.engine.sync_engine, "before_cursor_execute", record)
        full.bot.session.clear()  # type: ignore[attr-defined]
        print(f"{case.name}: {len(seen)} statements")
        for sql in seen:
            print(f"    {sql}")


# ------------------------------------------------------------------ what if
def async_state_filters(dp: Dispatcher) -> int:
    """Wrap every bare `State`/`StatesGroup` filter in aiogram's async `StateFilter`."""
    from aiogram.dispatcher.event.handler import FilterObject
    from aiogram.filters import StateFilter
    from aiogram.filters.state import StateType
    from aiogram.fsm.state import State, StatesGroup

    replaced = 0

    def walk(router: Router) -> None:
        nonlocal replaced
        for observer in router.observers.values():
            for handler in [*observer.handlers, observer._handler]:
                for i, flt in enumerate(handler.filters or []):
                    target = flt.callback
                    is_group = isinstance(target, type) and issubclass(target, StatesGroup)
                    if isinstance(target, State | StatesGroup) or is_group:
                        state = cast(StateType, target)
                        handler.filters[i] = FilterObject(StateFilter(state))  # type: ignore[index]
                        replaced += 1
        for sub in router.sub_routers:
            walk(sub)

    walk(dp)
    return replaced


@contextmanager
def resident_cached() -> Iterator[bool]:
    """The gate's resident from a process cache (what a cached profile would give)."""
    cache: dict[int, Any] = {}

    def make(original: Any) -> Any:
        async def get_user(uow: Any, user_id: int) -> Any:
            if user_id in cache:
                return cache[user_id]
            user = await original(uow, user_id)
            if user is not None and user.phone:  # a registered resident: keep it
                cache[user_id] = user
            return user

        return get_user

    with patched("bot.services.registration:get_user", make) as found:
        yield found


def uow_before_fsm(dp: Dispatcher) -> int:
    """Open the update's unit of work outside the FSM middleware, so its read can join it."""
    middlewares = dp.update.outer_middleware._middlewares
    uow = next((m for m in middlewares if type(m).__name__ == "UnitOfWorkMiddleware"), None)
    if uow is None or dp.fsm not in middlewares:
        return 0
    middlewares.remove(uow)
    middlewares.insert(middlewares.index(dp.fsm), uow)
    return 1


@contextmanager
def fsm_reads_in_uow() -> Iterator[bool]:
    """SQLAlchemyStorage reads through the update's session whenever there is one."""

    def make(original: Any) -> Any:
        async def _read(self: Any, key: Any) -> Any:
            from storage.models import FsmRecord
            from storage.uow import current_uow

            uow = current_uow.get()
            if uow is None:
                return await original(self, key)
            return await uow.session.get(FsmRecord, self._key(key))

        return _read

    with patched("storage.fsm:SQLAlchemyStorage._read", make) as found:
        yield found


def menu_router_first(dp: Dispatcher) -> int:
    """Try the main-menu router right after the error router, as an early router would be."""
    names = [r.name for r in dp.sub_routers]
    if "menu" not in names:
        return 0
    dp.sub_routers.insert(1, dp.sub_routers.pop(names.index("menu")))
    return 1


@dataclass
class Variant:
    label: str
    memory_fsm: bool = False  # what a cache in front of the FSM table gives on a hit
    tweaks: tuple[Callable[[Dispatcher], int], ...] = ()
    patches: tuple[Callable[[], Any], ...] = ()


FSM_IN_SESSION = Variant(
    "FSM read joins the update's session (1 session)",
    tweaks=(uow_before_fsm,),
    patches=(fsm_reads_in_uow,),
)
FSM_CACHED = Variant("FSM state from memory (no database read)", memory_fsm=True)
RESIDENT_CACHED = Variant(
    "resident from a cache (the gate opens no session)", patches=(resident_cached,)
)
ASYNC_STATES = Variant(
    "State filters as async StateFilter (no to_thread)", tweaks=(async_state_filters,)
)
MENU_EARLY = Variant("the menu router tried early", tweaks=(menu_router_first,))


def together(*variants: Variant) -> Variant:
    return Variant(
        " + ".join(v.label.split(" (")[0] for v in variants),
        memory_fsm=any(v.memory_fsm for v in variants),
        tweaks=tuple(t for v in variants for t in v.tweaks),
        patches=tuple(p for v in variants for p in v.patches),
    )


VARIANTS = [
    Variant("as is"),
    FSM_IN_SESSION,
    FSM_CACHED,
    RESIDENT_CACHED,
    ASYNC_STATES,
    MENU_EARLY,
    together(FSM_CACHED, RESIDENT_CACHED),
    together(FSM_CACHED, RESIDENT_CACHED, ASYNC_STATES),
    together(FSM_CACHED, RESIDENT_CACHED, MENU_EARLY),
    together(FSM_CACHED, RESIDENT_CACHED, ASYNC_STATES, MENU_EARLY),
]


async def whatif(folder: Path, args: argparse.Namespace) -> None:
    """The menu press with each fix simulated, against the bare Dispatcher of the same run."""
    from aiogram.fsm.storage.memory import MemoryStorage

    bare = (harness.bare_dispatcher(), harness.bare_bot())
    print("menu press, each fix simulated in this process (medians of the rounds):")
    for i, variant in enumerate(VARIANTS):
        gc.collect()  # what the variants before left behind is not this one's garbage
        sub = folder / f"whatif-{i}"
        sub.mkdir()
        kwargs = {"storage": MemoryStorage()} if variant.memory_fsm else {}
        full = await harness.full_dispatcher(sub, **kwargs)
        try:
            case = next(c for c in await harness.prepare_cases(full) if c.name == "menu press")
            with ExitStack() as stack:
                applied = all([stack.enter_context(patch()) for patch in variant.patches])
                applied = all([tweak(full.dp) for tweak in variant.tweaks]) and applied
                await harness.rate(full.dp, full.bot, case, args.seconds / 4, reset=False)
                await harness.rate(*bare, case, args.bare_seconds / 4, reset=False)
                ratios, fulls = [], []
                for _ in range(args.rounds):
                    pair = (full.dp, full.bot)
                    f, b = await harness.paired_round(
                        pair, bare, case, args.seconds, args.bare_seconds, reset=False
                    )
                    ratios.append(f / b)
                    fulls.append(f)
                counts = await harness.per_update(full, case)
        finally:
            await full.close()
        median = statistics.median(fulls)
        hops = counts["aiosqlite"] + counts["to_thread"]
        print(
            f"  {variant.label}{'' if applied else ' (NOT APPLIED)'}\n"
            f"      full {median:5.0f} upd/s ({1e6 / median:5,.0f} µs), "
            f"ratio {statistics.median(ratios):.3f}; per update {counts['sql']:g} SQL, "
            f"{hops:g} thread hops",
            flush=True,
        )


# ------------------------------------------------------------------ pyinstrument
async def profile(full: harness.Full, cases: list[harness.Case], args: argparse.Namespace) -> int:

    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: .venv/bin/pip install pyinstrument", file=sys.stderr)
        return 2
    case = next((c for c in cases if c.name == args.profile), None)
    if case is None:
        print(f"no case {args.profile!r}: {[c.name for c in cases]}", file=sys.stderr)
        return 2
    await harness.rate(full.dp, full.bot, case, 0.3, reset=True)  # warm-up
    profiler = Profiler(interval=0.001, async_mode="enabled")
    for _ in range(args.updates):
        if case.reset is not None:
            await case.reset()
        update = harness.make_update(full.bot, case.person, case.text)
        profiler.start()
        await full.dp.feed_update(full.bot, update)
        profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=args.show_all))
    return 0
