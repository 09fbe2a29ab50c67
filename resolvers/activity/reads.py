"""What the schema calls to read activity (contract core.md §9.1, §9.16–§9.19): connection and
consultation histories, their counts, frequencies and resumes, positions and who is online,
annotation actions, and users' activity in a project.

Every read first settles the recorder (the caller sees the records posted before), then checks
the rules of §7.5: reading a project's activity needs READ on it, reading other users'
connection histories, positions and annotation actions needs to manage the project.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import and_, extract, func, select
from sqlalchemy.dialects.postgresql import distinct_on

from db.engine import Lease
from db.id_lists import among
from db.models import AclEntry, PositionFollower, SecUser, UserAnnotation
from resolvers.acl import entries_of
from resolvers.activity.rows import (
    ACTION_TABLE,
    CONNECTION_TABLE,
    CONSULTATION_TABLE,
    FOLLOWING,
    LAST_POSITION,
    ONLINE,
    ONLINE_ON_IMAGE,
    PING_TABLE,
    POSITION_TABLE,
    connection_metrics,
    connections,
    consultation_metrics,
    consultations,
    pages_by,
    since,
)
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.image import get_image_instance, get_slice_instance, image_instances_by_id
from resolvers.image_name import shown_name_column
from resolvers.listing import (
    WHOLE_LIST_PARTITION,
    Page,
    RowStream,
    page_or_stream,
    wants_whole,
    whole_list,
)
from resolvers.project_access import ProjectAccess, project_access
from resolvers.user import USER_COLUMNS, users_by_id

__all__ = [
    "ActivityResume",
    "ConnectionQuery",
    "ConsultationQuery",
    "ConsultationResume",
    "Frequency",
    "LastConnection",
    "LastImage",
    "MemberActivity",
    "OnlinePosition",
    "OnlineUser",
    "Period",
    "PositionQuery",
    "PositionSummary",
    "activity_resume",
    "average_connections",
    "connection_consultations",
    "connection_frequency",
    "connection_pages",
    "consultation_pages",
    "consultation_resume",
    "count_actions",
    "count_connections",
    "count_consultations",
    "distinct_consultations",
    "friends",
    "get_action",
    "get_position",
    "last_connections",
    "last_images",
    "last_position",
    "list_actions",
    "list_connections",
    "list_consultations",
    "list_positions",
    "member_activity_by_key",
    "online_in_project",
    "online_on_image",
    "online_users_by_image",
    "online_users_by_project",
    "position_followers",
    "position_pages",
    "position_summary",
    "users_activity",
]

Period = Literal["hour", "day", "week"]
PERIODS: Final = ("hour", "day", "week")


async def _settled(ctx: Context) -> None:
    if ctx.activity is not None:
        await ctx.activity.settle()


async def _access(ctx: Context, project_id: int) -> ProjectAccess:
    ctx.require_viewer()
    await _settled(ctx)
    return (await project_access(ctx, project_id)).require_read()


async def _self_or_manager(ctx: Context, project_id: int, user_id: int) -> ProjectAccess:
    """READ on the project for one's own activity; managing it for another user's."""
    access = await _access(ctx, project_id)
    if user_id != access.viewer.id:
        access.require_manager()
    return access


async def _known_user(ctx: Context, user_id: int) -> None:
    """`NotFound` unless the user exists (through the request's loader)."""
    await ctx.found(users_by_id, user_id, "User")


def _bounds(column: Any, after: datetime | None, before: datetime | None) -> list[Any]:
    conditions = []
    if after is not None:
        conditions.append(column >= after)
    if before is not None:
        conditions.append(column <= before)
    return conditions


def _limit(ctx: Context, limit: int | None, offset: int) -> int | None:
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInput("max and offset must not be negative")
    return ctx.page_limit(limit)


# --- project connections ---------------------------------------------------------------------


def _newest_first(rows: Any) -> list[Any]:
    return [rows.c.created.desc(), rows.c.id.desc()]


def _whole(
    ctx: Context, limit: int | None, offset: int, base: Any, extra: Callable[[Any], Sequence[Any]]
) -> RowStream | None:
    """Every row of `base` newest first, with its `extra` columns, as a stream when the whole
    list is asked for; else None (before building anything), and the caller reads its page."""
    if not wants_whole(limit, offset):
        return None
    rows = base.subquery()
    every = select(rows, *extra(rows)).order_by(*_newest_first(rows))
    return RowStream(ctx.db, every, WHOLE_LIST_PARTITION)


async def list_connections(
    ctx: Context,
    project_id: int,
    user_id: int | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any] | RowStream:
    """The project's connections (one user's when given), newest first, each with its time,
    viewed images and drawn annotations up to its close (or now) and, for the open newest one
    of an online user, `online` (core.md §9.16); managers only. Every connection (REST's
    `max=0`, the CSV export) is a stream."""
    (await _access(ctx, project_id)).require_manager()
    if user_id is not None:
        await _known_user(ctx, user_id)
    query = ConnectionQuery(project_id, user_id, _limit(ctx, limit, offset), offset)
    c = CONNECTION_TABLE.c
    mine = [] if user_id is None else [c.user_id == user_id]
    every = _whole(ctx, query.limit, offset, connections(c.project_id == project_id, *mine),
                   connection_metrics)  # fmt: skip
    return every or await ctx.loader(connection_pages).load(query)


@dataclass(frozen=True, slots=True)
class ConnectionQuery:
    """A page of a project's connections (one user's); hashable, so it keys a DataLoader."""

    project_id: int
    user_id: int | None
    limit: int | None
    offset: int = 0


async def connection_pages(db: Lease, keys: list[ConnectionQuery]) -> list[Page[Any]]:
    """Pages of connections of many projects, one windowed SELECT per distinct (user, page)."""
    groups: defaultdict[tuple[Any, ...], list[int]] = defaultdict(list)
    for key in keys:
        groups[(key.user_id, key.limit, key.offset)].append(key.project_id)
    found: dict[ConnectionQuery, Page[Any]] = {}
    c = CONNECTION_TABLE.c
    async with db.read() as conn:
        for (user_id, limit, offset), project_ids in groups.items():
            where = [c.project_id.in_(project_ids)]
            if user_id is not None:
                where.append(c.user_id == user_id)
            pages = await pages_by(conn, connections(*where), "project_id", _newest_first,
                                   project_ids, limit=limit, offset=offset,
                                   extra=connection_metrics)  # fmt: skip
            for project_id, page in pages.items():
                found[ConnectionQuery(project_id, user_id, limit, offset)] = page
    return [found[key] for key in keys]


@dataclass(frozen=True, slots=True)
class LastConnection:
    """A user's latest connection to a project."""

    user_id: int
    created: datetime


async def last_connections(
    ctx: Context, project_id: int, user_id: int | None = None
) -> list[LastConnection]:
    """The latest connection of each user to the project (or of one), newest first;
    managers only."""
    (await _access(ctx, project_id)).require_manager()
    c = CONNECTION_TABLE.c
    stmt = select(c.user_id, func.max(c.created)).where(c.project_id == project_id)
    if user_id is not None:
        stmt = stmt.where(c.user_id == user_id)
    stmt = stmt.group_by(c.user_id).order_by(func.max(c.created).desc(), c.user_id)
    async with ctx.db.read() as conn:
        return [LastConnection(user, created) for user, created in await conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class Frequency:
    """How many connections: of a user (`user_id`), or in a period starting at `time`."""

    frequency: float
    user_id: int | None = None
    time: datetime | None = None


def _truncated(period: str, column: Any) -> Any:
    """The start of the hour, day or week (from Sunday, as Cytomine) a UTC date falls in."""
    utc = func.timezone("UTC", column)
    if period == "week":
        start = func.date_trunc("week", utc + timedelta(days=1)) - timedelta(days=1)
    else:
        start = func.date_trunc(period, utc)
    return func.timezone("UTC", start)


def _period(period: str | None) -> str:
    chosen = (period or "hour").lower()
    if chosen not in PERIODS:
        raise InvalidInput(f"period must be hour, day or week, not {period!r}")
    return chosen


async def connection_frequency(
    ctx: Context,
    *,
    project_id: int | None = None,
    user_id: int | None = None,
    period: str | None = None,
    heatmap: bool = False,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[Frequency]:
    """How often users connect (core.md §9.16). With a project: per user, newest connection
    first (managers); with `heatmap`, per hour; with a `period`, a histogram by hour, day or
    week from `after` (managers, or a user for themself). Without a project: the histogram of
    every project's connections (administrators; `period` required)."""
    viewer = ctx.require_viewer()
    c = CONNECTION_TABLE.c
    where: list[Any] = []
    if project_id is None:
        ctx.require_admin()
        if period is None:
            raise InvalidInput("period must be set: hour, day or week")
    else:
        access = await _access(ctx, project_id)
        if not (period is not None and not heatmap and user_id == viewer.id):
            access.require_manager()
        where.append(c.project_id == project_id)
    await _settled(ctx)
    if user_id is not None:
        where.append(c.user_id == user_id)
    if heatmap or period is not None:
        start = _truncated("hour" if heatmap else _period(period), c.created)
        where += _bounds(c.created, after, None if heatmap else before)
        stmt = select(start, func.count()).where(*where).group_by(start).order_by(start)
        async with ctx.db.read() as conn:
            return [Frequency(n, time=time) for time, n in await conn.execute(stmt)]
    stmt = (
        select(c.user_id, func.count())
        .where(*where)
        .group_by(c.user_id)
        .order_by(func.max(c.created).desc(), c.user_id)
    )
    async with ctx.db.read() as conn:
        return [Frequency(n, user_id=user) for user, n in await conn.execute(stmt)]


async def average_connections(
    ctx: Context,
    *,
    period: str | None,
    project_id: int | None = None,
    user_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[Frequency]:
    """The share of connections falling in each hour of the day, day of the month or week of
    the year (`period`), between `after` (default: a year before `before`) and `before`
    (default: now) (core.md §9.16). Administrators; with a project, READ on it (another user's
    connections: managers)."""
    viewer = ctx.require_viewer()
    c = CONNECTION_TABLE.c
    where: list[Any] = []
    if project_id is not None:
        access = await _access(ctx, project_id)
        if user_id is not None and user_id != viewer.id:
            access.require_manager()
        where.append(c.project_id == project_id)
    elif user_id is not None and user_id == viewer.id:
        await _settled(ctx)
    else:
        ctx.require_admin()
        await _settled(ctx)
    if user_id is not None:
        where.append(c.user_id == user_id)
    if period is None:
        raise InvalidInput("period must be set: hour, day or week")
    chosen = _period(period)
    end = before if before is not None else func.now()
    start = after if after is not None else _year_before(end)
    where += [c.created >= start, c.created <= end]
    field = {"hour": "hour", "day": "day", "week": "week"}[chosen]
    key = extract(field, func.timezone("UTC", c.created))
    first = func.min(_truncated(chosen, c.created))
    share = func.count() * 1.0 / func.sum(func.count()).over()
    stmt = select(first, share).where(*where).group_by(key).order_by(key)
    async with ctx.db.read() as conn:
        return [Frequency(float(n), time=time) for time, n in await conn.execute(stmt)]


def _year_before(end: Any) -> Any:
    """A year before `end` (a date, or SQL's now()); a date in the first year of the calendar
    gives the calendar's first moment, as Python's dates cannot go further back."""
    try:
        return end - timedelta(days=365)
    except OverflowError:  # a Python date of the year 1 (SQL's now() never overflows here)
        return datetime.min.replace(tzinfo=UTC)


async def _count(
    ctx: Context, table: Any, project_id: int, start: datetime | None, end: datetime | None
) -> int:
    await _access(ctx, project_id)
    where = [table.c.project_id == project_id]
    if start is not None:
        where.append(table.c.created >= start)
    if end is not None:
        where.append(table.c.created <= end)
    async with ctx.db.read() as conn:
        return int((await conn.execute(select(func.count()).where(*where))).scalar_one())


async def count_connections(
    ctx: Context, project_id: int, start: datetime | None = None, end: datetime | None = None
) -> int:
    """The project's connections between two dates (READ)."""
    return await _count(ctx, CONNECTION_TABLE, project_id, start, end)


async def count_consultations(
    ctx: Context, project_id: int, start: datetime | None = None, end: datetime | None = None
) -> int:
    """The consultations of the project's images between two dates (READ)."""
    return await _count(ctx, CONSULTATION_TABLE, project_id, start, end)


async def count_actions(
    ctx: Context, project_id: int, start: datetime | None = None, end: datetime | None = None
) -> int:
    """The annotation actions in the project between two dates (READ)."""
    return await _count(ctx, ACTION_TABLE, project_id, start, end)


async def connection_consultations(
    ctx: Context, connection_id: int, *, limit: int | None = None, offset: int = 0
) -> Page[Any] | RowStream:
    """The images opened during one project connection, newest first, each with its time up
    to its close (or now) (core.md §9.16); managers of the connection's project. Every one
    (REST's `max=0`) is a stream."""
    ctx.require_viewer()
    await _settled(ctx)
    c = CONNECTION_TABLE.c
    async with ctx.db.read() as conn:
        found = (await conn.execute(select(c.project_id).where(c.id == connection_id))).first()
    if found is None:
        raise NotFound("PersistentProjectConnection", connection_id)
    (await _access(ctx, found.project_id)).require_manager()
    page_size = _limit(ctx, limit, offset)
    i = CONSULTATION_TABLE.c
    base = consultations(i.project_id == found.project_id, i.user_id.in_(
        select(c.user_id).where(c.id == connection_id).scalar_subquery()))  # fmt: skip
    rows = base.subquery()
    stmt = (
        select(rows, *consultation_metrics(rows, open_until_now=True))
        .where(rows.c.project_connection_id == connection_id)
        .order_by(rows.c.created.desc(), rows.c.id.desc())
    )
    return await page_or_stream(ctx.db, stmt, limit=page_size, offset=offset)


# --- image consultations ---------------------------------------------------------------------


async def list_consultations(
    ctx: Context, project_id: int, user_id: int, *, limit: int | None = None, offset: int = 0
) -> Page[Any] | RowStream:
    """A user's consultations of the project's images, newest first, each closed one with
    its time and drawn annotations (core.md §9.17); oneself or the project's managers. Every
    consultation (REST's `max=0`) is a stream."""
    await _self_or_manager(ctx, project_id, user_id)
    await _known_user(ctx, user_id)
    query = ConsultationQuery(project_id, user_id, _limit(ctx, limit, offset), offset)
    c = CONSULTATION_TABLE.c
    every = _whole(ctx, query.limit, offset,
                   consultations(c.project_id == project_id, c.user_id == user_id),
                   consultation_metrics)  # fmt: skip
    return every or await ctx.loader(consultation_pages).load(query)


@dataclass(frozen=True, slots=True)
class ConsultationQuery:
    """A page of a user's consultations in a project; hashable, so it keys a DataLoader."""

    project_id: int
    user_id: int
    limit: int | None
    offset: int = 0


async def consultation_pages(db: Lease, keys: list[ConsultationQuery]) -> list[Page[Any]]:
    """Pages of consultations of many projects, one windowed SELECT per distinct (user,
    page)."""
    groups: defaultdict[tuple[Any, ...], list[int]] = defaultdict(list)
    for key in keys:
        groups[(key.user_id, key.limit, key.offset)].append(key.project_id)
    found: dict[ConsultationQuery, Page[Any]] = {}
    c = CONSULTATION_TABLE.c
    async with db.read() as conn:
        for (user_id, limit, offset), project_ids in groups.items():
            base = consultations(c.project_id.in_(project_ids), c.user_id == user_id)
            pages = await pages_by(conn, base, "project_id", _newest_first, project_ids,
                                   limit=limit, offset=offset,
                                   extra=consultation_metrics)  # fmt: skip
            for project_id, page in pages.items():
                found[ConsultationQuery(project_id, user_id, limit, offset)] = page
    return [found[key] for key in keys]


@dataclass(frozen=True, slots=True)
class ConsultationResume:
    """A user's consultations of one image: how often, first and last, how long in all,
    how many annotations drawn meanwhile."""

    project_id: int
    user_id: int
    image_id: int
    image_name: str | None
    first: datetime
    last: datetime
    frequency: int
    time: int
    count_created_annotations: int


async def _resumes(ctx: Context, project_id: int, user_id: int) -> list[ConsultationResume]:
    c = CONSULTATION_TABLE.c
    rows = consultations(c.project_id == project_id, c.user_id == user_id).subquery()
    time, drawn = consultation_metrics(rows, open_until_now=True)[:2]
    timed = select(rows, time, drawn).subquery()
    stmt = (
        select(
            timed.c.image_id,
            shown_name_column(timed.c.image_id).label("image_name"),
            func.min(timed.c.created),
            func.max(timed.c.created),
            func.count(),
            func.sum(timed.c.time),
            func.sum(timed.c.count_created_annotations),
        )
        .group_by(timed.c.image_id)
        .order_by(func.max(timed.c.created).desc(), timed.c.image_id)
    )
    async with ctx.db.read() as conn:
        return [
            ConsultationResume(project_id, user_id, image, name, first, last, int(n),
                               int(time or 0), int(drawn or 0))
            for image, name, first, last, n, time, drawn in await conn.execute(stmt)
        ]  # fmt: skip


async def distinct_consultations(
    ctx: Context, project_id: int, user_id: int
) -> list[ConsultationResume]:
    """A user's consulted images of the project, newest consultation first, one row each
    (`distinctImages`, core.md §9.17); oneself or the project's managers."""
    await _self_or_manager(ctx, project_id, user_id)
    await _known_user(ctx, user_id)
    return await _resumes(ctx, project_id, user_id)


async def consultation_resume(
    ctx: Context, project_id: int, user_id: int
) -> list[ConsultationResume]:
    """Per image, a user's consultations in the project: first, last, how often, how long
    (core.md §9.17, `imageconsultation/resume.json`); READ on the project."""
    await _access(ctx, project_id)
    await _known_user(ctx, user_id)
    return await _resumes(ctx, project_id, user_id)


@dataclass(frozen=True, slots=True)
class LastImage:
    """The image a user consulted last in a project."""

    user_id: int
    created: datetime
    image_id: int
    image_name: str | None


async def last_images(ctx: Context, project_id: int) -> list[LastImage]:
    """The image each user consulted last in the project, newest first (READ)."""
    await _access(ctx, project_id)
    c = CONSULTATION_TABLE.c
    newest = (
        select(c.user_id, c.created, c.image_id)
        .where(c.project_id == project_id)
        .ext(distinct_on(c.user_id))
        .order_by(c.user_id, c.created.desc(), c.id.desc())
        .subquery()
    )
    stmt = select(
        newest.c.user_id, newest.c.created, newest.c.image_id,
        shown_name_column(newest.c.image_id),
    ).order_by(newest.c.created.desc(), newest.c.user_id)  # fmt: skip
    async with ctx.db.read() as conn:
        return [LastImage(*row) for row in await conn.execute(stmt)]


# --- positions -------------------------------------------------------------------------------


async def _image_of(ctx: Context, image_id: int | None, slice_id: int | None) -> Any:
    """The image (and slice) a position listing is about; READ on its project."""
    ctx.require_viewer()
    await _settled(ctx)
    if slice_id is not None:
        piece = await get_slice_instance(ctx, slice_id)
        if image_id is not None and piece.image_id != image_id:
            raise NotFound("SliceInstance", slice_id)
        return await ctx.found(image_instances_by_id, piece.image_id, "ImageInstance")
    if image_id is None:
        raise InvalidInput("Name the image or the slice")
    return await get_image_instance(ctx, image_id)


async def last_position(
    ctx: Context,
    image_id: int,
    user_id: int,
    *,
    broadcast: bool = False,
    slice_id: int | None = None,
) -> Any:
    """A user's newest position on an image in the last LAST_POSITION (only broadcast ones,
    on one slice, when asked), or None; READ on the image's project. Asking for another
    user's position follows it (core.md §9.18)."""
    viewer = ctx.require_viewer()
    image = await _image_of(ctx, image_id, slice_id)
    await _known_user(ctx, user_id)
    if user_id != viewer.id and ctx.activity is not None:
        ctx.activity.follow(user_id, image.id, viewer.id, datetime.now().astimezone())
    p = POSITION_TABLE.c
    stmt = select(*POSITION_TABLE.c).where(
        p.user_id == user_id, p.image_id == image.id, p.created > since(LAST_POSITION)
    )
    if broadcast:
        stmt = stmt.where(p.broadcast)
    if slice_id is not None:
        stmt = stmt.where(p.slice_id == slice_id)
    stmt = stmt.order_by(p.created.desc(), p.id.desc()).limit(1)
    async with ctx.db.read() as conn:
        row = (await conn.execute(stmt)).first()
    return None if row is None else _with_updated(row)


def _with_updated(row: Any) -> Any:
    """A position row as its JSON shows it: `updated` is its date."""
    return _Position(**row._mapping, updated=row.created)


class _Position:
    """A position as a type's source: the row's columns and `updated`."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


@dataclass(frozen=True, slots=True)
class PositionQuery:
    """A page of an image's positions; hashable, so it keys a DataLoader."""

    image_id: int
    limit: int | None
    offset: int = 0
    user_id: int | None = None
    slice_id: int | None = None
    after: datetime | None = None
    before: datetime | None = None


def _position_filters(query: PositionQuery) -> list[Any]:
    p = POSITION_TABLE.c
    where = [p.image_id == query.image_id]
    if query.user_id is not None:
        where.append(p.user_id == query.user_id)
    if query.slice_id is not None:
        where.append(p.slice_id == query.slice_id)
    return where + _bounds(p.created, query.after, query.before)


async def list_positions(
    ctx: Context,
    *,
    image_id: int | None = None,
    slice_id: int | None = None,
    user_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any] | RowStream:
    """The positions on an image (or one slice of it), newest first, filtered by user and
    dates (core.md §9.18); managers of the image's project. Every position (REST's `max=0`)
    is a stream: an image's positions grow by one a second per viewer."""
    image = await _image_of(ctx, image_id, slice_id)
    (await project_access(ctx, image.project_id)).require_manager()
    query = PositionQuery(image.id, _limit(ctx, limit, offset), offset, user_id, slice_id,
                          after, before)  # fmt: skip
    p = POSITION_TABLE.c
    every = (
        select(*POSITION_TABLE.c, p.created.label("updated"))
        .where(*_position_filters(query))
        .order_by(p.created.desc(), p.id.desc())
    )
    stream = whole_list(ctx.db, every, query.limit, offset)
    if stream is not None:
        return stream
    return await ctx.loader(position_pages).load(query)


async def position_pages(db: Lease, keys: list[PositionQuery]) -> list[Page[Any]]:
    """Pages of positions of many images, one windowed SELECT per distinct filter and page."""
    groups: defaultdict[PositionQuery, list[int]] = defaultdict(list)
    for key in keys:
        groups[dataclasses.replace(key, image_id=0)].append(key.image_id)
    found: dict[PositionQuery, Page[Any]] = {}
    p = POSITION_TABLE.c
    async with db.read() as conn:
        for query, image_ids in groups.items():
            where = [p.image_id.in_(image_ids), *_position_filters(query)[1:]]
            pages = await pages_by(conn, select(*POSITION_TABLE.c).where(*where), "image_id",
                                   _newest_first, image_ids, limit=query.limit,
                                   offset=query.offset)  # fmt: skip
            for image_id, page in pages.items():
                rows = [_with_updated(row) for row in page.rows]
                key = dataclasses.replace(query, image_id=image_id)
                found[key] = Page(rows, page.total, page.offset, page.limit)
    return [found[key] for key in keys]


@dataclass(frozen=True, slots=True)
class PositionSummary:
    """How often one viewport (corners, zoom, rotation) was seen on an image."""

    image_id: int
    corners: list[float]
    zoom: int
    rotation: float
    frequency: int


async def position_summary(
    ctx: Context,
    *,
    image_id: int | None = None,
    slice_id: int | None = None,
    user_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[PositionSummary]:
    """The viewports seen on an image, each with how often, most frequent first (managers)."""
    image = await _image_of(ctx, image_id, slice_id)
    (await project_access(ctx, image.project_id)).require_manager()
    p = POSITION_TABLE.c
    where = _position_filters(PositionQuery(image.id, None, 0, user_id, slice_id, after, before))
    keys = (p.corners, p.zoom, p.rotation)
    stmt = (
        select(*keys, func.count())
        .where(*where)
        .group_by(*keys)
        .order_by(func.count().desc(), func.min(p.id))
    )
    async with ctx.db.read() as conn:
        return [PositionSummary(image.id, list(corners), zoom, rotation, int(n))
                for corners, zoom, rotation, n in await conn.execute(stmt)]  # fmt: skip


async def get_position(ctx: Context, position_id: int) -> Any:
    """One position record (managers of its project)."""
    ctx.require_viewer()
    await _settled(ctx)
    stmt = select(*POSITION_TABLE.c).where(POSITION_TABLE.c.id == position_id)
    async with ctx.db.read() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("PersistentUserPosition", position_id)
    (await project_access(ctx, row.project_id)).require_manager()
    return _with_updated(row)


async def online_on_image(
    ctx: Context, image_id: int, *, slice_id: int | None = None, broadcast: bool = False
) -> list[int]:
    """The users with a position on the image (the slice; broadcast ones) in the last
    ONLINE_ON_IMAGE (core.md §9.18), by id; READ on its project."""
    image = await _image_of(ctx, image_id, slice_id)
    p = POSITION_TABLE.c
    stmt = select(p.user_id).where(p.image_id == image.id, p.created > since(ONLINE_ON_IMAGE))
    if slice_id is not None:
        stmt = stmt.where(p.slice_id == slice_id)
    if broadcast:
        stmt = stmt.where(p.broadcast)
    async with ctx.db.read() as conn:
        return sorted(set((await conn.execute(stmt.distinct())).scalars()))


async def position_followers(ctx: Context, image_id: int, user_id: int) -> list[int]:
    """Who followed a user's position on an image in the last FOLLOWING (core.md §9.18): the
    user themself or an administrator asks."""
    viewer = ctx.require_viewer()
    if user_id != viewer.id and not viewer.is_admin:
        raise Forbidden("Only the user followed or an administrator may list followers")
    image = await _image_of(ctx, image_id, None)
    stmt = select(PositionFollower.follower_id).where(
        PositionFollower.user_id == user_id,
        PositionFollower.image_id == image.id,
        PositionFollower.updated > since(FOLLOWING),
    )
    async with ctx.db.read() as conn:
        return sorted((await conn.execute(stmt)).scalars())


@dataclass(frozen=True, slots=True)
class OnlinePosition:
    """Where an online user looks: an image, its slice, since when."""

    image_id: int
    slice_id: int
    image_name: str | None
    date: datetime


@dataclass(frozen=True, slots=True)
class OnlineUser:
    """A user online in a project and where they look (nowhere when only connected)."""

    user_id: int
    positions: list[OnlinePosition]


async def online_in_project(ctx: Context, project_id: int) -> list[OnlineUser]:
    """Users online in the project (core.md §9.18): those with a position in the last
    ONLINE_ON_IMAGE, with the slices they look at, then the members connected to it in the
    last ONLINE without one; by user id. READ on the project. Image names are those kept
    with the positions, unless the project is blind now: then the base images' ids."""
    access = await _access(ctx, project_id)
    p = POSITION_TABLE.c
    name = (shown_name_column(func.min(p.image_id)) if access.row.blind_mode
            else func.min(p.image_name))  # fmt: skip
    looking = (
        select(p.user_id, p.slice_id, func.max(p.created), func.min(p.image_id), name)
        .where(p.project_id == project_id, p.created > since(ONLINE_ON_IMAGE))
        .group_by(p.user_id, p.slice_id)
        .order_by(p.user_id, func.max(p.created).desc())
    )  # fmt: skip
    connected = select(PING_TABLE.c.user_id).where(
        PING_TABLE.c.project_id == project_id,
        PING_TABLE.c.created > since(ONLINE),
        PING_TABLE.c.user_id.in_(select(AclEntry.user_id).where(AclEntry.object_id == project_id)),
    )
    found: dict[int, list[OnlinePosition]] = {}
    async with ctx.db.read() as conn:
        for user, piece, date, image, name in await conn.execute(looking):
            found.setdefault(user, []).append(OnlinePosition(image, piece, name, date))
        for user in (await conn.execute(connected.distinct())).scalars():
            found.setdefault(user, [])
    return [OnlineUser(user, found[user]) for user in sorted(found)]


async def online_users_by_project(db: Lease, ids: list[int]) -> list[list[int]]:
    """The ids of the users online in each project (a position in the last ONLINE_ON_IMAGE
    or a ping in the last ONLINE, members only); one SELECT for the batch."""
    p = POSITION_TABLE.c
    looking = select(p.project_id, p.user_id).where(
        among(p.project_id, ids), p.created > since(ONLINE_ON_IMAGE)
    )
    pinged = select(PING_TABLE.c.project_id, PING_TABLE.c.user_id).where(
        among(PING_TABLE.c.project_id, ids), PING_TABLE.c.created > since(ONLINE),
        PING_TABLE.c.user_id.in_(select(AclEntry.user_id).where(
            AclEntry.object_id == PING_TABLE.c.project_id)),
    )  # fmt: skip
    grouped: defaultdict[int, set[int]] = defaultdict(set)
    async with db.read() as conn:
        for project, user in await conn.execute(looking.union(pinged)):
            grouped[project].add(user)
    return [sorted(grouped[key]) for key in ids]


async def online_users_by_image(db: Lease, ids: list[int]) -> list[list[int]]:
    """The ids of the users with a position on each image in the last ONLINE_ON_IMAGE."""
    p = POSITION_TABLE.c
    stmt = (
        select(p.image_id, p.user_id)
        .where(among(p.image_id, ids), p.created > since(ONLINE_ON_IMAGE))
        .distinct()
    )
    grouped: defaultdict[int, set[int]] = defaultdict(set)
    async with db.read() as conn:
        for image, user in await conn.execute(stmt):
            grouped[image].add(user)
    return [sorted(grouped[key]) for key in ids]


# --- annotation actions ----------------------------------------------------------------------


async def get_action(ctx: Context, action_id: int) -> Any:
    """One annotation action (managers of its project)."""
    ctx.require_viewer()
    await _settled(ctx)
    stmt = select(*ACTION_TABLE.c).where(ACTION_TABLE.c.id == action_id)
    async with ctx.db.read() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("AnnotationAction", action_id)
    (await project_access(ctx, row.project_id)).require_manager()
    return row


async def list_actions(
    ctx: Context,
    *,
    image_id: int | None = None,
    slice_id: int | None = None,
    user_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any] | RowStream:
    """The annotation actions on an image (or one slice), oldest first, filtered by user and
    dates (core.md §9.19); managers of its project. Every action (REST's `max=0`) is a
    stream."""
    image = await _image_of(ctx, image_id, slice_id)
    (await project_access(ctx, image.project_id)).require_manager()
    a = ACTION_TABLE.c
    stmt = select(*ACTION_TABLE.c).where(a.image_id == image.id)
    if slice_id is not None:
        stmt = stmt.where(a.slice_id == slice_id)
    if user_id is not None:
        stmt = stmt.where(a.user_id == user_id)
    stmt = stmt.where(*_bounds(a.created, after, before)).order_by(a.created, a.id)
    page_size = _limit(ctx, limit, offset)
    return await page_or_stream(ctx.db, stmt, limit=page_size, offset=offset)


# --- users' activity -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberActivity:
    """What a member last did in a project."""

    user_id: int
    last_image_id: int | None
    last_image_name: str | None
    last_connection: datetime | None
    frequency: int


async def member_activity_by_key(db: Lease, keys: list[tuple[int, int]]) -> list[MemberActivity]:
    """For each (project, user): the last image consulted, the last connection and how many;
    one SELECT for the batch."""
    projects = sorted({project for project, _ in keys})
    c, i = CONNECTION_TABLE.c, CONSULTATION_TABLE.c
    conns = (
        select(c.project_id, c.user_id, func.max(c.created).label("last"),
               func.count().label("n"))
        .where(c.project_id.in_(projects))
        .group_by(c.project_id, c.user_id)
        .subquery()
    )  # fmt: skip
    images = (
        select(i.project_id, i.user_id, i.image_id)
        .where(i.project_id.in_(projects))
        .ext(distinct_on(i.project_id, i.user_id))
        .order_by(i.project_id, i.user_id, i.created.desc(), i.id.desc())
        .subquery()
    )
    both = (
        select(
            func.coalesce(conns.c.project_id, images.c.project_id),
            func.coalesce(conns.c.user_id, images.c.user_id),
            images.c.image_id,
            shown_name_column(images.c.image_id),
            conns.c.last,
            conns.c.n,
        )
        .select_from(conns.outerjoin(images, and_(images.c.project_id == conns.c.project_id,
                                                  images.c.user_id == conns.c.user_id),
                                     full=True))
    )  # fmt: skip
    found: dict[tuple[int, int], MemberActivity] = {}
    async with db.read() as conn:
        for project, user, image, name, last, n in await conn.execute(both):
            found[(project, user)] = MemberActivity(user, image, name, last, int(n or 0))
    return [found.get(key) or MemberActivity(key[1], None, None, None, 0) for key in keys]


async def users_activity(ctx: Context, project_id: int) -> list[tuple[Any, MemberActivity]]:
    """Every member of the project with what they last did there, by user id (READ)."""
    await _access(ctx, project_id)
    stmt = (
        select(*USER_COLUMNS)
        .where(SecUser.id.in_(select(AclEntry.user_id).where(AclEntry.object_id == project_id)))
        .order_by(SecUser.id)
    )
    async with ctx.db.read() as conn:
        users = (await conn.execute(stmt)).all()
    loader = ctx.loader(member_activity_by_key)
    done = await loader.load_many([(project_id, user.id) for user in users])
    return list(zip(users, done, strict=True))


@dataclass(frozen=True, slots=True)
class ActivityResume:
    """A user's activity in a project, summed up."""

    first_connection: datetime | None
    last_connection: datetime | None
    total_annotations: int
    total_connections: int
    total_consultations: int
    total_annotation_selections: int


async def activity_resume(ctx: Context, project_id: int, user_id: int) -> ActivityResume:
    """A user's connections, consultations, annotations and selections in a project
    (`resumeActivity`, core.md §9.1); oneself or the project's managers."""
    await _self_or_manager(ctx, project_id, user_id)
    await _known_user(ctx, user_id)
    c, i, a = CONNECTION_TABLE.c, CONSULTATION_TABLE.c, ACTION_TABLE.c

    def count(where: Any) -> Any:
        return select(func.count()).where(where).scalar_subquery()

    stmt = select(
        select(func.min(c.created)).where(c.project_id == project_id, c.user_id == user_id)
        .scalar_subquery(),
        select(func.max(c.created)).where(c.project_id == project_id, c.user_id == user_id)
        .scalar_subquery(),
        count(and_(UserAnnotation.project_id == project_id, UserAnnotation.user_id == user_id)),
        count(and_(c.project_id == project_id, c.user_id == user_id)),
        count(and_(i.project_id == project_id, i.user_id == user_id)),
        count(and_(a.project_id == project_id, a.user_id == user_id, a.action == "select")),
    )  # fmt: skip
    async with ctx.db.read() as conn:
        first, last, drawn, n_conn, n_cons, n_sel = (await conn.execute(stmt)).one()
    return ActivityResume(first, last, int(drawn), int(n_conn), int(n_cons), int(n_sel))


async def friends(
    ctx: Context, user_id: int, *, project_id: int | None = None, offline: bool = False
) -> list[int]:
    """Users around a user (core.md §9.1, `friends.json`), by id. With a project (READ on
    it): its members connected in the last ONLINE, or all its members when `offline`.
    Without (the user themself or an administrator): the users sharing a project with the
    user, connected anywhere in the last ONLINE unless `offline`."""
    viewer = ctx.require_viewer()
    await _settled(ctx)
    await _known_user(ctx, user_id)
    members = select(AclEntry.user_id)
    if project_id is not None:
        await _access(ctx, project_id)
        stmt = members.where(AclEntry.object_id == project_id)
        if not offline:
            stmt = stmt.where(
                AclEntry.user_id.in_(
                    select(PING_TABLE.c.user_id).where(
                        PING_TABLE.c.project_id == project_id, PING_TABLE.c.created > since(ONLINE)
                    )
                )
            )
    else:
        if user_id != viewer.id and not viewer.is_admin:
            raise Forbidden("Only the user or an administrator may list their fellow users")
        stmt = members.where(AclEntry.object_id.in_(entries_of(user_id)))
        if not offline:
            stmt = stmt.where(AclEntry.user_id.in_(select(PING_TABLE.c.user_id).where(
                PING_TABLE.c.created > since(ONLINE))))  # fmt: skip
    async with ctx.db.read() as conn:
        return sorted(set((await conn.execute(stmt.distinct())).scalars()))
