"""What the schema calls to create, replace and delete projects; each write records its
command in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import delete

from db.engine import Connection
from db.id_lists import among
from db.models import AnnotationTerm, Command, Project
from resolvers.acl import CONTRIBUTOR, MANAGER, grant
from resolvers.command import CommandLog, spec_of
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, update_row
from resolvers.errors import Forbidden
from resolvers.project.layer import add_representative, set_representatives
from resolvers.project.member import set_members
from resolvers.project.rules import (
    PROJECT,
    ProjectFields,
    _check_ontology,
    _stray_terms,
    _terms_in_use,
    _values,
)
from resolvers.project_access import existing_users, project_access

__all__ = [
    "create_project",
    "delete_project",
    "update_project",
]


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
        members = await existing_users(conn, [*(fields.users or ()), *(fields.admins or ())])
        await grant(conn, row.id, members, CONTRIBUTOR)
        admins = await existing_users(conn, fields.admins or ())
        await grant(conn, row.id, [a for a in admins if a != viewer.id], MANAGER)
        command = await log.add(PROJECT, row)
        await add_representative(conn, log, row.id, viewer.id)
    return Changed(row, command)


async def update_project(ctx: Context, project_id: int, fields: ProjectFields) -> Changed:
    """Replace a project's fields (managers); given member lists replace the membership."""
    viewer = ctx.require_viewer()
    (await project_access(ctx, project_id)).require_change()
    values = _values(fields)
    await _check_ontology(ctx, values["ontology_id"])
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Project {values['name']} already exist!"):
            before, after = await update_row(conn, Project, "Project", project_id, values)
        if before.ontology_id != after.ontology_id:
            await _release_terms(conn, log, project_id, force=bool(fields.force_ontology_update))
        if fields.users is not None:
            keep = {*fields.users, *(fields.admins or ()), viewer.id}
            await set_members(conn, viewer, project_id, keep, manager=False)
        if fields.admins is not None:
            await set_members(conn, viewer, project_id, {*fields.admins, viewer.id},
                              manager=True)  # fmt: skip
        if fields.representatives is not None:
            await set_representatives(conn, log, project_id, fields.representatives)
        command = await log.edit(PROJECT, before, after)
    return Changed(after, command)


async def _release_terms(
    conn: Connection, log: CommandLog, project_id: int, *, force: bool
) -> None:
    """After an ontology change no term outside the new ontology stays on the project's
    annotations (core.md §9.3): 403 with the counts while some remain, unless `force` lets the
    users' terms go (recorded, so undo restores them); reviewed terms always refuse it."""
    terms, reviewed = await _stray_terms(conn, project_id)
    if reviewed or (terms and not force):
        raise _terms_in_use(0 if force else len(terms), reviewed)
    if terms:
        await log.delete_many(spec_of("AnnotationTerm"), terms)
        await conn.execute(
            delete(AnnotationTerm).where(among(AnnotationTerm.id, [t.id for t in terms]))
        )


async def delete_project(ctx: Context, project_id: int) -> Changed:
    """Delete a project with its images (managers). Its history is erased and the deletion
    cannot be undone (decision 4): the cascade cannot be rebuilt from snapshots."""
    viewer = ctx.require_viewer()
    (await project_access(ctx, project_id)).require_change().require_writable()
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, Project, "Project", project_id)
        await conn.execute(delete(Command).where(Command.project_id == project_id))
        command = await CommandLog(conn, viewer).delete(
            PROJECT, row, refuse_undo=True, project_id=None
        )
        await conn.execute(delete(Project).where(Project.id == project_id))
    return Changed(row, command)
