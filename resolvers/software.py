"""The software registry and its association with projects (contract README, decision 9).

Software rows only describe analysis programs: running them is out of scope. Any
authenticated user reads the registry; a user registers software, and only its creator or an
administrator changes or removes it. Making software available in a project is a manager's
decision, and the associations of a project are read by its members.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, delete, select

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import Project, Software, SoftwareProject
from resolvers.command import CommandLog, Spec, delete_logged, register, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import Forbidden, InvalidInput
from resolvers.listing import Page, fetch_page
from resolvers.project import project_access, reader_of, visible_condition
from resolvers.viewer import Viewer

__all__ = [
    "SOFTWARE",
    "SOFTWARE_PROJECT",
    "SoftwareFields",
    "SoftwareProjectFields",
    "create_software",
    "create_software_project",
    "delete_software",
    "delete_software_project",
    "get_software",
    "get_software_project",
    "list_software_projects",
    "list_softwares",
    "project_software_projects",
    "project_softwares",
    "software_projects_by_project",
    "softwares_by_id",
    "update_software",
]

SOFTWARE_TABLE: Final = table_of(Software)
LINK_TABLE: Final = table_of(SoftwareProject)
#: Longest text accepted for a command or a path (they are shell lines and URLs, not blobs).
MAX_TEXT: Final = 10_000


# --- specs -----------------------------------------------------------------------------------


def _require_owner(viewer: Viewer, row: Any) -> None:
    if not viewer.is_admin and row.user_id != viewer.id:
        raise Forbidden("Only the software's creator or an administrator may change it")


async def _may_edit_software(ctx: Context, row: Mapping[str, Any]) -> None:
    viewer = ctx.require_viewer()
    if not viewer.is_admin and row.get("user_id") != viewer.id:
        raise Forbidden("Only the software's creator or an administrator may change it")


async def _may_link(ctx: Context, row: Mapping[str, Any]) -> None:
    (await project_access(ctx, row["project_id"])).require_change()


SOFTWARE: Final = register(
    Spec("Software", Software, lambda row: f"{row['id']} ({row['name']})",
         authorize=_may_edit_software)
)  # fmt: skip
SOFTWARE_PROJECT: Final = register(
    Spec("SoftwareProject", SoftwareProject,
         lambda row: f"{row['id']} (software {row['software_id']})",
         project_of=lambda row: row["project_id"], authorize=_may_link)
)  # fmt: skip


# --- loaders ---------------------------------------------------------------------------------


_SOFTWARES: Final = Direct(select(*SOFTWARE_TABLE.c).where(among_bound(Software.id)))
_LINKS: Final = Direct(select(*LINK_TABLE.c).where(among_bound(SoftwareProject.id)))


async def softwares_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _SOFTWARES, ids)


async def _links_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _LINKS, ids)


async def software_projects_by_project(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The software associations of each project, oldest first."""
    stmt = (
        select(*LINK_TABLE.c)
        .where(among(SoftwareProject.project_id, ids))
        .order_by(SoftwareProject.id)
    )
    grouped: dict[int, list[Row[Any]]] = {key: [] for key in ids}
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.project_id].append(row)
    return [grouped[key] for key in ids]


