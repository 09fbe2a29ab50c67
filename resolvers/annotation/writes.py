"""What the schema calls to create, update and delete user annotations.

Every write runs the geometry pipeline (resolvers/geometry.py) and stores, beside the PostGIS
geometry, the WKT the client reads back and the measures computed with the image's effective
calibration. Counters (image, project, annotation index) are kept by triggers in the same
transaction. Rights: READ on the project and the read-only check to create; the owner-or-mode
check with the annotation's creator as owner to change or delete (core.md §7.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, select, update

from db.engine import Connection
from db.models import AnnotationTerm, AnnotationTrack, SharedAnnotation, UserAnnotation
from resolvers.annotation.reads import get_annotation
from resolvers.annotation.rows import (
    ANNOTATION_COLUMNS,
    ANNOTATION_TABLE,
    STORED_COLUMNS,
)
from resolvers.annotation.rules import (
    ANNOTATION_TERM,
    SHARED_ANNOTATION,
    USER_ANNOTATION,
    AnnotationFields,
    _author,
    _geometry_values,
    _place,
    _prepare,
    _Prepared,
    check_terms,
    links_follow,
    terms_fit_their_annotations,
)
from resolvers.command import CommandInfo, CommandLog
from resolvers.context import Context
from resolvers.crud import Changed, insert_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.geometry import measure, prepare_edit
from resolvers.metadata import add_properties, record_metadata
from resolvers.metadata_target import USER_ANNOTATION_CLASS
from resolvers.project import ProjectAccess, project_access
from resolvers.track import ANNOTATION_TRACK, link_tracks
from resolvers.viewer import Viewer

__all__ = [
    "Created",
    "create_annotation",
    "delete_annotation",
    "require_terms_removable",
    "update_annotation",
]


@dataclass(frozen=True, slots=True)
class Created:
    """A created annotation, its command, and the track links made with it."""

    row: Any
    command: CommandInfo
    tracks: list[Any]


async def _read(conn: Connection, annotation_id: int) -> Row[Any]:
    """An annotation as readers see it, read inside the writing transaction."""
    stmt = select(*ANNOTATION_COLUMNS).where(UserAnnotation.id == annotation_id)
    return (await conn.execute(stmt)).one()


async def _insert(
    conn: Connection, log: CommandLog, viewer: Viewer, prepared: _Prepared, *, printed: bool
) -> Created:
    await check_terms(conn, prepared.values["project_id"], prepared.terms)
    inserted = (
        await conn.execute(
            ANNOTATION_TABLE.insert().values(**prepared.values).returning(*STORED_COLUMNS)
        )
    ).one()
    command = await log.add(USER_ANNOTATION, inserted, printed=printed)
    for term_id in prepared.terms:
        values = {"user_annotation_id": inserted.id, "term_id": term_id, "user_id": viewer.id}
        link = await insert_row(conn, AnnotationTerm, values)
        await log.add(ANNOTATION_TERM, link, printed=False)
    tracks = await link_tracks(conn, log, inserted, prepared.tracks, printed=False)
    await add_properties(conn, log, (USER_ANNOTATION_CLASS, inserted.id), inserted.project_id,
                         prepared.properties)  # fmt: skip
    return Created(await _read(conn, inserted.id), command, tracks)


async def create_annotation(ctx: Context, fields: AnnotationFields) -> Created:
    """Create one annotation, its terms (by the caller) and its track links, in one
    transaction."""
    viewer = ctx.require_guest()
    prepared = await _prepare(ctx, fields)
    async with ctx.db.transaction() as conn:
        return await _insert(conn, CommandLog(conn, viewer), viewer, prepared, printed=True)


async def update_annotation(ctx: Context, annotation_id: int, fields: AnnotationFields) -> Changed:
    """Replace an annotation's geometry (re-applying its compression), and move it to another
    slice or creator when asked; owner-or-mode with the creator as owner."""
    viewer = ctx.require_guest()
    current = await get_annotation(ctx, annotation_id)
    (await project_access(ctx, current.project_id)).require_owner_or_mode(current.user_id)
    if fields.location is None or not fields.location.strip():
        raise InvalidInput("Property location must be set: a WKT geometry is required")
    moved = (fields.slice is not None and fields.slice != current.slice_id) or (
        fields.slice is None and fields.image is not None and fields.image != current.image_id
    )
    place = await _place(ctx, fields.slice if moved else current.slice_id,
                         fields.image if moved else None)  # fmt: skip
    user_id = current.user_id
    if fields.user is not None and fields.user != current.user_id:
        user_id = await _author(ctx, place, fields.user)
    if moved:  # it enters the place's project as its creator's: that project's mode decides
        place.access.require_owner_or_mode(user_id)
    shaped = prepare_edit(fields.location, place.width, place.height, fields.geometry_compression)
    values = {
        "slice_id": place.slice_id,
        "image_id": place.image.id,
        "project_id": place.image.project_id,
        "user_id": user_id,
        **_geometry_values(shaped, measure(shaped.geometry, place.physical_size_x)),
    }
    async with ctx.db.transaction() as conn:
        before = await _lock(conn, annotation_id)
        after = (
            await conn.execute(
                update(UserAnnotation)
                .where(UserAnnotation.id == annotation_id)
                .values(**values)
                .returning(*STORED_COLUMNS)
            )
        ).one()
        if after.project_id != before.project_id:
            await terms_fit_their_annotations(conn, [annotation_id])
        command = await CommandLog(conn, viewer).edit(USER_ANNOTATION, before, after)
        if after.slice_id != before.slice_id:  # its track links follow it to its slice
            taken = (
                f"A track of annotation {annotation_id} already has one on slice {after.slice_id}"
            )
            await links_follow(conn, [annotation_id], taken)
        row = await _read(conn, annotation_id)
    return Changed(row, command)


async def _lock(conn: Connection, annotation_id: int) -> Row[Any]:
    """The annotation's stored row, locked for the rest of the transaction."""
    stmt = select(*STORED_COLUMNS).where(UserAnnotation.id == annotation_id).with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("UserAnnotation", annotation_id)
    return row


