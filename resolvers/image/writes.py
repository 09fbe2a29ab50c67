"""What the schema calls to change image instances and slice instances: each write checks
rights and fields first, then writes and records its command in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import BigInteger, Row, delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection
from db.models import ImageInstance, SliceInstance
from resolvers.annotation_upkeep import record_annotations, remeasure_annotations
from resolvers.command import CommandLog, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row
from resolvers.errors import Forbidden, InvalidInput
from resolvers.image.reads import _image
from resolvers.image.rows import (
    _AS,
    _II,
    _SI,
    IMAGE_TABLE,
    SLICE_TABLE,
    _images,
    _slices,
    slice_instances_by_id,
)
from resolvers.image.rules import (
    IMAGE_INSTANCE,
    SLICE_INSTANCE,
    ImageInstanceFields,
    SliceInstanceFields,
    _body_project,
    _calibration,
    _calibration_on_update,
    _calibration_values,
    _check_reviewer,
    _name,
    _name_on_update,
    _readable_base_image,
    _refuse_annotated_move,
    _review,
    _slice_values,
)
from resolvers.metadata import copy_properties, record_metadata
from resolvers.metadata_target import (
    ABSTRACT_IMAGE_CLASS,
    IMAGE_INSTANCE_CLASS,
    SLICE_INSTANCE_CLASS,
)
from resolvers.project import project_access

__all__ = [
    "create_image_instance",
    "create_slice_instance",
    "delete_image_instance",
    "delete_slice_instance",
    "update_image_instance",
    "update_slice_instance",
]


# --- image instance writes -------------------------------------------------------------------


async def _image_in(conn: Connection, image_id: int) -> Row[Any]:
    """An image instance as an `ImageRow`, read inside a write's transaction."""
    return (await conn.execute(_images().where(_II.c.id == image_id))).one()


def _conflict(base_image_id: int, project_id: int) -> str:
    return f"Image {base_image_id} already exists in project {project_id}"


async def create_image_instance(ctx: Context, fields: ImageInstanceFields) -> Changed:
    """Add an abstract image to a project (§2.6): READ and the read-only check on the project,
    READ on the image's storage, user role. Each of the image's slices gets its slice instance
    and each of its properties a copy on the instance, in the same transaction; the project's
    image count follows (a trigger)."""
    viewer = ctx.require_viewer()
    if not viewer.is_user:
        raise Forbidden("A guest may not add images to a project")
    if fields.base_image is None:
        raise InvalidInput("Property baseImage must be set")
    access = (await _body_project(ctx, fields.project)).require_writable()
    base = await _readable_base_image(ctx, fields.base_image)
    values = {
        "base_image_id": base.id,
        "project_id": access.row.id,
        "user_id": viewer.id,
        "instance_filename": _name(fields.instance_filename),
        **_calibration_values(_calibration(fields)),
        **_review(fields),
    }
    async with ctx.db.transaction() as conn:
        await _check_reviewer(conn, fields.review_user)
        log = CommandLog(conn, viewer)
        with constraint_errors(_conflict(base.id, access.row.id)):
            row = await insert_row(conn, ImageInstance, values)
        command = await log.add(IMAGE_INSTANCE, row)
        added = await conn.execute(
            pg_insert(SliceInstance)
            .from_select(
                ["base_slice_id", "image_id", "project_id"],
                select(
                    _AS.c.id, literal(row.id, BigInteger), literal(row.project_id, BigInteger)
                ).where(_AS.c.image_id == base.id),
            )
            .returning(*SLICE_TABLE.c)
        )
        await log.add_many(SLICE_INSTANCE, added.all())
        await copy_properties(conn, log, (ABSTRACT_IMAGE_CLASS, base.id),
                              (IMAGE_INSTANCE_CLASS, row.id))  # fmt: skip
        image = await _image_in(conn, row.id)
    return Changed(image, command)


async def update_image_instance(
    ctx: Context, image_id: int, fields: ImageInstanceFields
) -> Changed:
    """Replace an image instance's name, calibration and review state, or move it to another
    project (§2.6): owner-or-mode with its creator as owner, READ and the read-only check on
    both projects. The base image and the creator never change, and an image holding
    annotations or tracks never moves."""
    viewer = ctx.require_viewer()
    current = await _image(ctx, image_id)
    access = await project_access(ctx, current.project_id)
    access.require_owner_or_mode(current.user_id).require_writable()
    if fields.base_image is not None and fields.base_image != current.base_image_id:
        raise InvalidInput("The base image of an image instance cannot change")
    target = await _body_project(ctx, fields.project)
    moved = target.row.id != current.project_id
    if moved:
        target.require_writable()
    values = {
        "project_id": target.row.id,
        "instance_filename": await _name_on_update(ctx, current, fields.instance_filename),
        **_calibration_on_update(current, _calibration(fields)),
        **_review(fields),
    }
    async with ctx.db.transaction() as conn:
        if moved:
            await _refuse_annotated_move(conn, image_id)
        await _check_reviewer(conn, fields.review_user)
        log = CommandLog(conn, viewer)
        _, _, command = await update_logged(
            log,
            IMAGE_INSTANCE,
            image_id,
            values,
            conflict=_conflict(current.base_image_id, target.row.id),
        )
        if moved:
            await _move_slices(conn, log, image_id, target.row.id)
        if _effective_size(current, values) != _effective_size(current, {}):
            await remeasure_annotations(conn, [image_id])
        image = await _image_in(conn, image_id)
    return Changed(image, command)


