"""The database: one pool per process (`Database`), one lease per request (`Lease`).

The connection model (DESIGN.md, "Connections and load"):

- A request holds at most one pooled connection, its lease's, and nothing it does can ask the
  pool for a second one. Every read and write of the request goes through `Lease.read()` and
  `Lease.transaction()`, which hand out the same `Connection`; DataLoader batches, sibling
  resolvers and aliased listings are concurrent tasks of one request, so the lease runs their
  statements one at a time on its connection (`_statement`, held only while one statement
  runs, never while the caller awaits anything else). A request waiting for its first
  connection holds none, so a full pool only queues requests: it cannot deadlock. The wait is
  bounded (`pool_timeout`); past it the request fails with `DatabaseUnavailable` (503 with
  `Retry-After`), and the others go on.
- The lease checks a connection out at its first statement and keeps it until the request
  ends (`Lease.close`): a checkout costs about as much as a short statement, so one per
  request rather than one per statement. Reads run in autocommit (no BEGIN/ROLLBACK round
  trips); `transaction()` switches the connection into one real transaction, committed when the
  block ends and rolled back if it raises. A read issued while a transaction is open (a loader
  of the mutation) runs inside it and sees its writes. One transaction at a time per lease; a
  nested `transaction()` of the same task joins the open one, so a tool made of several
  ordinary writes commits or fails as one.
- Each committed write tells the process's watchers which tables it wrote (`Database.watch`):
  a `db.memo.Memo` of answers derived from those tables forgets them at once. A write outside
  a transaction tells at once; a transaction tells when it commits, never when it rolls back.
- Every connection carries a statement timeout. A connection found dead (PostgreSQL
  restarted) is replaced: SQLAlchemy then recycles the rest of the pool, and the statement is
  retried once on a fresh connection when nothing can have been applied yet (a read, or the
  first statement of a transaction). Otherwise, or while PostgreSQL cannot be reached, the
  statement fails with `DatabaseUnavailable`; a transaction cut short is rolled back by
  PostgreSQL, so no write is half-applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Final, TypeVar, overload

import asyncpg
import orjson
from sqlalchemy import Executable, Result, text
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.util.typing import TupleAny, TypeVarTuple, Unpack

from db.direct import Direct

__all__ = ["Connection", "Database", "DatabaseUnavailable", "Lease"]

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Bound parameters of a statement: one mapping, or several for an executemany.
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]
Options = Mapping[str, Any]
Ts = TypeVarTuple("Ts")

#: SQLSTATE of a statement cancelled by `statement_timeout`.
QUERY_CANCELED: Final = "57014"
#: SQLSTATE classes meaning "the server cannot serve now": 08 connection exceptions, 53
#: insufficient resources, 57P0x shutdown / starting up.
_UNREACHABLE: Final = ("08", "53", "57P")
#: How long a client should wait before retrying, by cause (seconds).
RETRY_BUSY: Final = 1
RETRY_DOWN: Final = 5

#: The states of a lease's open transaction.
FRESH: Final = "fresh"
USED: Final = "used"
LOST: Final = "lost"
LOST_MESSAGE: Final = (
    "The database connection was lost; nothing of this request's unfinished writes was kept. "
    "Try again shortly"
)

#: What `Database.watch` calls with the names of the tables a committed write touched.
Watcher = Callable[[frozenset[str]], None]

#: The lease whose transaction the current task (and the tasks it starts) runs in.
_CURRENT: ContextVar[Lease | None] = ContextVar("cytogate_transaction", default=None)


class DatabaseUnavailable(Exception):
    """The database cannot serve this statement now: no free connection within the wait,
    PostgreSQL unreachable or restarting, or the statement ran past the timeout.

    Args:
        message: what happened, for the client.
        retry_after: seconds after which a retry may succeed.
    """

    def __init__(self, message: str, retry_after: int = RETRY_DOWN) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _sqlstate(error: BaseException) -> str:
    cause = getattr(getattr(error, "orig", None), "__cause__", None) or error
    return str(getattr(cause, "sqlstate", "") or "")


class Database:
    """The process's engine and pool.

    Args:
        url: a `postgresql+asyncpg://` URL.
        pool_size: connections in the pool, which is also the number of requests using the
            database at once (each holds at most one).
        pool_timeout: seconds a request waits for a connection (and a connection for
            PostgreSQL to answer its opening) before `DatabaseUnavailable`.
        statement_timeout: seconds a statement may run; 0 for no limit.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 10.0,
        statement_timeout: float = 0,
    ) -> None:
        server_settings = {
            "statement_timeout": str(int(statement_timeout * 1000)),
            # JIT compiles a statement whose estimated cost passes a bound, on every run: for
            # the pages and counts served here that took 20-560 ms of statements whose work
            # took 10-40 ms (a large table's estimate crosses the bound, the page does not)
            "jit": "off",
        }
        self.pool_timeout = pool_timeout
        self.statement_timeout = statement_timeout
        self._turns = asyncio.Semaphore(pool_size)
        self._watchers: list[Watcher] = []
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout,
            pool_pre_ping=False,
            # every connection starts in autocommit, which a transaction leaves and comes back
            # to (`_begin`, `Lease._end`): a request that only reads changes nothing, and its
            # connection goes back to the pool without a reset of its isolation level
            isolation_level="AUTOCOMMIT",
            connect_args={"timeout": pool_timeout, "server_settings": server_settings},
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )

    def watch(self, watcher: Watcher) -> None:
        """Call `watcher` with the tables of every write this process commits from now on."""
        self._watchers.append(watcher)

    def written(self, tables: frozenset[str]) -> None:
        """Tell the watchers that a committed write touched `tables`."""
        for watcher in self._watchers:
            watcher(tables)

    def lease(self) -> Lease:
        """A new lease: what one request (or one command-line task) uses the database with."""
        return Lease(self)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """A one-off lease's connection, for code outside a request (start-up, commands)."""
        async with self.lease() as lease, lease.read() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A one-off lease's transaction, for code outside a request."""
        async with self.lease() as lease, lease.transaction() as conn:
            yield conn

    async def checkout(self) -> AsyncConnection:
        """A pooled connection in autocommit mode; `DatabaseUnavailable` when none can be had
        within the wait or PostgreSQL cannot be reached. Give it back with `checkin`.

        Requests queue for connections in arrival order (`_turns`, a fair semaphore as large as
        the pool): the pool's own queue lets a newcomer take a connection just given back
        before the waiter it was meant for wakes up, so under a steady overload some requests
        would wait far longer than others, past the bounded wait.
        """
        if not self._turns.locked():
            await self._turns.acquire()  # a free turn is taken at once: no timer to set
        else:
            try:  # a timer on this task, not `wait_for`'s task of its own for each waiter
                async with asyncio.timeout(self.pool_timeout):
                    await self._turns.acquire()
            except TimeoutError:
                raise self._busy() from None
        try:
            conn = await self.engine.connect()
        except PoolTimeout:
            self._turns.release()
            raise self._busy() from None
        except (DBAPIError, OSError, TimeoutError) as error:
            self._turns.release()
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.warning("database unreachable: %s", first)
            raise DatabaseUnavailable("The database is unreachable; try again shortly") from None
        except BaseException:
            self._turns.release()
            raise
        return conn

    def _busy(self) -> DatabaseUnavailable:
        return DatabaseUnavailable(
            f"The server is busy: no database connection was free within {self.pool_timeout:g} s",
            RETRY_BUSY,
        )

    async def checkin(self, conn: AsyncConnection) -> None:
        """Give back a connection of `checkout` (dropped from the pool when it is dead)."""
        try:
            await conn.close()
        except (DBAPIError, OSError):
            # a close whose rollback failed has had the pool drop the connection already
            if not conn.closed:
                await conn.invalidate()
        finally:
            self._turns.release()

    async def dispose(self) -> None:
        await self.engine.dispose()


