"""How the bot process runs: on uvloop, with what start-up made frozen out of the garbage
collector's walks (bot/runner.py; why: bench/README.md, "Latency")."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.runner import run_event_loop, settle_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_start_up_objects_are_frozen_and_garbage_is_not(unfrozen: None) -> None:
    kept = _Node()
    garbage = _Node()
    dead = weakref.ref(garbage)
    del garbage
    settle_heap()
    assert dead() is None, "garbage made before start-up ended was frozen with the rest"
    assert gc.get_freeze_count() > 0
    assert not any(obj is kept for gen in range(3) for obj in gc.get_objects(generation=gen))


def test_the_process_runs_on_uvloop() -> None:
    loops: list[str] = []

    async def main() -> None:
        loops.append(type(asyncio.get_running_loop()).__module__)

    run_event_loop(main())
    assert loops and loops[0].startswith("uvloop")
