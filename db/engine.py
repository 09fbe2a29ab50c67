"""`Database`: the engine and the two ways resolvers touch it (a read, or one transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = ["Database"]

#: The transaction the current task runs in (with its database), which a nested
#: `transaction()` on the same database joins.
_CURRENT: ContextVar[tuple[Database, AsyncConnection] | None] = ContextVar(
    "cytogate_transaction", default=None
)


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


class Database:
    """An async engine over asyncpg.

    Reads take a short connection of their own (DataLoader batches run as concurrent tasks, so
    they never share one); a mutation runs in exactly one transaction.
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; nothing it does is committed."""
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One unit of work: committed when the block ends, rolled back if it raises. Inside
        another one of the same task it joins it, so a tool made of several ordinary writes
        (a correction: an update and deletes) commits or fails as one."""
        joined = _CURRENT.get()
        if joined is not None and joined[0] is self:
            yield joined[1]
            return
        async with self.engine.begin() as conn:
            token = _CURRENT.set((self, conn))
            try:
                yield conn
            finally:
                _CURRENT.reset(token)

    async def dispose(self) -> None:
        await self.engine.dispose()
