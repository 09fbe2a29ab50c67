"""Projects: reads, loaders, access checks, writes and membership (contract core.md §7.2–§7.4,
§9.3–§9.4).

Membership is the ACL: a member holds an entry on the project, a manager holds
ADMINISTRATION. Membership changes are not commands (core.md §8.1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

from sqlalchemy import Row, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.models import AclEntry, Command, Ontology, Project, ProjectRepresentativeUser, SecUser
from resolvers.acl import (
    ADMINISTRATION,
    CONTRIBUTOR,
    MANAGER,
    READ,
    allows,
    grant,
    mask_of,
    require,
    revoke,
    viewer_mask,
)
from resolvers.command import CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of, update_row
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Filter, Page, apply_filters, apply_sort, fetch_page
from resolvers.viewer import Viewer

__all__ = [
    "PROJECT",
    "REPRESENTATIVE",
    "ProjectAccess",
    "ProjectFields",
    "ProjectRow",
    "add_member",
    "create_project",
    "delete_project",
    "get_project",
    "list_projects",
    "project_access",
    "projects_by_id",
    "projects_by_ontology",
    "reader_of",
    "remove_member",
    "update_project",
    "visible_projects",
]

PROJECT_TABLE: Final = table_of(Project)
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


async def _authorize(ctx: Context, row: Mapping[str, Any]) -> None:
    await require(ctx, row["id"], ADMINISTRATION)


PROJECT: Final = register(
    Spec("Project", Project, lambda row: f"{row['id']} ({row['name']})",
         project_of=lambda row: row["id"], authorize=_authorize, acl=True,
         counters=("count_images", "count_annotations", "count_reviewed_annotations"))
)  # fmt: skip


async def _may_manage(ctx: Context, row: Mapping[str, Any]) -> None:
    await require(ctx, row["project_id"], ADMINISTRATION)


REPRESENTATIVE: Final = register(
    Spec("ProjectRepresentativeUser", ProjectRepresentativeUser,
         lambda row: f"{row['id']} ({row['user_id']})",
         message=lambda row, verb: f"Representative User {row['id']} ({row['user_id']}) "
         f"{'updated' if verb == 'edited' else verb}",
         project_of=lambda row: row["project_id"], authorize=_may_manage)
)  # fmt: skip


async def projects_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    """Projects by id, one SELECT for the batch; None for an unknown id."""
    async with db.read() as conn:
        rows = (await conn.execute(select(*PROJECT_TABLE.c).where(Project.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


def reader_of(viewer: Viewer) -> int | None:
    """The user whose ACL entries limit what the viewer reads; None for admins (no limit)."""
    return None if viewer.is_admin else viewer.id


def visible_projects(reader: int | None) -> Any:
    """SELECT of the projects `reader` may read (all when None: an admin)."""
    stmt = select(*PROJECT_TABLE.c)
    if reader is None:
        return stmt
    return stmt.where(Project.id.in_(select(AclEntry.object_id).where(AclEntry.user_id == reader)))


async def projects_by_ontology(
    db: Database, keys: list[tuple[int | None, int]]
) -> list[list[Row[Any]]]:
    """Batch loader: for each (reader, ontology id), the projects using the ontology that the
    reader may read (see `reader_of`), by name; one SELECT per distinct reader."""
    out: defaultdict[tuple[int | None, int], list[Row[Any]]] = defaultdict(list)
    by_reader: defaultdict[int | None, set[int]] = defaultdict(set)
    for reader, ontology_id in keys:
        by_reader[reader].add(ontology_id)
    async with db.read() as conn:
        for reader, ontology_ids in by_reader.items():
            stmt = visible_projects(reader).where(Project.ontology_id.in_(ontology_ids))
            for row in await conn.execute(stmt.order_by(Project.name)):
                out[(reader, row.ontology_id)].append(row)
    return [out[key] for key in keys]


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


async def project_access(ctx: Context, project_id: int) -> ProjectAccess:
    """The caller's access to a project; `NotFound` when it does not exist."""
    viewer = ctx.require_viewer()
    project = await ctx.loader(projects_by_id).load(project_id)
    if project is None:
        raise NotFound("Project", project_id)
    mask = 0 if viewer.is_admin else await viewer_mask(ctx, project_id)
    return ProjectAccess(project, viewer, mask)


