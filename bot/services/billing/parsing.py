"""Parsing the rows of an import in batches: in this process, or in worker processes.

A CSV file (`CsvSource`) is cut into chunks of whole records (`sources.record_chunks`) and
each chunk is decoded, split into columns and validated by `parse_chunk` — in a thread of
this process for a small file or with `workers=0`, otherwise in a pool of worker
processes (spawned: they share no GIL with the event loop and the database writes). Other
sources (JSON items, rows built in code) are validated in a thread, batch by batch.

Either way a batch comes back as a `Parsed`: the valid records as plain tuples (cheap to
pickle) with their line or item, the errors in the order of the file, how many rows were
seen, and whether the reading stopped (a bad byte, broken CSV): nothing after that counts,
exactly as when one reader reads the whole file. Duplicate keys are found by the caller,
which sees every batch in order.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import multiprocessing
import operator
import os
import pickle
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from bot.services.billing.formats import (
    AccountRecord,
    ChargeRecord,
    Kind,
    MeterRecord,
    ParseContext,
    PaymentRecord,
    Record,
    SupplierRecord,
    parse_row,
)
from bot.services.billing.sources import (
    CsvLayout,
    CsvReading,
    CsvSource,
    LineChunk,
    OpenCsv,
    RawRow,
    RowError,
)

#: a CSV of at most this many rows is parsed in this process whatever `workers` says:
#: starting a worker process (~1 s) costs more than it saves
IN_PROCESS_ROWS = 5000

RECORD_TYPES: dict[Kind, type[Any]] = {
    Kind.SUPPLIERS: SupplierRecord,
    Kind.ACCOUNTS: AccountRecord,
    Kind.CHARGES: ChargeRecord,
    Kind.PAYMENTS: PaymentRecord,
    Kind.METERS: MeterRecord,
}
#: a record → the tuple of its fields (`RECORD_TYPES[kind](*values)` makes it again)
_VALUES = {
    kind: operator.attrgetter(*(f.name for f in fields(cls))) for kind, cls in RECORD_TYPES.items()
}

#: a valid row: (line, item, the record's field values)
ParsedRow = tuple[int | None, int | None, tuple[Any, ...]]


@dataclass(slots=True)
class Parsed:
    rows: list[ParsedRow]
    errors: list[RowError]
    seen: int
    stopped: bool = False

    def records(self, kind: Kind) -> Iterator[tuple[int | None, int | None, Record]]:
        make = RECORD_TYPES[kind]
        for line, item, values in self.rows:
            yield line, item, make(*values)


def parse_rows(kind: Kind, rows: Iterable[RawRow | RowError], ctx: ParseContext) -> Parsed:
    """Validate rows (`formats.parse_row`): the records as tuples, the errors in order."""
    values = _VALUES[kind]
    out: list[ParsedRow] = []
    errors: list[RowError] = []
    seen = 0
    for raw in rows:
        seen += 1
        if isinstance(raw, RowError):
            errors.append(raw)
            continue
        record, field_errors = parse_row(kind, raw.values, ctx)
        if record is None:
            errors.extend(RowError(raw.line, raw.item, fe.column, fe.reason) for fe in field_errors)
        else:
            out.append((raw.line, raw.item, values(record)))
    return Parsed(out, errors, seen)


def parse_chunk(layout: CsvLayout, chunk: LineChunk, ctx: ParseContext) -> Parsed:
    """Read and validate one chunk of a CSV (in a worker process, or in a thread)."""
    reading = CsvReading(layout, chunk.first_line - 1)
    parsed = parse_rows(layout.kind, reading.rows(chunk.lines), ctx)
    parsed.stopped = reading.stopped
    if chunk.fatal is not None and not reading.stopped:
        parsed.errors.append(chunk.fatal)
        parsed.seen += 1
        parsed.stopped = True
    return parsed


def parse_chunk_pickled(layout: CsvLayout, chunk: LineChunk, ctx: ParseContext) -> bytes:
    """`parse_chunk` for a worker process: the batch pickled there, so that the pool's
    result thread in the importing process only passes bytes on and the batch is
    unpickled by the event loop between two database writes — a thread that unpickles
    while the database thread inserts takes the GIL from it at every row (SQLite releases
    it for each statement step), which slowed the inserts by half."""
    data = pickle.dumps(parse_chunk(layout, chunk, ctx), protocol=pickle.HIGHEST_PROTOCOL)
    gc.collect()  # the worker runs without automatic collection (`_warm`): only this chunk's
    return data


def _warm(parent: int) -> None:
    """A worker imports the parser (and the phone library) before the first chunk, then
    leaves what it imported out of garbage collection (`gc.freeze`) and collects once a
    chunk instead of every few hundred allocations: the collector's passes over the tens of
    thousands of objects a chunk holds cost more than parsing it. `parent`: the importing
    process, whose end ends this worker (`_exit_with`)."""
    from bot.services import phones

    phones.typed_phone_to_e164("8 916 123-45-67")
    gc.freeze()
    gc.disable()
    watcher = threading.Thread(target=_exit_with, args=(parent,), daemon=True)
    watcher.start()


def _exit_with(parent: int) -> None:
    """End this worker when the importing process is gone (killed: `kill -9` leaves no
    one to shut the pool down, and a worker waits for its next chunk for ever)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No automatic cyclic garbage collection while a big import runs in this process.

    A batch is tens of thousands of live objects (records, tuples); with the collector on,
    its passes over them took a third of the importing process's time at 1M rows. The
    import makes no reference cycles (reference counting frees its batches); the rest of
    the process may, and they are collected when the import ends (or by a later pass).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def parsed_batches(
    source: Iterable[RawRow | RowError],
    kind: Kind,
    ctx: ParseContext,
    *,
    size: int,
    workers: int = 0,
) -> AsyncGenerator[Parsed, None]:
    """The batches of `source`, in order; the next ones are parsed while the caller
    writes this one. Close it (`contextlib.aclosing`) when stopping early."""
    if not isinstance(source, CsvSource):
        rows = iter(source)
        async for parsed in _ahead(lambda: parse_rows(kind, itertools.islice(rows, size), ctx)):
            yield parsed
        return
    opened = await asyncio.to_thread(source.open)
    if not isinstance(opened, OpenCsv):  # the header's errors
        yield Parsed([], opened, len(opened), stopped=True)
        return
    chunks = opened.chunks(size)
    small = IN_PROCESS_ROWS // size + 1  # chunks: at most IN_PROCESS_ROWS + one batch of rows
    first = await asyncio.to_thread(lambda: list(itertools.islice(chunks, small + 1)))
    if workers <= 0 or len(first) <= small:
        queued = itertools.chain(first, chunks)
        layout = opened.layout

        def parse_next() -> Parsed:
            chunk = next(queued, None)
            return Parsed([], [], 0) if chunk is None else parse_chunk(layout, chunk, ctx)

        async for parsed in _ahead(parse_next):
            yield parsed
        return
    async for parsed in _in_workers(opened.layout, first, chunks, ctx, workers):
        yield parsed


