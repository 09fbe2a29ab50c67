"""`among(column, ids)`: `column = ANY($1)` with the ids as one array parameter.

SQLAlchemy renders `column.in_(ids)` on asyncpg as one placeholder per id, into the SQL text at
every execution (about 7 % of the CPU of the nested project → images → annotations → terms
benchmark query, in a profile), and each new number of keys was a new statement for asyncpg to
prepare. With one array parameter the text is the same for any number of ids, so the compiled
form and the prepared statement are reused, and PostgreSQL still walks the column's index; nor
is a batch bounded by the 32 767 parameters a statement may carry (a delete by filter of 33 000
annotations failed on it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

__all__ = ["among"]


def among(column: Any, ids: Iterable[Any] | ClauseElement) -> ColumnElement[bool]:
    """`column` is one of `ids` (none when empty), as `column = ANY(:array)`; `ids` may also
    be a SELECT of them, read as `column IN (SELECT …)`."""
    if isinstance(ids, ClauseElement):
        return column.in_(ids)  # type: ignore[no-any-return]
    return column == any_(literal(list(ids), ARRAY(column.type)))  # type: ignore[no-any-return]
