"""What every area of the graph shares: the id scalar, connections, filters, command info,
min/max bounds."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Generic, NewType, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo
from strawberry.types.nodes import FragmentSpread, InlineFragment
from strawberry.types.scalar import ScalarDefinition

from resolvers.command import CommandInfo
from resolvers.context import Context
from resolvers.listing import Filter, Page, parse_bool

__all__ = [
    "SCALARS",
    "Command",
    "Connection",
    "DateTimeBounds",
    "FilterInput",
    "Info",
    "IntBounds",
    "Long",
    "PageInfo",
    "StringBounds",
    "asks_total",
    "connection",
    "parse_bool",
    "selected",
    "to_filters",
]

Info = StrawberryInfo[Context, None]


def _parse_long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"Long cannot represent {value!r}")
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError(f"Long cannot represent {value!r}: out of the 64-bit range")
    return number


#: Annotate ids with `Long`; `SCALARS` (given to the schema) says how GraphQL carries it.
Long = NewType("Long", int)

LONG_SCALAR: Final = strawberry.scalar(
    name="Long",
    serialize=int,
    parse_value=_parse_long,
    description="A 64-bit integer: Cytomine ids come from one global sequence, so an id names "
    "one object across every type, and GraphQL and REST share them.",
)


SCALARS: Final[dict[object, ScalarDefinition]] = {Long: LONG_SCALAR}


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    offset: int


T = TypeVar("T")


@strawberry.type(description="A page of a list, with the total number of matching items.")
class Connection(Generic[T]):
    total_count: int
    nodes: list[T]
    page_info: PageInfo


def connection(page: Page[Any]) -> Connection[Any]:
    """Wrap a page of rows (the rows stay rows: fields read their attributes)."""
    end = page.offset + len(page.rows)
    return Connection(
        total_count=page.total,
        nodes=list(page.rows),
        page_info=PageInfo(
            has_next_page=end < page.total, has_previous_page=page.offset > 0, offset=page.offset
        ),
    )


@strawberry.type
class DateTimeBounds:
    min: datetime | None
    max: datetime | None


@strawberry.type
class IntBounds:
    min: int | None
    max: int | None


@strawberry.type
class StringBounds:
    min: str | None
    max: str | None


@strawberry.input(description="One Cytomine search filter, `field[op]=value` in REST.")
class FilterInput:
    field: str
    op: str = strawberry.field(
        description="equals, nequals, like, ilike, lte, gte or in (comma-separated values)."
    )
    value: str | None = None


def to_filters(filters: list[FilterInput] | None) -> list[Filter]:
    return [Filter(f.field, f.op, f.value) for f in filters or ()]


@strawberry.type(name="Command", description="The command a mutation recorded (undo/redo).")
class Command:
    id: Long
    action: str = strawberry.field(description="ADD, EDIT or DELETE.")
    domain: str = strawberry.field(description="Cytomine's simple class name of the object.")
    message: str
    print_message: bool

    @classmethod
    def of(cls, info: CommandInfo) -> Command:
        return cls(
            id=Long(info.id),
            action=info.action,
            domain=info.domain,
            message=info.message,
            print_message=info.print_message,
        )


def _included(selection: Any) -> bool:
    directives = selection.directives or {}
    if "skip" in directives and directives["skip"].get("if"):
        return False
    return not ("include" in directives and not directives["include"].get("if"))


def _names(selections: list[Any], path: tuple[str, ...]) -> set[str]:
    """GraphQL names selected at `path` below `selections`, through fragments."""
    names: set[str] = set()
    for selection in selections:
        if not _included(selection):
            continue
        if isinstance(selection, FragmentSpread | InlineFragment):
            names |= _names(selection.selections, path)
        elif path:
            if selection.name == path[0]:
                names |= _names(selection.selections, path[1:])
        else:
            names.add(selection.name)
    return names


def asks_total(info: Info) -> bool:
    """Whether the list field being resolved selects `totalCount`: counting every matching
    row can cost more than reading the page, so lists skip it when nobody reads it."""
    return any("totalCount" in _names(field.selections, ()) for field in info.selected_fields)


def selected(info: Info, type_: type, *path: str) -> frozenset[str]:
    """The Python names of the fields of `type_` this query selects at `path` below the
    current field (e.g. "nodes" of a connection), honouring fragments and @include/@skip:
    resolvers read only the columns asked for."""
    converter = info.schema.config.name_converter
    definition = type_.__strawberry_definition__  # type: ignore[attr-defined]
    by_name = {converter.from_field(f): f.python_name for f in definition.fields}
    graphql_names: set[str] = set()
    for current in info.selected_fields:  # the field being resolved, with its selections
        graphql_names |= _names(current.selections, path)
    return frozenset(by_name[name] for name in graphql_names if name in by_name)