async def get_project(ctx: Context, project_id: int) -> Any:
    """One project the caller may read."""
    return (await project_access(ctx, project_id)).require_read().project


# --- writes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectFields:
    """A project's writable fields, as a create or a full update (PUT) gives them.

    `users`, `admins` and `representatives` are optional id lists; on update, a list that is
    given replaces that part of the membership (core.md §9.3).
    """

    name: str | None = None
    ontology: int | None = None
    mode: str | None = None
    is_read_only: bool | None = None
    is_restricted: bool | None = None
    blind_mode: bool | None = None
    are_images_downloadable: bool | None = None
    is_closed: bool | None = None
    hide_users_layers: bool | None = None
    hide_admins_layers: bool | None = None
    users: list[int] | None = None
    admins: list[int] | None = None
    representatives: list[int] | None = None


def _mode(fields: ProjectFields) -> str:
    """`mode` when given; else isReadOnly wins over isRestricted, else CLASSIC (§7.4)."""
    if fields.mode is not None:
        return fields.mode
    if fields.is_read_only:
        return READ_ONLY
    return RESTRICTED if fields.is_restricted else "CLASSIC"


def _values(fields: ProjectFields) -> dict[str, Any]:
    name = (fields.name or "").strip()
    if not name:
        raise InvalidInput("Property name must be set")
    if len(name) > 255:
        raise InvalidInput("Property name is longer than 255 characters")
    return {
        "name": name,
        "ontology_id": fields.ontology,
        "mode": _mode(fields),
        "blind_mode": bool(fields.blind_mode),
        "are_images_downloadable": bool(fields.are_images_downloadable),
        "is_closed": bool(fields.is_closed),
        "hide_users_layers": bool(fields.hide_users_layers),
        "hide_admins_layers": bool(fields.hide_admins_layers),
    }


async def _check_ontology(ctx: Context, ontology_id: int | None) -> None:
    """The ontology must exist (400, as Cytomine reads a body reference) and be readable."""
    if ontology_id is None:
        return
    async with ctx.db.read() as conn:
        found = await conn.execute(select(Ontology.id).where(Ontology.id == ontology_id))
    if found.first() is None:
        raise InvalidInput(f"ontology was not found with id: {ontology_id}")
    await require(ctx, ontology_id, READ)


async def _existing_users(conn: AsyncConnection, ids: Sequence[int]) -> list[int]:
    """The ids among `ids` that name users, in the given order (unknown ids are skipped)."""
    if not ids:
        return []
    found = set((await conn.execute(select(SecUser.id).where(SecUser.id.in_(ids)))).scalars())
    return [user_id for user_id in dict.fromkeys(ids) if user_id in found]


async def _add_representative(
    conn: AsyncConnection, log: CommandLog, project_id: int, user_id: int
) -> None:
    values = {"project_id": project_id, "user_id": user_id}
    row = await insert_row(conn, ProjectRepresentativeUser, values)
    await log.add(REPRESENTATIVE, row, printed=False)


async def create_project(ctx: Context, fields: ProjectFields) -> Changed:
    """Create a project: the caller manages it and represents it; `users` and `admins` join as
    contributors and managers (unknown ids are skipped, as Cytomine does)."""
    viewer = ctx.require_viewer()
    if not viewer.is_user:
        raise Forbidden("A guest may not create a project")
    values = _values(fields)
    await _check_ontology(ctx, values["ontology_id"])
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Project {values['name']} already exist!"):
            row = await insert_row(conn, Project, {**values, "creator_id": viewer.id})
        await grant(conn, row.id, (viewer.id,), MANAGER)
        members = await _existing_users(conn, [*(fields.users or ()), *(fields.admins or ())])
        await grant(conn, row.id, members, CONTRIBUTOR)
        admins = await _existing_users(conn, fields.admins or ())
        await grant(conn, row.id, [a for a in admins if a != viewer.id], MANAGER)
        command = await log.add(PROJECT, row)
        await _add_representative(conn, log, row.id, viewer.id)
    return Changed(row, command)