async def softwares_by_project(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The software available in each project, by name."""
    stmt: Any = (
        select(*SOFTWARE_TABLE.c, SoftwareProject.project_id.label("in_project"))
        .join(SoftwareProject, SoftwareProject.software_id == Software.id)
        .where(among(SoftwareProject.project_id, ids))
        .order_by(Software.name, Software.id)
    )
    grouped: dict[int, list[Row[Any]]] = {key: [] for key in ids}
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.in_project].append(row)
    return [grouped[key] for key in ids]


# --- software --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SoftwareFields:
    """A software's writable fields; an update replaces them all."""

    name: str | None = None
    software_version: str | None = None
    deprecated: bool | None = None
    execute_command: str | None = None
    pulling_command: str | None = None
    source_path: str | None = None


def _text(value: str | None, name: str, limit: int = MAX_TEXT) -> str | None:
    if value is not None and len(value) > limit:
        raise InvalidInput(f"Property {name} is longer than {limit} characters")
    return value


def _software_values(fields: SoftwareFields) -> dict[str, Any]:
    name = (fields.name or "").strip()
    if not name:
        raise InvalidInput("Property name must be set")
    return {
        "name": _text(name, "name", 255),
        "software_version": _text(fields.software_version, "softwareVersion", 255),
        "deprecated": bool(fields.deprecated),
        "execute_command": _text(fields.execute_command, "executeCommand"),
        "pulling_command": _text(fields.pulling_command, "pullingCommand"),
        "source_path": _text(fields.source_path, "sourcePath"),
    }


async def _software(ctx: Context, software_id: int) -> Any:
    ctx.require_viewer()
    return await ctx.found(softwares_by_id, software_id, "Software")


async def get_software(ctx: Context, software_id: int) -> Any:
    """One software; any authenticated user reads the registry."""
    return await _software(ctx, software_id)


async def list_softwares(ctx: Context, *, limit: int | None, offset: int = 0) -> Page[Any]:
    """The whole registry, by name."""
    ctx.require_viewer()
    stmt = select(*SOFTWARE_TABLE.c).order_by(Software.name, Software.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def create_software(ctx: Context, fields: SoftwareFields) -> Changed:
    """Register software; the caller becomes its creator."""
    viewer = ctx.require_user("register software")
    values = _software_values(fields)
    async with ctx.db.transaction() as conn:
        row = await insert_row(conn, Software, {**values, "user_id": viewer.id})
        command = await CommandLog(conn, viewer).add(SOFTWARE, row)
    return Changed(row, command)


async def update_software(ctx: Context, software_id: int, fields: SoftwareFields) -> Changed:
    """Replace a software's fields (its creator or an administrator)."""
    viewer = ctx.require_viewer()
    _require_owner(viewer, await _software(ctx, software_id))
    values = _software_values(fields)
    async with ctx.db.transaction() as conn:
        _, after, command = await update_logged(
            CommandLog(conn, viewer), SOFTWARE, software_id, values
        )
    return Changed(after, command)


async def delete_software(ctx: Context, software_id: int) -> Changed:
    """Remove software and its project associations (its creator or an administrator); undo
    brings both back."""
    viewer = ctx.require_viewer()
    _require_owner(viewer, await _software(ctx, software_id))
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, Software, "Software", software_id)
        links = (
            await conn.execute(
                select(*LINK_TABLE.c).where(SoftwareProject.software_id == software_id)
            )
        ).all()
        log = CommandLog(conn, viewer)
        await log.delete_many(SOFTWARE_PROJECT, links)
        command = await log.delete(SOFTWARE, row)
        await conn.execute(delete(Software).where(Software.id == software_id))
    return Changed(row, command)


# --- software in projects --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SoftwareProjectFields:
    software: int | None = None
    project: int | None = None


async def _exists(conn: Connection, model: Any, row_id: int, name: str) -> None:
    """A body reference must exist: 400 otherwise (core.md §5.2)."""
    if (await conn.execute(select(model.id).where(model.id == row_id))).first() is None:
        raise InvalidInput(f"{name} was not found with id: {row_id}")


async def create_software_project(ctx: Context, fields: SoftwareProjectFields) -> Changed:
    """Make software available in a project (its managers); once per pair."""
    viewer = ctx.require_viewer()
    if fields.software is None or fields.project is None:
        raise InvalidInput("software and project must be set")
    async with ctx.db.read() as conn:
        await _exists(conn, Software, fields.software, "software")
        await _exists(conn, Project, fields.project, "project")
    (await project_access(ctx, fields.project)).require_change()
    values = {"software_id": fields.software, "project_id": fields.project}
    async with ctx.db.transaction() as conn:
        conflict = f"Software {fields.software} is already in project {fields.project}"
        with constraint_errors(conflict):
            row = await insert_row(conn, SoftwareProject, values)
        command = await CommandLog(conn, viewer).add(SOFTWARE_PROJECT, row)
    return Changed(row, command)


async def _link(ctx: Context, link_id: int) -> Any:
    return await ctx.found(_links_by_id, link_id, "SoftwareProject")


async def get_software_project(ctx: Context, link_id: int) -> Any:
    """One association, for members of its project."""
    row = await _link(ctx, link_id)
    (await project_access(ctx, row.project_id)).require_read()
    return row


async def list_software_projects(ctx: Context, *, limit: int | None, offset: int = 0) -> Page[Any]:
    """The associations of every project the caller may read, oldest first."""
    viewer = ctx.require_viewer()
    stmt = (
        select(*LINK_TABLE.c)
        .join(Project, Project.id == SoftwareProject.project_id)
        .where(visible_condition(reader_of(viewer)))
        .order_by(SoftwareProject.id)
    )
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def delete_software_project(ctx: Context, link_id: int) -> Changed:
    """Withdraw software from a project (its managers)."""
    viewer = ctx.require_viewer()
    row = await _link(ctx, link_id)
    (await project_access(ctx, row.project_id)).require_change()
    async with ctx.db.transaction() as conn:
        row, command = await delete_logged(CommandLog(conn, viewer), SOFTWARE_PROJECT, link_id)
    return Changed(row, command)


async def project_software_projects(ctx: Context, project_id: int) -> list[Row[Any]]:
    """The associations of a project the caller may read."""
    (await project_access(ctx, project_id)).require_read()
    return await ctx.loader(software_projects_by_project).load(project_id)


async def project_softwares(ctx: Context, project_id: int) -> list[Row[Any]]:
    """The software available in a project the caller may read."""
    (await project_access(ctx, project_id)).require_read()
    return await ctx.loader(softwares_by_project).load(project_id)
