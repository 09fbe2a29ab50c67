"""Abstract images and their slices: the physical images of a storage (contract
images-annotations.md §2.3–§2.4).

Read and write rights come from the storage of the image's uploaded file. PIMS creates these
while acting as the uploader, so creation needs WRITE on that storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import BigInteger, Row, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.models import AbstractImage, AbstractSlice, ImageInstance, SliceInstance, UploadedFile
from resolvers.acl import READ, WRITE, require
from resolvers.command import CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.image import SLICE_INSTANCE
from resolvers.storage import uploaded_files_by_id

__all__ = [
    "ABSTRACT_IMAGE",
    "ABSTRACT_SLICE",
    "MIME_TYPES",
    "AbstractImageFields",
    "AbstractSliceFields",
    "abstract_images_by_id",
    "abstract_slices_by_id",
    "create_abstract_image",
    "create_abstract_slice",
    "get_abstract_image",
    "get_abstract_slice",
    "slices_by_abstract_image",
    "storage_of_file",
]

IMAGE_TABLE: Final = table_of(AbstractImage)
SLICE_TABLE: Final = table_of(AbstractSlice)

#: The MIME types a slice may declare (Cytomine seeds exactly these).
MIME_TYPES: Final = frozenset((
    "image/pyrtiff", "image/jp2", "openslide/ndpi", "openslide/mrxs", "openslide/vms",
    "openslide/svs", "openslide/scn", "openslide/bif", "openslide/ventana", "philips/tif",
))  # fmt: skip


async def storage_of_file(ctx: Context, file_id: int | None) -> int | None:
    """The storage of an uploaded file (None for none or an unknown file)."""
    if file_id is None:
        return None
    upload = await ctx.loader(uploaded_files_by_id).load(file_id)
    return None if upload is None else int(upload.storage_id)


async def _require_storage(ctx: Context, file_id: int | None, permission: int) -> None:
    """Rights on an image come from its file's storage; a file-less image is admin-only."""
    viewer = ctx.require_viewer()
    storage_id = await storage_of_file(ctx, file_id)
    if storage_id is None:
        if not viewer.is_admin:
            raise Forbidden("This image belongs to no storage you may access")
        return
    await require(ctx, storage_id, permission)


async def _may_write_image(ctx: Context, row: Mapping[str, Any]) -> None:
    await _require_storage(ctx, row["uploaded_file_id"], WRITE)


async def _may_write_slice(ctx: Context, row: Mapping[str, Any]) -> None:
    image = await ctx.loader(abstract_images_by_id).load(row["image_id"])
    if image is not None:
        await _require_storage(ctx, image.uploaded_file_id, WRITE)


ABSTRACT_IMAGE: Final = register(
    Spec("AbstractImage", AbstractImage,
         lambda row: f"{row['id']} ({row['original_filename']})", authorize=_may_write_image)
)  # fmt: skip
ABSTRACT_SLICE: Final = register(
    Spec("AbstractSlice", AbstractSlice, lambda row: str(row["id"]), authorize=_may_write_slice)
)


# --- loaders ---------------------------------------------------------------------------------


async def abstract_images_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*IMAGE_TABLE.c).where(AbstractImage.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def abstract_slices_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*SLICE_TABLE.c).where(AbstractSlice.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def slices_by_abstract_image(db: Database, ids: list[int]) -> list[list[Any]]:
    """The slices of each abstract image, by channel, z, time."""
    stmt = (
        select(*SLICE_TABLE.c)
        .where(AbstractSlice.image_id.in_(ids))
        .order_by(AbstractSlice.channel, AbstractSlice.z_stack, AbstractSlice.time)
    )
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.image_id].append(row)
    return [grouped[key] for key in ids]


# --- abstract images -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AbstractImageFields:
    """An abstract image's writable fields (`resolution` is the legacy physicalSizeX)."""

    uploaded_file: int | None = None
    original_filename: str | None = None
    width: int | None = None
    height: int | None = None
    depth: int | None = None
    duration: int | None = None
    channels: int | None = None
    sample_per_pixel: int | None = None
    bit_per_sample: int | None = None
    physical_size_x: float | None = None
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    resolution: float | None = None
    fps: float | None = None
    magnification: int | None = None
    colorspace: str | None = None
    tile_size: int | None = None


def _at_least(value: int | None, name: str, minimum: int, default: int | None) -> int | None:
    if value is None:
        return default
    if value < minimum:
        raise InvalidInput(f"Property {name} must be at least {minimum}")
    return value


def _positive(value: float | None, name: str) -> float | None:
    if value is not None and not value > 0:
        raise InvalidInput(f"Property {name} must be a positive number")
    return value