async def update_project(ctx: Context, project_id: int, fields: ProjectFields) -> Changed:
    """Replace a project's fields (managers); given member lists replace the membership."""
    viewer = ctx.require_viewer()
    (await project_access(ctx, project_id)).require_manager()
    values = _values(fields)
    await _check_ontology(ctx, values["ontology_id"])
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Project {values['name']} already exist!"):
            before, after = await update_row(conn, Project, "Project", project_id, values)
        if fields.users is not None:
            keep = {*fields.users, *(fields.admins or ()), viewer.id}
            await _set_members(conn, project_id, keep, manager=False)
        if fields.admins is not None:
            await _set_members(conn, project_id, {*fields.admins, viewer.id}, manager=True)
        if fields.representatives is not None:
            await _set_representatives(conn, log, project_id, fields.representatives)
        command = await log.edit(PROJECT, before, after)
    return Changed(after, command)


async def _members(conn: AsyncConnection, project_id: int, *, manager: bool) -> set[int]:
    stmt = select(AclEntry.user_id).where(AclEntry.object_id == project_id)
    if manager:
        stmt = stmt.where(AclEntry.mask >= ADMINISTRATION)
    return set((await conn.execute(stmt)).scalars())


async def _set_members(
    conn: AsyncConnection, project_id: int, wanted: set[int], *, manager: bool
) -> None:
    current = await _members(conn, project_id, manager=manager)
    for user_id in await _existing_users(conn, sorted(wanted - current)):
        await grant(conn, project_id, (user_id,), MANAGER if manager else CONTRIBUTOR)
    for user_id in current - wanted:
        await revoke(conn, project_id, user_id, ADMINISTRATION if manager else MANAGER)


async def _set_representatives(
    conn: AsyncConnection, log: CommandLog, project_id: int, wanted: Sequence[int]
) -> None:
    table = table_of(ProjectRepresentativeUser)
    rows = (
        await conn.execute(
            select(*table.c).where(ProjectRepresentativeUser.project_id == project_id)
        )
    ).all()
    current = {row.user_id: row for row in rows}
    members = await _members(conn, project_id, manager=False)
    for user_id in await _existing_users(conn, [u for u in wanted if u not in current]):
        if user_id not in members:
            raise InvalidInput(f"the user {user_id} is not into the project {project_id}")
        await _add_representative(conn, log, project_id, user_id)
    gone = [row for user_id, row in current.items() if user_id not in wanted]
    if gone and len(gone) == len(current) and not set(wanted) & members:
        raise InvalidInput(
            "You cannot remove the last representative role. Add someone else as representative"
        )
    for row in gone:
        await log.delete(REPRESENTATIVE, row, printed=False)
        await conn.execute(
            delete(ProjectRepresentativeUser).where(ProjectRepresentativeUser.id == row.id)
        )


async def delete_project(ctx: Context, project_id: int) -> Changed:
    """Delete a project with its images (managers). Its history is erased and the deletion
    cannot be undone (decision 4): the cascade cannot be rebuilt from snapshots."""
    viewer = ctx.require_viewer()
    (await project_access(ctx, project_id)).require_manager().require_writable()
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, Project, "Project", project_id)
        await conn.execute(delete(Command).where(Command.project_id == project_id))
        command = await CommandLog(conn, viewer).delete(
            PROJECT, row, refuse_undo=True, project_id=None
        )
        await conn.execute(delete(Project).where(Project.id == project_id))
    return Changed(row, command)


# --- membership ------------------------------------------------------------------------------


