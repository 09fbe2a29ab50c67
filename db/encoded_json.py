"""`EncodedJson`: JSON that PostgreSQL builds and the response carries as it came.

A listing's nested values (who put which term…) are built in SQL as JSON text. Decoding that text
into Python objects only to encode them again in the response cost a fifth of a 10 000-row
listing; read through this type they stay bytes, embedded verbatim by orjson.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Text, cast, type_coerce
from sqlalchemy.types import TypeDecorator

__all__ = ["EncodedJson", "encoded_json"]


class EncodedJson(TypeDecorator[Any]):
    """Text holding JSON, read as an `orjson.Fragment`."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else orjson.Fragment(value)


def encoded_json(expression: Any) -> Any:
    """A JSON (or JSONB) SQL expression, read as already-encoded JSON."""
    return type_coerce(cast(expression, Text), EncodedJson())
