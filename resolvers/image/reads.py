"""What the schema calls to read image instances and slice instances: single rows, their
planes and neighbours, links, the caller's last opened images, listings and bounds, and the
image-server requests behind pixel endpoints, each once the caller may have it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, literal, select, true

from resolvers.abstract_image import abstract_slices_by_id, get_abstract_image, image_target_of
from resolvers.abstract_image import macro_url as abstract_macro_url
from resolvers.acl import entries_of
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.image import rows
from resolvers.image.rows import (
    _II,
    BOUNDED,
    DEFAULT_LAST_OPENED,
    IMAGE_FROM,
    LISTED,
    ImageQuery,
    ImageRow,
    _filtered,
    _images,
    _ordering,
    image_instances_by_id,
    images_by_project,
    neighbours_by_image,
    slice_instances_by_id,
    slices_by_image_instance,
)
from resolvers.image.rules import _hide_file, names_hidden
from resolvers.listing import Filter, Page, fetch_page
from resolvers.pixels import (
    ImageServerRequest,
    PixelArgs,
    PixelKind,
    PixelTarget,
    image_server_request,
    pixel_url,
)
from resolvers.project import project_access, projects_by_id, visible_condition
from resolvers.viewer import Viewer

__all__ = [
    "FieldBounds",
    "OpenedImage",
    "get_image_instance",
    "get_slice_at",
    "get_slice_instance",
    "image_bounds",
    "image_instance_request",
    "last_opened_images",
    "list_abstract_image_instances",
    "list_project_images",
    "list_user_images",
    "macro_url",
    "neighbour_of",
    "reference_slice",
    "slice_instance_request",
    "slices_of",
    "thumb_url",
    "tile_url_template",
]


# --- reads -----------------------------------------------------------------------------------


async def _image(ctx: Context, image_id: int) -> Any:
    ctx.require_viewer()
    return await ctx.found(image_instances_by_id, image_id, "ImageInstance")


async def get_image_instance(ctx: Context, image_id: int) -> Any:
    """One image instance of a project the caller may read."""
    row = await _image(ctx, image_id)
    (await project_access(ctx, row.project_id)).require_read()
    return row


async def neighbour_of(ctx: Context, image: Any, *, older: bool) -> Any:
    """The image of the same project created just before (`older`) or after this one."""
    pair = await ctx.loader(neighbours_by_image).load(image.id)
    found = pair[0] if older else pair[1]
    return None if found is None else await ctx.loader(image_instances_by_id).load(found)


async def slices_of(ctx: Context, image: Any) -> list[Any]:
    return await ctx.loader(slices_by_image_instance).load(image.id)


async def reference_slice(ctx: Context, image: Any) -> Any:
    """The median plane: index ⌊n/2⌋ of the sorted distinct channels, z and times of the
    image's slices (§2.4). No slice is a 400; a missing median plane a 404."""
    slices = await slices_of(ctx, image)
    if not slices:
        raise InvalidInput(f"ImageInstance {image.id} has no slice")
    planes = [sorted({getattr(s, axis) for s in slices}) for axis in ("channel", "z_stack", "time")]
    c, z, t = (values[len(values) // 2] for values in planes)
    for row in slices:
        if (row.channel, row.z_stack, row.time) == (c, z, t):
            return row
    raise NotFound("SliceInstance", f"{image.id}/{c}/{z}/{t}", "image/c/z/t")


async def get_slice_instance(ctx: Context, slice_id: int) -> Any:
    """One slice instance of a project the caller may read."""
    ctx.require_viewer()
    row = await ctx.found(slice_instances_by_id, slice_id, "SliceInstance")
    (await project_access(ctx, row.project_id)).require_read()
    return row


async def get_slice_at(ctx: Context, image_id: int, channel: int, z_stack: int, time: int) -> Any:
    """The slice instance of an image at (c, z, t); 404 when it has none there."""
    image = await get_image_instance(ctx, image_id)
    for row in await slices_of(ctx, image):
        if (row.channel, row.z_stack, row.time) == (channel, z_stack, time):
            return row
    key = f"{image_id}/{channel}/{z_stack}/{time}"
    raise NotFound("SliceInstance", key, "image/channel/zStack/time")


def thumb_url(
    ctx: Context, image_id: int, max_size: int | None, resource: str = "imageinstance"
) -> str:
    """The absolute URL of an instance's thumbnail (images-annotations.md §0), or of a slice
    instance's (`resource` "sliceinstance")."""
    tail = "thumb.png" if max_size is None else f"thumb.png?maxSize={max_size}"
    return pixel_url(ctx, resource, image_id, tail)


def tile_url_template(ctx: Context, slice_id: int) -> str:
    """The URL of a slice instance's normalized tiles with OpenLayers' `{z}`, `{x}`, `{y}`
    placeholders, as the web viewer asks for them (PIXELS.md §2)."""
    return pixel_url(ctx, "sliceinstance", slice_id, "normalized-tile/zoom/{z}/tx/{x}/ty/{y}.jpg")


def macro_url(ctx: Context, row: ImageRow) -> str | None:
    """The macro image's URL; null for a known format that carries none (§2.3, §2.6)."""
    return abstract_macro_url(ctx, "imageinstance", row.id, row.content_type)


# --- consultations (activity) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenedImage:
    """An image in the caller's "last opened" list, with when they opened it."""

    image: Any
    date: datetime


async def last_opened_images(ctx: Context, limit: int | None = None) -> list[OpenedImage]:
    """The images the caller opened most recently (default 5), newest first, skipping those
    they can no longer read (§2.6)."""
    viewer = ctx.require_viewer()
    wanted = DEFAULT_LAST_OPENED if limit is None else limit
    if wanted < 0:
        raise InvalidInput("max must not be negative")
    # read through `rows`: a source plugged in there at run time (a test does) counts here too
    if not rows.CONSULTATION_SOURCES or wanted == 0:
        return []
    if ctx.activity is not None:
        await ctx.activity.settle()  # consultations just posted are in the list
    seen = rows._consultations(viewer.id)
    # the images the viewer may still read are chosen in SQL, before the limit: checking each
    # one's project afterwards cost a statement per project and returned fewer than asked
    stmt = select(seen.c.image_id, func.max(seen.c.date).label("date"))
    if not viewer.is_admin:
        readable = select(_II.c.id).where(_II.c.project_id.in_(entries_of(viewer.id)))
        stmt = stmt.where(seen.c.image_id.in_(readable))
    stmt = (
        stmt.group_by(seen.c.image_id)
        .order_by(func.max(seen.c.date).desc(), seen.c.image_id.desc())
        .limit(wanted)
    )
    async with ctx.db.read() as conn:
        opened = (await conn.execute(stmt)).all()
    images = await ctx.loader(image_instances_by_id).load_many([row.image_id for row in opened])
    return [OpenedImage(image, row.date)
            for row, image in zip(opened, images, strict=True) if image is not None]  # fmt: skip


# --- listings --------------------------------------------------------------------------------


async def list_project_images(
    ctx: Context,
    project_id: int,
    *,
    limit: int | None,
    offset: int = 0,
    sort: str | None = None,
    order: str | None = None,
    filters: Sequence[Filter] = (),
    project: Any = None,
) -> Page[Any]:
    """A page of a project's images (READ on it), newest first by default.

    Args:
        project: the project's row when the caller already holds it (the graph's parent).
    """
    if project is not None:
        ctx.loader(projects_by_id).prime(project_id, project)
    access = (await project_access(ctx, project_id)).require_read()
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInput("max and offset must not be negative")
    key = ImageQuery(project_id, access.is_manager, ctx.page_limit(limit), offset, sort, order,
                     tuple(filters))  # fmt: skip
    # bad sorts and filter values are this caller's errors: found before any batching
    _ordering(sort, order)
    _filtered(select(literal(1)), filters, false())
    return await ctx.loader(images_by_project).load(key)


def _managed_by(viewer: Viewer) -> Any:
    """Condition on an image row: the viewer manages its project."""
    if viewer.is_admin:
        return true()
    return _II.c.project_id.in_(entries_of(viewer.id, managed=True))


async def _page(
    ctx: Context, stmt: Any, limit: int | None, offset: int, sort: str | None, order: str | None,
    filters: Sequence[Filter],
) -> Page[Any]:  # fmt: skip
    viewer = ctx.require_viewer()
    stmt = _filtered(stmt, filters, _managed_by(viewer)).order_by(*_ordering(sort, order))
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def list_user_images(
    ctx: Context,
    user_id: int,
    *,
    limit: int | None,
    offset: int = 0,
    sort: str | None = None,
    order: str | None = None,
    filters: Sequence[Filter] = (),
) -> Page[Any]:
    """Every image of every project `user_id` may read: only for yourself (§2.6)."""
    viewer = ctx.require_viewer()
    if user_id not in (0, viewer.id):
        raise Forbidden("You may only list your own images")
    stmt = _images().where(visible_condition(None if viewer.is_admin else viewer.id))
    return await _page(ctx, stmt, limit, offset, sort, order, filters)


async def list_abstract_image_instances(
    ctx: Context, abstract_image_id: int, *, limit: int | None, offset: int = 0
) -> Page[Any]:
    """The instances of an abstract image (READ on its storage) in the projects the caller
    may read, newest first."""
    viewer = ctx.require_viewer()
    await get_abstract_image(ctx, abstract_image_id)
    stmt = _images().where(
        _II.c.base_image_id == abstract_image_id,
        visible_condition(None if viewer.is_admin else viewer.id),
    )
    return await _page(ctx, stmt, limit, offset, None, None, ())


@dataclass(frozen=True, slots=True)
class FieldBounds:
    """The smallest and largest value of a field over a project's images, and for a few
    fields every distinct value (the web UI builds its filters with them)."""

    min: Any
    max: Any
    values: list[Any] | None = None


async def image_bounds(ctx: Context, project_id: int) -> dict[str, FieldBounds]:
    """Min, max (and distinct values for a few fields) over a project's images; one SELECT."""
    (await project_access(ctx, project_id)).require_read()
    aggregates: list[Any] = []
    for key, column in BOUNDED.items():
        aggregates += [func.min(column), func.max(column)]
        if key in LISTED:
            aggregates.append(func.array_agg(column.distinct()).filter(column.is_not(None)))
    stmt = select(*aggregates).select_from(IMAGE_FROM).where(_II.c.project_id == project_id)
    async with ctx.db.read() as conn:
        row = list((await conn.execute(stmt)).one())
    out: dict[str, FieldBounds] = {}
    for key in BOUNDED:
        low, high = row.pop(0), row.pop(0)
        values = sorted(row.pop(0) or ()) if key in LISTED else None
        out[key] = FieldBounds(low, high, values)
    return out


# --- pixels ----------------------------------------------------------------------------------


async def image_instance_request(ctx: Context, image: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of an image instance (§2.10), once the
    caller may have it (403): READ on the project; in a blind project only managers get its
    associated images and metadata (§2.6); a download needs the project's
    `areImagesDownloadable` or a manager (core.md §7.4, the choice §2.10 recommends)."""
    access = (await project_access(ctx, image.project_id)).require_read()
    hidden = await names_hidden(ctx, image)
    if args.kind in (PixelKind.ASSOCIATED, PixelKind.METADATA) and hidden:
        raise Forbidden("In a blind project only its managers see an image's labels and metadata")
    if args.kind is PixelKind.DOWNLOAD and not (
        access.row.are_images_downloadable or access.is_manager
    ):
        raise Forbidden("The project does not allow its images to be downloaded")
    _hide_file(ctx, hidden)
    target = PixelTarget(image.file_path, image.width, image.height, (0, 0, 0),
                         None if hidden else image.original_filename,
                         channels=image.channels)  # fmt: skip
    return await image_server_request(ctx, "ImageInstance", image.id, target, args)


async def slice_instance_request(ctx: Context, piece: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of a slice instance (READ on its
    project)."""
    (await project_access(ctx, piece.project_id)).require_read()
    _hide_file(ctx, await names_hidden(ctx, piece))
    target = await slice_target(ctx, piece)
    return await image_server_request(ctx, "SliceInstance", piece.id, target, args)


async def slice_target(ctx: Context, piece: Any, geometry: str | None = None) -> PixelTarget:
    """What a render needs of a slice instance the caller may read (and of an annotation on
    it: its WKT)."""
    base = await ctx.loader(abstract_slices_by_id).load(piece.base_slice_id)
    image_id = None if base is None else base.image_id
    plane = (piece.channel, piece.z_stack, piece.time)
    if image_id is None:
        return PixelTarget(piece.file_path, None, None, plane, None, geometry)
    return await image_target_of(ctx, image_id, plane, piece.file_path, None, geometry)