def _effective_size(current: Any, values: Mapping[str, Any]) -> float | None:
    """The physical size annotations are measured with: the instance's own when set and not
    0, else its abstract image's (`values` overriding the stored instance columns)."""
    own = values.get("physical_size_x", current.physical_size_x)
    return own or current.base_physical_size_x  # type: ignore[no-any-return]


async def _move_slices(conn: Connection, log: CommandLog, image_id: int, project: int) -> None:
    """Slice instances follow their image to another project, each edit recorded silently so
    undo moves them back."""
    before = (
        await conn.execute(
            select(*SLICE_TABLE.c)
            .where(_SI.c.image_id == image_id)
            .order_by(_SI.c.id)
            .with_for_update()
        )
    ).all()
    moved = await conn.execute(
        update(SLICE_TABLE)
        .where(_SI.c.image_id == image_id)
        .values(project_id=project)
        .returning(*SLICE_TABLE.c)
    )
    await log.edit_each(SLICE_INSTANCE, before, moved.all())


async def delete_image_instance(ctx: Context, image_id: int) -> Changed:
    """Remove an image from its project (§2.6): owner-or-mode with its creator as owner. Its
    slice instances, annotations and metadata (tags, properties, description, attached files)
    go with it, recorded so undo restores them after the image."""
    viewer = ctx.require_viewer()
    current = await _image(ctx, image_id)
    (await project_access(ctx, current.project_id)).require_owner_or_mode(current.user_id)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, ImageInstance, "ImageInstance", image_id)
        image = await _image_in(conn, image_id)
        log = CommandLog(conn, viewer)
        slices = (
            await conn.execute(
                select(*SLICE_TABLE.c).where(_SI.c.image_id == image_id).order_by(_SI.c.id)
            )
        ).all()
        await record_annotations(conn, log, image_ids=[image_id])
        await record_metadata(conn, log, SLICE_INSTANCE_CLASS, [piece.id for piece in slices])
        await log.delete_many(SLICE_INSTANCE, slices)
        await record_metadata(conn, log, IMAGE_INSTANCE_CLASS, [image_id])
        command = await log.delete(IMAGE_INSTANCE, row)
        await conn.execute(delete(SLICE_TABLE).where(_SI.c.image_id == image_id))
        await conn.execute(delete(IMAGE_TABLE).where(_II.c.id == image_id))
    return Changed(image, command)


# --- slice instance writes -------------------------------------------------------------------


def _slice_conflict(values: Mapping[str, Any]) -> str:
    slice_id, image_id = values["base_slice_id"], values["image_id"]
    return f"SliceInstance of slice {slice_id} already exists in image {image_id}"


async def _slice_in(conn: Connection, slice_id: int) -> Row[Any]:
    return (await conn.execute(_slices().where(_SI.c.id == slice_id))).one()


async def create_slice_instance(ctx: Context, fields: SliceInstanceFields) -> Changed:
    """Add a plane to an image instance (§2.7); 409 when the image already has it."""
    viewer = ctx.require_viewer()
    values, _ = await _slice_values(ctx, fields)
    async with ctx.db.transaction() as conn:
        with constraint_errors(_slice_conflict(values)):
            row = await insert_row(conn, SliceInstance, values)
        command = await CommandLog(conn, viewer).add(SLICE_INSTANCE, row)
        shown = await _slice_in(conn, row.id)
    return Changed(shown, command)


async def _slice(ctx: Context, slice_id: int) -> Any:
    ctx.require_viewer()
    return await ctx.found(slice_instances_by_id, slice_id, "SliceInstance")


async def update_slice_instance(
    ctx: Context, slice_id: int, fields: SliceInstanceFields
) -> Changed:
    """Replace a slice instance's base slice, image and project (§2.7): READ and the read-only
    check on its project and on the new one."""
    viewer = ctx.require_viewer()
    current = await _slice(ctx, slice_id)
    (await project_access(ctx, current.project_id)).require_writable()
    values, _ = await _slice_values(ctx, fields)
    async with ctx.db.transaction() as conn:
        _, _, command = await update_logged(
            CommandLog(conn, viewer),
            SLICE_INSTANCE,
            slice_id,
            values,
            conflict=_slice_conflict(values),
        )
        shown = await _slice_in(conn, slice_id)
    return Changed(shown, command)


async def delete_slice_instance(ctx: Context, slice_id: int) -> Changed:
    """Remove a plane from an image instance (§2.7): owner-or-mode, the image's creator as
    owner. Its annotations go with it, recorded so undo restores them after the slice."""
    viewer = ctx.require_viewer()
    current = await _slice(ctx, slice_id)
    access = await project_access(ctx, current.project_id)
    access.require_owner_or_mode(current.image_user_id)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, SliceInstance, "SliceInstance", slice_id)
        shown = await _slice_in(conn, slice_id)
        log = CommandLog(conn, viewer)
        await record_annotations(conn, log, slice_ids=[slice_id])
        await record_metadata(conn, log, SLICE_INSTANCE_CLASS, [slice_id])
        command = await log.delete(SLICE_INSTANCE, row)
        await conn.execute(delete(SLICE_TABLE).where(_SI.c.id == slice_id))
    return Changed(shown, command)
