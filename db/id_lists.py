"""`among(column, ids)`: `column = ANY($1)` with the ids as one array parameter.

SQLAlchemy renders `column.in_(ids)` on asyncpg as one placeholder per id, into the SQL text at
every execution (about 7 % of the CPU of the nested project → images → annotations → terms
benchmark query, in a profile), and each new number of keys was a new statement for asyncpg to
prepare. With one array parameter the text is the same for any number of ids, so the compiled
form and the prepared statement are reused, and PostgreSQL still walks the column's index; nor
is a batch bounded by the 32 767 parameters a statement may carry (a delete by filter of 33 000
annotations failed on it).

`among_bound(column)` leaves the array to bind at execution (`conn.execute(stmt, {"ids": ids})`),
so a loader's statement can be built once, at import: building a SELECT and computing its cache
key cost about 50 µs even for a short one, at every batch, where a statement kept whole has its
key computed once.

The loaders' answers (`rows_by_id`, `rows_grouped`) read each row's key by its position: a
SQLAlchemy row's attribute costs about 300 ns where its index costs 40, and a loader of the
term links of 500 annotations reads 900 keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import any_, bindparam, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

if TYPE_CHECKING:
    from sqlalchemy import Executable, Result, Row

    from db.direct import Direct
    from db.engine import Lease

__all__ = ["among", "among_bound", "position", "rows_by_id", "rows_grouped"]


def among(column: Any, ids: Iterable[Any] | ClauseElement) -> ColumnElement[bool]:
    """`column` is one of `ids` (none when empty), as `column = ANY(:array)`; `ids` may also
    be a SELECT of them, read as `column IN (SELECT …)`."""
    if isinstance(ids, ClauseElement):
        return column.in_(ids)  # type: ignore[no-any-return]
    return column == any_(literal(list(ids), ARRAY(column.type)))  # type: ignore[no-any-return]


def among_bound(column: Any, name: str = "ids") -> ColumnElement[bool]:
    """`among`, the ids bound at execution under `name`."""
    return column == any_(bindparam(name, type_=ARRAY(column.type)))  # type: ignore[no-any-return]


def position(result: Result[Any], key: str) -> int:
    """The index of the column `key` in the rows of `result`."""
    return list(result.keys()).index(key)


async def rows_by_id(db: Lease, stmt: Direct | Executable, ids: list[int]) -> list[Row[Any] | None]:
    """A batch loader's answer: the rows of `stmt` (narrowed with `among_bound` on their id)
    for `ids`, in their order, None for an id without a row."""
    async with db.read() as conn:
        result = await conn.fetch(stmt, {"ids": ids})
        at = position(result, "id")
        found = {row[at]: row for row in result.all()}
    return [found.get(key) for key in ids]


async def rows_grouped(
    db: Lease,
    stmt: Direct | Executable,
    key: str,
    ids: list[int],
    params: dict[str, Any] | None = None,
) -> list[list[Row[Any]]]:
    """A batch loader's answer of lists: the rows of `stmt` (narrowed to `ids` on its column
    `key`) grouped by that column, one list for each of `ids` in their order (empty for an id
    without rows), each in the statement's order."""
    groups: dict[Any, list[Row[Any]]] = {one: [] for one in ids}
    async with db.read() as conn:
        result = await conn.fetch(stmt, params)
        at = position(result, key)
        for row in result.all():
            groups[row[at]].append(row)
    return [groups[one] for one in ids]
