"""Shared write mechanics: constraint violations become domain errors, rows come back as rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from resolvers.errors import Conflict, InvalidInput

__all__ = ["constraint_errors"]


def _pg_details(error: DBAPIError) -> tuple[str | None, str | None]:
    cause: Any = getattr(error.orig, "__cause__", None)
    return getattr(error.orig, "pgcode", None) or getattr(cause, "sqlstate", None), getattr(
        cause, "constraint_name", None
    )


@contextmanager
def constraint_errors(conflict: str, invalid: str = "Invalid reference") -> Iterator[None]:
    """Turn a unique violation into `Conflict(conflict)`, other integrity errors into 400.

    Uniqueness is decided by the database's constraints, never by a SELECT first (it races).
    """
    try:
        yield
    except IntegrityError as error:
        code, _constraint = _pg_details(error)
        if code == "23505":
            raise Conflict(conflict) from None
        raise InvalidInput(invalid) from None
