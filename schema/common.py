"""What every area of the graph shares: the id scalar, connections, filters, command info,
min/max bounds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from functools import cache, lru_cache
from typing import Any, Final, Generic, NewType, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo
from strawberry.types.nodes import FragmentSpread, InlineFragment
from strawberry.types.scalar import ScalarDefinition

from resolvers.command import CommandInfo
from resolvers.context import BatchFn, Context
from resolvers.listing import Filter, Page, RowStream, parse_bool
from resolvers.upload import StagedFile
from schema.executor import LOADED, Loaded, field_reads

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
    "StagedFile",
    "StringBounds",
    "Upload",
    "about",
    "asks_total",
    "connection",
    "described_enum",
    "loaded",
    "parse_bool",
    "reads_of",
    "selected",
    "to_filters",
]

Info = StrawberryInfo[Context, None]

E = TypeVar("E", bound=type[Enum])


def about(description: str) -> Any:
    """An argument's description, for `Annotated[T, about("…")]`."""
    return strawberry.argument(description=description)


def described_enum(cls: E, *, name: str, description: str, values: Mapping[Enum, str]) -> E:
    """A resolvers' enum shown as a GraphQL enum, each of its values described (strawberry
    describes only values declared in a class of its own; a value left out is a KeyError)."""
    exposed = strawberry.enum(cls, name=name, description=description)
    for value in exposed.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[cls[value.name]]
    return exposed


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


def _parse_upload(value: Any) -> StagedFile:
    if not isinstance(value, StagedFile):
        raise ValueError(
            "Upload cannot represent a value sent as JSON: send the file as a part of a "
            "multipart request (the GraphQL multipart request spec, or the REST upload route)"
        )
    return value


#: Annotate uploaded files with `Upload`: the transport stages a multipart request's file on
#: disk and hands the mutation its handle (resolvers/upload.py); no JSON value is one.
Upload = NewType("Upload", StagedFile)

UPLOAD_SCALAR: Final = strawberry.scalar(
    name="Upload",
    serialize=lambda value: None,
    parse_value=_parse_upload,
    description="A file sent as a part of a multipart request, streamed to disk before the "
    "mutation runs (GraphQL multipart request spec: `operations`, `map`, then the files).",
)


SCALARS: Final[dict[object, ScalarDefinition]] = {Long: LONG_SCALAR, Upload: UPLOAD_SCALAR}


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede it.")
    offset: int = strawberry.field(description="How many items precede it.")


T = TypeVar("T")


@strawberry.type(description="A page of a list, with the total number of matching items.")
class Connection(Generic[T]):
    total_count: int
    nodes: list[T]
    page_info: PageInfo


def connection(page: Page[Any] | RowStream) -> Connection[Any]:
    """Wrap a page of rows (the rows stay rows: fields read their attributes). A `RowStream`
    (every row, for the REST bridge) stays unread: its nodes are read as the answer is
    written, and its total, unknown until then, is -1."""
    if isinstance(page, RowStream):
        info = PageInfo(has_next_page=False, has_previous_page=False, offset=0)
        return Connection(total_count=-1, nodes=page, page_info=info)  # type: ignore[arg-type]
    end = page.offset + len(page.rows)
    return Connection(
        total_count=page.total,
        nodes=list(page.rows),
        page_info=PageInfo(
            has_next_page=end < page.total, has_previous_page=page.offset > 0, offset=page.offset
        ),
    )


@strawberry.type(
    description="The smallest and largest of a field's dates over a list (null when empty)."
)
class DateTimeBounds:
    min: datetime | None
    max: datetime | None


@strawberry.type(
    description="The smallest and largest of a field's numbers over a list (null when empty)."
)
class IntBounds:
    min: int | None
    max: int | None


@strawberry.type(
    description="The smallest and largest of a field's texts over a list (null when empty)."
)
class StringBounds:
    min: str | None
    max: str | None


@strawberry.input(description="One Cytomine search filter, `field[op]=value` in REST.")
class FilterInput:
    field: str = strawberry.field(
        description="The field filtered on, as the list's REST filters name it (`name`…)."
    )
    op: str = strawberry.field(
        description="equals, nequals, like, ilike, lte, gte or in (comma-separated values)."
    )
    value: str | None = strawberry.field(
        default=None,
        description='The value as REST sends it; null (or "null") with equals or nequals '
        "matches null.",
    )


