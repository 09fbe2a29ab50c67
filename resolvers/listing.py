"""Lists in SQL: Cytomine's `field[op]=value` filters, sorting and paging (core.md §4).

A resolver declares which fields a list can be filtered and sorted on; everything is turned
into bound SQL expressions, nothing is sliced in memory. A field held by other rows (the tags
of a project) is declared as `Related` and matched with EXISTS. A page of each of many parents
(the members of each project of a query) is one windowed statement, so nested lists cost the
same whatever the number of parents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Generic, Literal, TypeVar, cast

from sqlalchemy import Boolean, Select, String, and_, exists, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among_bound, position
from resolvers.errors import CytogateError, InvalidInput

__all__ = [
    "Filter",
    "FilterOp",
    "Page",
    "Related",
    "RowStream",
    "apply_filters",
    "apply_sort",
    "fetch_page",
    "order_clauses",
    "page_or_stream",
    "pages_by_parent",
    "parent_pages",
    "parse_bool",
    "read_parent_pages",
    "wants_whole",
    "whole_list",
]

FilterOp = Literal["equals", "nequals", "like", "ilike", "lte", "gte", "in"]
FILTER_OPS: Final = frozenset(("equals", "nequals", "like", "ilike", "lte", "gte", "in"))
TRUE_WORDS: Final = frozenset(("true", "1", "yes", "on"))

T = TypeVar("T")
#: A SQLAlchemy Select of any columns (its row type varies per list).
SelectAny = Any


def parse_bool(text: str) -> bool:
    """Spring's reading of a boolean parameter: true|1|yes|on, any case; else false."""
    return text.strip().lower() in TRUE_WORDS


@dataclass(frozen=True, slots=True)
class Filter:
    """One `field[op]=value` condition; `value` None means SQL NULL."""

    field: str
    op: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Related:
    """A filter field held by related rows (the tags of a project), matched as Cytomine's LEFT
    JOIN matches it: a row passes when one of its related rows passes, and a condition that
    accepts null (`in` listing `null`, `equals` null) also passes rows with no related row.

    Args:
        column: the related rows' column the filter compares.
        link: the correlated condition tying related rows to the listed row.
    """

    column: Any
    link: Any


@dataclass(frozen=True, slots=True)
class RowStream:
    """Rows read later, partition by partition, from a server-side cursor: what a listing
    gives for its whole list (REST's `max=0`), so no answer is ever held whole. Nothing is
    read until it is iterated; its total is the number of rows it yields."""

    lease: Lease
    statement: Any
    size: int = 2000

    offset: int = 0

    def __aiter__(self) -> AsyncIterator[Sequence[Any]]:
        return self.lease.stream(self.statement, self.size).__aiter__()


#: Rows read per partition of a whole list (`whole_list`).
WHOLE_LIST_PARTITION = 2000


def wants_whole(limit: int | None, offset: int) -> bool:
    """Every row is asked for from the first: a limit of None, which only the REST bridge's
    `max=0` gets (decision 6)."""
    return limit is None and offset == 0


def whole_list(db: Lease, statement: Any, limit: int | None, offset: int) -> RowStream | None:
    """The rows of `statement` as a `RowStream` when the whole list is asked for
    (`wants_whole`); else None, and the caller reads its page."""
    return RowStream(db, statement, WHOLE_LIST_PARTITION) if wants_whole(limit, offset) else None


async def page_or_stream(
    db: Lease, stmt: SelectAny, *, limit: int | None, offset: int
) -> Page[Any] | RowStream:
    """The whole list of `stmt` as a stream when it is asked for (`whole_list`), else its
    page (`fetch_page`)."""
    stream = whole_list(db, stmt, limit, offset)
    if stream is not None:
        return stream
    async with db.read() as conn:
        return await fetch_page(conn, stmt, limit=limit, offset=offset)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A page of rows and the total count of matching rows."""

    rows: Sequence[T]
    total: int
    offset: int
    limit: int | None


def _convert(column: ColumnElement[Any], text: str) -> Any:
    """Read `text` as the column's Python type; a bad value is the caller's error."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return text
    try:
        if python_type is bool:
            return parse_bool(text)
        if python_type is int:
            number = int(text)
            if not -(2**63) <= number < 2**63:
                raise ValueError(text)
            return number
        if python_type is float:
            return float(text)
        if python_type is datetime:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"{text!r} is not a valid value for this filter") from None
    return text