async def _ahead(parse_next: Callable[[], Parsed]) -> AsyncGenerator[Parsed, None]:
    """Batches parsed in a thread, one ahead of the caller; ends with an empty batch."""
    pending = asyncio.ensure_future(asyncio.to_thread(parse_next))
    try:
        while True:
            parsed = await pending
            if parsed.seen == 0:
                return
            if not parsed.stopped:
                pending = asyncio.ensure_future(asyncio.to_thread(parse_next))
            yield parsed
            if parsed.stopped:
                return
    finally:
        if not pending.done():  # stopped early: let the thread finish its batch
            await asyncio.gather(pending, return_exceptions=True)


async def _in_workers(
    layout: CsvLayout,
    first: list[LineChunk],
    chunks: Iterator[LineChunk],
    ctx: ParseContext,
    workers: int,
) -> AsyncGenerator[Parsed, None]:
    """Chunks parsed by `workers` processes, a few queued ahead (memory stays bounded).

    The chunks are cut here, in the event loop's thread, between two database writes (as
    the results are unpickled): a thread doing it beside the database thread would slow
    the inserts down (see `parse_chunk_pickled`)."""
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm,
        initargs=(os.getpid(),),
    )
    queued: deque[LineChunk] = deque(first)
    running: deque[asyncio.Future[bytes]] = deque()
    more = True
    try:
        while True:
            while more and len(running) < workers + 2:
                chunk = queued.popleft() if queued else next(chunks, None)
                if chunk is None:
                    more = False
                else:
                    running.append(_submit(loop, pool, layout, chunk, ctx))
            if not running:
                break
            parsed: Parsed = pickle.loads(await running.popleft())  # noqa: S301 - our own worker
            yield parsed
            if parsed.stopped:
                break
    finally:
        for future in running:
            future.cancel()
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def _submit(
    loop: asyncio.AbstractEventLoop,
    pool: Executor,
    layout: CsvLayout,
    chunk: LineChunk,
    ctx: ParseContext,
) -> asyncio.Future[bytes]:
    return loop.run_in_executor(pool, parse_chunk_pickled, layout, chunk, ctx)
