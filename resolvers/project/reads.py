"""What the schema calls to read projects: the project list and its computed columns,
bounds, a user's projects and the caller's last opened ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import aliased

from db.models import AclEntry, Ontology, Project, ProjectRepresentativeUser
from resolvers.acl import ADMINISTRATION, allows, entries_of, viewer_mask
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Filter, Page, apply_filters, apply_sort, fetch_page
from resolvers.project.layer import representatives_by_project
from resolvers.project.rows import (
    BOUNDED,
    DEFAULT_LAST_OPENED,
    EXTRA_FLAGS,
    LAST_OPENED_SOURCES,
    PROJECT_FILTERS,
    PROJECT_RELATED,
    _last_activity,
    _members_count,
    last_activity_by_project,
    members_count_by_project,
)
from resolvers.project_access import (
    PROJECT_TABLE,
    reader_of,
    user_exists,
    visible_condition,
    visible_projects,
)
from resolvers.viewer import Viewer

__all__ = [
    "Bounds",
    "OpenedProject",
    "ProjectExtras",
    "ProjectRelation",
    "current_user_roles",
    "last_activity",
    "last_opened_projects",
    "list_projects",
    "list_user_projects",
    "members_count",
    "project_bounds",
]


@dataclass(frozen=True, slots=True)
class ProjectExtras:
    """The computed columns a project list carries (the `with…` flags)."""

    members_count: bool = False
    last_activity: bool = False
    current_user_roles: bool = False


def _with_extras(stmt: Any, viewer: Viewer, extras: ProjectExtras) -> tuple[Any, dict[str, Any]]:
    """Add the requested computed columns to a project SELECT, in the same statement; returns
    it with the sort/filter keys they open."""
    keys: dict[str, Any] = {}
    if extras.members_count:
        keys["membersCount"] = _members_count()
    if extras.last_activity:
        keys["lastActivity"] = _last_activity()
    if extras.current_user_roles:
        mine = aliased(AclEntry)
        stmt = stmt.outerjoin(mine, and_(mine.object_id == Project.id, mine.user_id == viewer.id))
        represents = exists().where(
            ProjectRepresentativeUser.project_id == Project.id,
            ProjectRepresentativeUser.user_id == viewer.id,
        )
        keys["currentUserRole"] = case(
            (mine.mask >= ADMINISTRATION, "manager"), (mine.mask > 0, "contributor")
        ).label("current_user_role")
        stmt = stmt.add_columns(
            (func.coalesce(mine.mask, 0) >= ADMINISTRATION).label("current_user_admin"),
            represents.label("current_user_representative"),
        )
    return stmt.add_columns(*keys.values()), keys


def _refuse_missing_flags(sort: str | None, filters: Sequence[Filter], opened: set[str]) -> None:
    for key, flag in EXTRA_FLAGS.items():
        if key in opened:
            continue
        if sort == key:
            raise InvalidInput(f"Cannot sort on {key} without argument {flag}")
        if any(f.field == key for f in filters):
            raise InvalidInput(f"Cannot filter on {key} without argument {flag}")


async def list_projects(
    ctx: Context,
    *,
    limit: int | None,
    offset: int = 0,
    sort: str | None = None,
    order: str | None = None,
    filters: Sequence[Filter] = (),
    user_id: int | None = None,
    ontology_id: int | None = None,
    extras: ProjectExtras = ProjectExtras(),
) -> Page[Any]:
    """The projects the caller may read (all for admins), optionally those `user_id` is a
    member of or those using `ontology_id`; newest first by default (core.md §4.3). `extras`
    adds computed columns, which may then be sorted and filtered on."""
    viewer = ctx.require_viewer()
    stmt = visible_projects(reader_of(viewer))
    if user_id is not None:
        async with ctx.db.read() as conn:
            await user_exists(conn, user_id)
        member = entries_of(user_id)
        stmt = stmt.where(Project.id.in_(member))
    if ontology_id is not None:
        async with ctx.db.read() as conn:
            found = await conn.execute(select(Ontology.id).where(Ontology.id == ontology_id))
        if found.first() is None:
            raise NotFound("Ontology", ontology_id)
        stmt = stmt.where(Project.ontology_id == ontology_id)
    stmt, opened = _with_extras(stmt, viewer, extras)
    _refuse_missing_flags(sort, filters, set(opened))
    columns = {**PROJECT_FILTERS, **opened}
    stmt = apply_filters(stmt, filters, {**columns, **PROJECT_RELATED})
    stmt = apply_sort(stmt, sort, order, columns, default="created",
                      default_order="desc", tie=Project.id)  # fmt: skip
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


def _computed(row: Any, key: str) -> tuple[bool, Any]:
    """A computed column the row was read with, if it was (see `_with_extras`)."""
    mapping = getattr(row, "_mapping", None)
    if mapping is not None and key in mapping:
        return True, mapping[key]
    return False, None


async def members_count(ctx: Context, project: Any) -> int:
    """How many members the project has: from its row when listed with the flag, else batched."""
    known, value = _computed(project, "members_count")
    if known:
        return int(value)
    return await ctx.loader(members_count_by_project).load(project.id)


async def last_activity(ctx: Context, project: Any) -> datetime | None:
    """When the project's newest history entry was written (None without history)."""
    known, value = _computed(project, "last_activity")
    if known:
        return cast("datetime | None", value)
    return await ctx.loader(last_activity_by_project).load(project.id)


