"""A project's representatives and default layers (contract core.md §9.5–§9.6).

Both are commands whose messages name the user, so their rows are read and written together
with the user's name (`user_name`), which the command snapshot keeps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    Row,
    delete,
    insert,
    select,
    update,
)

from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import (
    ProjectDefaultLayer,
    ProjectRepresentativeUser,
    SecUser,
)
from resolvers.acl import (
    ADMINISTRATION,
    mask_of,
    require,
)
from resolvers.command import CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, table_of
from resolvers.errors import InvalidInput, NotFound
from resolvers.project_access import (
    existing_users,
    member_ids,
    project_access,
    readable_project,
)
from resolvers.viewer import Viewer

__all__ = [
    "DEFAULT_LAYER",
    "LAST_REPRESENTATIVE",
    "REPRESENTATIVE",
    "DefaultLayerFields",
    "RepresentativeFields",
    "add_representative",
    "create_default_layer",
    "create_representative",
    "default_layers_by_project",
    "delete_default_layer",
    "delete_representative",
    "get_default_layer",
    "get_representative",
    "project_default_layers",
    "project_representatives",
    "remove_representative_rows",
    "representatives_by_project",
    "set_representatives",
    "update_default_layer",
]

LAYER_TABLE: Final = table_of(ProjectDefaultLayer)
REPRESENTATIVE_TABLE: Final = table_of(ProjectRepresentativeUser)
LAST_REPRESENTATIVE: Final = (
    "You cannot remove the last representative role. Add someone else as representative"
)


# --- specs: how commands of these domains are replayed ---------------------------------------


async def _may_manage(ctx: Context, row: Mapping[str, Any]) -> None:
    """Replaying a representative or a default layer: a manager's change (no guest's)."""
    ctx.require_user("change a project")
    await require(ctx, row["project_id"], ADMINISTRATION)


def _named_message(title: str) -> Callable[[Mapping[str, Any], str], str]:
    """§8.4's "<title> {id} ({user full name}) added/updated/deleted"."""

    def message(row: Mapping[str, Any], verb: str) -> str:
        name = row.get("user_name") or row["user_id"]
        return f"{title} {row['id']} ({name}) {'updated' if verb == 'edited' else verb}"

    return message


async def _members_only(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A replay may bring back a representative or a default layer of a user who has left the
    project since: refused, as making it anew would be (§9.5–§9.6)."""
    for row in rows:
        await _check_member(conn, row["project_id"], row["user_id"])


REPRESENTATIVE: Final = register(
    Spec("ProjectRepresentativeUser", ProjectRepresentativeUser, lambda row: str(row["id"]),
         message=_named_message("Representative User"),
         project_of=lambda row: row["project_id"], authorize=_may_manage,
         after_replay=_members_only)
)  # fmt: skip
DEFAULT_LAYER: Final = register(
    Spec("ProjectDefaultLayer", ProjectDefaultLayer, lambda row: str(row["id"]),
         message=_named_message("Default Layer"),
         project_of=lambda row: row["project_id"], authorize=_may_manage,
         after_replay=_members_only)
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


async def _write_named(conn: Connection, table: Any, stmt: Any) -> list[Row[Any]]:
    """Run an INSERT or UPDATE and read back the rows it wrote with the user's name."""
    ids = list((await conn.execute(stmt.returning(table.c.id))).scalars())
    return await _read_named(conn, table, among(table.c.id, ids))


async def _read_named(conn: Connection, table: Any, *where: Any) -> list[Row[Any]]:
    """The rows with the user's name, locked for the rest of the transaction."""
    stmt: Any = _named(table).where(*where).order_by(table.c.id).with_for_update(of=table)
    return list((await conn.execute(stmt)).all())


async def _delete_named(conn: Connection, table: Any, *where: Any) -> list[Row[Any]]:
    """Delete rows; return them as they were, with the user's name."""
    rows = await _read_named(conn, table, *where)
    if rows:
        await conn.execute(delete(table).where(among(table.c.id, [row.id for row in rows])))
    return rows


# --- loaders ---------------------------------------------------------------------------------


async def representatives_by_project(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The representative rows of each project, oldest first."""
    return await _named_by_project(db, REPRESENTATIVE_TABLE, ids)


async def default_layers_by_project(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The default layers of each project, oldest first."""
    return await _named_by_project(db, LAYER_TABLE, ids)


async def _named_by_project(db: Lease, table: Any, ids: list[int]) -> list[list[Row[Any]]]:
    stmt = _named(table).where(among(table.c.project_id, ids)).order_by(table.c.id)
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.project_id].append(row)
    return [grouped[key] for key in ids]


_LAYERS: Final = _named(LAYER_TABLE).where(among_bound(LAYER_TABLE.c.id))
_REPRESENTATIVES: Final = _named(REPRESENTATIVE_TABLE).where(among_bound(REPRESENTATIVE_TABLE.c.id))


async def _layers_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _LAYERS, ids)


async def _representatives_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _REPRESENTATIVES, ids)


# --- representatives -------------------------------------------------------------------------


