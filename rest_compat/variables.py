"""Turning a REST request into GraphQL variables, by the operation's declared types.

Text (path and query) is read by the variable's type (dates as epoch milliseconds); body values
pass through, coerced the way Cytomine's Java does (core.md §1.7–1.10): numeric strings are
numbers, an unreadable number or `"null"` is absent, booleans are `true|1|yes|on`, dates are
epoch milliseconds (a number or numeric text) or ISO-8601 (UTC without a zone), and keys the
input type does not declare (`class`, `created`, counters…) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

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

__all__ = ["Reader", "body_reader", "from_text"]

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


Reader = Callable[[Any, str], Any]


def _integer(value: Any, key: str) -> Any:
    if value is None or value == "null" or isinstance(value, bool):
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


def _float(value: Any, key: str) -> Any:
    if value is None or value == "null":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _boolean(value: Any, key: str) -> Any:
    if value is None or value == "null":
        return None
    if isinstance(value, dict | list):
        raise InvalidInput(f"A boolean was expected, not {type(value).__name__}")
    return parse_bool(value) if isinstance(value, str) else bool(value)


def _text(value: Any, key: str) -> Any:
    if value is None or value == "null":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        raise InvalidInput(f"A text value was expected, not {type(value).__name__}")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _date(value: Any, key: str) -> Any:
    return None if value is None or value == "null" else _date_from_body(value, key)


def _as_is(value: Any, key: str) -> Any:
    return None if value is None or value == "null" else value


def _list_reader(item: Reader, *, required_items: bool) -> Reader:
    """A list, or one value as a list of one, or a comma string as its parts (`"term":
    "1,2"`, as Cytomine reads list fields). An item that does not read (`"term": ["x"]`) is
    the caller's error where the list takes no empty items: the error of that element alone
    in an array, where the whole array would fail GraphQL's coercion."""

    def read(value: Any, key: str) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and "," in value:
            value = [part for part in value.split(",") if part.strip()]
        items = [item(one, key) for one in (value if isinstance(value, list) else [value])]
        if required_items and None in items:
            raise InvalidInput(f"Property {key} has an item that cannot be read: {value!r}")
        return items

    return read


def _object_reader(type_: GraphQLInputObjectType) -> Reader:
    """Only the keys the type declares are read, each by its field's reader (found on first
    use: an input type may hold itself)."""
    fields: dict[str, Reader] = {}

    def read(value: Any, key: str) -> Any:
        if not isinstance(value, dict):
            raise InvalidInput(f"{key} must be a JSON object")
        if not fields:
            fields.update({name: body_reader(field.type) for name, field in type_.fields.items()})
        out: dict[str, Any] = {}
        for name, item in value.items():
            field = fields.get(name)
            if field is not None and (read_item := field(item, name)) is not None:
                out[name] = read_item
        return out

    return read


_SCALAR_READERS: Final[dict[str, Reader]] = {
    "Int": _integer, "Long": _integer, "Float": _float, "Boolean": _boolean,
    "String": _text, "ID": _text, "DateTime": _date,
}  # fmt: skip


def body_reader(type_: GraphQLInputType) -> Reader:
    """How a JSON body value of `type_` is read as Cytomine would read it, `reader(value,
    key)`; worked out when the operations are loaded (rest_compat/operations.py), so that a
    REST array of thousands of annotations reads each element's keys by a ready plan."""
    type_ = _unwrap(type_)
    if isinstance(type_, GraphQLList):
        required = isinstance(type_.of_type, GraphQLNonNull)
        return _list_reader(body_reader(type_.of_type), required_items=required)
    if isinstance(type_, GraphQLInputObjectType):
        return _object_reader(type_)
    if isinstance(type_, GraphQLEnumType):
        return _text
    if isinstance(type_, GraphQLScalarType):
        return _SCALAR_READERS.get(type_.name, _as_is)
    return lambda value, key: value
