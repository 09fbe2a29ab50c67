"""Projects: reads, loaders, access checks, writes, membership, default layers and
representatives (contract core.md §7.2–§7.4, §9.3–§9.6).

Membership is the ACL: a member holds an entry on the project, a manager holds
ADMINISTRATION. Membership changes are not commands (core.md §8.1); default layers and
representatives are, and their messages name the user, so their rows are read and written
together with the user's name (`user_name`), which the command snapshot keeps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol, cast

from sqlalchemy import (
    Row,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from db.engine import Database
from db.models import (
    AclEntry,
    Command,
    CommandHistory,
    Ontology,
    Project,
    ProjectDefaultLayer,
    ProjectRepresentativeUser,
    SecUser,
)
from resolvers.acl import (
    ADMINISTRATION,
    CONTRIBUTOR,
    MANAGER,
    READ,
    allows,
    grant,
    mask_of,
    require,
    require_recorded,
    revoke,
    viewer_mask,
)
from resolvers.command import CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of, update_row
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Filter, Page, apply_filters, apply_sort, fetch_page
from resolvers.user import USER_COLUMNS, USER_FILTERS, users_by_id
from resolvers.viewer import Viewer

__all__ = [
    "DEFAULT_LAYER",
    "PROJECT",
    "REPRESENTATIVE",
    "Bounds",
    "DefaultLayerFields",
    "MemberQuery",
    "MembershipChange",
    "OpenedProject",
    "ProjectAccess",
    "ProjectExtras",
    "ProjectFields",
    "ProjectRelation",
    "ProjectRow",
    "RepresentativeFields",
    "add_member",
    "add_members",
    "create_default_layer",
    "create_project",
    "create_representative",
    "current_user_roles",
    "default_layers_by_project",
    "delete_default_layer",
    "delete_project",
    "delete_representative",
    "get_default_layer",
    "get_project",
    "get_representative",
    "last_activity",
    "last_opened_projects",
    "list_projects",
    "list_user_projects",
    "members_count",
    "project_access",
    "project_bounds",
    "project_creator",
    "project_default_layers",
    "project_members",
    "project_representatives",
    "projects_by_id",
    "projects_by_ontology",
    "reader_of",
    "remove_member",
    "remove_members",
    "representatives_by_project",
    "update_default_layer",
    "update_project",
    "user_layers",
    "visible_condition",
    "visible_projects",
]

PROJECT_TABLE: Final = table_of(Project)
LAYER_TABLE: Final = table_of(ProjectDefaultLayer)
REPRESENTATIVE_TABLE: Final = table_of(ProjectRepresentativeUser)
READ_ONLY: Final = "READ_ONLY"
RESTRICTED: Final = "RESTRICTED"
#: Most ids one membership call may name (inputs are bounded).
MAX_BATCH: Final = 1000
LAST_REPRESENTATIVE: Final = (
    "You cannot remove the last representative role. Add someone else as representative"
)


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


# --- specs: how commands of these domains are replayed ---------------------------------------


async def _authorize(ctx: Context, row: Mapping[str, Any]) -> None:
    await require_recorded(ctx, row, ADMINISTRATION)


async def _may_manage(ctx: Context, row: Mapping[str, Any]) -> None:
    await require(ctx, row["project_id"], ADMINISTRATION)


def _named_message(title: str) -> Callable[[Mapping[str, Any], str], str]:
    """§8.4's "<title> {id} ({user full name}) added/updated/deleted"."""

    def message(row: Mapping[str, Any], verb: str) -> str:
        name = row.get("user_name") or row["user_id"]
        return f"{title} {row['id']} ({name}) {'updated' if verb == 'edited' else verb}"

    return message