async def current_user_roles(ctx: Context, project: Any) -> tuple[bool, bool]:
    """Whether the caller manages and whether they represent the project (its ACL and its
    representative rows, not the caller's global role)."""
    viewer = ctx.require_viewer()
    known, admin = _computed(project, "current_user_admin")
    if known:
        return bool(admin), bool(project.current_user_representative)
    mask = await viewer_mask(ctx, project.id)
    representatives = await ctx.loader(representatives_by_project).load(project.id)
    return allows(mask, ADMINISTRATION), any(r.user_id == viewer.id for r in representatives)


@dataclass(frozen=True, slots=True)
class Bounds:
    """The smallest and largest value of a field over a set of rows (None when empty)."""

    min: Any
    max: Any


async def project_bounds(ctx: Context, *, with_members_count: bool = False) -> dict[str, Bounds]:
    """Min and max of each bounded field over the projects the caller may read, in one SELECT;
    `members` (member counts) with the flag. The web UI sizes its list filters with them."""
    viewer = ctx.require_viewer()
    fields = dict(BOUNDED)
    if with_members_count:
        fields["members"] = _members_count()
    inner = (
        select(*(column.label(key) for key, column in fields.items()))
        .where(visible_condition(reader_of(viewer)))
        .subquery()
    )
    aggregates = [agg(inner.c[key]) for key in fields for agg in (func.min, func.max)]
    async with ctx.db.read() as conn:
        row = (await conn.execute(select(*aggregates))).one()
    return {key: Bounds(row[2 * i], row[2 * i + 1]) for i, key in enumerate(fields)}


ProjectRelation = Literal["MEMBER", "MANAGER", "CREATOR"]


async def list_user_projects(
    ctx: Context,
    user_id: int,
    relation: ProjectRelation = "MEMBER",
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The projects a user is a member of, manages or created, by name (the user themself or
    an administrator: it reveals memberships the caller may not share)."""
    viewer = ctx.require_viewer()
    if viewer.id != user_id and not viewer.is_admin:
        raise Forbidden("Only the user or an administrator may list these projects")
    async with ctx.db.read() as conn:
        await user_exists(conn, user_id)
    stmt = select(*PROJECT_TABLE.c)
    if relation == "CREATOR":
        stmt = stmt.where(Project.creator_id == user_id)
    else:
        stmt = stmt.where(Project.id.in_(entries_of(user_id, managed=relation == "MANAGER")))
    stmt = stmt.order_by(Project.name, Project.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


@dataclass(frozen=True, slots=True)
class OpenedProject:
    """A project in the caller's "last opened" list: when, and whether it was really opened
    or only completes the list as a recently created project."""

    project_id: int
    date: datetime
    opened: bool


async def last_opened_projects(ctx: Context, limit: int | None = None) -> list[OpenedProject]:
    """The caller's last opened projects, newest first, completed up to `limit` (default 5)
    from each following source; a project appears once."""
    viewer = ctx.require_viewer()
    wanted = limit or DEFAULT_LAST_OPENED
    if wanted < 0:
        raise InvalidInput("max must not be negative")
    wanted = min(wanted, ctx.page_limit(wanted) or wanted)
    if ctx.activity is not None:
        await ctx.activity.settle()  # connections just posted are in the list
    found: list[OpenedProject] = []
    async with ctx.db.read() as conn:
        for opened, source in LAST_OPENED_SOURCES:
            if len(found) >= wanted:
                break
            rows = source(viewer).subquery()
            seen = [item.project_id for item in found]
            stmt = (
                select(rows.c.id, rows.c.date)
                .where(rows.c.id.not_in(seen) if seen else literal(True))
                .order_by(rows.c.date.desc(), rows.c.id.desc())
                .limit(wanted - len(found))
            )
            found += [OpenedProject(pid, date, opened) for pid, date in await conn.execute(stmt)]
    return found
