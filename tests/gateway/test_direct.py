"""`db.direct.Direct`: a kept SELECT runs straight on asyncpg outside a transaction, with the
rows, errors and retries SQLAlchemy's execution gives, and through SQLAlchemy inside one."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Integer, Numeric, bindparam, event, func, literal, select
from sqlalchemy.exc import DBAPIError

from db.direct import Direct
from db.engine import Connection, Database, DatabaseUnavailable
from tests.harness import raw_connection

#: Values bound at execution, a value fixed in the statement, and a NUMERIC, whose result
#: processor depends on the type PostgreSQL answers.
SAMPLE = Direct(
    select(
        (bindparam("a", type_=Integer) + 1).label("next"),
        literal("fixed").label("word"),
        func.round(bindparam("d", type_=Numeric), 1).label("rounded"),
        func.now().label("started"),
    )
)


async def _with_db(url: str, body: Callable[[Database], Awaitable[None]], **kw: Any) -> None:
    db = Database(url, pool_size=1, **kw)
    try:
        await body(db)
    finally:
        await db.dispose()


def _passes_sqlalchemy(db: Database) -> list[str]:
    """The statements that go through SQLAlchemy's execution (not only its cursor events)."""
    seen: list[str] = []
    event.listen(db.engine.sync_engine, "before_execute", lambda *a: seen.append(str(a[1])))
    return seen


def test_rows_are_those_of_sqlalchemys_execution(database_url):
    async def body(db: Database) -> None:
        through = _passes_sqlalchemy(db)
        params = {"a": 41, "d": Decimal("2.46")}
        async with db.lease() as lease, lease.read() as conn:
            direct = (await conn.fetch(SAMPLE, params)).all()
            again = (await conn.fetch(SAMPLE, params)).all()
            plain = (await conn.execute(SAMPLE.statement, params)).all()
        assert through == [str(SAMPLE.statement)]  # the plain execution only
        for rows in (direct, again):
            assert rows[0][:3] == plain[0][:3] == (42, "fixed", Decimal("2.5"))
            assert rows[0]._fields == plain[0]._fields
            assert rows[0].rounded == Decimal("2.5") and type(rows[0].next) is int

    asyncio.run(_with_db(database_url, body))


def test_inside_a_transaction_it_runs_in_the_transaction(database_url):
    async def body(db: Database) -> None:
        through = _passes_sqlalchemy(db)
        async with db.lease() as lease:
            for _ in range(2):
                async with lease.transaction() as conn:
                    # the first statement carries the BEGIN: through SQLAlchemy; then straight
                    first = (await conn.fetch(SAMPLE, {"a": 1, "d": 1})).one()
                    await asyncio.sleep(0.01)
                    second = (await conn.fetch(SAMPLE, {"a": 1, "d": 1})).one()
                assert first.started == second.started  # one transaction, one now()
            assert len(through) == 2
            async with lease.read() as conn:
                first = (await conn.fetch(SAMPLE, {"a": 1, "d": 1})).one()
                await asyncio.sleep(0.01)
                second = (await conn.fetch(SAMPLE, {"a": 1, "d": 1})).one()
            assert first.started < second.started  # each its own autocommit statement
            assert len(through) == 2

    asyncio.run(_with_db(database_url, body))


def test_a_statement_whose_text_depends_on_its_values_goes_through_sqlalchemy(database_url):
    expanding = Direct(select(literal(1).label("one")).where(literal(2).in_(bindparam("some"))))

    async def body(db: Database) -> None:
        through = _passes_sqlalchemy(db)
        async with db.lease() as lease, lease.read() as conn:
            assert (await conn.fetch(expanding, {"some": [1, 2]})).all() == [(1,)]
            assert (await conn.fetch(expanding, {"some": [3]})).all() == []
        assert len(through) == 2

    asyncio.run(_with_db(database_url, body))


def test_a_postgresql_error_keeps_sqlalchemys_shape_and_the_connection(database_url):
    dividing = Direct(select((literal(1) / bindparam("by", type_=Integer)).label("q")))

    async def body(db: Database) -> None:
        async with db.lease() as lease, lease.read() as conn:
            with pytest.raises(DBAPIError) as raised:
                await conn.fetch(dividing, {"by": 0})
            assert raised.value.orig.__cause__.sqlstate == "22012"  # division by zero
            assert "division by zero" in str(raised.value)
            assert (await conn.fetch(dividing, {"by": 1})).scalar_one() == 1

    asyncio.run(_with_db(database_url, body))


def test_a_statement_past_the_timeout_is_unavailable(database_url):
    sleeping = Direct(select(func.pg_sleep(bindparam("s", type_=Numeric)).label("slept")))

    async def body(db: Database) -> None:
        async with db.lease() as lease, lease.read() as conn:
            with pytest.raises(DatabaseUnavailable, match="statement timeout"):
                await conn.fetch(sleeping, {"s": 3})

    asyncio.run(_with_db(database_url, body, statement_timeout=1))