class Connection:
    """The request's connection as resolvers see it: `execute` and `scalar`, each run by the
    lease on its one pooled connection (results come back buffered, so nothing stays open)."""

    __slots__ = ("_lease",)

    def __init__(self, lease: Lease) -> None:
        self._lease = lease

    # The overloads mirror AsyncConnection.execute's, so that rows keep their column types.
    @overload
    async def execute(
        self,
        statement: TypedReturnsRows[Unpack[Ts]],
        parameters: Params | None = None,
        *,
        execution_options: Options | None = None,
    ) -> CursorResult[Unpack[Ts]]: ...

    @overload
    async def execute(
        self,
        statement: Executable,
        parameters: Params | None = None,
        *,
        execution_options: Options | None = None,
    ) -> CursorResult[Unpack[TupleAny]]: ...

    async def execute(
        self,
        statement: Executable,
        parameters: Params | None = None,
        *,
        execution_options: Options | None = None,
    ) -> CursorResult[Unpack[TupleAny]]:
        result = await self._lease.run(
            lambda conn: conn.execute(statement, parameters, execution_options=execution_options),
            idempotent=not isinstance(statement, UpdateBase),
        )
        self._lease.wrote(statement)
        return result

    async def fetch(
        self, statement: Direct | Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result[Any]:
        """The rows of a SELECT; a kept one (`db.direct.Direct`) runs straight on asyncpg
        unless it would be the first statement of a transaction."""
        if not isinstance(statement, Direct):
            return await self.execute(statement, parameters)
        if not self._lease.begun:
            return await self.execute(statement.statement, parameters)
        return await self._lease.run(lambda conn: statement.run(conn, parameters))

    async def send(
        self, statement: Executable, parameters: Params | None = None
    ) -> asyncio.Future[CursorResult[Unpack[TupleAny]]]:
        """Start `statement` and return once it has gone out, with its result to come: the
        caller works while PostgreSQL runs it (the statements of a lease still run one at a
        time, so the next one waits for this one). Await the result before leaving the
        transaction."""
        ahead = asyncio.ensure_future(self.execute(statement, parameters))
        await asyncio.sleep(0)  # the task runs up to its wait for PostgreSQL's answer
        return ahead

    async def scalar(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        """The first column of the first row: `execute`'s result (buffered), so that it runs,
        retries and reports its writes as `execute` does."""
        return (await self.execute(statement, parameters)).scalar()

    @property
    def memo(self) -> dict[str, Any]:
        """What the open transaction keeps for its own duration (the undo group id of its
        commands); a fresh dict for each transaction."""
        memo = self._lease.memo
        if memo is None:
            raise RuntimeError("no transaction is open on this connection")
        return memo


class Lease:
    """One request's use of the database (see the module docstring).

    Attributes:
        after_transaction: called when a transaction ends, committed or rolled back (the
            request's context forgets what its loaders cached: later fields read what was
            written, and nothing read inside a rolled-back transaction survives it).
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self.after_transaction: Callable[[], None] | None = None
        self._conn: AsyncConnection | None = None
        self._statement = asyncio.Lock()
        self._transactions = asyncio.Lock()
        #: The open transaction: FRESH until a statement ran in it, USED after, LOST once its
        #: connection died; None outside one.
        self._state: str | None = None
        #: `Connection.memo` of the open transaction.
        self.memo: dict[str, Any] | None = None
        #: The tables the open transaction wrote (told to the watchers when it commits).
        self._written: set[str] = set()
        # No `Connection` is kept: one pointing back at its lease would make every request a
        # reference cycle, left for the garbage collector's pauses instead of freed at once.

    async def __aenter__(self) -> Lease:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """The request's connection, for reads (inside a transaction, they see its writes)."""
        yield Connection(self)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One unit of work: committed when the block ends, rolled back if it raises; joined
        when this task already runs in one of this lease."""
        if _CURRENT.get() is self:
            yield Connection(self)
            return
        async with self._transactions:
            token = _CURRENT.set(self)
            try:
                async with self._statement:
                    self._state = FRESH
                    self.memo = {}
                    if self._conn is not None:
                        await _begin(self._conn)
                try:
                    yield Connection(self)
                except BaseException:
                    await self._end(commit=False)
                    raise
                await self._end(commit=True)
            finally:
                _CURRENT.reset(token)
                if self.after_transaction is not None:
                    self.after_transaction()

    async def run(
        self, operation: Callable[[AsyncConnection], Awaitable[T]], *, idempotent: bool = True
    ) -> T:
        """Run one statement on the lease's connection, one at a time; replace a dead
        connection, retrying once when nothing can have been applied twice: the first
        statement of a transaction, or outside one a statement that writes nothing (an INSERT,
        UPDATE or DELETE is not `idempotent`: it commits on its own, and its answer may be
        lost after it was applied)."""
        async with self._statement:
            for attempt in (1, 2):
                if self._state == LOST:
                    raise DatabaseUnavailable(LOST_MESSAGE)
                conn = await self._connection()
                try:
                    result = await operation(conn)
                except DBAPIError as error:
                    if not error.connection_invalidated:
                        raise self._translated(error) from error
                    await self._discard()
                    if attempt == 1 and (
                        self._state == FRESH or (self._state is None and idempotent)
                    ):
                        continue
                    if self._state is not None:
                        self._state = LOST
                    raise self._translated(error) from error
                if self._state == FRESH:
                    self._state = USED
                return result
            raise AssertionError("unreachable")  # pragma: no cover

    async def stream(self, statement: Executable, size: int) -> AsyncIterator[Sequence[Row[Any]]]:
        """The rows of `statement` in partitions of `size`, from a server-side cursor: memory
        holds one partition whatever the number of rows (REST's `max=0`, decision 6).

        The cursor needs a transaction, and it keeps the request's connection to itself until
        the iteration ends or is closed; a request streams its answer last, when nothing else
        of it needs the database. The next partition is asked for before the current one is
        handed over, so PostgreSQL reads it while the caller encodes this one.
        """
        async with self._statement:
            conn = await self._connection()
            own = self._state is None
            try:
                if own:
                    await _begin(conn)
                # every row will be read: plan for all of them, not the first tenth
                await conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")
                result = await conn.stream(statement)
                partitions = result.partitions(size).__aiter__()
                ahead = asyncio.ensure_future(anext(partitions))
                try:
                    while True:
                        try:
                            partition = await ahead
                        except StopAsyncIteration:
                            break
                        ahead = asyncio.ensure_future(anext(partitions))
                        await asyncio.sleep(0)  # the next FETCH goes out before this is used
                        yield partition
                finally:
                    if not ahead.done():
                        ahead.cancel()
                    with contextlib.suppress(BaseException):
                        await ahead  # retrieved, even done, or asyncio logs its error
                    await result.close()
            except (DBAPIError, asyncpg.PostgresError) as error:
                # a cursor's FETCH raises asyncpg's own errors: SQLAlchemy wraps only the first
                if getattr(error, "connection_invalidated", False):
                    await self._lose()
                raise self._translated(error) from error
            except (asyncpg.InterfaceError, OSError) as error:  # the connection went away
                await self._lose()
                raise DatabaseUnavailable(LOST_MESSAGE) from error
            finally:
                if own and self._conn is not None:
                    try:
                        await self._conn.rollback()
                        await self._conn.execution_options(isolation_level="AUTOCOMMIT")
                    except (DBAPIError, asyncpg.InterfaceError, OSError):
                        # the connection died with the stream: dropped, and the stream's own
                        # error (or its rows, all read) is what the caller gets
                        await self._discard()

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on the lease."""
        return self._state is not None

    @property
    def begun(self) -> bool:
        """Whether a statement may go straight to the driver (`db.direct`): outside a
        transaction, or inside one whose first statement, which carries the BEGIN, has run."""
        return self._state != FRESH

    def wrote(self, statement: Executable) -> None:
        """Note the table an INSERT, UPDATE or DELETE that just ran wrote: the watchers hear
        of it when its transaction commits, or at once outside a transaction."""
        if not isinstance(statement, UpdateBase):
            return
        table = str(getattr(statement.table, "name", ""))
        if self._state is None:
            self.database.written(frozenset((table,)))
        else:
            self._written.add(table)

    async def reachable(self) -> bool:
        """Whether PostgreSQL answers a trivial statement now (for `/server/ping`)."""
        try:
            await Connection(self).execute(text("SELECT 1"))
        except DatabaseUnavailable:
            return False
        return True

    async def release(self) -> None:
        """Give the connection back to the pool now, in the middle of the request: a later
        statement checks one out again. A request about to do slow work that needs no database
        (rendering pixels, streaming a file) calls it first, so it holds no connection
        meanwhile. Refused inside a transaction (its connection holds the writes)."""
        if _CURRENT.get() is self or self._state is not None:
            raise RuntimeError("a lease cannot release its connection inside a transaction")
        async with self._statement:
            await self._discard()

    async def close(self) -> None:
        """Give the connection back to the pool (the request is over); forget
        `after_transaction` (a method of the request's context, which holds this lease)."""
        self.after_transaction = None
        async with self._statement:
            await self._discard()

    async def _connection(self) -> AsyncConnection:
        if self._state == LOST:  # a fresh connection would run the rest in autocommit
            raise DatabaseUnavailable(LOST_MESSAGE)
        if self._conn is None:
            self._conn = await self.database.checkout()
            if self._state == FRESH:
                await _begin(self._conn)
        return self._conn

    async def _end(self, *, commit: bool) -> None:
        async with self._statement:
            state, self._state = self._state, None
            self.memo = None
            written, self._written = frozenset(self._written), set()
            conn = self._conn
            if conn is None:
                if commit and state == LOST:  # the block went on after losing its connection
                    raise DatabaseUnavailable(LOST_MESSAGE)
                return
            try:
                if commit:
                    await conn.commit()
                else:
                    await conn.rollback()
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            except DBAPIError as error:
                await self._discard()
                if commit:
                    if written:  # the commit may have been done before the loss: forget alike
                        self.database.written(written)
                    raise self._translated(error) from error
                # a rollback that fails has nothing left to undo: the connection is gone
            if commit and written:
                self.database.written(written)

    async def _lose(self) -> None:
        """Drop the connection that died under a stream: a transaction of the lease open on it
        is lost (PostgreSQL rolled its writes back), and none of its later statements may run
        on another connection, outside it, nor its end commit."""
        await self._discard()
        if self._state is not None:
            self._state = LOST

    async def _discard(self) -> None:
        """Return the connection to the pool (or drop it when it is dead)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self.database.checkin(conn)

    def _translated(self, error: DBAPIError | asyncpg.PostgresError) -> Exception:
        """`DatabaseUnavailable` for a lost connection, an unreachable server or a statement
        cancelled by the timeout; the error itself otherwise."""
        state = _sqlstate(error)
        if state == QUERY_CANCELED:
            return DatabaseUnavailable(
                f"The request ran longer than the statement timeout "
                f"({self.database.statement_timeout:g} s)",
                RETRY_BUSY,
            )
        if getattr(error, "connection_invalidated", False) or state.startswith(_UNREACHABLE):
            return DatabaseUnavailable(LOST_MESSAGE)
        return error


async def _begin(conn: AsyncConnection) -> None:
    """Switch an autocommit connection into a real transaction (no round trip until its first
    statement, which carries the BEGIN)."""
    await conn.commit()  # ends autocommit's logical transaction; nothing is sent
    await conn.execution_options(isolation_level="READ COMMITTED")
    await conn.begin()
