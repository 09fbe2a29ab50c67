"""What the schema calls to change abstract images and their slices: creation, full
updates (a calibration change follows into the instances that copied it) and the deletion of
unused ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import BigInteger, Row, case, delete, exists, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection
from db.id_lists import among
from db.models import AbstractImage, AbstractSlice, ImageInstance, SliceInstance
from resolvers.abstract_image.reads import _image, _slice, image_file
from resolvers.abstract_image.rows import CALIBRATION, INSTANCE_TABLE, SLICE_TABLE
from resolvers.abstract_image.rules import (
    ABSTRACT_IMAGE,
    ABSTRACT_SLICE,
    AbstractImageFields,
    AbstractSliceFields,
    _uploaded_file_exists,
    _writable_file,
    _writable_image,
    abstract_image_values,
    abstract_slice_values,
    refuse_used,
    require_storage_of_file,
)
from resolvers.acl import WRITE
from resolvers.annotation_upkeep import remeasure_instances_of
from resolvers.command import CommandLog, spec_of, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import BadGateway, InvalidInput
from resolvers.metadata import record_metadata
from resolvers.metadata_target import ABSTRACT_IMAGE_CLASS
from resolvers.pixels import ask_image_server
from resolvers.storage import uploaded_files_by_id

__all__ = [
    "create_abstract_image",
    "create_abstract_slice",
    "delete_abstract_image",
    "delete_abstract_slice",
    "extract_abstract_image_properties",
    "update_abstract_image",
    "update_abstract_slice",
]


# --- abstract images -------------------------------------------------------------------------


async def create_abstract_image(ctx: Context, fields: AbstractImageFields) -> Changed:
    """Describe a physical image of an uploaded file (WRITE on the file's storage)."""
    viewer = ctx.require_user("create images")
    values = abstract_image_values(fields)
    async with ctx.db.transaction() as conn:
        await _uploaded_file_exists(conn, values["uploaded_file_id"])
        await require_storage_of_file(ctx, values["uploaded_file_id"], WRITE)
        row = await insert_row(conn, AbstractImage, {**values, "user_id": viewer.id})
        command = await CommandLog(conn, viewer).add(ABSTRACT_IMAGE, row)
    return Changed(row, command)


async def _propagate_calibration(
    conn: Connection, log: CommandLog, before: Row[Any], after: Row[Any]
) -> None:
    """Move the instances that copied the old calibration to the new one, each recorded as a
    cascaded edit so undo puts them back."""
    changed = [c for c in CALIBRATION if before._mapping[c] is not None
               and before._mapping[c] != after._mapping[c]]  # fmt: skip
    if not changed:
        return
    columns = INSTANCE_TABLE.c
    copied = [columns[c] == before._mapping[c] for c in changed]
    previous = (
        await conn.execute(
            select(*columns)
            .where(ImageInstance.base_image_id == after.id, or_(*copied))
            .order_by(ImageInstance.id)
            .with_for_update()
        )
    ).all()
    if not previous:
        return
    values = {
        c: case((columns[c] == before._mapping[c], after._mapping[c]), else_=columns[c])
        for c in changed
    }
    updated = (
        await conn.execute(
            update(ImageInstance)
            .where(among(ImageInstance.id, [row.id for row in previous]))
            .values(values)
            .returning(*columns)
        )
    ).all()
    await log.edit_each(spec_of("ImageInstance"), previous, updated)


async def update_abstract_image(
    ctx: Context, image_id: int, fields: AbstractImageFields
) -> Changed:
    """Replace an image's fields (WRITE on its storage, and on the new one if its file moves);
    a calibration change follows into the instances that copied it and re-measures their
    annotations."""
    viewer = ctx.require_user("change images")
    image = await _image(ctx, image_id, WRITE)
    values = abstract_image_values(fields)
    async with ctx.db.transaction() as conn:
        if values["uploaded_file_id"] != image.uploaded_file_id:
            await _uploaded_file_exists(conn, values["uploaded_file_id"])
            await require_storage_of_file(ctx, values["uploaded_file_id"], WRITE)
        log = CommandLog(conn, viewer)
        before, after, command = await update_logged(log, ABSTRACT_IMAGE, image_id, values)
        await _propagate_calibration(conn, log, before, after)
        if before.physical_size_x != after.physical_size_x:
            await remeasure_instances_of(conn, [image_id])
    return Changed(after, command)


async def delete_abstract_image(ctx: Context, image_id: int) -> Changed:
    """Delete an unused image with its slices and tag associations (WRITE on its storage)."""
    viewer = ctx.require_user("delete images")
    await _image(ctx, image_id, WRITE)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, AbstractImage, "AbstractImage", image_id)
        slices = (
            await conn.execute(select(*SLICE_TABLE.c).where(AbstractSlice.image_id == image_id))
        ).all()
        await refuse_used(conn, [image_id], [piece.id for piece in slices])
        log = CommandLog(conn, viewer)
        await log.delete_many(ABSTRACT_SLICE, slices)
        await record_metadata(conn, log, ABSTRACT_IMAGE_CLASS, [image_id])
        command = await log.delete(ABSTRACT_IMAGE, row)
        await conn.execute(delete(AbstractSlice).where(AbstractSlice.image_id == image_id))
        await conn.execute(delete(AbstractImage).where(AbstractImage.id == image_id))
    return Changed(row, command)


