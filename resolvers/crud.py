"""Shared write mechanics: constraint violations become domain errors, rows come back as rows,
and a mutation's result pairs the object with its command."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.engine import Connection
from db.models.base import Base
from resolvers.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from resolvers.command import CommandInfo

__all__ = [
    "Changed",
    "constraint_errors",
    "delete_row",
    "insert_row",
    "lock_row",
    "table_of",
    "update_row",
]


@dataclass(frozen=True, slots=True)
class Changed:
    """A mutation's result: the object (after, or before a delete) and its command."""

    row: Any
    command: CommandInfo


def table_of(model: type[Base]) -> Table:
    """The table of a mapped class, typed as one."""
    return cast(Table, model.__table__)


def _pg_details(error: DBAPIError) -> tuple[str | None, str | None]:
    cause: Any = getattr(error.orig, "__cause__", None)
    return getattr(error.orig, "pgcode", None) or getattr(cause, "sqlstate", None), getattr(
        cause, "constraint_name", None
    )


@contextmanager
def constraint_errors(
    conflict: str,
    invalid: str = "Invalid reference",
    *,
    by_constraint: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Turn a unique violation into `Conflict(conflict)`, other integrity errors into 400.

    Uniqueness is decided by the database's constraints, never by a SELECT first (it races).
    `by_constraint` gives a constraint its own 400 message (a rule the schema enforces, such
    as one parent per term).
    """
    try:
        yield
    except IntegrityError as error:
        code, constraint = _pg_details(error)
        if by_constraint and constraint is not None and constraint in by_constraint:
            raise InvalidInput(by_constraint[constraint]) from None
        if code == "23505":
            raise Conflict(conflict) from None
        raise InvalidInput(invalid) from None


async def insert_row(conn: Connection, model: type[Base], values: Mapping[str, Any]) -> Row[Any]:
    """INSERT one row and return it whole."""
    table = table_of(model)
    return (await conn.execute(insert(table).values(**values).returning(*table.c))).one()


async def lock_row(conn: Connection, model: type[Base], domain: str, row_id: int) -> Row[Any]:
    """The row, locked for the rest of the transaction; `NotFound` when missing."""
    table = table_of(model)
    row = (
        await conn.execute(select(*table.c).where(table.c.id == row_id).with_for_update())
    ).first()
    if row is None:
        raise NotFound(domain, row_id)
    return row


async def update_row(
    conn: Connection, model: type[Base], domain: str, row_id: int, values: Mapping[str, Any]
) -> tuple[Row[Any], Row[Any]]:
    """UPDATE one row; return it before and after (the before is locked first)."""
    table = table_of(model)
    before = await lock_row(conn, model, domain, row_id)
    after = (
        await conn.execute(
            update(table).where(table.c.id == row_id).values(**values).returning(*table.c)
        )
    ).one()
    return before, after


async def delete_row(conn: Connection, model: type[Base], domain: str, row_id: int) -> Row[Any]:
    """DELETE one row and return it as it was; `NotFound` when missing."""
    table = table_of(model)
    row = (
        await conn.execute(delete(table).where(table.c.id == row_id).returning(*table.c))
    ).first()
    if row is None:
        raise NotFound(domain, row_id)
    return row