def require_terms_removable(access: ProjectAccess, links: Sequence[Any]) -> None:
    """Deleting annotations takes their term links off: a link another user put needs the
    right to take it off (owner-or-mode with no owner, as `remove_annotation_term` asks), or
    the delete is a 403 naming the term and its author (§3.4 Delete)."""
    other = next((link for link in links if link.user_id != access.viewer.id), None)
    if other is None:
        return
    try:
        access.require_owner_or_mode(None)
    except Forbidden:
        raise Forbidden(
            f"Annotation {other.user_annotation_id} has term {other.term_id} put by user "
            f"{other.user_id}: they must take it off before the annotation is deleted"
        ) from None


async def delete_annotation(ctx: Context, annotation_id: int) -> Changed:
    """Delete an annotation with its terms, track links, comments and tag associations
    (recorded first, so undo brings them back); its reviewed copy stays."""
    viewer = ctx.require_guest()
    current = await get_annotation(ctx, annotation_id)
    access = await project_access(ctx, current.project_id)
    access.require_owner_or_mode(current.user_id)
    async with ctx.db.transaction() as conn:
        await _lock(conn, annotation_id)
        row = await _read(conn, annotation_id)
        log = CommandLog(conn, viewer)
        for model, spec, column in (
            (AnnotationTerm, ANNOTATION_TERM, AnnotationTerm.user_annotation_id),
            (AnnotationTrack, ANNOTATION_TRACK, AnnotationTrack.annotation_id),
            (SharedAnnotation, SHARED_ANNOTATION, SharedAnnotation.user_annotation_id),
        ):
            children = (
                await conn.execute(select(*table_of(model).c).where(column == annotation_id))
            ).all()
            if model is AnnotationTerm:
                require_terms_removable(access, children)
            await log.delete_many(spec, children)
        await record_metadata(conn, log, USER_ANNOTATION_CLASS, [annotation_id])
        command = await log.delete(USER_ANNOTATION, row)
        await conn.execute(delete(UserAnnotation).where(UserAnnotation.id == annotation_id))
    return Changed(row, command)