def _current_fields(image: Any) -> AbstractImageFields:
    """The image's writable fields as they are, for a refresh that replaces some."""
    return AbstractImageFields(
        uploaded_file=image.uploaded_file_id, original_filename=image.original_filename,
        width=image.width, height=image.height, depth=image.depth, duration=image.duration,
        channels=image.channels, sample_per_pixel=image.sample_per_pixel,
        bit_per_sample=image.bit_per_sample, physical_size_x=image.physical_size_x,
        physical_size_y=image.physical_size_y, physical_size_z=image.physical_size_z,
        fps=image.fps, magnification=image.magnification, colorspace=image.colorspace,
        tile_size=image.tile_size,
    )  # fmt: skip


async def extract_abstract_image_properties(ctx: Context, image_id: int, deep: bool) -> None:
    """Refresh an image's fields (and, `deep`, its slices' channel names) from the image
    server's description of the file (WRITE on its storage). Failures are swallowed, as core
    does (§2.3): the file may be gone, or the image server out of reach."""
    ctx.require_user("change images")
    image = await _image(ctx, image_id, WRITE)
    if ctx.settings.image_server_url:
        await _extract_relayed(ctx, image, deep)
        return
    if ctx.pixels is None or image.uploaded_file_id is None:
        return
    from imaging import importer
    from imaging.errors import PixelError

    upload = await ctx.loader(uploaded_files_by_id).load(image.uploaded_file_id)
    if upload is None:
        return
    try:
        source = ctx.pixels.source(upload.filename, image.width, image.height)
    except PixelError:
        return
    described = await ctx.pixels.in_pool(importer.check, source.path, source.format_id)
    if isinstance(described, importer.ImportRefused):
        return
    fields = replace(
        _current_fields(image), width=described.width, height=described.height,
        sample_per_pixel=described.samples, bit_per_sample=described.bits,
        physical_size_x=described.mpp_x, physical_size_y=described.mpp_y,
        magnification=described.magnification, tile_size=256,
    )  # fmt: skip
    await update_abstract_image(ctx, image_id, fields)


