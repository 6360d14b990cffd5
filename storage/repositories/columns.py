"""Reading prebuilt column SELECTs without the ORM's execution layer.

The hot reads (the balance screen, the account picker) are SELECTs of columns built once at
import time. Executed through `AsyncSession.execute`, each still passes the ORM's compile
and result machinery; on the session's own connection it is plain Core: ≈ 20 % less CPU per
statement (bench/README.md, "Fourth pass").

On SQLite one step further: the statement is compiled once, and each read is a single call
into aiosqlite's thread (`execute_fetchall`) where Core's path makes four (cursor, execute,
fetchall, close — each a hand-over between threads). The columns' own type processors turn
the driver's values into Python ones (money to Decimal, dates, aware datetimes), exactly as
Core would. ≈ 1 ms less CPU per balance press, 7.1 → 6.2 ms in-process (bench/README.md,
"Sixth pass"). PostgreSQL takes Core's path. Same transaction, same rows either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for SQLite's driver: its SQL, the order of its `?` parameters
    and each one's bind processor, and each result column's processor."""

    sql: str
    construct_params: Callable[..., Mapping[str, Any]]
    names: tuple[str, ...]
    binds: tuple[_Processor, ...]
    results: tuple[_Processor, ...]


_PLANS: dict[int, tuple[Select[*tuple[Any, ...]], _Plan | None]] = {}
#: the hot reads are a handful of module-level SELECTs; a caller building its statement on
#: every call would otherwise grow the cache without end
MAX_PLANS = 64


def _plan(statement: Select[*tuple[Any, ...]], dialect: Dialect) -> _Plan | None:
    """The statement's plan (made once per statement), or None when its SQL needs values
    put in at execution (expanding IN lists): those take Core's path."""
    cached = _PLANS.get(id(statement))
    if cached is not None and cached[0] is statement:
        return cached[1]
    compiled = statement.compile(dialect=dialect)
    plan: _Plan | None = None
    if (
        compiled.positional
        and compiled.positiontup is not None
        and "POSTCOMPILE" not in compiled.string
    ):
        names = tuple(compiled.positiontup)
        binds = tuple(compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect)
                      for n in names)  # fmt: skip
        results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in statement.selected_columns)  # fmt: skip
        plan = _Plan(compiled.string, compiled.construct_params, names, binds, results)
    if len(_PLANS) >= MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(statement)] = (statement, plan)  # the statement is kept: its id stays its own
    return plan


async def _read_sqlite(
    connection: AsyncConnection, plan: _Plan, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    values = plan.construct_params(params)
    args = [
        value if process is None else process(value)
        for value, process in zip((values[n] for n in plan.names), plan.binds, strict=True)
    ]
    engine = connection.sync_engine
    if engine.dispatch.before_cursor_execute:  # statement counters (bench/, tests) see it too
        for listener in engine.dispatch.before_cursor_execute:
            listener(connection.sync_connection, None, plan.sql, args, None, False)
    raw = await connection.get_raw_connection()
    dbapi = engine.dialect.loaded_dbapi
    try:
        rows = await raw.driver_connection.execute_fetchall(plan.sql, args)  # type: ignore[union-attr]
    except dbapi.Error as error:  # as Core raises it: sqlalchemy.exc.OperationalError …
        raise exc.DBAPIError.instance(plan.sql, args, error, dbapi.Error) from error
    results = plan.results
    return [
        tuple(v if process is None else process(v) for v, process in zip(row, results, strict=True))
        for row in rows
    ]


async def read_columns(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]
) -> Sequence[tuple[Any, ...]]:
    """The rows of a column SELECT, run on the session's connection (its transaction).

    Changes the session holds unflushed are flushed first, as the ORM's autoflush would: a
    read never misses a row added earlier in the same unit of work. Raises what Core raises
    (`sqlalchemy.exc.DBAPIError` and its kinds)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    if connection.dialect.driver == "aiosqlite":
        plan = _plan(statement, connection.dialect)
        if plan is not None:
            return await _read_sqlite(connection, plan, params)
    result = await connection.execute(statement, params)
    return [tuple(row) for row in result]