PROJECT: Final = register(
    Spec("Project", Project, lambda row: f"{row['id']} ({row['name']})",
         project_of=lambda row: row["id"], authorize=_authorize, acl=True,
         counters=("count_images", "count_annotations", "count_reviewed_annotations"))
)  # fmt: skip
REPRESENTATIVE: Final = register(
    Spec("ProjectRepresentativeUser", ProjectRepresentativeUser, lambda row: str(row["id"]),
         message=_named_message("Representative User"),
         project_of=lambda row: row["project_id"], authorize=_may_manage)
)  # fmt: skip
DEFAULT_LAYER: Final = register(
    Spec("ProjectDefaultLayer", ProjectDefaultLayer, lambda row: str(row["id"]),
         message=_named_message("Default Layer"),
         project_of=lambda row: row["project_id"], authorize=_may_manage)
)  # fmt: skip


# --- rows with their user's name -------------------------------------------------------------


def _user_name(user_id: Any) -> Any:
    """The user's "first last" name, as a column: the commands' messages name the user."""
    return (
        select(SecUser.firstname + " " + SecUser.lastname)
        .where(SecUser.id == user_id)
        .scalar_subquery()
        .label("user_name")
    )


def _named(table: Any) -> Any:
    """SELECT of a user-bound table's rows with the user's name."""
    return select(*table.c, _user_name(table.c.user_id))


async def _write_named(conn: AsyncConnection, table: Any, stmt: Any) -> list[Row[Any]]:
    """Run an INSERT or UPDATE and read back the rows it wrote with the user's name."""
    ids = list((await conn.execute(stmt.returning(table.c.id))).scalars())
    return await _read_named(conn, table, table.c.id.in_(ids))


async def _read_named(conn: AsyncConnection, table: Any, *where: Any) -> list[Row[Any]]:
    """The rows with the user's name, locked for the rest of the transaction."""
    stmt: Any = _named(table).where(*where).order_by(table.c.id).with_for_update(of=table)
    return list((await conn.execute(stmt)).all())


async def _delete_named(conn: AsyncConnection, table: Any, *where: Any) -> list[Row[Any]]:
    """Delete rows; return them as they were, with the user's name."""
    rows = await _read_named(conn, table, *where)
    if rows:
        await conn.execute(delete(table).where(table.c.id.in_([row.id for row in rows])))
    return rows


# --- batch loaders ---------------------------------------------------------------------------


