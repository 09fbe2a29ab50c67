"""How activity is read: tables, the windows that define "online", the values Cytomine stores
when a record is closed (computed here when read), and per-parent pages.

A project connection is closed by the user's next connection to the project; its `time` is
the sum of the gaps shorter than CONNECTION_GAP between the user's pings in the project from
its start to its close (or now), `countViewedImages` the distinct images the user opened
then, `countCreatedAnnotations` the annotations the user drew in the project then. An image
consultation is closed by the user's next consultation of the image; its `time` sums the gaps
shorter than CONSULTATION_GAP between the user's positions on the image, and it counts the
annotations the user drew on the image meanwhile (core.md §9.16–§9.17). Listings page in SQL,
one windowed statement for any number of parents, the computed values only for the page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Row,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)

from db.engine import Connection, Lease
from db.id_lists import among
from db.models import (
    AnnotationAction,
    ImageConsultation,
    PersistentConnection,
    ProjectConnection,
    ReviewedAnnotation,
    UserAnnotation,
    UserPosition,
)
from resolvers.crud import table_of
from resolvers.image_name import blinded_name_column
from resolvers.listing import Page, fetch_page
from resolvers.metadata_target import REVIEWED_ANNOTATION_CLASS, USER_ANNOTATION_CLASS

__all__ = [
    "ACTION_TABLE",
    "CONNECTION_GAP",
    "CONNECTION_TABLE",
    "CONSULTATION_GAP",
    "CONSULTATION_TABLE",
    "FOLLOWING",
    "LAST_POSITION",
    "ONLINE",
    "ONLINE_ON_IMAGE",
    "PING_TABLE",
    "POSITION_TABLE",
    "annotation_places_by_id",
    "connection_metrics",
    "connections",
    "consultation_metrics",
    "consultations",
    "ms",
    "online_in",
    "pages_by",
    "since",
]

PING_TABLE: Final = table_of(PersistentConnection)
CONNECTION_TABLE: Final = table_of(ProjectConnection)
CONSULTATION_TABLE: Final = table_of(ImageConsultation)
POSITION_TABLE: Final = table_of(UserPosition)
ACTION_TABLE: Final = table_of(AnnotationAction)

#: "Online" is a ping in the last 300 s (core.md §9.16); on an image, a position in the last
#: 30 s (§9.18); a user's "last position" is their newest of the last 60 s; a follower asked
#: for a user's position in the last 30 s.
ONLINE: Final = timedelta(seconds=300)
ONLINE_ON_IMAGE: Final = timedelta(seconds=30)
LAST_POSITION: Final = timedelta(seconds=60)
FOLLOWING: Final = timedelta(seconds=30)
#: Gaps between pings (positions) longer than this are time away from a project (an image).
CONNECTION_GAP: Final = timedelta(seconds=30)
CONSULTATION_GAP: Final = timedelta(seconds=15)


def since(window: timedelta) -> Any:
    """`now() - window`, for "in the last …" conditions."""
    return func.now() - window


def ms(interval: Any) -> Any:
    """An interval as whole milliseconds."""
    return cast(func.round(func.extract("epoch", interval) * 1000), BigInteger)


def online_in(project_id: Any, user_id: Any) -> Any:
    """EXISTS a ping of the user in the project in the ONLINE window."""
    return exists().where(
        PING_TABLE.c.user_id == user_id,
        PING_TABLE.c.project_id == project_id,
        PING_TABLE.c.created > since(ONLINE),
    )


# --- connections and consultations with the values computed on read --------------------------


def connections(*where: Any) -> Any:
    """SELECT of project connections with `closed_at`: the user's next connection to the
    project. `where` must keep every connection of a (user, project) it keeps."""
    c = CONNECTION_TABLE.c
    closed = func.lead(c.created).over(partition_by=(c.user_id, c.project_id),
                                       order_by=(c.created, c.id))  # fmt: skip
    return select(*CONNECTION_TABLE.c, closed.label("closed_at")).where(*where)


def consultations(*where: Any) -> Any:
    """SELECT of image consultations with `closed_at`: the user's next consultation of the
    image. `where` must keep every consultation of a (user, image) it keeps. The name kept
    with each is `recorded_name`: `consultation_metrics` gives the `image_name` to show."""
    c = CONSULTATION_TABLE.c
    closed = func.lead(c.created).over(partition_by=(c.user_id, c.image_id),
                                       order_by=(c.created, c.id))  # fmt: skip
    columns = [col.label("recorded_name") if col.key == "image_name" else col
               for col in CONSULTATION_TABLE.c]  # fmt: skip
    return select(*columns, closed.label("closed_at")).where(*where)


def _active_time(times: Any, start: Any, gap: timedelta, rows: Any) -> Any:
    """The sum, in ms, of the gaps shorter than `gap` between successive `times` (the first
    measured from `start`), of the rows `times` selects (correlated to `rows`)."""
    previous = func.lag(times.c.created, 1, start).over(order_by=times.c.created)
    gaps_select = select((times.c.created - previous).label("gap")).select_from(times)
    gaps = gaps_select.correlate(rows).subquery()
    short = gaps.c.gap < gap
    return (
        select(func.coalesce(func.sum(ms(gaps.c.gap)).filter(short), 0))
        .correlate(rows)
        .scalar_subquery()
    )


def connection_metrics(rows: Any, *, open_until_now: bool = True) -> list[Any]:
    """`time`, `count_viewed_images`, `count_created_annotations` and `online` of the
    connections `rows` (a subquery of `connections()`): up to their close, or now."""
    end = func.coalesce(rows.c.closed_at, func.now())
    within = and_(PING_TABLE.c.user_id == rows.c.user_id,
                  PING_TABLE.c.project_id == rows.c.project_id,
                  PING_TABLE.c.created > rows.c.created, PING_TABLE.c.created < end)  # fmt: skip
    pings = select(PING_TABLE.c.created).where(within).correlate(rows).subquery()
    c = CONSULTATION_TABLE.c
    viewed = (
        select(func.count(func.distinct(c.image_id)))
        .where(c.user_id == rows.c.user_id, c.project_id == rows.c.project_id,
               c.created >= rows.c.created, c.created < end)
        .correlate(rows)
        .scalar_subquery()
    )  # fmt: skip
    drawn = (
        select(func.count())
        .where(UserAnnotation.user_id == rows.c.user_id,
               UserAnnotation.project_id == rows.c.project_id,
               UserAnnotation.created >= rows.c.created, UserAnnotation.created < end)
        .correlate(rows)
        .scalar_subquery()
    )  # fmt: skip
    is_open = rows.c.closed_at.is_(None)
    online = case((and_(is_open, online_in(rows.c.project_id, rows.c.user_id)), True),
                  else_=None)  # fmt: skip
    metrics = [
        _active_time(pings, rows.c.created, CONNECTION_GAP, rows),
        viewed,
        drawn,
    ]
    if not open_until_now:
        metrics = [case((is_open, None), else_=m) for m in metrics]
    names = ("time", "count_viewed_images", "count_created_annotations")
    return [m.label(name) for m, name in zip(metrics, names, strict=True)] + [
        online.label("online")
    ]


def consultation_metrics(rows: Any, *, open_until_now: bool = False) -> list[Any]:
    """`time` and `count_created_annotations` of the consultations `rows` (a subquery of
    `consultations()`), null while a consultation is open unless `open_until_now`, and the
    `image_name` to show."""
    end = func.coalesce(rows.c.closed_at, func.now())
    p = POSITION_TABLE.c
    positions = (
        select(p.created)
        .where(p.user_id == rows.c.user_id, p.image_id == rows.c.image_id,
               p.created > rows.c.created, p.created < end)
        .correlate(rows)
        .subquery()
    )  # fmt: skip
    drawn = (
        select(func.count())
        .where(UserAnnotation.user_id == rows.c.user_id,
               UserAnnotation.image_id == rows.c.image_id,
               UserAnnotation.created >= rows.c.created, UserAnnotation.created < end)
        .correlate(rows)
        .scalar_subquery()
    )  # fmt: skip
    metrics = [_active_time(positions, rows.c.created, CONSULTATION_GAP, rows), drawn]
    if not open_until_now:
        metrics = [case((rows.c.closed_at.is_(None), None), else_=m) for m in metrics]
    # the name kept when recorded, unless the project is blind now (core.md §9.17)
    name = func.coalesce(blinded_name_column(rows.c.image_id), rows.c.recorded_name)
    return [metrics[0].label("time"), metrics[1].label("count_created_annotations"),
            name.label("image_name")]  # fmt: skip


# --- pages -----------------------------------------------------------------------------------


async def pages_by(
    conn: Connection,
    base: Any,
    parent: str,
    order: Callable[[Any], Sequence[Any]],
    parent_ids: Sequence[int],
    *,
    limit: int | None,
    offset: int,
    extra: Callable[[Any], Sequence[Any]] = lambda rows: (),
) -> dict[int, Page[Any]]:
    """A page of `base`'s rows for each parent (column `parent`), with each parent's total, in
    one statement; `extra` columns are computed for the page's rows only. A single parent's
    page is read as a plain page, which an index on (parent, order) serves without numbering
    every row of the parent first.

    Args:
        order: the ORDER BY of each parent's rows, built on the subquery of `base`.
    """
    if len(parent_ids) == 1:  # one parent (REST's lists): its page in the order's index
        rows = base.where(base.selected_columns[parent] == parent_ids[0]).subquery()

        def finish(page: Any) -> Any:
            return select(page, *extra(page)).order_by(*order(page))

        ordered = select(rows).order_by(*order(rows))
        return {parent_ids[0]: await fetch_page(conn, ordered, limit=limit, offset=offset,
                                                finish=finish)}  # fmt: skip
    rows = base.subquery()
    parent_column = rows.c[parent]
    numbered = (
        select(
            rows,
            func.row_number().over(partition_by=parent_column, order_by=order(rows))
            .label("_rank"),
            func.count().over(partition_by=parent_column).label("_total"),
        )
        .where(parent_column.in_(parent_ids))
        .subquery()
    )  # fmt: skip
    rank = numbered.c._rank
    in_page = rank > offset
    if limit is not None:
        in_page = and_(in_page, rank <= offset + limit)
    chosen = select(numbered, in_page.label("_in")).where(or_(in_page, rank == 1)).subquery()
    stmt = select(chosen, *extra(chosen)).order_by(chosen.c[parent], chosen.c._rank)
    found: defaultdict[int, list[Any]] = defaultdict(list)
    totals: dict[int, int] = {}
    if limit != 0:
        for row in await conn.execute(stmt):
            key = row._mapping[parent]
            totals[key] = int(row._total)
            if row._in:
                found[key].append(row)
    else:
        counted = select(parent_column, func.count()).where(parent_column.in_(parent_ids))
        for key, total in await conn.execute(counted.group_by(parent_column)):
            totals[key] = int(total)
    return {key: Page(found[key], totals.get(key, 0), offset, limit) for key in parent_ids}


# --- loaders ---------------------------------------------------------------------------------


async def annotation_places_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Annotations of either layer by id: their class, image, slice, project and author; one
    SELECT for the batch."""
    parts = [
        select(model.id, literal(name, String).label("class_name"), model.image_id,
               model.slice_id, model.project_id, model.user_id).where(among(model.id, ids))
        for model, name in ((UserAnnotation, USER_ANNOTATION_CLASS),
                            (ReviewedAnnotation, REVIEWED_ANNOTATION_CLASS))
    ]  # fmt: skip
    async with db.read() as conn:
        rows: list[Any] = list((await conn.execute(union_all(*parts))).all())
    found: dict[int, Row[Any]] = {}
    for row in rows:
        found.setdefault(row.id, row)
    return [found.get(key) for key in ids]
