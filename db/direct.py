"""`Direct`: a SELECT built once and run straight on asyncpg.

The statements of the hot reads (a page of annotations, the scope of a listing, the loaders by
id) are built once per shape and run with their values bound (`db/id_lists.py`). Running one
through SQLAlchemy still costs about 0.15 ms at every execution (measured for a 100-row page:
0.60 ms through `AsyncConnection.execute`, 0.45 ms straight on asyncpg with the same rows), for
work whose answer never changes for a kept statement: its compiled-cache key, the execution
events, the greenlet bridge into the DBAPI adapter and back, the cursor result's metadata. That
was about a fifth of the CPU of a small GraphQL listing (`make bench-anchor`'s shape (a): 1.39
to 1.09 ms of server CPU a request in paired runs).

A `Direct` is compiled once for the dialect; an execution orders the bound values as the
compiled text wants them and hands them to asyncpg's own prepared-statement cache, then wraps
the records in a SQLAlchemy `Result` with metadata built once, so callers read the rows as
they read any other (by name or position, `.all()`, `.scalars()`).

Only statements that render to fixed text take this path: one whose text depends on its values
(an expanding IN, a literal rendered at execution) goes through SQLAlchemy. So does the first
statement of a transaction: the DBAPI adapter sends the BEGIN with it. Errors keep SQLAlchemy's
shape: PostgreSQL's are wrapped as SQLAlchemy wraps them; a connection found broken is handed
back to SQLAlchemy, which finds it broken in turn and invalidates the pool as it would have
(`Lease.run` retries then, where nothing can have been applied).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from asyncpg import PostgresError
from sqlalchemy import Executable, Result
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Direct"]

#: A bound value that the execution's parameters must give.
_REQUIRED: Final = object()
#: A `Direct` not compiled yet.
_UNCOMPILED: Final[Any] = object()


@dataclass(slots=True)
class _Compiled:
    """A statement's fixed text, how to order its values, and its rows' metadata."""

    sql: str
    #: (parameter key, value when the parameters do not give it, processor) per placeholder
    binds: tuple[tuple[str, Any, Any], ...]
    #: (key, type) per column of the rows
    columns: tuple[tuple[str, Any], ...]
    #: Known from the first execution on: some types' processors depend on the type
    #: PostgreSQL answers (a NUMERIC's, a FLOAT's), as they do in SQLAlchemy's own results.
    metadata: SimpleResultMetaData | None = None

    def describe(self, dialect: Dialect, types: list[int]) -> SimpleResultMetaData:
        """The rows' metadata, once the columns' PostgreSQL types are known."""
        processors = [
            type_._cached_result_processor(dialect, oid)
            for (_, type_), oid in zip(self.columns, types, strict=True)
        ]
        self.metadata = SimpleResultMetaData(
            [key for key, _ in self.columns], _processors=processors if any(processors) else None
        )
        return self.metadata


class Direct:
    """See the module docstring. Build one once (a module constant or a cached builder) and
    run it with `Connection.fetch`."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Executable) -> None:
        if not getattr(statement, "is_select", False):
            raise TypeError("only a SELECT runs directly")
        self.statement = statement
        #: None when the statement cannot run directly.
        self._compiled: _Compiled | None = _UNCOMPILED

    def _compile(self, dialect: Dialect) -> _Compiled | None:
        statement: Any = self.statement
        compiled: Any = statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            return None
        binds = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.callable is not None:
                return None
            fixed = _REQUIRED if bind.required else bind.value
            binds.append((bind.key, fixed, compiled._bind_processors.get(name)))
        columns = tuple((column.keyname, column.type) for column in compiled._result_columns)
        return _Compiled(compiled.string, tuple(binds), columns)

    def compiled(self, dialect: Dialect) -> _Compiled | None:
        """The compiled form, None when the statement must go through SQLAlchemy."""
        if self._compiled is _UNCOMPILED:
            self._compiled = self._compile(dialect)
        return self._compiled

    async def run(self, conn: AsyncConnection, parameters: Mapping[str, Any] | None) -> Result[Any]:
        """Execute on `conn` (outside a transaction, or inside one already begun)."""
        sync = conn.sync_connection
        assert sync is not None
        compiled = self.compiled(sync.dialect)
        if compiled is None:
            return await conn.execute(self.statement, parameters)
        given = parameters or {}
        args = []
        for key, fixed, processor in compiled.binds:
            value = given.get(key, fixed)
            if value is _REQUIRED:
                raise KeyError(f"no value for the bound parameter {key!r}")
            args.append(value if processor is None else processor(value))
        fairy = sync.connection
        raw: Any = fairy.driver_connection
        try:
            metadata = compiled.metadata
            if metadata is None:
                prepared = await raw.prepare(compiled.sql)
                types = [attribute.type.oid for attribute in prepared.get_attributes()]
                metadata = compiled.describe(sync.dialect, types)
            if sync._has_events or sync.engine._has_events:
                _announce(sync, compiled.sql, args)
            records = await raw.fetch(compiled.sql, *args)
        except Exception as error:
            if raw.is_closed() or not isinstance(error, PostgresError):
                # the connection is broken: SQLAlchemy's own execution finds it so,
                # invalidates what it must and raises its error
                return await conn.execute(self.statement, parameters)
            raise _wrapped(
                sync.dialect, fairy.dbapi_connection, compiled.sql, args, error
            ) from error
        return IteratorResult(metadata, iter(records))


def _announce(sync: Any, sql: str, args: list[Any]) -> None:
    """Tell the engine's `before_cursor_execute` listeners of the statement, as SQLAlchemy's
    execution does (what counts and captures statements sees these too)."""
    for listener in sync.dispatch.before_cursor_execute:
        listener(sync, None, sql, args, None, False)


def _wrapped(
    dialect: Dialect, adapted: Any, sql: str, args: list[Any], error: Exception
) -> DBAPIError:
    """`error` as SQLAlchemy raises it: the DBAPI adapter's translation, in a `DBAPIError`."""
    try:
        adapted._handle_exception(error)
    except Exception as translated:
        return DBAPIError.instance(sql, args, translated, dialect.loaded_dbapi.Error)  # type: ignore[return-value]
    raise AssertionError("the adapter always raises")  # pragma: no cover