async def add_representative(
    conn: Connection, log: CommandLog, project_id: int, user_id: int, *, printed: bool = False
) -> Changed:
    """Make a user a representative (silently by default: a project's creation or a hand-over
    records it under its own command); 409 when already one."""
    stmt = insert(REPRESENTATIVE_TABLE).values(project_id=project_id, user_id=user_id)
    with constraint_errors(f"User {user_id} is already a representative of project {project_id}"):
        (row,) = await _write_named(conn, REPRESENTATIVE_TABLE, stmt)
    return Changed(row, await log.add(REPRESENTATIVE, row, printed=printed))


async def set_representatives(
    conn: Connection, log: CommandLog, project_id: int, wanted: Sequence[int]
) -> None:
    """Replace the representatives by the members among `wanted` (a project PUT); the last
    one cannot go unless another member replaces them."""
    rows = (
        await conn.execute(
            _named(REPRESENTATIVE_TABLE).where(ProjectRepresentativeUser.project_id == project_id)
        )
    ).all()
    current = {row.user_id: row for row in rows}
    members = await member_ids(conn, project_id, manager=False)
    for user_id in await existing_users(conn, [u for u in wanted if u not in current]):
        if user_id not in members:
            raise InvalidInput(f"the user {user_id} is not into the project {project_id}")
        await add_representative(conn, log, project_id, user_id)
    gone = [row for user_id, row in current.items() if user_id not in wanted]
    if gone and len(gone) == len(current) and not set(wanted) & members:
        raise InvalidInput(LAST_REPRESENTATIVE)
    for row in gone:
        await log.delete(REPRESENTATIVE, row, printed=False)
        await conn.execute(
            delete(ProjectRepresentativeUser).where(ProjectRepresentativeUser.id == row.id)
        )


async def remove_representative_rows(
    conn: Connection, project_id: int, user_id: int
) -> list[Row[Any]]:
    """Delete the user's representative rows in the project (not recorded); returns them."""
    return await _delete_named(
        conn,
        REPRESENTATIVE_TABLE,
        ProjectRepresentativeUser.project_id == project_id,
        ProjectRepresentativeUser.user_id == user_id,
    )


@dataclass(frozen=True, slots=True)
class RepresentativeFields:
    project: int | None = None
    user: int | None = None


async def project_representatives(ctx: Context, project_id: int) -> list[Row[Any]]:
    await readable_project(ctx, project_id)
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
    await readable_project(ctx, row.project_id)
    return row


def _required_id(value: int | None, name: str) -> int:
    if value is None:
        raise InvalidInput(f"Property {name} must be set")
    return value


async def _check_member(conn: Connection, project_id: int, user_id: int) -> None:
    """The user exists (400: a body reference) and is a member of the project (400)."""
    if (await conn.execute(select(SecUser.id).where(SecUser.id == user_id))).first() is None:
        raise InvalidInput(f"user was not found with id: {user_id}")
    if not await mask_of(conn, user_id, project_id):
        raise InvalidInput(f"the user {user_id} is not into the project {project_id}")


async def _managed(ctx: Context, project: int | None, user: int | None) -> tuple[Viewer, int, int]:
    """The caller, who must manage the project, and the project and user a new row names."""
    viewer = ctx.require_viewer()
    project_id = _required_id(project, "project")
    user_id = _required_id(user, "user")
    (await project_access(ctx, project_id)).require_change()
    return viewer, project_id, user_id


async def create_representative(ctx: Context, fields: RepresentativeFields) -> Changed:
    """Make a member a representative of the project (managers); 409 when already one."""
    viewer, project_id, user_id = await _managed(ctx, fields.project, fields.user)
    async with ctx.db.transaction() as conn:
        await _check_member(conn, project_id, user_id)
        return await add_representative(
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
    (await project_access(ctx, project_id)).require_change()
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
    await readable_project(ctx, project_id)
    return await ctx.loader(default_layers_by_project).load(project_id)


async def get_default_layer(ctx: Context, row_id: int, project_id: int | None = None) -> Any:
    """One default layer of a project the caller may read."""
    row = await _find(ctx, _layers_by_id, "ProjectDefaultLayer", row_id, project_id)
    await readable_project(ctx, row.project_id)
    return row


def _layer_conflict(project_id: int, user_id: int) -> str:
    return f"A default layer already exists for user {user_id} in project {project_id}"


async def create_default_layer(ctx: Context, fields: DefaultLayerFields) -> Changed:
    """Show (or hide) a member's layer by default in a project (managers); one per user."""
    viewer, project_id, user_id = await _managed(ctx, fields.project, fields.user)
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
    (await project_access(ctx, current.project_id)).require_change()
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
    (await project_access(ctx, current.project_id)).require_change()
    async with ctx.db.transaction() as conn:
        gone = await _delete_named(conn, LAYER_TABLE, ProjectDefaultLayer.id == row_id)
        if not gone:
            raise NotFound("ProjectDefaultLayer", row_id)
        command = await CommandLog(conn, viewer).delete(DEFAULT_LAYER, gone[0])
    return Changed(gone[0], command)
