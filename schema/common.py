"""What every area of the graph shares: the id scalar, connections, filters, command info."""

from __future__ import annotations

from typing import Any, Final, Generic, NewType, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo
from strawberry.types.scalar import ScalarDefinition

from resolvers.command import CommandInfo
from resolvers.context import Context
from resolvers.listing import Filter, Page

__all__ = [
    "SCALARS",
    "Command",
    "Connection",
    "FilterInput",
    "Info",
    "Long",
    "PageInfo",
    "connection",
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