async def _user_exists(conn: AsyncConnection, user_id: int) -> None:
    if (await conn.execute(select(SecUser.id).where(SecUser.id == user_id))).first() is None:
        raise NotFound("User", user_id)


async def add_member(ctx: Context, project_id: int, user_id: int, *, manager: bool) -> None:
    """Add a contributor (READ) or a manager (ADMINISTRATION); idempotent; managers only."""
    (await project_access(ctx, project_id)).require_manager()
    async with ctx.db.transaction() as conn:
        await _user_exists(conn, user_id)
        await grant(conn, project_id, (user_id,), MANAGER if manager else CONTRIBUTOR)


async def remove_member(ctx: Context, project_id: int, user_id: int, *, manager: bool) -> None:
    """Withdraw a manager's ADMINISTRATION (`manager`) or the user's whole membership.

    Managers may remove anyone, a user may remove themself. When the user leaving was the
    last representative, the caller becomes representative (and manager if not a member).
    """
    viewer = ctx.require_viewer()
    access = await project_access(ctx, project_id)
    if viewer.id != user_id:
        access.require_manager()
    async with ctx.db.transaction() as conn:
        await _user_exists(conn, user_id)
        await revoke(conn, project_id, user_id, ADMINISTRATION if manager else MANAGER)
        if manager or await mask_of(conn, user_id, project_id):
            return
        gone = (
            await conn.execute(
                delete(ProjectRepresentativeUser)
                .where(
                    ProjectRepresentativeUser.project_id == project_id,
                    ProjectRepresentativeUser.user_id == user_id,
                )
                .returning(*table_of(ProjectRepresentativeUser).c)
            )
        ).all()
        left = await conn.execute(
            select(func.count()).where(ProjectRepresentativeUser.project_id == project_id)
        )
        if gone and left.scalar_one() == 0 and viewer.id != user_id:
            log = CommandLog(conn, viewer)
            for row in gone:
                await log.delete(REPRESENTATIVE, row, printed=False)
            if not await mask_of(conn, viewer.id, project_id):
                await grant(conn, project_id, (viewer.id,), MANAGER)
            await _add_representative(conn, log, project_id, viewer.id)


# --- lists -----------------------------------------------------------------------------------

PROJECT_FILTERS: Final[Mapping[str, Any]] = {
    "id": Project.id,
    "name": Project.name,
    "ontology": Project.ontology_id,
    "mode": Project.mode,
    "blindMode": Project.blind_mode,
    "areImagesDownloadable": Project.are_images_downloadable,
    "isClosed": Project.is_closed,
    "hideUsersLayers": Project.hide_users_layers,
    "hideAdminsLayers": Project.hide_admins_layers,
    "created": Project.created,
    "updated": Project.updated,
    "numberOfImages": Project.count_images,
    "numberOfAnnotations": Project.count_annotations,
    "numberOfReviewedAnnotations": Project.count_reviewed_annotations,
    "numberOfJobAnnotations": literal(0),
}


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
) -> Page[Any]:
    """The projects the caller may read (all for admins), optionally those `user_id` is a
    member of or those using `ontology_id`; newest first by default (core.md §4.3)."""
    viewer = ctx.require_viewer()
    stmt = visible_projects(reader_of(viewer))
    if user_id is not None:
        async with ctx.db.read() as conn:
            await _user_exists(conn, user_id)
        member = select(AclEntry.object_id).where(AclEntry.user_id == user_id)
        stmt = stmt.where(Project.id.in_(member))
    if ontology_id is not None:
        async with ctx.db.read() as conn:
            found = await conn.execute(select(Ontology.id).where(Ontology.id == ontology_id))
        if found.first() is None:
            raise NotFound("Ontology", ontology_id)
        stmt = stmt.where(Project.ontology_id == ontology_id)
    stmt = apply_filters(stmt, filters, PROJECT_FILTERS)
    stmt = apply_sort(stmt, sort, order, PROJECT_FILTERS, default="created",
                      default_order="desc", tie=Project.id)  # fmt: skip
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)