async def projects_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    """Projects by id, one SELECT for the batch; None for an unknown id."""
    async with db.read() as conn:
        rows = (await conn.execute(select(*PROJECT_TABLE.c).where(Project.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


def reader_of(viewer: Viewer) -> int | None:
    """The user whose ACL entries limit what the viewer reads; None for admins (no limit)."""
    return None if viewer.is_admin else viewer.id


def visible_condition(reader: int | None) -> ColumnElement[bool]:
    """The condition on `project` rows `reader` may read (true for None: an admin)."""
    if reader is None:
        return literal(True)
    return Project.id.in_(select(AclEntry.object_id).where(AclEntry.user_id == reader))


def visible_projects(reader: int | None) -> Any:
    """SELECT of the projects `reader` may read (all when None: an admin)."""
    stmt = select(*PROJECT_TABLE.c)
    return stmt if reader is None else stmt.where(visible_condition(reader))


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


def _members_count() -> Any:
    """Members of the current `project` row, as a correlated column."""
    return (
        select(func.count())
        .where(AclEntry.object_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
        .label("members_count")
    )


def _last_activity() -> Any:
    """The newest history entry of the current `project` row, as a correlated column."""
    return (
        select(func.max(CommandHistory.created))
        .where(CommandHistory.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
        .label("last_activity")
    )


async def _by_project(db: Database, stmt: Any) -> dict[int, Any]:
    """A two-column SELECT (project id, value) as a mapping."""
    async with db.read() as conn:
        return {key: value for key, value in await conn.execute(stmt)}


async def members_count_by_project(db: Database, ids: list[int]) -> list[int]:
    """How many members each project has; one GROUP BY for the batch."""
    stmt = (
        select(AclEntry.object_id, func.count())
        .where(AclEntry.object_id.in_(ids))
        .group_by(AclEntry.object_id)
    )
    found = await _by_project(db, stmt)
    return [int(found.get(key, 0)) for key in ids]


async def last_activity_by_project(db: Database, ids: list[int]) -> list[datetime | None]:
    """The newest history entry of each project (None without history)."""
    stmt = (
        select(CommandHistory.project_id, func.max(CommandHistory.created))
        .where(CommandHistory.project_id.in_(ids))
        .group_by(CommandHistory.project_id)
    )
    found = await _by_project(db, stmt)
    return [found.get(key) for key in ids]


async def representatives_by_project(db: Database, ids: list[int]) -> list[list[Row[Any]]]:
    """The representative rows of each project, oldest first."""
    stmt = (
        _named(REPRESENTATIVE_TABLE)
        .where(ProjectRepresentativeUser.project_id.in_(ids))
        .order_by(ProjectRepresentativeUser.id)
    )
    return await _grouped(db, ids, stmt)


async def default_layers_by_project(db: Database, ids: list[int]) -> list[list[Row[Any]]]:
    """The default layers of each project, oldest first."""
    stmt = (
        _named(LAYER_TABLE)
        .where(ProjectDefaultLayer.project_id.in_(ids))
        .order_by(ProjectDefaultLayer.id)
    )
    return await _grouped(db, ids, stmt)


async def _grouped(db: Database, ids: list[int], stmt: Any) -> list[list[Row[Any]]]:
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.project_id].append(row)
    return [grouped[key] for key in ids]


async def _layers_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    return await _named_by_id(db, LAYER_TABLE, ids)


async def _representatives_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    return await _named_by_id(db, REPRESENTATIVE_TABLE, ids)


async def _named_by_id(db: Database, table: Any, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(_named(table).where(table.c.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


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


async def _readable(ctx: Context, project_id: int) -> ProjectAccess:
    """The caller's access to a project reached through the graph, which must be readable."""
    return (await project_access(ctx, project_id)).require_read()


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
    conn: AsyncConnection, log: CommandLog, project_id: int, user_id: int, *, printed: bool = False
) -> Changed:
    stmt = insert(REPRESENTATIVE_TABLE).values(project_id=project_id, user_id=user_id)
    with constraint_errors(f"User {user_id} is already a representative of project {project_id}"):
        (row,) = await _write_named(conn, REPRESENTATIVE_TABLE, stmt)
    return Changed(row, await log.add(REPRESENTATIVE, row, printed=printed))


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
    rows = (
        await conn.execute(
            _named(REPRESENTATIVE_TABLE).where(ProjectRepresentativeUser.project_id == project_id)
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
        raise InvalidInput(LAST_REPRESENTATIVE)
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
        await _leave(conn, viewer, project_id, user_id, manager=manager)


async def _leave(
    conn: AsyncConnection, viewer: Viewer, project_id: int, user_id: int, *, manager: bool
) -> None:
    """Revoke the user's rights; a departing last representative hands over to the caller."""
    await revoke(conn, project_id, user_id, ADMINISTRATION if manager else MANAGER)
    if manager or await mask_of(conn, user_id, project_id):
        return
    gone = await _delete_named(
        conn,
        REPRESENTATIVE_TABLE,
        ProjectRepresentativeUser.project_id == project_id,
        ProjectRepresentativeUser.user_id == user_id,
    )
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
    (await project_access(ctx, project_id)).require_manager()
    ids, malformed = _parse_ids(user_ids)
    async with ctx.db.transaction() as conn:
        found = await _existing_users(conn, ids)
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
        access.require_manager()
    async with ctx.db.transaction() as conn:
        found = await _existing_users(conn, ids)
        for user_id in found:
            await _leave(conn, viewer, project_id, user_id, manager=False)
    return MembershipChange(project_id, found, [i for i in ids if i not in found], malformed)


# --- the project list ------------------------------------------------------------------------

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
#: Sort and filter keys that exist only with a `with…` flag (core.md §4.3–4.4).
EXTRA_FLAGS: Final[Mapping[str, str]] = {
    "membersCount": "withMembersCount",
    "lastActivity": "withLastActivity",
    "currentUserRole": "withCurrentUserRoles",
}


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
            await _user_exists(conn, user_id)
        member = select(AclEntry.object_id).where(AclEntry.user_id == user_id)
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
    stmt = apply_filters(stmt, filters, columns)
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


#: Fields the project bounds cover (core.md §9.3), by their Cytomine names.
BOUNDED: Final[Mapping[str, Any]] = {
    "created": Project.created,
    "updated": Project.updated,
    "mode": Project.mode,
    "name": Project.name,
    "numberOfAnnotations": Project.count_annotations,
    "numberOfJobAnnotations": literal(0),
    "numberOfReviewedAnnotations": Project.count_reviewed_annotations,
    "numberOfImages": Project.count_images,
}


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
        await _user_exists(conn, user_id)
    stmt = select(*PROJECT_TABLE.c)
    if relation == "CREATOR":
        stmt = stmt.where(Project.creator_id == user_id)
    else:
        entries = select(AclEntry.object_id).where(AclEntry.user_id == user_id)
        if relation == "MANAGER":
            entries = entries.where(AclEntry.mask >= ADMINISTRATION)
        stmt = stmt.where(Project.id.in_(entries))
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


def _recently_created(viewer: Viewer) -> Any:
    return select(Project.id.label("id"), Project.created.label("date")).where(
        visible_condition(reader_of(viewer))
    )


#: Where "last opened" rows come from, in order: (opened, SELECT of `id`, `date` of projects
#: the viewer may read). Project connections (activity, not built yet) are the first source,
#: opened; until they exist every row completes the list from recently created projects.
LAST_OPENED_SOURCES: Final[tuple[tuple[bool, Callable[[Viewer], Any]], ...]] = (
    (False, _recently_created),
)
DEFAULT_LAST_OPENED: Final = 5


async def last_opened_projects(ctx: Context, limit: int | None = None) -> list[OpenedProject]:
    """The caller's last opened projects, newest first, completed up to `limit` (default 5)
    from each following source; a project appears once."""
    viewer = ctx.require_viewer()
    wanted = limit or DEFAULT_LAST_OPENED
    if wanted < 0:
        raise InvalidInput("max must not be negative")
    wanted = min(wanted, ctx.page_limit(wanted) or wanted)
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
    return columns


def _member_order(query: MemberQuery) -> list[Any]:
    """ORDER BY of a member page (default newest user first); unknown keys are a 400."""
    columns = _member_columns(query)
    field = query.sort or "created"
    direction = (query.order or "desc").lower()
    if field not in columns:
        raise InvalidInput(f"Cannot sort on {field}: unknown field")
    if direction not in ("asc", "desc"):
        raise InvalidInput(f"order must be asc or desc, not {query.order!r}")
    column = columns[field]
    ordered = column.desc().nulls_last() if direction == "desc" else column.asc().nulls_first()
    return [ordered, SecUser.id]


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


async def member_pages(db: Database, keys: list[tuple[int, MemberQuery]]) -> list[Page[Any]]:
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
            partition = _MEMBER_ACL.object_id
            order = _member_order(query)
            ranked = stmt.add_columns(
                func.row_number().over(partition_by=partition, order_by=order).label("_rank"),
                func.count().over(partition_by=partition).label("_total"),
            ).subquery()
            end = None if query.limit is None else query.offset + query.limit
            window = ranked.c._rank > query.offset
            if end is not None:
                window = and_(window, ranked.c._rank <= end)
            rows = (
                await conn.execute(
                    select(ranked)
                    .where(or_(window, ranked.c._rank == 1))
                    .order_by(ranked.c.project_id, ranked.c._rank)
                )
            ).all()
            grouped: defaultdict[int, list[Any]] = defaultdict(list)
            totals: dict[int, int] = {}
            for row in rows:
                totals[row.project_id] = int(row._total)
                if row._rank > query.offset and (end is None or row._rank <= end):
                    grouped[row.project_id].append(row)
            for project_id in project_ids:
                pages[(project_id, query)] = Page(
                    grouped[project_id], totals.get(project_id, 0), query.offset, query.limit
                )
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
    (core.md §9.4). Sorts on user fields, `projectRole`, `fullName`; filters
    `projectRole[in]`, `fullName[ilike]` and user fields."""
    viewer = ctx.require_viewer()
    await _readable(ctx, project_id)
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInput("max and offset must not be negative")
    query = MemberQuery(ctx.page_limit(limit), offset, sort, order, tuple(filters),
                        managers_only, viewer.is_admin)  # fmt: skip
    _member_order(query)
    return await ctx.loader(member_pages).load((project_id, query))


async def members_by_project(db: Database, ids: list[int]) -> list[list[Any]]:
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
    access = await _readable(ctx, project_id)
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
    project = (await _readable(ctx, project_id)).row
    if project.creator_id is None:
        return None
    return await ctx.loader(users_by_id).load(project.creator_id)


# --- representatives -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepresentativeFields:
    project: int | None = None
    user: int | None = None


async def project_representatives(ctx: Context, project_id: int) -> list[Row[Any]]:
    await _readable(ctx, project_id)
    return await ctx.loader(representatives_by_project).load(project_id)


async def _find(ctx: Context, loader: Any, domain: str, row_id: int, project_id: int | None) -> Any:
    """A project-bound row by id, in `project_id` when given (404 otherwise)."""
    row = await ctx.loader(loader).load(row_id)
    if row is None or (project_id is not None and row.project_id != project_id):
        raise NotFound(domain, row_id)
    return row


async def get_representative(ctx: Context, row_id: int, project_id: int | None = None) -> Any:
    """One representative row of a project the caller may read."""
    row = await _find(ctx, _representatives_by_id, "ProjectRepresentativeUser", row_id,
                      project_id)  # fmt: skip
    await _readable(ctx, row.project_id)
    return row


def _required_id(value: int | None, name: str) -> int:
    if value is None:
        raise InvalidInput(f"Property {name} must be set")
    return value


async def _check_member(conn: AsyncConnection, project_id: int, user_id: int) -> None:
    """The user exists (400: a body reference) and is a member of the project (400)."""
    if (await conn.execute(select(SecUser.id).where(SecUser.id == user_id))).first() is None:
        raise InvalidInput(f"user was not found with id: {user_id}")
    if not await mask_of(conn, user_id, project_id):
        raise InvalidInput(f"the user {user_id} is not into the project {project_id}")


async def create_representative(ctx: Context, fields: RepresentativeFields) -> Changed:
    """Make a member a representative of the project (managers); 409 when already one."""
    viewer = ctx.require_viewer()
    project_id = _required_id(fields.project, "project")
    user_id = _required_id(fields.user, "user")
    (await project_access(ctx, project_id)).require_manager()
    async with ctx.db.transaction() as conn:
        await _check_member(conn, project_id, user_id)
        return await _add_representative(
            conn, CommandLog(conn, viewer), project_id, user_id, printed=True
        )


async def delete_representative(
    ctx: Context,
    *,
    row_id: int | None = None,
    project_id: int | None = None,
    user_id: int | None = None,
) -> Changed:
    """Remove a representative, by id or by (project, user) (managers). The project's only
    representative cannot be removed (400)."""
    viewer = ctx.require_viewer()
    if row_id is not None:
        row = await _find(ctx, _representatives_by_id, "ProjectRepresentativeUser", row_id,
                          project_id)  # fmt: skip
        project_id = row.project_id
    elif project_id is None or user_id is None:
        raise InvalidInput("Give the representative's id, or its project and user")
    (await project_access(ctx, project_id)).require_manager()
    async with ctx.db.transaction() as conn:
        rows = await _read_named(
            conn, REPRESENTATIVE_TABLE, ProjectRepresentativeUser.project_id == project_id
        )
        wanted = row_id if row_id is not None else next(
            (r.id for r in rows if r.user_id == user_id), None
        )  # fmt: skip
        found = next((r for r in rows if r.id == wanted), None)
        if found is None:
            raise NotFound("ProjectRepresentativeUser", row_id if row_id is not None else user_id,
                           "id" if row_id is not None else "user")  # fmt: skip
        if len(rows) == 1:
            raise InvalidInput(LAST_REPRESENTATIVE)
        command = await CommandLog(conn, viewer).delete(REPRESENTATIVE, found)
        await conn.execute(
            delete(ProjectRepresentativeUser).where(ProjectRepresentativeUser.id == found.id)
        )
    return Changed(found, command)


# --- default layers --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DefaultLayerFields:
    """A default layer's writable fields; an update replaces them (its project stays)."""

    project: int | None = None
    user: int | None = None
    hide_by_default: bool | None = None


async def project_default_layers(ctx: Context, project_id: int) -> list[Row[Any]]:
    await _readable(ctx, project_id)
    return await ctx.loader(default_layers_by_project).load(project_id)


async def get_default_layer(ctx: Context, row_id: int, project_id: int | None = None) -> Any:
    """One default layer of a project the caller may read."""
    row = await _find(ctx, _layers_by_id, "ProjectDefaultLayer", row_id, project_id)
    await _readable(ctx, row.project_id)
    return row


def _layer_conflict(project_id: int, user_id: int) -> str:
    return f"A default layer already exists for user {user_id} in project {project_id}"


async def create_default_layer(ctx: Context, fields: DefaultLayerFields) -> Changed:
    """Show (or hide) a member's layer by default in a project (managers); one per user."""
    viewer = ctx.require_viewer()
    project_id = _required_id(fields.project, "project")
    user_id = _required_id(fields.user, "user")
    (await project_access(ctx, project_id)).require_manager()
    async with ctx.db.transaction() as conn:
        await _check_member(conn, project_id, user_id)
        stmt = insert(LAYER_TABLE).values(project_id=project_id, user_id=user_id,
                                          hide_by_default=bool(fields.hide_by_default))  # fmt: skip
        with constraint_errors(_layer_conflict(project_id, user_id)):
            (row,) = await _write_named(conn, LAYER_TABLE, stmt)
        command = await CommandLog(conn, viewer).add(DEFAULT_LAYER, row)
    return Changed(row, command)


async def update_default_layer(
    ctx: Context, row_id: int, fields: DefaultLayerFields, project_id: int | None = None
) -> Changed:
    """Replace a default layer's user and flag (managers); it cannot move to another project."""
    viewer = ctx.require_viewer()
    current = await _find(ctx, _layers_by_id, "ProjectDefaultLayer", row_id, project_id)
    if fields.project is not None and fields.project != current.project_id:
        raise InvalidInput("A default layer cannot move to another project")
    user_id = _required_id(fields.user, "user")
    (await project_access(ctx, current.project_id)).require_manager()
    async with ctx.db.transaction() as conn:
        found = await _read_named(conn, LAYER_TABLE, ProjectDefaultLayer.id == row_id)
        if not found:
            raise NotFound("ProjectDefaultLayer", row_id)
        before = found[0]
        await _check_member(conn, before.project_id, user_id)
        stmt = (
            update(LAYER_TABLE)
            .where(ProjectDefaultLayer.id == row_id)
            .values(user_id=user_id, hide_by_default=bool(fields.hide_by_default))
        )
        with constraint_errors(_layer_conflict(before.project_id, user_id)):
            (after,) = await _write_named(conn, LAYER_TABLE, stmt)
        command = await CommandLog(conn, viewer).edit(DEFAULT_LAYER, before, after)
    return Changed(after, command)


async def delete_default_layer(ctx: Context, row_id: int, project_id: int | None = None) -> Changed:
    """Remove a default layer (managers)."""
    viewer = ctx.require_viewer()
    current = await _find(ctx, _layers_by_id, "ProjectDefaultLayer", row_id, project_id)
    (await project_access(ctx, current.project_id)).require_manager()
    async with ctx.db.transaction() as conn:
        gone = await _delete_named(conn, LAYER_TABLE, ProjectDefaultLayer.id == row_id)
        if not gone:
            raise NotFound("ProjectDefaultLayer", row_id)
        command = await CommandLog(conn, viewer).delete(DEFAULT_LAYER, gone[0])
    return Changed(gone[0], command)