def _part(found: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = found.get(key)
    return value if isinstance(value, dict) else {}


def _count(found: Mapping[str, Any], key: str) -> int | None:
    value = found.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _measure(found: Mapping[str, Any], key: str) -> float | None:
    value = found.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


async def _extract_relayed(ctx: Context, image: Any, deep: bool) -> None:
    """The refresh from PIMS's `info` (§2.3): sizes, planes and samples where PIMS gives them,
    the calibration and magnification as PIMS gives them (none when it has none), 8 bits
    unless said otherwise; `deep`: each channel's name and colour on its slices."""
    from imaging.relay import relayed_info

    upload = await image_file(ctx, image)
    if upload is None:
        return
    try:
        info = await ask_image_server(
            ctx, lambda service, url: relayed_info(service, url, upload.filename)
        )
    except BadGateway:
        return
    found, objective = _part(info, "image"), _part(_part(info, "instrument"), "objective")
    current = _current_fields(image)
    counted: dict[str, Any] = {
        name: _count(found, key)
        for name, key in (("width", "width"), ("height", "height"), ("depth", "depth"),
                          ("duration", "duration"), ("channels", "n_concrete_channels"),
                          ("sample_per_pixel", "n_samples"))
    }  # fmt: skip
    fields = replace(
        current, **{name: value for name, value in counted.items() if value is not None},
        physical_size_x=_measure(found, "physical_size_x"),
        physical_size_y=_measure(found, "physical_size_y"),
        physical_size_z=_measure(found, "physical_size_z"), fps=_measure(found, "frame_rate"),
        magnification=_count(objective, "nominal_magnification"),
        bit_per_sample=_count(found, "bits") or 8, tile_size=256,
    )  # fmt: skip
    try:
        await update_abstract_image(ctx, image.id, fields)
    except InvalidInput:
        return
    if deep and isinstance(info.get("channels"), list):
        samples = fields.sample_per_pixel or 1
        await _name_channels(ctx, image.id, info["channels"], samples)


async def _name_channels(ctx: Context, image_id: int, channels: list[Any], samples: int) -> None:
    """Each concrete channel's name and colour on the slices of that channel: PIMS lists one
    item per sample; the samples of an RGB channel give one name ("R|G|B") and no colour."""
    named: dict[int, tuple[str | None, str | None]] = {}
    for start in range(0, len(channels), samples):
        items = [item for item in channels[start : start + samples] if isinstance(item, dict)]
        if len(items) != samples:
            return
        names = [str(item.get("suggested_name") or "") for item in items]
        if samples == 1:
            color = items[0].get("color")
            named[start] = (names[0] or None, color if isinstance(color, str) else None)
        else:
            named[start // samples] = ("|".join(dict.fromkeys(names)) or None, None)
    async with ctx.db.transaction() as conn:
        for channel, (name, color) in named.items():
            await conn.execute(
                update(AbstractSlice)
                .where(AbstractSlice.image_id == image_id, AbstractSlice.channel == channel)
                .values(channel_name=name and name[:255], channel_color=color and color[:32])
            )


# --- abstract slices -------------------------------------------------------------------------


def _plane_conflict(values: Mapping[str, Any]) -> str:
    c, z, t = values["channel"], values["z_stack"], values["time"]
    return f"AbstractSlice (c={c}, z={z}, t={t}) already exists in image"


async def create_abstract_slice(ctx: Context, fields: AbstractSliceFields) -> Changed:
    """Add a plane to an abstract image (WRITE on its storage). Instances of the image that
    already exist get their slice instance at once, so no plane is ever missing from them."""
    viewer = ctx.require_user("create images")
    values = abstract_slice_values(fields)
    await _writable_image(ctx, values["image_id"])
    await _writable_file(ctx, values["uploaded_file_id"])
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(_plane_conflict(values)):
            row = await insert_row(conn, AbstractSlice, values)
        command = await log.add(ABSTRACT_SLICE, row)
        added = await conn.execute(
            pg_insert(SliceInstance)
            .from_select(
                ["base_slice_id", "image_id", "project_id"],
                select(
                    literal(row.id, BigInteger), ImageInstance.id, ImageInstance.project_id
                ).where(ImageInstance.base_image_id == row.image_id),
            )
            .returning(*table_of(SliceInstance).c)
        )
        slice_instance = spec_of("SliceInstance")
        for instance_slice in added.all():  # one command each: they may be in several projects
            await log.add(slice_instance, instance_slice, printed=False)
    return Changed(row, command)


async def update_abstract_slice(
    ctx: Context, slice_id: int, fields: AbstractSliceFields
) -> Changed:
    """Replace a slice's fields (WRITE on its storage); a slice that projects use stays with
    its image."""
    viewer = ctx.require_user("change images")
    piece = await _slice(ctx, slice_id, WRITE)
    values = abstract_slice_values(fields)
    if values["image_id"] != piece.image_id:
        await _writable_image(ctx, values["image_id"])
    if values["uploaded_file_id"] != piece.uploaded_file_id:
        await _writable_file(ctx, values["uploaded_file_id"])
    async with ctx.db.transaction() as conn:
        if values["image_id"] != piece.image_id:
            used = await conn.execute(
                select(exists().where(SliceInstance.base_slice_id == slice_id))
            )
            if used.scalar_one():
                raise InvalidInput("A slice that projects use cannot move to another image")
        _, after, command = await update_logged(
            CommandLog(conn, viewer),
            ABSTRACT_SLICE,
            slice_id,
            values,
            conflict=_plane_conflict(values),
        )
    return Changed(after, command)


async def delete_abstract_slice(ctx: Context, slice_id: int) -> Changed:
    """Delete a slice no project uses (WRITE on its storage)."""
    viewer = ctx.require_user("delete images")
    await _slice(ctx, slice_id, WRITE)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, AbstractSlice, "AbstractSlice", slice_id)
        await refuse_used(conn, (), [slice_id])
        command = await CommandLog(conn, viewer).delete(ABSTRACT_SLICE, row)
        await conn.execute(delete(AbstractSlice).where(AbstractSlice.id == slice_id))
    return Changed(row, command)
