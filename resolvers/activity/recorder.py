"""`ActivityRecorder`: activity records written in batches, off the requests that cause them.

Pings, project connections, image consultations, viewer positions and annotation actions come
often (a viewer posts its position every second), and nothing in the answer needs them stored:
a request gets its record's id from a block the recorder took from the global sequence ahead
of time, queues the row, and answers. The recorder writes what is queued every FLUSH_SECONDS
(sooner past BATCH rows), one multi-row INSERT per table, in one transaction on a connection
of its own (a one-connection pool, never the requests' pool, so a request waiting for it never
waits for a connection while holding one, and a flush never queues behind requests). Rows
naming a user, project, image or slice deleted meanwhile are dropped, not failed on.

Reads of activity call `settle()` first, which writes what is queued (and waits for a write in
progress): a client reads its own records right after posting them. The server's upkeep task
(gateway/app.py) calls `flush()` on schedule, `prune()` when `CYTOGATE_ACTIVITY_DAYS` is set,
and `close()` when it stops, which writes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    Table,
    and_,
    cast,
    column,
    delete,
    exists,
    func,
    or_,
    select,
    values,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection, Database, DatabaseUnavailable
from db.models import (
    AnnotationAction,
    ImageConsultation,
    ImageInstance,
    PersistentConnection,
    PositionFollower,
    Project,
    ProjectConnection,
    SecUser,
    SliceInstance,
    UserPosition,
)
from db.models.base import ID_SEQUENCE
from resolvers.crud import table_of
from resolvers.errors import refused_value

__all__ = ["ACTIVITY_TABLES", "ActivityRecorder"]

log = logging.getLogger(__name__)

#: Seconds between two writes of what is queued; rows queued before a write is forced.
FLUSH_SECONDS: Final = 0.5
BATCH: Final = 500
#: Ids taken from the global sequence at a time; a refill starts below LOW_WATER.
ID_BLOCK: Final = 500
LOW_WATER: Final = 100
#: Rows per INSERT statement (asyncpg takes at most 32 767 parameters a statement).
CHUNK: Final = 1000
#: Queued rows kept while the database cannot be written; older ones are dropped beyond.
MAX_QUEUED: Final = 100_000

#: Every activity table, in the order rows are written (a consultation names a connection).
_MODELS: Final = (PersistentConnection, ProjectConnection, ImageConsultation, UserPosition,
                  AnnotationAction)  # fmt: skip
ACTIVITY_TABLES: Final[tuple[Table, ...]] = tuple(table_of(model) for model in _MODELS)
_FOLLOWERS: Final = table_of(PositionFollower)
_CONNECTIONS: Final = table_of(ProjectConnection)
#: Column → the table whose row it names: a queued row naming a deleted one is dropped.
_REFERENCES: Final[Mapping[str, Any]] = {
    "user_id": SecUser.id,
    "project_id": Project.id,
    "image_id": ImageInstance.id,
    "slice_id": SliceInstance.id,
    "follower_id": SecUser.id,
    "project_connection_id": ProjectConnection.id,
}


class ActivityRecorder:
    """The process's queue of activity rows and its writer (see the module docstring).

    Args:
        database: a database of its own (one connection) to write and take ids with.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._queued: defaultdict[Table, list[dict[str, Any]]] = defaultdict(list)
        self._followers: dict[tuple[int, int, int], datetime] = {}
        self._connections: dict[tuple[int, int], tuple[datetime, int]] = {}
        self._ids: deque[int] = deque()
        self._ids_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._due = asyncio.Event()
        self._writing = 0

    # --- queueing ----------------------------------------------------------------------------

    async def next_id(self) -> int:
        """An id of the global sequence for a new record (taken in blocks)."""
        if len(self._ids) < LOW_WATER:
            async with self._ids_lock:
                if len(self._ids) < LOW_WATER:
                    series = func.generate_series(1, ID_BLOCK).table_valued("n")
                    stmt = select(ID_SEQUENCE.next_value()).select_from(series)
                    async with self.database.read() as conn:
                        block = (await conn.execute(stmt)).scalars().all()
                    self._ids.extend(sorted(int(value) for value in block))
        return self._ids.popleft()

    def add(self, table: Table, row: dict[str, Any]) -> None:
        """Queue one row of an activity table (its id and date already set)."""
        self._queued[table].append(row)
        if table is _CONNECTIONS:
            key = (row["user_id"], row["project_id"])
            latest = self._connections.get(key)
            if latest is None or latest[0] <= row["created"]:
                self._connections[key] = (row["created"], row["id"])
        if self.queued >= BATCH:
            self._due.set()

    def follow(self, user_id: int, image_id: int, follower_id: int, when: datetime) -> None:
        """Note that `follower_id` asked for `user_id`'s position on an image."""
        self._followers[(user_id, image_id, follower_id)] = when

    def queued_connection(self, user_id: int, project_id: int) -> tuple[datetime, int] | None:
        """The user's newest connection to a project among the queued rows (date, id)."""
        return self._connections.get((user_id, project_id))

    @property
    def queued(self) -> int:
        return sum(len(rows) for rows in self._queued.values()) + len(self._followers)

    # --- writing -----------------------------------------------------------------------------

    async def settle(self) -> None:
        """Write what is queued, or wait for a write in progress: reads see every record
        posted before them."""
        if self.queued or self._writing:
            await self.flush()

    async def flush(self) -> int:
        """Write every queued row; returns how many went (rows naming deleted objects are
        dropped; so are rows holding a value PostgreSQL refuses, the others then written one
        by one). On failure, or when the caller is cancelled, the rows stay queued for the
        next write."""
        async with self._write_lock:
            queued, self._queued = self._queued, defaultdict(list)
            followers, self._followers = self._followers, {}
            connections, self._connections = self._connections, {}
            count = sum(len(rows) for rows in queued.values()) + len(followers)
            if not count:
                return 0
            self._writing += 1
            try:
                try:
                    async with self.database.transaction() as conn:
                        for table in ACTIVITY_TABLES:
                            rows = queued.get(table)
                            if rows:
                                await _insert(conn, table, rows)
                        if followers:
                            await _follow(conn, followers)
                except Exception as error:
                    if refused_value(error) is None:
                        raise
                    log.error("activity batch refused (%s): written row by row", error)
                    count = await self._write_singly(queued, followers)
            except BaseException as error:  # a failure or a cancellation: nothing is lost
                self._requeue(queued, followers, connections)
                if isinstance(error, DatabaseUnavailable | OSError):
                    log.warning("activity records not written yet (%s): kept for the next try",
                                error)  # fmt: skip
                raise
            finally:
                self._writing -= 1
            return count

    async def _write_singly(
        self,
        queued: Mapping[Table, list[dict[str, Any]]],
        followers: Mapping[tuple[int, int, int], datetime],
    ) -> int:
        """Write a batch PostgreSQL refused one row per transaction, dropping (from `queued`)
        the rows it refuses: one unstorable value must not keep every later record queued
        and every read of activity failing. Rows written before a failure are skipped when
        the batch comes back (their ids are taken)."""
        written = 0
        for table in ACTIVITY_TABLES:
            rows = queued.get(table) or []
            for row in list(rows):
                try:
                    async with self.database.transaction() as conn:
                        await _insert(conn, table, [row])
                except Exception as error:
                    if refused_value(error) is None:
                        raise
                    log.error("activity row %s of %s dropped: %s", row.get("id"), table.name,
                              error)  # fmt: skip
                    rows.remove(row)
                else:
                    written += 1
        if followers:
            async with self.database.transaction() as conn:
                await _follow(conn, followers)
        return written + len(followers)

    def _requeue(
        self,
        queued: Mapping[Table, list[dict[str, Any]]],
        followers: Mapping[tuple[int, int, int], datetime],
        connections: Mapping[tuple[int, int], tuple[datetime, int]],
    ) -> None:
        for table, rows in queued.items():
            kept = rows + self._queued[table]
            self._queued[table] = kept[-MAX_QUEUED:]
        self._followers = {**followers, **self._followers}
        self._connections = {**connections, **self._connections}

    async def prune(self, days: int) -> int:
        """Delete activity rows older than `days` days; returns how many went."""
        if days <= 0:
            return 0
        before = datetime.now().astimezone() - timedelta(days=days)
        removed = 0
        async with self.database.transaction() as conn:
            for table in reversed(ACTIVITY_TABLES):
                result = await conn.execute(delete(table).where(table.c.created < before))
                removed += result.rowcount
            await conn.execute(delete(_FOLLOWERS).where(_FOLLOWERS.c.updated < before))
        return removed

    async def wait_due(self) -> None:
        """Sleep until a write is due: FLUSH_SECONDS passed, or BATCH rows are queued."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_SECONDS):
                await self._due.wait()
        self._due.clear()

    async def close(self) -> None:
        """Write what is left (the server is stopping), then release the connection."""
        try:
            await self.flush()
        except (DatabaseUnavailable, OSError):
            log.error("activity records lost at shutdown: %d rows", self.queued)
        finally:
            await self.database.dispose()


def _queued(table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Any:
    """SELECT of queued rows (a VALUES list, each column cast to its table's type: a column
    null in every row has no type otherwise) whose references still exist."""
    source = (
        values(*(column(name, table.c[name].type) for name in names), name="queued")
        .data(list(rows))
        .alias("queued")
    )
    typed = {name: cast(source.c[name], table.c[name].type) for name in names}
    conditions = []
    for name, target in _REFERENCES.items():
        if name in typed:
            found = exists().where(target == typed[name])
            conditions.append(or_(typed[name].is_(None), found) if table.c[name].nullable
                              else found)  # fmt: skip
    return select(*(typed[name].label(name) for name in names)).where(and_(*conditions))


async def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT … SELECT the rows from a VALUES list, skipping those naming deleted objects."""
    names = [c.key for c in table.c]
    for start in range(0, len(rows), CHUNK):
        chunk = [tuple(row.get(name) for name in names) for row in rows[start : start + CHUNK]]
        stmt = pg_insert(table).from_select(names, _queued(table, names, chunk))
        # a row written by a flush whose caller was cancelled after its commit comes back:
        # its id is taken, so it is skipped, never written twice nor failing the batch
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))


async def _follow(conn: Connection, followers: Mapping[tuple[int, int, int], datetime]) -> None:
    names = ["user_id", "image_id", "follower_id", "updated"]
    chosen = _queued(_FOLLOWERS, names, [(*key, when) for key, when in followers.items()])
    stmt = pg_insert(_FOLLOWERS).from_select(names, chosen)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "image_id", "follower_id"],
            set_={"updated": stmt.excluded.updated},
        )
    )
