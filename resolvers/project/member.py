"""A project's members: joining and leaving, alone or by lists, and the member listings
(contract core.md §7.3–§7.4, §9.4).

Membership is the ACL: a member holds an entry on the project, a manager holds
ADMINISTRATION. Membership changes are not commands (core.md §8.1), except the
representative hand-over a departure may cause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    and_,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import aliased

from db.engine import Connection, Lease
from db.models import (
    AclEntry,
    ImageConsultation,
    PersistentConnection,
    ProjectConnection,
    ProjectRepresentativeUser,
    SecUser,
)
from resolvers.acl import (
    ADMINISTRATION,
    CONTRIBUTOR,
    MANAGER,
    grant,
    mask_of,
    revoke,
)
from resolvers.command import CommandLog
from resolvers.context import Context
from resolvers.errors import InvalidInput
from resolvers.image_name import shown_name_column
from resolvers.listing import (
    Filter,
    Page,
    apply_filters,
    order_clauses,
    pages_by_parent,
)
from resolvers.project.layer import (
    LAST_REPRESENTATIVE,
    REPRESENTATIVE,
    add_representative,
    remove_representative_rows,
)
from resolvers.project_access import (
    existing_users,
    member_ids,
    project_access,
    readable_project,
    user_exists,
)
from resolvers.report import ReportFile, ReportFormat
from resolvers.user import USER_COLUMNS, USER_FILTERS, users_by_id
from resolvers.viewer import Viewer

__all__ = [
    "MEMBER_REPORT_COLUMNS",
    "PROJECT_ROLE",
    "MemberQuery",
    "MembershipChange",
    "add_member",
    "add_members",
    "member_pages",
    "member_report",
    "members_by_project",
    "project_creator",
    "project_members",
    "remove_member",
    "remove_members",
    "set_members",
    "user_layers",
]

#: Most ids one membership call may name (inputs are bounded).
MAX_BATCH: Final = 1000
#: The header of a report of members (core.md §9.4: username and name), with the role.
MEMBER_REPORT_COLUMNS: Final = ("Username", "Name", "Role")


# --- membership ------------------------------------------------------------------------------


async def set_members(
    conn: Connection, viewer: Viewer, project_id: int, wanted: set[int], *, manager: bool
) -> None:
    """Make the project's contributors (or, `manager`, its managers) exactly `wanted`: the
    others leave as one removed by the caller does (a departing last representative hands
    over to them, §9.4)."""
    current = await member_ids(conn, project_id, manager=manager)
    for user_id in await existing_users(conn, sorted(wanted - current)):
        await grant(conn, project_id, (user_id,), MANAGER if manager else CONTRIBUTOR)
    for user_id in sorted(current - wanted):
        await _leave(conn, viewer, project_id, user_id, manager=manager)


async def add_member(ctx: Context, project_id: int, user_id: int, *, manager: bool) -> None:
    """Add a contributor (READ) or a manager (ADMINISTRATION); idempotent; managers only."""
    (await project_access(ctx, project_id)).require_change()
    async with ctx.db.transaction() as conn:
        await user_exists(conn, user_id)
        await grant(conn, project_id, (user_id,), MANAGER if manager else CONTRIBUTOR)


async def remove_member(ctx: Context, project_id: int, user_id: int, *, manager: bool) -> None:
    """Withdraw a manager's ADMINISTRATION (`manager`) or the user's whole membership.

    Managers may remove anyone, a user may remove themself. When the user leaving was the
    last representative, the caller becomes representative (and manager if not a member).
    """
    viewer = ctx.require_viewer()
    access = await project_access(ctx, project_id)
    if viewer.id != user_id:
        access.require_change()
    async with ctx.db.transaction() as conn:
        await user_exists(conn, user_id)
        await _leave(conn, viewer, project_id, user_id, manager=manager)


async def _leave(
    conn: Connection, viewer: Viewer, project_id: int, user_id: int, *, manager: bool
) -> None:
    """Revoke the user's rights; a departing last representative hands over to the caller.
    Leaving on their own, they have nobody to hand over to: a project keeps a representative
    (§7.3), so that is refused as removing the last representative is (§9.6)."""
    await revoke(conn, project_id, user_id, ADMINISTRATION if manager else MANAGER)
    if manager or await mask_of(conn, user_id, project_id):
        return
    gone = await remove_representative_rows(conn, project_id, user_id)
    left = await conn.execute(
        select(func.count()).where(ProjectRepresentativeUser.project_id == project_id)
    )
    if gone and left.scalar_one() == 0:
        if viewer.id == user_id:
            raise InvalidInput(LAST_REPRESENTATIVE)
        log = CommandLog(conn, viewer)
        for row in gone:
            await log.delete(REPRESENTATIVE, row, printed=False)
        if not await mask_of(conn, viewer.id, project_id):
            await grant(conn, project_id, (viewer.id,), MANAGER)
        await add_representative(conn, log, project_id, viewer.id)


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """The outcome of a multi-user membership call (core.md §9.4): the users changed, the
    well-formed ids that failed (unknown users) and the ids that were not numbers."""

    project_id: int
    done: list[int]
    failed: list[int]
    malformed: list[str]


def _parse_ids(texts: Sequence[str]) -> tuple[list[int], list[str]]:
    if not texts:
        raise InvalidInput("users must list at least one user id")
    if len(texts) > MAX_BATCH:
        raise InvalidInput(f"users may list at most {MAX_BATCH} ids")
    ids: list[int] = []
    malformed: list[str] = []
    for text in texts:
        cleaned = str(text).strip()
        if cleaned.isdigit() and int(cleaned) < 2**63:
            ids.append(int(cleaned))
        else:
            malformed.append(cleaned)
    return list(dict.fromkeys(ids)), malformed


async def add_members(ctx: Context, project_id: int, user_ids: Sequence[str]) -> MembershipChange:
    """Add several contributors at once (managers); unknown and malformed ids are reported,
    the others are added."""
    (await project_access(ctx, project_id)).require_change()
    ids, malformed = _parse_ids(user_ids)
    async with ctx.db.transaction() as conn:
        found = await existing_users(conn, ids)
        await grant(conn, project_id, found, CONTRIBUTOR)
    return MembershipChange(project_id, found, [i for i in ids if i not in found], malformed)


async def remove_members(
    ctx: Context, project_id: int, user_ids: Sequence[str]
) -> MembershipChange:
    """Remove several members at once: managers remove anyone, a member only themself."""
    viewer = ctx.require_viewer()
    access = await project_access(ctx, project_id)
    ids, malformed = _parse_ids(user_ids)
    if any(user_id != viewer.id for user_id in ids) or malformed:
        access.require_change()
    async with ctx.db.transaction() as conn:
        found = await existing_users(conn, ids)
        for user_id in found:
            await _leave(conn, viewer, project_id, user_id, manager=False)
    return MembershipChange(project_id, found, [i for i in ids if i not in found], malformed)


# --- members ---------------------------------------------------------------------------------

_MEMBER_ACL: Final = aliased(AclEntry, name="member_acl")
_MEMBER_REPRESENTATIVE: Final = aliased(ProjectRepresentativeUser, name="member_representative")
#: A member's role in a listing: representative > manager > contributor (core.md §7.3).
PROJECT_ROLE: Final = case(
    (_MEMBER_REPRESENTATIVE.id.is_not(None), "representative"),
    (_MEMBER_ACL.mask >= ADMINISTRATION, "manager"),
    else_="contributor",
).label("role")
_NAME_SEARCH: Final = SecUser.firstname + " " + SecUser.lastname + " " + SecUser.username
#: A member is online when they pinged the project in the last 300 s (core.md §9.16).
ONLINE_WINDOW: Final = timedelta(seconds=300)
#: A member's `status` in a listing: online or offline (`status[equals]=online`, §4.4).
MEMBER_STATUS: Final = case(
    (
        exists().where(
            PersistentConnection.user_id == SecUser.id,
            PersistentConnection.project_id == _MEMBER_ACL.object_id,
            PersistentConnection.created > func.now() - ONLINE_WINDOW,
        ),
        "online",
    ),
    else_="offline",
)

_CONNECTED: Final = and_(
    ProjectConnection.project_id == _MEMBER_ACL.object_id,
    ProjectConnection.user_id == SecUser.id,
)
_LAST_IMAGE: Final = (
    select(ImageConsultation.image_id)
    .where(ImageConsultation.project_id == _MEMBER_ACL.object_id,
           ImageConsultation.user_id == SecUser.id)
    .order_by(ImageConsultation.created.desc(), ImageConsultation.id.desc())
    .limit(1)
    .correlate(SecUser, _MEMBER_ACL)  # two levels down: auto-correlation looks one up
    .scalar_subquery()
)  # fmt: skip
#: What the `with…` flags show, as sort keys under the contract's names (core.md §9.4): the
#: name of the image they consulted last, their last connection, how many connections.
#: Correlated subqueries, so a listing that does not sort on them never computes them.
MEMBER_ACTIVITY_KEYS: Final[dict[str, Any]] = {
    "lastImageName": shown_name_column(_LAST_IMAGE),
    "lastConnection": select(func.max(ProjectConnection.created)).where(_CONNECTED)
    .scalar_subquery(),
    "frequency": select(func.count()).where(_CONNECTED).scalar_subquery(),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MemberQuery:
    """One page of a project's members; hashable, so it keys a DataLoader.

    `private`: the caller may filter and sort on e-mails (administrators, decision 7).
    """

    limit: int | None
    offset: int = 0
    sort: str | None = None
    order: str | None = None
    filters: tuple[Filter, ...] = ()
    managers_only: bool = False
    private: bool = False


def _member_columns(query: MemberQuery) -> dict[str, Any]:
    columns: dict[str, Any] = {k: v for k, v in USER_FILTERS.items() if k != "email"}
    if query.private:
        columns["email"] = SecUser.email
    columns["projectRole"] = PROJECT_ROLE
    columns["fullName"] = _NAME_SEARCH
    columns["status"] = MEMBER_STATUS
    columns.update(MEMBER_ACTIVITY_KEYS)
    return columns


def _member_order(query: MemberQuery) -> list[Any]:
    """ORDER BY of a member page (default newest user first); unknown keys are a 400."""
    return order_clauses(query.sort, query.order, _member_columns(query), default="created",
                         default_order="desc", tie=SecUser.id)  # fmt: skip


def _members_select(project_ids: list[int]) -> Any:
    return (
        select(*USER_COLUMNS, _MEMBER_ACL.object_id.label("project_id"),
               _MEMBER_ACL.mask.label("mask"), PROJECT_ROLE)
        .join(_MEMBER_ACL, _MEMBER_ACL.user_id == SecUser.id)
        .outerjoin(_MEMBER_REPRESENTATIVE,
                   and_(_MEMBER_REPRESENTATIVE.project_id == _MEMBER_ACL.object_id,
                        _MEMBER_REPRESENTATIVE.user_id == SecUser.id))
        .where(_MEMBER_ACL.object_id.in_(project_ids))
    )  # fmt: skip


def _member_conditions(query: MemberQuery) -> list[Any]:
    """`fullName` matches first name, last name and username (never e-mails: decision 7)."""
    conditions: list[Any] = []
    for f in query.filters:
        if f.field == "fullName" and f.op in ("like", "ilike", "equals"):
            conditions.append(_NAME_SEARCH.ilike("%" + (f.value or "").replace("*", "%") + "%"))
    return conditions


async def member_pages(db: Lease, keys: list[tuple[int, MemberQuery]]) -> list[Page[Any]]:
    """Batch loader: a page of members per (project, query); one SELECT per distinct query,
    paged per project with a window, so the count does not grow with the projects."""
    by_query: defaultdict[MemberQuery, list[int]] = defaultdict(list)
    for project_id, query in keys:
        by_query[query].append(project_id)
    pages: dict[tuple[int, MemberQuery], Page[Any]] = {}
    async with db.read() as conn:
        for query, project_ids in by_query.items():
            columns = _member_columns(query)
            plain = [f for f in query.filters if f.field != "fullName"]
            stmt = apply_filters(_members_select(project_ids), plain, columns)
            if query.managers_only:
                stmt = stmt.where(_MEMBER_ACL.mask >= ADMINISTRATION)
            stmt = stmt.where(*_member_conditions(query))
            found = await pages_by_parent(
                conn, stmt, _MEMBER_ACL.object_id, _member_order(query), project_ids,
                limit=query.limit, offset=query.offset,
            )  # fmt: skip
            for project_id in project_ids:
                pages[(project_id, query)] = found[project_id]
    return [pages[key] for key in keys]


async def project_members(
    ctx: Context,
    project_id: int,
    *,
    limit: int | None = None,
    offset: int = 0,
    sort: str | None = None,
    order: str | None = None,
    filters: Sequence[Filter] = (),
    managers_only: bool = False,
) -> Page[Any]:
    """A page of the project's members, each with its role; newest user first by default
    (core.md §9.4). Sorts on user fields, `projectRole`, `fullName`, `lastImageName`,
    `lastConnection`, `frequency`; filters
    `projectRole[in]`, `fullName[ilike]`, `status[equals]=online` and user fields."""
    viewer = ctx.require_viewer()
    await readable_project(ctx, project_id)
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInput("max and offset must not be negative")
    query = MemberQuery(ctx.page_limit(limit), offset, sort, order, tuple(filters),
                        managers_only, viewer.is_admin)  # fmt: skip
    _member_order(query)
    if ctx.activity is not None and (
        any(f.field == "status" or f.field in MEMBER_ACTIVITY_KEYS for f in filters)
        or sort in MEMBER_ACTIVITY_KEYS
    ):
        await ctx.activity.settle()  # the pings and connections just posted count
    return await ctx.loader(member_pages).load((project_id, query))


async def member_report(ctx: Context, project_id: int, format: ReportFormat) -> ReportFile:
    """The file of a report of the project's members (READ), listed by `project_members`. A
    table of people has no GeoJSON form."""
    if format is ReportFormat.GEOJSON:
        raise InvalidInput("A report of members is a table: csv, xls, xlsx or pdf")
    access = await readable_project(ctx, project_id)
    return ReportFile("users", access.row, format, datetime.now(UTC))


async def members_by_project(db: Lease, ids: list[int]) -> list[list[Any]]:
    """Every member of each project (user columns, `mask`, `role`), by username."""
    stmt = _members_select(ids).order_by(SecUser.username, SecUser.id)
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.project_id].append(row)
    return [grouped[key] for key in ids]


async def user_layers(ctx: Context, project_id: int) -> list[Any]:
    """The members whose annotation layers the caller may see (core.md §7.4): managers and
    admins see all; otherwise `hideAdminsLayers` hides managers, `hideUsersLayers` hides
    contributors; the caller's own layer is always there when they are a member."""
    access = await readable_project(ctx, project_id)
    members = await ctx.loader(members_by_project).load(project_id)
    project = access.row
    if access.is_manager:
        visible = members
    else:
        visible = [
            m
            for m in members
            if not (project.hide_admins_layers if m.mask >= ADMINISTRATION
                    else project.hide_users_layers)
        ]  # fmt: skip
    if not any(m.id == access.viewer.id for m in visible):
        visible += [m for m in members if m.id == access.viewer.id]
    return visible


async def project_creator(ctx: Context, project_id: int) -> Any:
    """The user who created the project (None when unknown or deleted)."""
    project = (await readable_project(ctx, project_id)).row
    if project.creator_id is None:
        return None
    return await ctx.loader(users_by_id).load(project.creator_id)