def abstract_image_values(fields: AbstractImageFields) -> dict[str, Any]:
    """Validated column values of a create or a full update."""
    name = fields.original_filename
    if name is None or not name.strip():
        raise InvalidInput("Property originalFilename must be set")
    physical_x = fields.physical_size_x if fields.physical_size_x is not None else fields.resolution
    return {
        "uploaded_file_id": fields.uploaded_file,
        "original_filename": name,
        "width": _at_least(fields.width, "width", 1, None),
        "height": _at_least(fields.height, "height", 1, None),
        "depth": _at_least(fields.depth, "depth", 1, 1),
        "duration": _at_least(fields.duration, "duration", 1, 1),
        "channels": _at_least(fields.channels, "channels", 1, 1),
        "sample_per_pixel": _at_least(fields.sample_per_pixel, "samplePerPixel", 1, 1),
        "bit_per_sample": _at_least(fields.bit_per_sample, "bitPerSample", 1, 8),
        "physical_size_x": _positive(physical_x, "physicalSizeX"),
        "physical_size_y": _positive(fields.physical_size_y, "physicalSizeY"),
        "physical_size_z": _positive(fields.physical_size_z, "physicalSizeZ"),
        "fps": _positive(fields.fps, "fps"),
        "magnification": _at_least(fields.magnification, "magnification", 1, None),
        "colorspace": fields.colorspace,
        "tile_size": _at_least(fields.tile_size, "tileSize", 1, 256),
    }


async def _uploaded_file_exists(conn: AsyncConnection, file_id: int | None) -> None:
    if file_id is None:
        raise InvalidInput("Property uploadedFile must be set")
    found = await conn.execute(select(UploadedFile.id).where(UploadedFile.id == file_id))
    if found.first() is None:
        raise InvalidInput(f"uploadedFile was not found with id: {file_id}")


async def get_abstract_image(ctx: Context, image_id: int) -> Any:
    """One abstract image; READ on its storage."""
    image = await ctx.loader(abstract_images_by_id).load(image_id)
    if image is None:
        raise NotFound("AbstractImage", image_id)
    await _require_storage(ctx, image.uploaded_file_id, READ)
    return image


async def create_abstract_image(ctx: Context, fields: AbstractImageFields) -> Changed:
    """Describe a physical image of an uploaded file (WRITE on the file's storage)."""
    viewer = ctx.require_viewer()
    if not viewer.is_user:
        raise Forbidden("A guest may not create images")
    values = abstract_image_values(fields)
    async with ctx.db.transaction() as conn:
        await _uploaded_file_exists(conn, values["uploaded_file_id"])
        await _require_storage(ctx, values["uploaded_file_id"], WRITE)
        row = await insert_row(conn, AbstractImage, {**values, "user_id": viewer.id})
        command = await CommandLog(conn, viewer).add(ABSTRACT_IMAGE, row)
    return Changed(row, command)


# --- abstract slices -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AbstractSliceFields:
    image: int | None = None
    uploaded_file: int | None = None
    mime: str | None = None
    channel: int | None = None
    z_stack: int | None = None
    time: int | None = None
    channel_name: str | None = None
    channel_color: str | None = None
    z_name: str | None = None


def abstract_slice_values(fields: AbstractSliceFields) -> dict[str, Any]:
    """Validated column values of a create or a full update."""
    if fields.image is None:
        raise InvalidInput("Property image must be set")
    if fields.mime is not None and fields.mime not in MIME_TYPES:
        raise InvalidInput(f"mime was not found with mimeType: {fields.mime}")
    return {
        "image_id": fields.image,
        "uploaded_file_id": fields.uploaded_file,
        "mime": fields.mime,
        "channel": _at_least(fields.channel, "channel", 0, 0),
        "z_stack": _at_least(fields.z_stack, "zStack", 0, 0),
        "time": _at_least(fields.time, "time", 0, 0),
        "channel_name": fields.channel_name,
        "channel_color": fields.channel_color,
        "z_name": fields.z_name,
    }


async def get_abstract_slice(ctx: Context, slice_id: int) -> Any:
    """One abstract slice; READ on its image's storage."""
    row = await ctx.loader(abstract_slices_by_id).load(slice_id)
    if row is None:
        raise NotFound("AbstractSlice", slice_id)
    await get_abstract_image(ctx, row.image_id)
    return row


async def create_abstract_slice(ctx: Context, fields: AbstractSliceFields) -> Changed:
    """Add a plane to an abstract image (WRITE on its storage). Instances of the image that
    already exist get their slice instance at once, so no plane is ever missing from them."""
    viewer = ctx.require_viewer()
    if not viewer.is_user:
        raise Forbidden("A guest may not create images")
    values = abstract_slice_values(fields)
    image = await ctx.loader(abstract_images_by_id).load(values["image_id"])
    if image is None:
        raise InvalidInput(f"image was not found with id: {values['image_id']}")
    await _require_storage(ctx, image.uploaded_file_id, WRITE)
    c, z, t = values["channel"], values["z_stack"], values["time"]
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(f"AbstractSlice (c={c}, z={z}, t={t}) already exists in image"):
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
        for instance_slice in added.all():
            await log.add(SLICE_INSTANCE, instance_slice, printed=False)
    return Changed(row, command)
