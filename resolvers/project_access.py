"""A project's rows, who may read them, and what the caller may do in one (contract core.md
§7.2–§7.4): the base the other project modules build on.

Membership is the ACL: a member holds an entry on the project, a manager holds
ADMINISTRATION.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

from sqlalchemy import Row, bindparam, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.memo import Memo
from db.models import (
    AclEntry,
    Project,
    SecUser,
)
from resolvers.acl import (
    ADMINISTRATION,
    allows,
    entries_of,
)
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.errors import Forbidden, NotFound
from resolvers.viewer import Viewer

__all__ = [
    "ACCESS_TABLES",
    "PROJECT_TABLE",
    "READ_ONLY",
    "RESTRICTED",
    "ProjectAccess",
    "ProjectRow",
    "access_columns",
    "access_of",
    "access_params",
    "existing_users",
    "get_project",
    "kept_access",
    "member_ids",
    "project_access",
    "projects_by_id",
    "projects_with_masks",
    "readable_project",
    "reader_of",
    "remember_access",
    "user_exists",
    "visible_condition",
    "visible_projects",
]

PROJECT_TABLE: Final = table_of(Project)
#: The tables an access decision reads (the viewer's roles, the project's row and ACL, the
#: images and slices that lead to a project, and the extent of their abstract image, kept with
#: the decision: a listing whose box covers that extent drops its spatial test): a write to
#: one of them by this process makes every kept decision stale at once (`kept_access`).
ACCESS_TABLES: Final = frozenset((
    "sec_user", "sec_role", "sec_user_sec_role", "acl_entry", "project", "image_instance",
    "slice_instance", "abstract_image",
))  # fmt: skip
READ_ONLY: Final = "READ_ONLY"
RESTRICTED: Final = "RESTRICTED"


class ProjectRow(Protocol):
    """A row of the project table."""

    id: int
    name: str
    ontology_id: int | None
    creator_id: int | None
    mode: str
    blind_mode: bool
    hide_users_layers: bool
    hide_admins_layers: bool
    are_images_downloadable: bool
    count_annotations: int
    count_reviewed_annotations: int


# --- loaders ---------------------------------------------------------------------------------


_PROJECTS: Final = Direct(select(*PROJECT_TABLE.c).where(among_bound(Project.id)))


async def projects_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Projects by id, one SELECT for the batch; None for an unknown id."""
    return await rows_by_id(db, _PROJECTS, ids)


def reader_of(viewer: Viewer) -> int | None:
    """The user whose ACL entries limit what the viewer reads; None for admins (no limit)."""
    return None if viewer.is_admin else viewer.id


def visible_condition(reader: int | None) -> ColumnElement[bool]:
    """The condition on `project` rows `reader` may read (true for None: an admin)."""
    if reader is None:
        return literal(True)
    return Project.id.in_(entries_of(reader))


def visible_projects(reader: int | None) -> Any:
    """SELECT of the projects `reader` may read (all when None: an admin)."""
    stmt = select(*PROJECT_TABLE.c)
    return stmt if reader is None else stmt.where(visible_condition(reader))


# --- access ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """What the caller may do in one project: its role there and the project's mode (§7.4)."""

    project: Any
    viewer: Viewer
    mask: int

    @property
    def row(self) -> ProjectRow:
        return cast(ProjectRow, self.project)

    @property
    def is_manager(self) -> bool:
        """A manager (ADMINISTRATION on the project) or an admin-by-now."""
        return self.viewer.is_admin or allows(self.mask, ADMINISTRATION)

    @property
    def is_member(self) -> bool:
        return self.viewer.is_admin or self.mask > 0

    def require_read(self) -> ProjectAccess:
        if not self.is_member:
            raise Forbidden("You don't have the right to read this project")
        return self

    def require_manager(self) -> ProjectAccess:
        """WRITE on the project, which in Cytomine only its managers hold."""
        if not self.is_manager:
            raise Forbidden("Only a manager of the project may do this")
        return self

    def require_change(self) -> ProjectAccess:
        """A manager's change to the project itself, its members, layers or representatives.
        A guest writes nothing (core.md §7.1, §7.5), whatever ADMINISTRATION they still hold
        from before a demotion or were granted by a manager."""
        if not self.viewer.is_user:
            raise Forbidden("A guest may not change a project")
        return self.require_manager()

    def require_writable(self) -> ProjectAccess:
        """The read-only check: a read-only project refuses writes from non-managers."""
        self.require_read()
        if self.row.mode == READ_ONLY and not self.is_manager:
            raise Forbidden("The project is in read-only mode")
        return self

    def require_owner_or_mode(self, owner_id: int | None) -> ProjectAccess:
        """Managers pass; otherwise classic passes, restricted only for the object's owner,
        read-only never."""
        self.require_read()
        if self.is_manager:
            return self
        if self.row.mode == READ_ONLY:
            raise Forbidden("The project is in read-only mode")
        if self.row.mode == RESTRICTED and owner_id != self.viewer.id:
            raise Forbidden("The project is in restricted mode: only the owner may change this")
        return self


