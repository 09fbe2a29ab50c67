"""Turning a REST request into GraphQL variables, by the operation's declared types.

Text (path and query) is read by the variable's type (dates as epoch milliseconds); body values
pass through, coerced the way Cytomine's Java does (core.md §1.7–1.10): numeric strings are
numbers, an unreadable number or `"null"` is absent, booleans are `true|1|yes|on`, dates are
epoch milliseconds (a number or numeric text) or ISO-8601 (UTC without a zone), and keys the
input type does not declare (`class`, `created`, counters…) are dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

from resolvers.errors import InvalidInput
from schema.common import parse_bool

__all__ = ["from_body", "from_text"]

INTEGER_SCALARS = frozenset(("Int", "Long"))
#: Lists arrive comma-separated; lists of ids may also be separated by "_" (Cytomine's
#: listings accept both, images-annotations.md §3.6).
_COMMA = re.compile(",")
_IDS = re.compile("[,_]")


def _is_integer(type_: GraphQLInputType) -> bool:
    inner = _unwrap(type_)
    return isinstance(inner, GraphQLScalarType) and inner.name in INTEGER_SCALARS


WHOLE_NUMBER = re.compile(r"-?\d+")


def _unwrap(type_: GraphQLInputType) -> GraphQLInputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def from_text(name: str, text: str, type_: GraphQLInputType) -> Any:
    """A path or query value read as `type_`; unreadable text is the caller's 400."""
    type_ = _unwrap(type_)
    if isinstance(type_, GraphQLList):
        items = (_IDS if _is_integer(type_.of_type) else _COMMA).split(text)
        return [from_text(name, item.strip(), type_.of_type) for item in items if item.strip()]
    if isinstance(type_, GraphQLScalarType):
        if type_.name in INTEGER_SCALARS:
            try:
                return int(text)
            except ValueError:
                raise InvalidInput(
                    f"Parameter {name} must be a whole number, not {text!r}"
                ) from None
        if type_.name == "Float":
            try:
                return float(text)
            except ValueError:
                raise InvalidInput(f"Parameter {name} must be a number, not {text!r}") from None
        if type_.name == "Boolean":
            return parse_bool(text)
        if type_.name == "DateTime":
            return _epoch_ms(name, text)
    return text


def _iso_of_epoch(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def _epoch_ms(name: str, text: str) -> str:
    """Cytomine passes dates as epoch milliseconds; GraphQL's DateTime wants ISO-8601."""
    try:
        return _iso_of_epoch(int(text))
    except ValueError:
        return text  # already ISO-8601, or refused by the DateTime scalar with a 400
    except (OverflowError, OSError):
        raise InvalidInput(f"Parameter {name} is not a valid date: {text!r}") from None


def _date_from_body(value: Any, name: str) -> str | None:
    """A body date as ISO-8601 for the DateTime scalar: epoch milliseconds (as a number or as
    text) or ISO-8601 text, a date without a zone being UTC; blank text is absent."""
    if isinstance(value, dict | list):
        raise InvalidInput(f"A text value was expected, not {type(value).__name__}")
    raw = ("true" if value else "false") if isinstance(value, bool) else str(value)
    text = raw.strip()
    if not text:
        return None
    try:
        if WHOLE_NUMBER.fullmatch(text):
            return _iso_of_epoch(int(text))
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"Property {name} is not a date: {raw!r}") from None
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).isoformat()


def _scalar_from_body(value: Any, type_: GraphQLScalarType | GraphQLEnumType, key: str) -> Any:
    if value is None or value == "null":
        return None
    name = type_.name
    if name == "DateTime":
        return _date_from_body(value, key)
    if name in INTEGER_SCALARS:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                return None
        return None
    if name == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(value) if isinstance(value, str) else None
        except ValueError:
            return None
    if name == "Boolean":
        if isinstance(value, dict | list):
            raise InvalidInput(f"A boolean was expected, not {type(value).__name__}")
        return parse_bool(value) if isinstance(value, str) else bool(value)
    if name in ("String", "ID") or isinstance(type_, GraphQLEnumType):
        if isinstance(value, dict | list):
            raise InvalidInput(f"A text value was expected, not {type(value).__name__}")
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    return value


def from_body(value: Any, type_: GraphQLInputType, name: str = "body") -> Any:
    """A JSON body value coerced to `type_` as Cytomine would read it."""
    type_ = _unwrap(type_)
    if isinstance(type_, GraphQLList):
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        return [from_body(item, type_.of_type, name) for item in items]
    if isinstance(type_, GraphQLInputObjectType):
        if not isinstance(value, dict):
            raise InvalidInput(f"{name} must be a JSON object")
        out: dict[str, Any] = {}
        for key, field in type_.fields.items():
            if key in value:
                coerced = from_body(value[key], field.type, key)
                if coerced is not None:
                    out[key] = coerced
        return out
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return _scalar_from_body(value, type_, name)
    return value
