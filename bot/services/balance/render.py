"""Rendering off the event loop: PDFs, QR pictures and charts are CPU work of 50–300 ms.

With `workers > 0` they run in a pool of worker processes (spawned, so they share no GIL
and no state with the bot: the event loop only pickles a small dataclass out and the
bytes back). With `workers == 0` they run in the default thread pool (`asyncio.to_thread`):
no extra processes (tests, a tiny installation), but a render then holds the GIL for
stretches and delays the loop. RENDER_WORKERS chooses; see README "Speed".
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger("kabinet.render")

T = TypeVar("T")


def _warm() -> None:
    """Import the renderers once per worker, so the first receipt is not the slow one."""
    from bot.services.balance import chart  # noqa: F401
    from bot.services.receipts import document

    document.font_paths()
    import fpdf  # noqa: F401
    import matplotlib.backends.backend_agg  # noqa: F401
    import segno  # noqa: F401


class Renderer:
    """One per process (the app factory makes it); `close()` at shutdown."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._warned: set[object] = set()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm,
            )
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.workers <= 0:
            return await asyncio.to_thread(fn, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), fn, *args)

    def warn_once(self, key: object, message: str, *args: object) -> None:
        """A warning for operators, logged once per `key` while the process runs."""
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
