"""Who may read and change abstract images and their slices, and the checks on their fields.

Read and write rights come from the storage of the image's uploaded file (READ to read, WRITE
to change). PIMS creates these while acting as the uploader, so creation needs WRITE on that
storage too. An image with instances or companion files, or a slice with slice instances,
cannot be deleted: 403 naming the projects and images that use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import exists, select

from db.engine import Connection
from db.models import (
    AbstractImage,
    AbstractSlice,
    CompanionFile,
    ImageInstance,
    Project,
    SliceInstance,
    UploadedFile,
)
from resolvers.abstract_image.rows import IMAGE_TABLE, MIME_TYPES, abstract_images_by_id
from resolvers.acl import WRITE, require
from resolvers.annotation_upkeep import remeasure_instances_of
from resolvers.command import Spec, register
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput
from resolvers.image_name import SHOWN_NAME
from resolvers.storage import readable_storages, uploaded_files_by_id

__all__ = [
    "ABSTRACT_IMAGE",
    "ABSTRACT_SLICE",
    "AbstractImageFields",
    "AbstractSliceFields",
    "abstract_image_values",
    "abstract_slice_values",
    "refuse_used",
    "require_storage_of_file",
    "storage_of_file",
]


# --- rights ----------------------------------------------------------------------------------


async def storage_of_file(ctx: Context, file_id: int | None) -> int | None:
    """The storage of an uploaded file (None for none or an unknown file)."""
    if file_id is None:
        return None
    upload = await ctx.loader(uploaded_files_by_id).load(file_id)
    return None if upload is None else int(upload.storage_id)


async def require_storage_of_file(ctx: Context, file_id: int | None, permission: int) -> None:
    """Rights on an image come from its file's storage; a file-less image is admin-only."""
    viewer = ctx.require_viewer()
    storage_id = await storage_of_file(ctx, file_id)
    if storage_id is None:
        if not viewer.is_admin:
            raise Forbidden("This image belongs to no storage you may access")
        return
    await require(ctx, storage_id, permission)


async def _may_write_image(ctx: Context, row: Mapping[str, Any]) -> None:
    await require_storage_of_file(ctx, row["uploaded_file_id"], WRITE)


async def _may_write_slice(ctx: Context, row: Mapping[str, Any]) -> None:
    image = await ctx.loader(abstract_images_by_id).load(row["image_id"])
    if image is not None:
        await require_storage_of_file(ctx, image.uploaded_file_id, WRITE)


async def _remeasure(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A replayed edit may bring an older calibration back into the instances' measures."""
    await remeasure_instances_of(conn, [row["id"] for row in rows])


ABSTRACT_IMAGE: Final = register(
    Spec("AbstractImage", AbstractImage,
         lambda row: f"{row['id']} ({row['original_filename']})", authorize=_may_write_image,
         after_replay=_remeasure)
)  # fmt: skip
ABSTRACT_SLICE: Final = register(
    Spec("AbstractSlice", AbstractSlice, lambda row: str(row["id"]), authorize=_may_write_slice)
)


def _readable_images(ctx: Context) -> Any:
    """SELECT of the abstract images the caller may read (all for an admin)."""
    stmt = select(*IMAGE_TABLE.c)
    storages = readable_storages(ctx.require_viewer())
    if storages is None:
        return stmt
    files = select(UploadedFile.id).where(UploadedFile.storage_id.in_(storages))
    return stmt.where(AbstractImage.uploaded_file_id.in_(files))


async def _writable_file(ctx: Context, file_id: int | None) -> None:
    """A file a slice is stored in: known (400 otherwise) and in a storage the caller writes.
    The slice shows the file's path and serves its pixels, so naming another storage's file
    would read it."""
    if file_id is None:
        return
    upload = await ctx.loader(uploaded_files_by_id).load(file_id)
    if upload is None:
        raise InvalidInput(f"uploadedFile was not found with id: {file_id}")
    await require(ctx, upload.storage_id, WRITE)


async def _writable_image(ctx: Context, image_id: int) -> Any:
    image = await ctx.loader(abstract_images_by_id).load(image_id)
    if image is None:
        raise InvalidInput(f"image was not found with id: {image_id}")
    await require_storage_of_file(ctx, image.uploaded_file_id, WRITE)
    return image


# --- fields ----------------------------------------------------------------------------------


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
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise InvalidInput(f"Property {name} must be a positive number")
    return value


def _text(value: str | None, name: str, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        raise InvalidInput(f"Property {name} is longer than {limit} characters")
    return value


def abstract_image_values(fields: AbstractImageFields) -> dict[str, Any]:
    """Validated column values of a create or a full update. `resolution` is only ever sent
    on purpose (cytogate never emits it), so it wins over `physicalSizeX` (§2.3)."""
    name = fields.original_filename
    if name is None or not name.strip():
        raise InvalidInput("Property originalFilename must be set")
    physical_x = fields.physical_size_x if fields.resolution is None else fields.resolution
    return {
        "uploaded_file_id": fields.uploaded_file,
        "original_filename": _text(name, "originalFilename", 4096),
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
        "colorspace": _text(fields.colorspace, "colorspace", 64),
        "tile_size": _at_least(fields.tile_size, "tileSize", 1, 256),
    }


async def _uploaded_file_exists(conn: Connection, file_id: int | None) -> None:
    if file_id is None:
        raise InvalidInput("Property uploadedFile must be set")
    found = await conn.execute(select(UploadedFile.id).where(UploadedFile.id == file_id))
    if found.first() is None:
        raise InvalidInput(f"uploadedFile was not found with id: {file_id}")


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
        "channel_name": _text(fields.channel_name, "channelName", 255),
        "channel_color": _text(fields.channel_color, "channelColor", 32),
        "z_name": _text(fields.z_name, "zName", 255),
    }


# --- uses ------------------------------------------------------------------------------------


def _in_use(subject: str, uses: Sequence[Any]) -> Forbidden:
    """403 naming the projects and image instances that use the object (§2.3)."""
    projects = sorted({use.project_name for use in uses})
    images = sorted({use.image_name for use in uses})
    message = f"{subject} is used in projects: {', '.join(projects)}"
    return Forbidden(message, {"projectNames": projects, "imageNames": images})


async def refuse_used(conn: Connection, image_ids: Sequence[int], slice_ids: Sequence[int]) -> None:
    """Forbidden when a project uses one of the images (an instance) or slices (a slice
    instance), or when an image has companion files (§2.3, §2.4)."""
    uses = (
        # an image's name as its project shows it to everyone: a blind project's is the base
        # image's id (the storage's user need not be one of its managers)
        select(Project.name.label("project_name"), SHOWN_NAME.label("image_name"))
        .select_from(ImageInstance)
        .join(Project, Project.id == ImageInstance.project_id)
        .join(AbstractImage, AbstractImage.id == ImageInstance.base_image_id)
    )
    if image_ids:
        used = (await conn.execute(uses.where(ImageInstance.base_image_id.in_(image_ids)))).all()
        if used:
            raise _in_use("The image", used)
        companion = await conn.execute(
            select(exists().where(CompanionFile.image_id.in_(image_ids)))
        )
        if companion.scalar_one():
            raise Forbidden(
                "The image has companion files: delete them first",
                {"projectNames": [], "imageNames": []},
            )
    if slice_ids:
        sliced = uses.join(SliceInstance, SliceInstance.image_id == ImageInstance.id)
        used = (await conn.execute(sliced.where(SliceInstance.base_slice_id.in_(slice_ids)))).all()
        if used:
            raise _in_use("The slice", used)