def _condition(column: ColumnElement[Any], op: str, value: str | None) -> ColumnElement[bool]:
    if op in ("equals", "nequals"):
        if value is None or value == "null":
            return column.is_(None) if op == "equals" else column.is_not(None)
        converted = _convert(column, value)
        return cast(
            ColumnElement[bool], column == converted if op == "equals" else column != converted
        )
    if value is None:
        raise InvalidInput(f"the {op} filter needs a value")
    if op in ("like", "ilike"):
        pattern = "%" + value.replace("*", "%") + "%"
        text_column = column if column.type.python_type is str else column.cast(String)
        return text_column.like(pattern) if op == "like" else text_column.ilike(pattern)
    if op in ("lte", "gte"):
        converted = _convert(column, value)
        if isinstance(column.type, Boolean):  # SQLAlchemy orders no booleans; PostgreSQL does
            return column.op("<=" if op == "lte" else ">=", is_comparison=True)(converted)
        return cast(
            ColumnElement[bool], column <= converted if op == "lte" else column >= converted
        )
    items = [item.strip() for item in value.split(",") if item.strip()]
    wanted = [_convert(column, item) for item in items if item != "null"]
    parts: list[ColumnElement[bool]] = []
    if wanted:
        parts.append(column.in_(wanted))
    if "null" in items:
        parts.append(column.is_(None))
    return or_(*parts) if parts else column.in_([])


def _accepts_null(op: str, value: str | None) -> bool:
    if op == "in" and value is not None:
        return "null" in (item.strip() for item in value.split(","))
    return op == "equals" and value in (None, "null")


def _related(related: Related, op: str, value: str | None) -> ColumnElement[bool]:
    matching = exists(select(literal(1)).where(related.link, _condition(related.column, op, value)))
    if _accepts_null(op, value):
        return or_(matching, ~exists(select(literal(1)).where(related.link)))
    return matching


def apply_filters(
    stmt: SelectAny,
    filters: Sequence[Filter] | None,
    columns: Mapping[str, Any],
) -> SelectAny:
    """AND the filters on known fields and operators; others are ignored, as Cytomine does.
    A field mapped to a `Related` is matched through its related rows."""
    conditions = [
        _related(target, f.op, f.value)
        if isinstance(target := columns[f.field], Related)
        else _condition(target, f.op, f.value)
        for f in filters or ()
        if f.field in columns and f.op in FILTER_OPS
    ]
    return stmt.where(and_(*conditions)) if conditions else stmt


def order_clauses(
    sort: str | None,
    order: str | None,
    columns: Mapping[str, Any],
    *,
    default: str,
    default_order: str = "asc",
    tie: Any = None,
    tie_follows: bool = False,
    unknown: Callable[[str], CytogateError] | None = None,
) -> list[Any]:
    """The ORDER BY clauses of a whitelisted field; an unknown field or direction is a 400.

    Args:
        tie: a last clause making the order total (usually the id).
        tie_follows: `tie` is a column sorted in the field's direction.
        unknown: the error for an unknown field, where an area answers otherwise than 400.
    """
    field = sort or default
    direction = (order or default_order).lower()
    if field not in columns:
        if unknown is not None:
            raise unknown(field)
        raise InvalidInput(f"Cannot sort on {field}: unknown field")
    if direction not in ("asc", "desc"):
        raise InvalidInput(f"order must be asc or desc, not {order!r}")
    column = columns[field]
    ordered = column.desc().nulls_last() if direction == "desc" else column.asc().nulls_first()
    if tie is None:
        return [ordered]
    if tie_follows:
        tie = tie.desc() if direction == "desc" else tie.asc()
    return [ordered, tie]


def apply_sort(
    stmt: SelectAny,
    sort: str | None,
    order: str | None,
    columns: Mapping[str, Any],
    *,
    default: str,
    default_order: str = "asc",
    tie: Any = None,
) -> SelectAny:
    """Order by a whitelisted field; an unknown field or direction is a 400."""
    clauses = order_clauses(sort, order, columns, default=default, default_order=default_order,
                            tie=tie)  # fmt: skip
    return stmt.order_by(*clauses)


