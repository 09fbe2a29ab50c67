"""What the schema calls to read abstract images and their slices: the fields computed from
a row, single rows, listings, uploaders, and the image-server requests behind pixel endpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, select

from db.models import AbstractImage, AbstractSlice, CompanionFile, ImageInstance
from resolvers.abstract_image.rows import (
    _PLANE_ORDER,
    IMAGE_FIELDS,
    MACRO_FORMATS,
    SLICE_TABLE,
    VIRTUAL_STACK,
    abstract_images_by_id,
    abstract_images_by_uploaded_file,
    abstract_slices_by_id,
    slices_by_abstract_image,
)
from resolvers.abstract_image.rules import _readable_images, require_storage_of_file
from resolvers.acl import READ, require
from resolvers.context import Context
from resolvers.errors import InvalidInput, NotFound
from resolvers.listing import Filter, Page, apply_filters, apply_sort, fetch_page
from resolvers.pixels import (
    ImageServerRequest,
    PixelArgs,
    PixelTarget,
    available_image_servers,
    image_server_request,
    pixel_url,
)
from resolvers.project import project_access
from resolvers.storage import uploaded_files_by_id
from resolvers.user import users_by_id

__all__ = [
    "abstract_image_request",
    "abstract_slice_request",
    "apparent_channels",
    "dimensions",
    "get_abstract_image",
    "get_abstract_image_uploader",
    "get_abstract_slice",
    "get_abstract_slice_uploader",
    "image_file",
    "image_server_urls",
    "image_target_of",
    "image_uploader",
    "is_virtual",
    "list_abstract_images",
    "list_abstract_slices",
    "macro_url",
    "slice_path",
    "slice_rank",
    "zoom_levels",
]


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
    """How many times the image halves, rounding up as core and PIMS do (a 513-px image: 2),
    until it fits one tile; 1 when a size is unknown."""
    from imaging.pyramid import zoom_levels as halvings

    return halvings(image.width, image.height, image.tile_size or 256)


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
    from imaging.relay import image_path

    return [f"{server.url.rstrip('/')}/{image_path(upload.filename)}"]


# --- abstract images -------------------------------------------------------------------------


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


async def image_target(ctx: Context, image: Any, plane: tuple[int, int, int] = (0, 0, 0),
                       file_path: str | None = None) -> PixelTarget:  # fmt: skip
    """What a render needs of an abstract image (and one plane of it)."""
    if file_path is None:
        upload = await image_file(ctx, image)
        file_path = None if upload is None else upload.filename
    return PixelTarget(file_path, image.width, image.height, plane, image.original_filename,
                       channels=image.channels)  # fmt: skip


async def image_target_of(
    ctx: Context, image_id: int, plane: tuple[int, int, int], file_path: str | None,
    filename: str | None = None, geometry: str | None = None,
) -> PixelTarget:  # fmt: skip
    """What a render needs of the abstract image `image_id` (already allowed by the caller's
    checks), for a plane stored in `file_path`."""
    image = await ctx.loader(abstract_images_by_id).load(image_id)
    if image is None:
        return PixelTarget(file_path, None, None, plane, filename, geometry)
    return PixelTarget(file_path, image.width, image.height, plane, filename, geometry,
                       image.channels)  # fmt: skip


async def abstract_image_request(ctx: Context, image: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of a readable image."""
    target = await image_target(ctx, image)
    return await image_server_request(ctx, "AbstractImage", image.id, target, args)


# --- abstract slices -------------------------------------------------------------------------


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


async def abstract_slice_request(ctx: Context, piece: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of a readable slice."""
    plane = (piece.channel, piece.z_stack, piece.time)
    target = await image_target_of(ctx, piece.image_id, plane, await slice_path(ctx, piece))
    return await image_server_request(ctx, "AbstractSlice", piece.id, target, args)
