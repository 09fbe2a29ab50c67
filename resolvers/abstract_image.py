"""Abstract images and their slices: the physical images of a storage (contract
images-annotations.md §2.3–§2.4, §9.1–§9.2).

Read and write rights come from the storage of the image's uploaded file (READ to read, WRITE
to change). PIMS creates these while acting as the uploader, so creation needs WRITE on that
storage too. An image with instances or companion files, or a slice with slice instances,
cannot be deleted: 403 naming the projects and images that use it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import BigInteger, Row, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection, Lease
from db.models import (
    AbstractImage,
    AbstractSlice,
    CompanionFile,
    ImageInstance,
    Project,
    SliceInstance,
    UploadedFile,
)
from resolvers.acl import READ, WRITE, require
from resolvers.annotation_upkeep import remeasure_instances_of
from resolvers.command import CommandLog, Spec, register, spec_of, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Filter, Page, apply_filters, apply_sort, fetch_page
from resolvers.metadata_target import ABSTRACT_IMAGE_CLASS
from resolvers.pixels import (
    ImageServerRequest,
    PixelArgs,
    available_image_servers,
    call_image_server,
    image_server_request,
    pixel_url,
)
from resolvers.project import project_access
from resolvers.storage import (
    readable_storages,
    uploaded_files_by_id,
)
from resolvers.tag import record_tags
from resolvers.user import users_by_id

__all__ = [
    "ABSTRACT_IMAGE",
    "ABSTRACT_SLICE",
    "MIME_TYPES",
    "VIRTUAL_STACK",
    "AbstractImageFields",
    "AbstractSliceFields",
    "abstract_image_request",
    "abstract_images_by_id",
    "abstract_images_by_uploaded_file",
    "abstract_slice_request",
    "abstract_slices_by_id",
    "apparent_channels",
    "create_abstract_image",
    "create_abstract_slice",
    "delete_abstract_image",
    "delete_abstract_slice",
    "dimensions",
    "extract_abstract_image_properties",
    "get_abstract_image",
    "get_abstract_image_uploader",
    "get_abstract_slice",
    "get_abstract_slice_uploader",
    "image_file",
    "image_server_urls",
    "image_uploader",
    "is_virtual",
    "list_abstract_images",
    "list_abstract_slices",
    "macro_url",
    "refuse_used",
    "require_storage_of_file",
    "slice_path",
    "slice_rank",
    "slices_by_abstract_image",
    "slices_by_uploaded_file",
    "storage_of_file",
    "update_abstract_image",
    "update_abstract_slice",
    "zoom_levels",
]

IMAGE_TABLE: Final = table_of(AbstractImage)
SLICE_TABLE: Final = table_of(AbstractSlice)
INSTANCE_TABLE: Final = table_of(ImageInstance)

#: The MIME types a slice may declare (Cytomine seeds exactly these).
MIME_TYPES: Final = frozenset((
    "image/pyrtiff", "image/jp2", "openslide/ndpi", "openslide/mrxs", "openslide/vms",
    "openslide/svs", "openslide/scn", "openslide/bif", "openslide/ventana", "philips/tif",
))  # fmt: skip
#: Formats that carry a macro image; for any other known format `macroURL` is null (§2.3).
MACRO_FORMATS: Final = frozenset(("SVS", "NDPI", "VMS", "SCN", "MRXS", "BIF", "VENTANA", "PHILIPS"))
#: The format of an image whose planes are files of their own (§2.4: slice paths).
VIRTUAL_STACK: Final = "VIRTUALSTACK"


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


# --- loaders ---------------------------------------------------------------------------------


def _by_id(rows: Sequence[Row[Any]], ids: list[int]) -> list[Row[Any] | None]:
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


def _grouped(rows: Sequence[Row[Any]], key: str, ids: list[int]) -> list[list[Row[Any]]]:
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return [grouped[value] for value in ids]


async def abstract_images_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*IMAGE_TABLE.c).where(AbstractImage.id.in_(ids)))).all()
    return _by_id(rows, ids)


async def abstract_slices_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*SLICE_TABLE.c).where(AbstractSlice.id.in_(ids)))).all()
    return _by_id(rows, ids)


async def abstract_images_by_uploaded_file(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The abstract images of each uploaded file, oldest first (the first is "the" image)."""
    stmt = (
        select(*IMAGE_TABLE.c)
        .where(AbstractImage.uploaded_file_id.in_(ids))
        .order_by(AbstractImage.id)
    )
    async with db.read() as conn:
        return _grouped((await conn.execute(stmt)).all(), "uploaded_file_id", ids)