async def fetch_page(
    conn: Connection,
    stmt: SelectAny,
    *,
    limit: int | None,
    offset: int,
    finish: Callable[[Any], SelectAny] | None = None,
) -> Page[Any]:
    """Run `stmt` for one page (`limit` None: every row from `offset`; 0: none, only the
    total). The total is a count of its own in the same statement (run once, beside the
    page), so the page reads its own rows where an index gives the order, and the count
    reads none of the columns: a window count would have built every row first. `finish`
    turns the page (a subquery) into what is read: columns computed for its rows only."""
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInput("max and offset must not be negative")
    paged = stmt.add_columns(_count_of(stmt).label("_total")).offset(offset)
    if limit is not None:
        paged = paged.limit(limit)
    if finish is not None:
        paged = finish(paged.subquery())
    rows = (await conn.execute(paged)).all() if limit != 0 else []
    if rows:
        total = int(rows[0]._total)
    elif offset or limit == 0:
        total = int((await conn.execute(select(_count_of(stmt)))).scalar_one())
    else:
        total = 0
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def _count_of(stmt: SelectAny) -> Any:
    """How many rows `stmt` gives, as a scalar subquery: without its columns (computed
    ones may cost a subquery a row) unless they decide the rows (DISTINCT, GROUP BY)."""
    if not isinstance(stmt, Select) or stmt._distinct or stmt._group_by_clauses:
        rows = stmt.order_by(None).subquery()
    else:
        rows = stmt.with_only_columns(literal(1), maintain_column_froms=True).order_by(None)
        rows = rows.subquery()
    return select(func.count()).select_from(rows).scalar_subquery()


async def pages_by_parent(
    conn: Connection,
    stmt: SelectAny,
    parent: Any,
    order: Sequence[Any],
    parent_ids: Sequence[int],
    *,
    limit: int | None,
    offset: int,
) -> dict[int, Page[Any]]:
    """One page of `stmt`'s rows for each parent, with each parent's total, in one SELECT
    (`parent_pages`, run by `read_parent_pages`)."""
    query = parent_pages(stmt, parent, order, limit=limit, offset=offset)
    return await read_parent_pages(conn, query, parent_ids, limit=limit, offset=offset)


def parent_pages(
    stmt: SelectAny, parent: Any, order: Sequence[Any], *, limit: int | None, offset: int
) -> SelectAny:
    """The SELECT of a page of `stmt`'s rows per parent, the parents' ids bound at execution
    (`parents`), so a caller may build it once per paging and keep it.

    Rows are numbered and counted per parent by window functions; a parent's first row comes
    along even outside its page, so a page past the end still knows its total.

    Args:
        parent: the column naming a row's parent.
        order: the ORDER BY of each parent's rows.
        limit: rows per page; None for every row (0 is an empty page).
    """
    numbered = (
        stmt.add_columns(
            parent.label("_page_parent"),
            func.row_number().over(partition_by=parent, order_by=order).label("_page_rank"),
            func.count().over(partition_by=parent).label("_page_total"),
        )
        .where(among_bound(parent, "parents"))
        .subquery()
    )
    rank = numbered.c._page_rank
    in_page = rank > offset
    if limit is not None:
        in_page = and_(in_page, rank <= offset + limit)
    return (
        select(numbered, in_page.label("_page_in"))
        .where(or_(in_page, rank == 1))
        .order_by(numbered.c._page_parent, rank)
    )


async def read_parent_pages(
    conn: Connection,
    query: SelectAny | Direct,
    parent_ids: Sequence[int],
    *,
    limit: int | None,
    offset: int,
    params: Mapping[str, Any] | None = None,
) -> dict[int, Page[Any]]:
    """Run a `parent_pages` query for `parent_ids` (and the other values it binds,
    `params`): each parent's page."""
    rows: defaultdict[int, list[Any]] = defaultdict(list)
    totals: dict[int, int] = {}
    bound = {"parents": list(parent_ids), **(params or {})}
    result = await conn.fetch(query, bound)
    parent, total, in_page = (position(result, key) for key in ("_page_parent", "_page_total",
                                                                "_page_in"))  # fmt: skip
    for row in result.all():
        totals[row[parent]] = int(row[total])
        if row[in_page]:
            rows[row[parent]].append(row)
    return {key: Page(rows[key], totals.get(key, 0), offset, limit) for key in parent_ids}
