"""How many annotations: the per-slice annotation index and the user-annotation counts
(contract images-annotations.md §3.4 "Counts", §3.12, §3.13).

The index rows and the projects' counters are kept by triggers in the transaction of every
annotation write (migration 0003), so counts read them (one SELECT, whatever the number of
annotations); only a count bounded by dates counts rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Row, func, literal, select

from db.engine import Lease
from db.id_lists import among
from db.models import AnnotationIndex, ReviewedAnnotation, SliceInstance, UserAnnotation
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.errors import Forbidden
from resolvers.image import get_slice_instance
from resolvers.project_access import project_access, user_exists

__all__ = [
    "count_project_annotations",
    "count_user_annotations",
    "index_by_slice",
    "list_annotation_index",
]

INDEX_TABLE: Final = table_of(AnnotationIndex)


async def index_by_slice(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The index rows of each slice instance (one per user who drew or reviewed there), by
    user."""
    stmt = (
        select(*INDEX_TABLE.c)
        .where(among(AnnotationIndex.slice_id, ids))
        .order_by(AnnotationIndex.user_id)
    )
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.slice_id].append(row)
    return [grouped[key] for key in ids]


async def list_annotation_index(ctx: Context, slice_id: int) -> list[Row[Any]]:
    """Per user, the annotations drawn and reviewed on a slice (READ on its project)."""
    await get_slice_instance(ctx, slice_id)
    return await ctx.loader(index_by_slice).load(slice_id)


async def count_user_annotations(ctx: Context, user_id: int, project_id: int | None = None) -> int:
    """The annotations a user drew, everywhere or in one project, summed from the kept
    per-slice index (exact: the counter triggers keep it). Anyone may count their own; a
    project's managers count its members' (§3.4)."""
    viewer = ctx.require_viewer()
    async with ctx.db.read() as conn:
        await user_exists(conn, user_id)
    index = INDEX_TABLE
    stmt = select(func.coalesce(func.sum(index.c.count_annotation), 0)).where(
        index.c.user_id == user_id
    )
    allowed = viewer.is_admin or viewer.id == user_id
    if project_id is not None:
        access = await project_access(ctx, project_id)
        allowed = allowed or access.is_manager
        slices = select(SliceInstance.id).where(SliceInstance.project_id == project_id)
        stmt = stmt.where(index.c.slice_id.in_(slices))
    if not allowed:
        raise Forbidden(
            "Only the user, or a manager of the project given, may count these annotations"
        )
    async with ctx.db.read() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def count_project_annotations(
    ctx: Context,
    project_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    reviewed: bool = False,
) -> int:
    """The user (or `reviewed`) annotations of a project (READ): its kept counter, or, within
    [start, end] (to the millisecond, as clients see dates), a count."""
    access = (await project_access(ctx, project_id)).require_read()
    if start is None and end is None:
        row = access.row
        return int(row.count_reviewed_annotations if reviewed else row.count_annotations)
    table = table_of(ReviewedAnnotation if reviewed else UserAnnotation)
    stmt = select(func.count()).select_from(table).where(table.c.project_id == project_id)
    if start is not None:
        stmt = stmt.where(table.c.created >= _ceil_ms(start, table.c.created))
    if end is not None:
        stmt = stmt.where(table.c.created < _next_ms(_floor_ms(end), table.c.created))
    async with ctx.db.read() as conn:
        return int((await conn.execute(stmt)).scalar_one())


_MS: Final = timedelta(milliseconds=1)


def _floor_ms(moment: datetime) -> datetime:
    return moment - timedelta(microseconds=moment.microsecond % 1000)


def _next_ms(moment: datetime, column: Any) -> Any:
    """`moment` + 1 ms: in Python, or in SQL (typed as `column`) within the last millisecond
    of year 9999, past which a datetime does not go (a 500 for a client's bound of
    9999-12-31T23:59:59.9995Z)."""
    try:
        return moment + _MS
    except OverflowError:
        return literal(moment, column.type) + _MS


def _ceil_ms(moment: datetime, column: Any) -> Any:
    """The first millisecond at or after `moment`. With `_floor_ms`, the window compares the
    stored dates themselves instead of truncating each row's to the millisecond in SQL (329 ms
    against 73 ms over a million annotations), and still counts by the millisecond:
    created ≥ ⌈start⌉ is ⌊created⌋ ≥ start, created < ⌊end⌋ + 1 ms is ⌊created⌋ ≤ end."""
    floor = _floor_ms(moment)
    return floor if floor == moment else _next_ms(floor, column)
