"""A lease whose connection dies inside a transaction (db/engine.py): nothing of the
transaction may be committed afterwards, whichever way the loss was met."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select

from db.engine import Database, DatabaseUnavailable
from db.models import Relation
from tests.gateway.test_direct import _backend, _terminate, _with_db


def test_a_stream_that_lost_its_transactions_connection_leaves_nothing_to_commit(
    database_url: str,
) -> None:
    """The backend dies under a stream read inside a transaction, and the block goes on (it
    caught the 503): the transaction is lost, as when a statement meets the loss. Its later
    writes must not run in autocommit on a fresh connection, nor its end commit them, while
    the writes made before the loss were rolled back with the connection."""
    rows = func.generate_series(1, 200).table_valued("n").render_derived()
    stream = select(rows.c.n, func.pg_sleep(0.0).label("slept"))
    names = select(func.count()).select_from(Relation).where(Relation.name.like("lost-%"))

    async def body(db: Database) -> None:
        async with db.lease() as lease:
            with pytest.raises(DatabaseUnavailable):
                async with lease.transaction() as conn:
                    await conn.execute(insert(Relation).values(name="lost-before"))
                    killed = await _backend(conn)
                    with pytest.raises(DatabaseUnavailable):
                        async for _ in lease.stream(stream, 20):
                            await _terminate(database_url, killed)
                            await asyncio.sleep(0.3)
                    await conn.execute(insert(Relation).values(name="lost-after"))
        async with db.lease() as lease, lease.read() as conn:
            assert (await conn.execute(names)).scalar_one() == 0

    asyncio.run(_with_db(database_url, body, pool_timeout=2))


def test_a_commit_whose_answer_is_lost_tells_the_watchers_all_the_same(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMMIT that PostgreSQL carried out but whose answer never came (the connection died
    on the way back) is an unknown outcome to the lease: the tables it wrote are told to the
    watchers (the kept access decisions, the identities) as for a commit that succeeded, so no
    decision made before the write outlives it."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import AsyncConnection

    committed = AsyncConnection.commit

    async def commit_then_lose(self: AsyncConnection) -> None:
        await committed(self)
        raise OperationalError(
            "COMMIT", {}, ConnectionResetError("answer lost"), connection_invalidated=True
        )

    told: list[frozenset[str]] = []

    async def body(db: Database) -> None:
        db.watch(told.append)
        async with db.lease() as lease:
            with pytest.raises(DatabaseUnavailable):
                async with lease.transaction() as conn:
                    await conn.execute(insert(Relation).values(name="lost-answer"))
                    monkeypatch.setattr(AsyncConnection, "commit", commit_then_lose)
            monkeypatch.undo()
        assert told == [frozenset({"relation"})]

    asyncio.run(_with_db(database_url, body, pool_timeout=2))


@pytest.mark.parametrize("kind", ["write", "scalar write", "read"])
def test_outside_a_transaction_only_reads_are_run_again_after_a_lost_answer(
    database_url: str, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A statement outside a transaction commits on its own: when its answer is lost, a write
    may have been applied, and running it again would apply it twice; a read is run again on a
    fresh connection."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import AsyncConnection

    executed = AsyncConnection.execute
    lost: list[object] = []

    async def run_then_lose(self: AsyncConnection, statement: object, *args: object,
                            **kwargs: object) -> object:  # fmt: skip
        result = await executed(self, statement, *args, **kwargs)  # type: ignore[call-overload]
        if not lost:
            lost.append(statement)
            raise OperationalError("stmt", {}, ConnectionResetError("lost"),
                                   connection_invalidated=True)  # fmt: skip
        return result

    names = select(func.count()).select_from(Relation).where(Relation.name == "once")

    async def body(db: Database) -> None:
        async with db.lease() as lease, lease.read() as conn:
            monkeypatch.setattr(AsyncConnection, "execute", run_then_lose)
            if kind == "write":
                with pytest.raises(DatabaseUnavailable):
                    await conn.execute(insert(Relation).values(name="once"))
            elif kind == "scalar write":  # `Connection.scalar` follows the same rule
                with pytest.raises(DatabaseUnavailable):
                    await conn.scalar(insert(Relation).values(name="once").returning(Relation.id))
            else:
                assert (await conn.execute(names)).scalar_one() == 0
            monkeypatch.undo()
        async with db.lease() as lease, lease.read() as conn:
            assert (await conn.execute(names)).scalar_one() == (0 if kind == "read" else 1)

    asyncio.run(_with_db(database_url, body, pool_timeout=2))