#: The bound viewer's bits on the project of the row (`_mask`, 0 for none).
_MASK: Final = (
    select(func.coalesce(func.bit_or(AclEntry.mask), 0))
    .where(AclEntry.object_id == Project.id, AclEntry.user_id == bindparam("viewer"))
    .scalar_subquery()
    .label("_mask")
)
_PROJECTS_WITH_MASKS: Final = Direct(select(*PROJECT_TABLE.c, _MASK).where(among_bound(Project.id)))


async def projects_with_masks(
    db: Lease, keys: list[tuple[int, int]]
) -> list[tuple[Any, int] | None]:
    """Batch loader: each (user, project)'s project row and the user's bits on it, in one
    SELECT per user: the access check every project-bound request starts with costs one
    round trip, not two."""
    by_user: defaultdict[int, list[int]] = defaultdict(list)
    for user_id, project_id in keys:
        by_user[user_id].append(project_id)
    found: dict[tuple[int, int], tuple[Any, int]] = {}
    async with db.read() as conn:
        for user_id, ids in by_user.items():
            for row in await conn.fetch(_PROJECTS_WITH_MASKS, {"ids": ids, "viewer": user_id}):
                found[(user_id, row.id)] = (row, int(row._mask))
    return [found.get(key) for key in keys]


def access_columns(admin: bool) -> list[Any]:
    """What `project_access` reads of a project for a viewer: its columns, and a non-admin's
    bits on it (the viewer bound at execution: `access_params`). Selected beside the rows
    that lead to a project (a listing's image), and given to `remember_access`, they spare
    the access check a round trip of its own."""
    if admin:
        return [*PROJECT_TABLE.c]
    return [*PROJECT_TABLE.c, _MASK]


def access_params(viewer: Viewer) -> dict[str, Any]:
    """The values `access_columns` binds for `viewer`."""
    return {} if viewer.is_admin else {"viewer": viewer.id}


def remember_access(ctx: Context, row: Any) -> None:
    """Keep a project row read with `access_columns` where `project_access` looks for it."""
    viewer = ctx.require_viewer()
    if viewer.is_admin:
        ctx.loader(projects_by_id).prime(row.id, row)
    else:
        ctx.loader(projects_with_masks).prime((viewer.id, row.id), (row, int(row._mask)))


def kept_access(ctx: Context) -> Memo[tuple[Any, ...], Any] | None:
    """The process's memo of access decisions (`Context.access_memo`), where this request may
    use it: outside a transaction, whose own writes the memo does not see yet and whose reads
    may still be rolled back.

    A decision (the project an image or a slice belongs to, the viewer's bits on it and the
    project's modes) is kept `CYTOGATE_AUTH_CACHE_SECONDS`, like the identity the request
    authenticated as, and forgotten at once when this process commits a write to one of
    `ACCESS_TABLES`: a member removed or a project's modes changed through this server count
    at the next request, a change made by another process within that bound. A kept row
    decides access, and whether a listing's box covers its image (the image's extent, read
    with it: an abstract image's size changed here forgets it too), and nothing else: its
    counters, which triggers change, are never answered from it.
    """
    memo = ctx.access_memo
    return memo if memo is not None and not ctx.db.in_transaction else None


async def project_access(ctx: Context, project_id: int) -> ProjectAccess:
    """The caller's access to a project; `NotFound` when it does not exist."""
    viewer = ctx.require_viewer()
    if viewer.is_admin:
        return ProjectAccess(await ctx.found(projects_by_id, project_id, "Project"), viewer, 0)
    project, mask = await ctx.found(projects_with_masks, (viewer.id, project_id), "Project")
    return ProjectAccess(project, viewer, mask)


def access_of(ctx: Context, row: Any) -> ProjectAccess:
    """The caller's access to the project of a row read with `access_columns`."""
    viewer = ctx.require_viewer()
    return ProjectAccess(row, viewer, 0 if viewer.is_admin else int(row._mask))


async def get_project(ctx: Context, project_id: int) -> Any:
    """One project the caller may read."""
    return (await project_access(ctx, project_id)).require_read().project


async def readable_project(ctx: Context, project_id: int) -> ProjectAccess:
    """The caller's access to a project reached through the graph, which must be readable."""
    return (await project_access(ctx, project_id)).require_read()


# --- users and members ---------------------------------------------------------------------


async def existing_users(conn: Connection, ids: Sequence[int]) -> list[int]:
    """The ids among `ids` that name users, in the given order (unknown ids are skipped)."""
    if not ids:
        return []
    found = set((await conn.execute(select(SecUser.id).where(among(SecUser.id, ids)))).scalars())
    return [user_id for user_id in dict.fromkeys(ids) if user_id in found]


async def member_ids(conn: Connection, project_id: int, *, manager: bool) -> set[int]:
    """The project's members (`manager`: its managers), read on `conn`."""
    stmt = select(AclEntry.user_id).where(AclEntry.object_id == project_id)
    if manager:
        stmt = stmt.where(AclEntry.mask >= ADMINISTRATION)
    return set((await conn.execute(stmt)).scalars())


async def user_exists(conn: Connection, user_id: int) -> None:
    """`NotFound` unless the user exists (a user named by the path)."""
    if (await conn.execute(select(SecUser.id).where(SecUser.id == user_id))).first() is None:
        raise NotFound("User", user_id)