def test_a_stream_past_the_timeout_is_unavailable_and_the_lease_goes_on(database_url):
    """A cursor's FETCH raises asyncpg's own error, which SQLAlchemy does not wrap: it is the
    same 503 as any statement past the timeout, and the lease stays usable."""
    series = func.generate_series(1, 4).table_valued("n").render_derived()
    slow = select(series.c.n, func.pg_sleep(0.4).label("slept"))  # 0.4 s a row: 1.6 s in all

    async def body(db: Database) -> None:
        async with db.lease() as lease:
            seen: list[int] = []
            with pytest.raises(DatabaseUnavailable, match="statement timeout"):
                async for partition in lease.stream(slow, 2):
                    seen += [row.n for row in partition]
            async with lease.read() as conn:
                assert (await conn.execute(select(literal(1)))).scalar_one() == 1

    asyncio.run(_with_db(database_url, body, statement_timeout=1))


def test_a_stream_left_early_leaves_no_error_unretrieved(database_url):
    """The caller stops after the first partition (a client gone mid-answer) while the read
    ahead has already ended (the cursor was exhausted): its outcome is collected with the
    stream, so asyncio reports no "exception was never retrieved"."""
    two = select(func.generate_series(1, 2).label("n"))

    async def body(db: Database) -> None:
        reported: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: reported.append(context)
        )
        async with db.lease() as lease:
            rows = lease.stream(two, 2)
            async for partition in rows:
                assert [row.n for row in partition] == [1, 2]
                await asyncio.sleep(0.1)  # the read ahead meets the cursor's end meanwhile
                break
            await rows.aclose()
            del rows
            gc.collect()
            await asyncio.sleep(0)
        assert not reported, reported

    asyncio.run(_with_db(database_url, body))


async def _backend(conn: Connection) -> int:
    return int((await conn.execute(select(func.pg_backend_pid()))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    other = await raw_connection(url)
    try:
        await other.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await other.close()


@pytest.mark.parametrize("during_a_fetch", [False, True])
def test_a_stream_whose_connection_is_lost_is_unavailable_and_the_pool_goes_on(
    database_url, during_a_fetch
):
    """The backend is killed between two FETCHes of a cursor, or while one runs: the stream
    raises the same 503 as any statement that lost its connection (not the errors of cleaning
    up a dead connection), and the lease and its one-connection pool serve again."""
    rows = func.generate_series(1, 200).table_valued("n").render_derived()
    pause = 0.02 if during_a_fetch else 0.0  # a FETCH of 50 rows takes 1 s: killed in it
    stream = select(rows.c.n, func.pg_sleep(pause).label("slept"))

    async def body(db: Database) -> None:
        async with db.lease() as lease:
            async with lease.read() as conn:
                killed = await _backend(conn)
            seen: list[int] = []
            with pytest.raises(DatabaseUnavailable, match="connection was lost"):
                async for partition in lease.stream(stream, 60 if during_a_fetch else 20):
                    if not seen:
                        await _terminate(database_url, killed)
                        await asyncio.sleep(0 if during_a_fetch else 0.3)
                    seen += [row.n for row in partition]
            assert seen and len(seen) < 200
            async with lease.read() as conn:
                assert await _backend(conn) != killed
        async with db.lease() as lease, lease.read() as conn:
            assert (await conn.execute(select(literal(1)))).scalar_one() == 1

    asyncio.run(_with_db(database_url, body, pool_timeout=2))


def test_an_error_inside_a_transaction_rolls_it_back_whole(database_url):
    dividing = Direct(select((literal(1) / bindparam("by", type_=Integer)).label("q")))

    async def body(db: Database) -> None:
        async with db.lease() as lease:
            with pytest.raises(DBAPIError):
                async with lease.transaction() as conn:
                    started = (await conn.fetch(SAMPLE, {"a": 1, "d": 1})).one().started
                    await conn.fetch(dividing, {"by": 0})
            async with lease.transaction() as conn:  # a new transaction serves
                again = (await conn.fetch(SAMPLE, {"a": 1, "d": 1})).one().started
                assert again > started
                assert (await conn.fetch(dividing, {"by": 1})).scalar_one() == 1

    asyncio.run(_with_db(database_url, body))


def test_a_connection_killed_between_requests_is_replaced_and_the_read_retried(database_url):
    async def body(db: Database) -> None:
        async with db.lease() as lease, lease.read() as conn:
            killed = await _backend(conn)
        await _terminate(database_url, killed)
        await asyncio.sleep(0.2)
        async with db.lease() as lease, lease.read() as conn:
            row = (await conn.fetch(SAMPLE, {"a": 1, "d": 1})).one()  # the pool's dead one first
            assert row.next == 2
            assert await _backend(conn) != killed

    asyncio.run(_with_db(database_url, body))