def to_filters(filters: list[FilterInput] | None) -> list[Filter]:
    return [Filter(f.field, f.op, f.value) for f in filters or ()]


@strawberry.type(name="Command", description="The command a mutation recorded (undo/redo).")
class Command:
    id: Long
    action: str = strawberry.field(description="ADD, EDIT or DELETE.")
    domain: str = strawberry.field(description="Cytomine's simple class name of the object.")
    message: str = strawberry.field(
        description='What the change did, e.g. "Project 412 (Demo) added".'
    )
    print_message: bool = strawberry.field(
        description="False for a change made as part of another: it has no history entry."
    )

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


def loaded(
    batch_fn: BatchFn[Any, Any],
    key: str,
    *,
    graphql_type: Any,
    description: str | None = None,
    lighter: tuple[frozenset[str], BatchFn[Any, Any]] | None = None,
) -> Any:
    """A field whose value is the request's DataLoader for `batch_fn` at the parent's `key`
    attribute (null where that is null): what the list executor completes in one batch for a
    whole list (schema/executor.py). `lighter`: the attributes a second loader leaves out of
    the values, and that loader, which the list executor uses when the query reads none of
    them."""

    async def resolve(parent: strawberry.Parent[Any], info: Info) -> Any:
        found = getattr(parent, key)
        return None if found is None else await info.context.loader(batch_fn).load(found)

    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description,
                            metadata={LOADED: Loaded(batch_fn, key, lighter)})  # fmt: skip


@lru_cache(maxsize=512)
def reads_of(type_: type, names: frozenset[str]) -> frozenset[str] | None:
    """The row attributes the fields `names` (Python names, as `selected` gives them) of
    `type_` read: a plain field its own, a loaded one its key; None when one of them has a
    resolver of its own, which may read any attribute. A listing reads only those columns
    (asyncpg decodes every column a statement returns)."""
    fields = {f.python_name: f for f in type_.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    if not names <= fields.keys():
        return None
    return field_reads(fields[name] for name in names)


def asks_total(info: Info) -> bool:
    """Whether the list field being resolved selects `totalCount`: counting every matching
    row can cost more than reading the page, so lists skip it when nobody reads it."""

    def derive() -> bool:
        return any("totalCount" in _names(field.selections, ()) for field in info.selected_fields)

    return _per_query(info, ("totalCount",), derive)


def _per_query(info: Info, what: tuple[Any, ...], derive: Callable[[], T]) -> T:
    """`derive()` about the field being resolved, once per execution (`Context.memo`): a field
    under the items of a list is resolved once per item, with the same nodes and variables.
    The key names the execution's variables too (a context may run a document again with
    others, which `@include` may read); an entry keeps what its key names alive, so their ids
    stay theirs while the request runs."""
    raw = info._raw_info
    kept = (raw.variable_values, *raw.field_nodes)
    key = (*what, *map(id, kept))
    memo = info.context.memo
    found = memo.get(key)
    if found is None:
        found = memo[key] = (kept, derive())
    derived: T = found[1]
    return derived


@cache
def _python_names(type_: type, converter: Any) -> dict[str, str]:
    """The Python name of each GraphQL field of `type_`, made once per type (every listing
    asks, and naming 40 fields costs more than reading their selection)."""
    definition = type_.__strawberry_definition__  # type: ignore[attr-defined]
    return {converter.from_field(f): f.python_name for f in definition.fields}


def selected(info: Info, type_: type, *path: str) -> frozenset[str]:
    """The Python names of the fields of `type_` this query selects at `path` below the
    current field (e.g. "nodes" of a connection), honouring fragments and @include/@skip:
    resolvers read only the columns asked for."""

    def derive() -> frozenset[str]:
        by_name = _python_names(type_, info.schema.config.name_converter)
        graphql_names: set[str] = set()
        for current in info.selected_fields:  # the field being resolved, with its selections
            graphql_names |= _names(current.selections, path)
        return frozenset(by_name[name] for name in graphql_names if name in by_name)

    return _per_query(info, (type_, *path), derive)