_PLANE_ORDER: Final = (AbstractSlice.channel, AbstractSlice.z_stack, AbstractSlice.time)


async def slices_by_abstract_image(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The slices of each abstract image, by channel, z, time."""
    stmt = select(*SLICE_TABLE.c).where(AbstractSlice.image_id.in_(ids)).order_by(*_PLANE_ORDER)
    async with db.read() as conn:
        return _grouped((await conn.execute(stmt)).all(), "image_id", ids)


async def slices_by_uploaded_file(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The slices stored in each uploaded file, by id."""
    stmt = (
        select(*SLICE_TABLE.c)
        .where(AbstractSlice.uploaded_file_id.in_(ids))
        .order_by(AbstractSlice.id)
    )
    async with db.read() as conn:
        return _grouped((await conn.execute(stmt)).all(), "uploaded_file_id", ids)


# --- computed fields (§2.3, §2.4) ------------------------------------------------------------


async def image_file(ctx: Context, image: Any) -> Any:
    """The uploaded file an image was made from (None for none)."""
    if image.uploaded_file_id is None:
        return None
    return await ctx.loader(uploaded_files_by_id).load(image.uploaded_file_id)


def is_virtual(content_type: str | None) -> bool:
    return (content_type or "").upper() == VIRTUAL_STACK


def dimensions(image: Any) -> str:
    """The axes with more than one plane: always XY, then C, Z and T as they apply."""
    axes = (("C", image.channels), ("Z", image.depth), ("T", image.duration))
    return "XY" + "".join(axis for axis, planes in axes if planes > 1)


def zoom_levels(image: Any) -> int:
    """How many times the image halves until it fits one tile; 1 when a size is unknown."""
    width, height, tile = image.width, image.height, image.tile_size
    if width is None or height is None:
        return 1
    levels = 0
    while width > tile or height > tile:
        width, height, levels = width // 2, height // 2, levels + 1
    return levels


def apparent_channels(image: Any) -> int:
    """The channels a viewer shows: intrinsic channels times samples per pixel (an RGB
    image: 1 × 3)."""
    return int(image.channels * image.sample_per_pixel)


def macro_url(ctx: Context, resource: str, object_id: int, content_type: str | None) -> str | None:
    """The macro image's URL under `/api/<resource>/<id>/` (an abstract image or an image
    instance); null for a known format that carries none (§2.3, §2.6)."""
    if content_type and content_type.upper() not in MACRO_FORMATS:
        return None
    return pixel_url(ctx, resource, object_id, "associated/macro.png?maxWidth=512")


def slice_rank(piece: Any, image: Any) -> int:
    """The plane's position: channel + C·(z + Z·t) with the image's C channels and Z depth."""
    return int(piece.channel + image.channels * (piece.z_stack + image.depth * piece.time))


async def slice_path(ctx: Context, piece: Any) -> str | None:
    """The file a slice's pixels are in: its own, or its image's for a virtual stack."""
    image = await ctx.loader(abstract_images_by_id).load(piece.image_id)
    image_upload = None if image is None else await image_file(ctx, image)
    if piece.uploaded_file_id is not None and not (
        image_upload is not None and is_virtual(image_upload.content_type)
    ):
        upload = await ctx.loader(uploaded_files_by_id).load(piece.uploaded_file_id)
        if upload is not None:
            return str(upload.filename)
    return None if image_upload is None else str(image_upload.filename)


async def image_server_urls(ctx: Context, image: Any) -> list[str]:
    """The legacy per-image URLs on the image server (`imageservers.json`, §2.9): none while
    no image server is configured."""
    server = await ctx.loader(available_image_servers).load(True)
    upload = await image_file(ctx, image)
    if server is None or upload is None:
        return []
    return [f"{server.url.rstrip('/')}/image/{quote(upload.filename, safe='/')}"]


# --- abstract images: reads ------------------------------------------------------------------


async def _image(ctx: Context, image_id: int, permission: int) -> Any:
    ctx.require_viewer()
    image = await ctx.found(abstract_images_by_id, image_id, "AbstractImage")
    await require_storage_of_file(ctx, image.uploaded_file_id, permission)
    return image


async def get_abstract_image(
    ctx: Context, image_id: int | None = None, *, uploaded_file_id: int | None = None
) -> Any:
    """One abstract image (READ on its storage), by id or as the first image of a file."""
    if image_id is not None:
        return await _image(ctx, image_id, READ)
    if uploaded_file_id is None:
        raise InvalidInput("Give the abstract image's id or its uploaded file's")
    upload = await ctx.found(uploaded_files_by_id, uploaded_file_id, "UploadedFile")
    await require(ctx, upload.storage_id, READ)
    images = await ctx.loader(abstract_images_by_uploaded_file).load(uploaded_file_id)
    if not images:
        raise NotFound("AbstractImage", uploaded_file_id, "uploadedFile")
    return images[0]


IMAGE_FIELDS: Final[Mapping[str, Any]] = {
    "id": AbstractImage.id,
    "created": AbstractImage.created,
    "updated": AbstractImage.updated,
    "originalFilename": AbstractImage.original_filename,
    "filename": AbstractImage.original_filename,
    "uploadedFile": AbstractImage.uploaded_file_id,
    "user": AbstractImage.user_id,
    "width": AbstractImage.width,
    "height": AbstractImage.height,
    "depth": AbstractImage.depth,
    "duration": AbstractImage.duration,
    "channels": AbstractImage.channels,
    "samplePerPixel": AbstractImage.sample_per_pixel,
    "bitPerSample": AbstractImage.bit_per_sample,
    "physicalSizeX": AbstractImage.physical_size_x,
    "physicalSizeY": AbstractImage.physical_size_y,
    "physicalSizeZ": AbstractImage.physical_size_z,
    "fps": AbstractImage.fps,
    "magnification": AbstractImage.magnification,
    "colorspace": AbstractImage.colorspace,
    "tileSize": AbstractImage.tile_size,
}


async def list_abstract_images(
    ctx: Context,
    *,
    project_id: int | None = None,
    unused: bool = False,
    filters: Sequence[Filter] = (),
    sort: str | None = None,
    order: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The abstract images of the storages the caller reads (all for an admin), newest first.

    Args:
        project_id: flag each image with `in_project`: whether the project (which the caller
            must read) holds an instance of it.
        unused: only images with neither an instance nor a companion file.
    """
    stmt = _readable_images(ctx)
    if project_id is not None:
        (await project_access(ctx, project_id)).require_read()
        placed = exists().where(
            ImageInstance.base_image_id == AbstractImage.id, ImageInstance.project_id == project_id
        )
        stmt = stmt.add_columns(placed.label("in_project"))
    if unused:
        stmt = stmt.where(
            ~exists().where(ImageInstance.base_image_id == AbstractImage.id),
            ~exists().where(CompanionFile.image_id == AbstractImage.id),
        )
    stmt = apply_filters(stmt, filters, IMAGE_FIELDS)
    stmt = apply_sort(stmt, sort, order, IMAGE_FIELDS, default="created", default_order="desc",
                      tie=AbstractImage.id.desc())  # fmt: skip
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def _uploader(
    ctx: Context, file_ids: Sequence[int | None], creator: int | None
) -> Any | None:
    """The user who uploaded the first known file of `file_ids`, else `creator`."""
    for file_id in file_ids:
        if file_id is None:
            continue
        upload = await ctx.loader(uploaded_files_by_id).load(file_id)
        if upload is not None:
            creator = upload.user_id
            break
    return None if creator is None else await ctx.loader(users_by_id).load(creator)


def _known(user: Any | None) -> Any:
    if user is None:
        raise NotFound("User", "uploader")
    return user


async def image_uploader(ctx: Context, image: Any) -> Any | None:
    """The user who uploaded a readable image's file (or created the image), if known."""
    return await _uploader(ctx, (image.uploaded_file_id,), image.user_id)


async def get_abstract_image_uploader(ctx: Context, image_id: int) -> Any:
    """The user who uploaded an image's file (or created the image); 404 when unknown."""
    return _known(await image_uploader(ctx, await _image(ctx, image_id, READ)))


async def abstract_image_request(ctx: Context, image: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of a readable image."""
    upload = await image_file(ctx, image)
    path = None if upload is None else upload.filename
    return await image_server_request(ctx, "AbstractImage", image.id, path, args)


# --- abstract images: writes -----------------------------------------------------------------


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


#: Calibration an instance may override; a change follows into the instances whose override
#: equals the old value (§2.3). Instances without an override inherit at read time.
CALIBRATION: Final = ("physical_size_x", "magnification")


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
            .where(ImageInstance.id.in_([row.id for row in previous]))
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
        select(
            Project.name.label("project_name"),
            func.coalesce(ImageInstance.instance_filename, AbstractImage.original_filename).label(
                "image_name"
            ),
        )
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
        await record_tags(conn, log, ABSTRACT_IMAGE_CLASS, [image_id])
        command = await log.delete(ABSTRACT_IMAGE, row)
        await conn.execute(delete(AbstractSlice).where(AbstractSlice.image_id == image_id))
        await conn.execute(delete(AbstractImage).where(AbstractImage.id == image_id))
    return Changed(row, command)


async def extract_abstract_image_properties(ctx: Context, image_id: int, deep: bool) -> None:
    """Refresh an image's fields (and, `deep`, its slices' channel names) from the image
    server's description of the file (WRITE on its storage; §2.3)."""
    ctx.require_user("change images")
    await _image(ctx, image_id, WRITE)
    what = "regenerating" if deep else "extracting"
    await call_image_server(ctx, f"{what} the properties of AbstractImage {image_id}")


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
        "channel_name": _text(fields.channel_name, "channelName", 255),
        "channel_color": _text(fields.channel_color, "channelColor", 32),
        "z_name": _text(fields.z_name, "zName", 255),
    }


async def _slice(ctx: Context, slice_id: int, permission: int) -> Any:
    ctx.require_viewer()
    row = await ctx.found(abstract_slices_by_id, slice_id, "AbstractSlice")
    await _image(ctx, row.image_id, permission)
    return row


async def get_abstract_slice(
    ctx: Context,
    slice_id: int | None = None,
    *,
    image_id: int | None = None,
    channel: int = 0,
    z_stack: int = 0,
    time: int = 0,
) -> Any:
    """One slice (READ on its image's storage), by id or by its image and plane."""
    if slice_id is not None:
        return await _slice(ctx, slice_id, READ)
    if image_id is None:
        raise InvalidInput("Give the slice's id or its image's")
    await _image(ctx, image_id, READ)
    for piece in await ctx.loader(slices_by_abstract_image).load(image_id):
        if (piece.channel, piece.z_stack, piece.time) == (channel, z_stack, time):
            return piece
    raise NotFound("AbstractSlice", f"{image_id}/{channel}/{z_stack}/{time}", "image/c/z/t")


async def list_abstract_slices(
    ctx: Context,
    *,
    image_id: int | None = None,
    uploaded_file_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The slices of an image (by channel, z, t) or stored in an uploaded file (by id)."""
    stmt = select(*SLICE_TABLE.c)
    if image_id is not None:
        await _image(ctx, image_id, READ)
        stmt = stmt.where(AbstractSlice.image_id == image_id).order_by(
            *_PLANE_ORDER, AbstractSlice.id
        )
    elif uploaded_file_id is not None:
        upload = await ctx.found(uploaded_files_by_id, uploaded_file_id, "UploadedFile")
        await require(ctx, upload.storage_id, READ)
        stmt = stmt.where(AbstractSlice.uploaded_file_id == uploaded_file_id).order_by(
            AbstractSlice.id
        )
    else:
        raise InvalidInput("Give the image or the uploaded file whose slices to list")
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def get_abstract_slice_uploader(ctx: Context, slice_id: int) -> Any:
    """The user who uploaded a slice's file (or its image's); 404 when unknown."""
    piece = await _slice(ctx, slice_id, READ)
    image = await ctx.loader(abstract_images_by_id).load(piece.image_id)
    creator = None if image is None else image.user_id
    files = (piece.uploaded_file_id, None if image is None else image.uploaded_file_id)
    return _known(await _uploader(ctx, files, creator))


async def _writable_image(ctx: Context, image_id: int) -> Any:
    image = await ctx.loader(abstract_images_by_id).load(image_id)
    if image is None:
        raise InvalidInput(f"image was not found with id: {image_id}")
    await require_storage_of_file(ctx, image.uploaded_file_id, WRITE)
    return image


def _plane_conflict(values: Mapping[str, Any]) -> str:
    c, z, t = values["channel"], values["z_stack"], values["time"]
    return f"AbstractSlice (c={c}, z={z}, t={t}) already exists in image"


async def create_abstract_slice(ctx: Context, fields: AbstractSliceFields) -> Changed:
    """Add a plane to an abstract image (WRITE on its storage). Instances of the image that
    already exist get their slice instance at once, so no plane is ever missing from them."""
    viewer = ctx.require_user("create images")
    values = abstract_slice_values(fields)
    await _writable_image(ctx, values["image_id"])
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


async def abstract_slice_request(ctx: Context, piece: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of a readable slice."""
    return await image_server_request(
        ctx, "AbstractSlice", piece.id, await slice_path(ctx, piece), args
    )
