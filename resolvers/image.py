"""Image instances and slice instances: abstract images placed in projects (contract
images-annotations.md §2.6–§2.7, §2.10, §9.4–§9.5).

An instance is read together with what its JSON copies from elsewhere: one SELECT joins the
instance to its abstract image, the abstract image's uploaded file and the project, so a row
carries its dimensions, format, file path and the project's blind flag (`ImageRow`). Slice
instances are read the same way with their base slice (`SliceRow`). Listings page in SQL; the
project listing is one windowed statement for any number of projects, so `projects { images }`
costs the same whatever the number of projects.

Rights come from the project (READ to read; the read-only and owner-or-mode checks of core.md
§7.4 to write, with the instance's creator as owner) and, on create, from the abstract image's
storage. Blind mode is a permission rule and lives here: in a blind project the names become
the base image's id, and viewers who do not manage the project see no file name at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol, cast

from sqlalchemy import (
    BigInteger,
    Row,
    String,
    and_,
    case,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection, Lease
from db.models import (
    AbstractImage,
    AbstractSlice,
    ImageInstance,
    Project,
    SecUser,
    SliceInstance,
    UploadedFile,
)
from resolvers.abstract_image import VIRTUAL_STACK, abstract_images_by_id, get_abstract_image
from resolvers.abstract_image import macro_url as abstract_macro_url
from resolvers.acl import ADMINISTRATION, allows, entries_of, viewer_mask
from resolvers.annotation_upkeep import (
    image_is_annotated,
    record_annotations,
    remeasure_annotations,
)
from resolvers.command import CommandLog, Spec, register, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound, NotSupported
from resolvers.listing import (
    Filter,
    Page,
    apply_filters,
    fetch_page,
    order_clauses,
    pages_by_parent,
)
from resolvers.metadata_target import IMAGE_INSTANCE_CLASS, SLICE_INSTANCE_CLASS
from resolvers.pixels import (
    ImageServerRequest,
    PixelArgs,
    PixelKind,
    image_server_request,
    pixel_url,
)
from resolvers.project import ProjectAccess, project_access, projects_by_id, visible_condition
from resolvers.tag import record_tags, tag_filter
from resolvers.viewer import Viewer

__all__ = [
    "CONSULTATION_SOURCES",
    "IMAGE_FIELDS",
    "IMAGE_INSTANCE",
    "SLICE_INSTANCE",
    "Calibration",
    "FieldBounds",
    "ImageInstanceFields",
    "ImageNames",
    "ImageQuery",
    "ImageRow",
    "OpenedImage",
    "ReviewState",
    "SliceInstanceFields",
    "SliceRow",
    "create_image_instance",
    "create_slice_instance",
    "delete_image_instance",
    "delete_slice_instance",
    "effective_calibration",
    "get_image_instance",
    "get_slice_at",
    "get_slice_instance",
    "image_bounds",
    "image_instance_request",
    "image_instances_by_id",
    "image_names",
    "images_by_project",
    "last_opened_by_image",
    "last_opened_images",
    "list_abstract_image_instances",
    "list_project_images",
    "list_user_images",
    "macro_url",
    "names_hidden",
    "neighbour_of",
    "reference_slice",
    "review_state",
    "slice_instance_request",
    "slice_instances_by_id",
    "slice_path",
    "slices_by_image_instance",
    "slices_of",
    "stored_calibration",
    "thumb_url",
    "update_image_instance",
    "update_slice_instance",
    "viewer_manages",
]

IMAGE_TABLE: Final = table_of(ImageInstance)
SLICE_TABLE: Final = table_of(SliceInstance)
ABSTRACT_TABLE: Final = table_of(AbstractImage)
BASE_SLICE_TABLE: Final = table_of(AbstractSlice)
FILE_TABLE: Final = table_of(UploadedFile)
PROJECT_TABLE: Final = table_of(Project)

MAX_NAME: Final = 255
DEFAULT_LAST_OPENED: Final = 5


# --- specs: how commands of these domains are replayed ---------------------------------------


async def _may_edit_image(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode on the image's project, with the image's creator as owner (§6); a replay
    that would move an annotated image is refused like the edit."""
    (await project_access(ctx, row["project_id"])).require_writable().require_owner_or_mode(
        row["user_id"]
    )
    async with ctx.db.transaction() as conn:
        current = await conn.scalar(select(_II.c.project_id).where(_II.c.id == row["id"]))
        if current is not None and current != row["project_id"]:
            await _refuse_annotated_move(conn, row["id"])


async def _may_edit_slice(ctx: Context, row: Mapping[str, Any]) -> None:
    (await project_access(ctx, row["project_id"])).require_writable()


async def _refuse_annotated_move(conn: Connection, image_id: int) -> None:
    if await image_is_annotated(conn, image_id):
        raise InvalidInput(
            f"Image instance {image_id} holds annotations or tracks: it stays in its project"
        )


async def _remeasure(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A replayed image edit may change its calibration back: its annotations are measured
    again."""
    await remeasure_annotations(conn, [row["id"] for row in rows])


IMAGE_INSTANCE: Final = register(
    Spec("ImageInstance", ImageInstance, lambda row: f"{row['id']} ({row['base_image_id']})",
         project_of=lambda row: row["project_id"], authorize=_may_edit_image,
         counters=("count_image_annotations", "count_image_reviewed_annotations"),
         after_replay=_remeasure)
)  # fmt: skip
SLICE_INSTANCE: Final = register(
    Spec("SliceInstance", SliceInstance, lambda row: str(row["id"]),
         project_of=lambda row: row["project_id"], authorize=_may_edit_slice)
)  # fmt: skip


# --- rows ------------------------------------------------------------------------------------


class ImageRow(Protocol):
    """An image instance joined to what its JSON shows (instance columns keep their names;
    the abstract image's calibration is `base_*`)."""

    id: int
    created: datetime
    updated: datetime
    base_image_id: int
    project_id: int
    user_id: int | None
    instance_filename: str | None
    count_image_annotations: int
    count_image_reviewed_annotations: int
    review_start: datetime | None
    review_stop: datetime | None
    review_user_id: int | None
    magnification: int | None
    physical_size_x: float | None
    physical_size_y: float | None
    physical_size_z: float | None
    fps: float | None
    original_filename: str
    uploaded_file_id: int | None
    width: int | None
    height: int | None
    depth: int
    duration: int
    channels: int
    sample_per_pixel: int
    bit_per_sample: int
    colorspace: str | None
    tile_size: int
    base_magnification: int | None
    base_physical_size_x: float | None
    base_physical_size_y: float | None
    base_physical_size_z: float | None
    base_fps: float | None
    file_path: str | None
    content_type: str | None
    blind_mode: bool
    project_name: str


class SliceRow(Protocol):
    """A slice instance joined to its base slice and what its JSON shows."""

    id: int
    created: datetime
    updated: datetime
    base_slice_id: int
    image_id: int
    project_id: int
    uploaded_file_id: int | None
    mime: str | None
    channel: int
    z_stack: int
    time: int
    channel_name: str | None
    channel_color: str | None
    z_name: str | None
    rank: int
    file_path: str | None
    blind_mode: bool
    image_user_id: int | None


_II = IMAGE_TABLE
_AI = ABSTRACT_TABLE
_UF = FILE_TABLE
_P = PROJECT_TABLE

IMAGE_COLUMNS: Final = (
    *_II.c,
    _AI.c.original_filename, _AI.c.uploaded_file_id, _AI.c.width, _AI.c.height, _AI.c.depth,
    _AI.c.duration, _AI.c.channels, _AI.c.sample_per_pixel, _AI.c.bit_per_sample,
    _AI.c.colorspace, _AI.c.tile_size,
    _AI.c.magnification.label("base_magnification"),
    _AI.c.physical_size_x.label("base_physical_size_x"),
    _AI.c.physical_size_y.label("base_physical_size_y"),
    _AI.c.physical_size_z.label("base_physical_size_z"),
    _AI.c.fps.label("base_fps"),
    _UF.c.filename.label("file_path"), _UF.c.content_type,
    _P.c.blind_mode, _P.c.name.label("project_name"),
)  # fmt: skip
IMAGE_FROM: Final = (
    _II.join(_AI, _AI.c.id == _II.c.base_image_id)
    .join(_P, _P.c.id == _II.c.project_id)
    .outerjoin(_UF, _UF.c.id == _AI.c.uploaded_file_id)
)

_SI = SLICE_TABLE
_AS = BASE_SLICE_TABLE
_SLICE_FILE = FILE_TABLE.alias("slice_file")
_IMAGE_FILE = FILE_TABLE.alias("image_file")
_SLICE_IMAGE = ABSTRACT_TABLE.alias("slice_image")

SLICE_COLUMNS: Final = (
    *_SI.c,
    _AS.c.uploaded_file_id, _AS.c.mime, _AS.c.channel, _AS.c.z_stack, _AS.c.time,
    _AS.c.channel_name, _AS.c.channel_color, _AS.c.z_name,
    (_AS.c.channel + _SLICE_IMAGE.c.channels * (_AS.c.z_stack + _SLICE_IMAGE.c.depth * _AS.c.time))
    .label("rank"),
    case((func.upper(_IMAGE_FILE.c.content_type) == VIRTUAL_STACK, _IMAGE_FILE.c.filename),
         else_=_SLICE_FILE.c.filename).label("file_path"),
    _P.c.blind_mode, _II.c.user_id.label("image_user_id"),
)  # fmt: skip
SLICE_FROM: Final = (
    _SI.join(_AS, _AS.c.id == _SI.c.base_slice_id)
    .join(_SLICE_IMAGE, _SLICE_IMAGE.c.id == _AS.c.image_id)
    .join(_II, _II.c.id == _SI.c.image_id)
    .join(_P, _P.c.id == _SI.c.project_id)
    .outerjoin(_SLICE_FILE, _SLICE_FILE.c.id == _AS.c.uploaded_file_id)
    .outerjoin(_IMAGE_FILE, _IMAGE_FILE.c.id == _SLICE_IMAGE.c.uploaded_file_id)
)
SLICE_ORDER: Final = (_AS.c.channel, _AS.c.z_stack, _AS.c.time, _SI.c.id)


def _images() -> Any:
    return select(*IMAGE_COLUMNS).select_from(IMAGE_FROM)


def _slices() -> Any:
    return select(*SLICE_COLUMNS).select_from(SLICE_FROM)


# --- loaders ---------------------------------------------------------------------------------


def _by_id(rows: Sequence[Row[Any]], ids: list[int]) -> list[Row[Any] | None]:
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def image_instances_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Image instances (as `ImageRow`s) by id, one SELECT for the batch."""
    async with db.read() as conn:
        rows = (await conn.execute(_images().where(_II.c.id.in_(ids)))).all()
    return _by_id(rows, ids)


async def slice_instances_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Slice instances (as `SliceRow`s) by id, one SELECT for the batch."""
    async with db.read() as conn:
        rows = (await conn.execute(_slices().where(_SI.c.id.in_(ids)))).all()
    return _by_id(rows, ids)


async def slices_by_image_instance(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The slice instances of each image instance, by channel, z, time (slices without an
    uploaded file included, unlike Cytomine, §2.7)."""
    stmt = _slices().where(_SI.c.image_id.in_(ids)).order_by(*SLICE_ORDER)
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.image_id].append(row)
    return [grouped[key] for key in ids]


async def neighbours_by_image(db: Lease, ids: list[int]) -> list[tuple[int | None, int | None]]:
    """For each image instance, the ids of the instance of its project created just before it
    and just after it (ties by id); one SELECT for the batch."""
    me = _II.alias("me")

    def neighbour(before: bool) -> Any:
        other = _II.alias("older" if before else "newer")
        mine, theirs = tuple_(me.c.created, me.c.id), tuple_(other.c.created, other.c.id)
        ordering = (other.c.created.desc(), other.c.id.desc()) if before else (
            other.c.created.asc(), other.c.id.asc())  # fmt: skip
        return (
            select(other.c.id)
            .where(
                other.c.project_id == me.c.project_id, theirs < mine if before else theirs > mine
            )
            .order_by(*ordering)
            .limit(1)
            .scalar_subquery()
        )

    stmt = select(me.c.id, neighbour(True), neighbour(False)).where(me.c.id.in_(ids))
    async with db.read() as conn:
        found = {key: (older, newer) for key, older, newer in await conn.execute(stmt)}
    return [found.get(key, (None, None)) for key in ids]


# --- consultations (activity) ----------------------------------------------------------------

#: Where "when did this user open this image" comes from: each source builds, for a user id,
#: a SELECT of (`image_id`, `date`) rows. Image consultations are activity, which is not built
#: yet; the activity area adds its source here, and "last opened" lists and `lastActivity`
#: read every source. With none, nobody has opened anything.
CONSULTATION_SOURCES: Final[tuple[Callable[[int], Any], ...]] = ()


def _consultations(user_id: int) -> Any:
    """All sources' consultations of one user, as one subquery (image_id, date)."""
    return union_all(*(source(user_id) for source in CONSULTATION_SOURCES)).subquery()


async def last_opened_by_image(db: Lease, keys: list[tuple[int, int]]) -> list[datetime | None]:
    """When each (user id, image id) was last opened by that user (None: never); one SELECT
    per distinct user, none without a consultation source."""
    if not CONSULTATION_SOURCES:
        return [None] * len(keys)
    by_user: defaultdict[int, set[int]] = defaultdict(set)
    for user_id, image_id in keys:
        by_user[user_id].add(image_id)
    found: dict[tuple[int, int], datetime] = {}
    async with db.read() as conn:
        for user_id, image_ids in by_user.items():
            seen = _consultations(user_id)
            stmt = (
                select(seen.c.image_id, func.max(seen.c.date))
                .where(seen.c.image_id.in_(image_ids))
                .group_by(seen.c.image_id)
            )
            for image_id, date in await conn.execute(stmt):
                found[(user_id, image_id)] = date
    return [found.get(key) for key in keys]


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
    if not CONSULTATION_SOURCES or wanted == 0:
        return []
    seen = _consultations(viewer.id)
    stmt = (
        select(seen.c.image_id, func.max(seen.c.date).label("date"))
        .group_by(seen.c.image_id)
        .order_by(func.max(seen.c.date).desc(), seen.c.image_id.desc())
        .limit(wanted)
    )
    async with ctx.db.read() as conn:
        opened = (await conn.execute(stmt)).all()
    images = await ctx.loader(image_instances_by_id).load_many([row.image_id for row in opened])
    out: list[OpenedImage] = []
    for row, image in zip(opened, images, strict=True):
        if image is not None and (await project_access(ctx, image.project_id)).is_member:
            out.append(OpenedImage(image, row.date))
    return out


# --- what a row shows --------------------------------------------------------------------------


async def viewer_manages(ctx: Context, project_id: int) -> bool:
    """Whether the caller manages the project (or is an admin-by-now)."""
    viewer = ctx.require_viewer()
    return viewer.is_admin or allows(await viewer_mask(ctx, project_id), ADMINISTRATION)


async def names_hidden(ctx: Context, row: ImageRow | SliceRow) -> bool:
    """True when the caller may not see the file names of an image or slice of a blind project:
    everyone but its managers (and admins)."""
    return bool(row.blind_mode) and not await viewer_manages(ctx, row.project_id)


@dataclass(frozen=True, slots=True)
class ImageNames:
    """The names an image shows to one viewer (blind mode applied)."""

    instance_filename: str | None
    original_filename: str | None
    blinded_name: str | None
    filename: str | None
    path: str | None


async def image_names(ctx: Context, row: ImageRow) -> ImageNames:
    """Blind projects show the base image's id instead of names, to everybody; who does not
    manage the project sees no file name at all (§2.6)."""
    if not row.blind_mode:
        shown = row.instance_filename or row.original_filename
        return ImageNames(shown, row.original_filename, None, row.original_filename, row.file_path)
    blinded = str(row.base_image_id)
    if await names_hidden(ctx, row):
        return ImageNames(None, None, blinded, None, None)
    return ImageNames(blinded, blinded, blinded, row.original_filename, row.file_path)


async def slice_path(ctx: Context, row: SliceRow) -> str | None:
    """A slice's file path, hidden like its image's names."""
    return None if await names_hidden(ctx, row) else row.file_path


@dataclass(frozen=True, slots=True)
class Calibration:
    """Physical sizes (µm per pixel), frame rate and magnification of an image."""

    physical_size_x: float | None
    physical_size_y: float | None
    physical_size_z: float | None
    fps: float | None
    magnification: int | None


def stored_calibration(row: ImageRow) -> Calibration:
    """The instance's own overrides (null: inherited)."""
    return Calibration(row.physical_size_x, row.physical_size_y, row.physical_size_z, row.fps,
                       row.magnification)  # fmt: skip


def effective_calibration(row: ImageRow) -> Calibration:
    """The instance's value when set and non-zero, else the abstract image's (§2.6)."""
    return Calibration(
        row.physical_size_x or row.base_physical_size_x,
        row.physical_size_y or row.base_physical_size_y,
        row.physical_size_z or row.base_physical_size_z,
        row.fps or row.base_fps,
        row.magnification or row.base_magnification,
    )


ReviewState = Literal["NONE", "IN_REVIEW", "VALIDATED"]


def review_state(row: ImageRow) -> ReviewState:
    """Validated once stopped; in review while started by a reviewer and not stopped."""
    if row.review_stop is not None:
        return "VALIDATED"
    if row.review_start is not None and row.review_user_id is not None:
        return "IN_REVIEW"
    return "NONE"


def thumb_url(ctx: Context, image_id: int, max_size: int | None) -> str:
    """The absolute URL of an instance's thumbnail (images-annotations.md §0)."""
    tail = "thumb.png" if max_size is None else f"thumb.png?maxSize={max_size}"
    return pixel_url(ctx, "imageinstance", image_id, tail)


def macro_url(ctx: Context, row: ImageRow) -> str | None:
    """The macro image's URL; null for a known format that carries none (§2.3, §2.6)."""
    return abstract_macro_url(ctx, "imageinstance", row.id, row.content_type)


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


# --- listings --------------------------------------------------------------------------------

_BLIND_ID: Final = _II.c.base_image_id.cast(String)
#: The name a listing shows, sorts and filters on: the base image's id in a blind project,
#: else the instance's name, else the abstract image's (§2.6).
DISPLAY_NAME: Final = case(
    (_P.c.blind_mode, _BLIND_ID),
    else_=func.coalesce(_II.c.instance_filename, _AI.c.original_filename),
)


def _blinded(column: Any) -> Any:
    """A file-name column, replaced by the base image's id in blind projects."""
    return case((_P.c.blind_mode, _BLIND_ID), else_=column)


#: What image listings sort and filter on, by Cytomine's names: instance fields, the counters
#: and their aliases, abstract-image and uploaded-file fields (§2.6). Calibration fields are
#: the instance's stored overrides, as in Cytomine.
IMAGE_FIELDS: Final[Mapping[str, Any]] = {
    "id": _II.c.id,
    "created": _II.c.created,
    "updated": _II.c.updated,
    "baseImage": _II.c.base_image_id,
    "project": _II.c.project_id,
    "user": _II.c.user_id,
    "instanceFilename": DISPLAY_NAME,
    "name": DISPLAY_NAME,
    "blindedName": _II.c.base_image_id,
    "reviewStart": _II.c.review_start,
    "reviewStop": _II.c.review_stop,
    "reviewUser": _II.c.review_user_id,
    "magnification": _II.c.magnification,
    "physicalSizeX": _II.c.physical_size_x,
    "physicalSizeY": _II.c.physical_size_y,
    "physicalSizeZ": _II.c.physical_size_z,
    "fps": _II.c.fps,
    "countImageAnnotations": _II.c.count_image_annotations,
    "numberOfAnnotations": _II.c.count_image_annotations,
    "countImageJobAnnotations": literal(0, BigInteger),
    "numberOfJobAnnotations": literal(0, BigInteger),
    "countImageReviewedAnnotations": _II.c.count_image_reviewed_annotations,
    "numberOfReviewedAnnotations": _II.c.count_image_reviewed_annotations,
    "originalFilename": _blinded(_AI.c.original_filename),
    "filename": _blinded(_AI.c.original_filename),
    "uploadedFile": _AI.c.uploaded_file_id,
    "width": _AI.c.width,
    "height": _AI.c.height,
    "depth": _AI.c.depth,
    "duration": _AI.c.duration,
    "channels": _AI.c.channels,
    "samplePerPixel": _AI.c.sample_per_pixel,
    "bitPerSample": _AI.c.bit_per_sample,
    "colorspace": _AI.c.colorspace,
    "tileSize": _AI.c.tile_size,
    "path": _blinded(_UF.c.filename),
    "contentType": _UF.c.content_type,
    "format": _UF.c.content_type,
    "size": _UF.c.size,
    "ext": _UF.c.ext,
    "status": _UF.c.status,
}
DEFAULT_SORT: Final = "created"
#: The filter-only `tag` field: the ids of the image's tags.
IMAGE_TAGS: Final = tag_filter(_II.c.id, IMAGE_INSTANCE_CLASS)


def _condition(item: Filter, column: Any) -> Any:
    """One filter's SQL condition on `column` (None for an operator Cytomine ignores)."""
    return apply_filters(select(literal(1)), [item], {item.field: column}).whereclause


def _filtered(stmt: Any, filters: Sequence[Filter], managed: Any) -> Any:
    """AND the filters. `blindedName` matches the base image's id as text, and for managers
    (`managed`: a condition on the row's project) the real name too; `tag` the ids of the
    image's tags (§2.6). Filters on image groups are ignored: they do not exist here yet."""
    named = [f for f in filters if f.field != "blindedName"]
    stmt = apply_filters(stmt, named, {**IMAGE_FIELDS, "tag": IMAGE_TAGS})
    for item in filters:
        if item.field != "blindedName":
            continue
        by_id = _condition(item, _BLIND_ID)
        by_name = _condition(item, func.coalesce(_II.c.instance_filename, _AI.c.original_filename))
        if by_id is not None:
            stmt = stmt.where(or_(by_id, and_(managed, by_name)))
    return stmt


def _unsorted(field: str) -> NotSupported:
    return NotSupported(f"Sorting images on {field} is not supported")


def _ordering(sort: str | None, order: str | None) -> list[Any]:
    """ORDER BY of a listing, ties by id; an unknown field is 501, as in Cytomine (§2.6)."""
    return order_clauses(sort, order, IMAGE_FIELDS, default=DEFAULT_SORT, default_order="desc",
                         tie=_II.c.id, tie_follows=True, unknown=_unsorted)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImageQuery:
    """One page of one project's images; hashable, so it keys a DataLoader.

    `managed`: the caller manages the project (blind-mode name search, §2.6).
    """

    project_id: int
    managed: bool
    limit: int | None
    offset: int = 0
    sort: str | None = None
    order: str | None = None
    filters: tuple[Filter, ...] = ()


async def images_by_project(db: Lease, keys: list[ImageQuery]) -> list[Page[Any]]:
    """Pages of images of many projects in one windowed SELECT per distinct (page, sort,
    filters): each project's rows are ranked and counted in the same statement, and a project
    whose page is empty still sends its last row, so its total is known."""
    groups: defaultdict[tuple[Any, ...], list[ImageQuery]] = defaultdict(list)
    for key in keys:
        groups[(key.limit, key.offset, key.sort, key.order, key.filters)].append(key)
    pages: dict[ImageQuery, Page[Any]] = {}
    async with db.read() as conn:
        for (limit, offset, sort, order, filters), group in groups.items():
            project_ids = sorted({key.project_id for key in group})
            managed_ids = sorted({key.project_id for key in group if key.managed})
            managed = _II.c.project_id.in_(managed_ids) if managed_ids else false()
            stmt = _filtered(_images(), filters, managed)
            order_by = _ordering(sort, order)
            found = await pages_by_parent(
                conn, stmt, _II.c.project_id, order_by, project_ids, limit=limit,
                offset=offset,
            )  # fmt: skip
            for key in group:
                pages[key] = found[key.project_id]
    return [pages[key] for key in keys]


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


#: Fields of the bounds (§2.6); calibration is the stored override, as the filters read it.
BOUNDED: Final[Mapping[str, Any]] = {
    "created": _II.c.created,
    "updated": _II.c.updated,
    "reviewStart": _II.c.review_start,
    "reviewStop": _II.c.review_stop,
    "magnification": _II.c.magnification,
    "physicalSizeX": _II.c.physical_size_x,
    "physicalSizeY": _II.c.physical_size_y,
    "physicalSizeZ": _II.c.physical_size_z,
    "fps": _II.c.fps,
    "countImageAnnotations": _II.c.count_image_annotations,
    "countImageJobAnnotations": literal(0, BigInteger),
    "countImageReviewedAnnotations": _II.c.count_image_reviewed_annotations,
    "width": _AI.c.width,
    "height": _AI.c.height,
    "instanceFilename": DISPLAY_NAME,
    "format": _UF.c.content_type,
    "mimeType": _UF.c.content_type,
}
LISTED: Final = frozenset(("magnification", "physicalSizeX", "format", "mimeType"))


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


# --- image instance writes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageInstanceFields:
    """An image instance's writable fields; an update replaces them all (core.md §1.11).

    `resolution` is the legacy name of `physical_size_x` (§2.3).
    """

    base_image: int | None = None
    project: int | None = None
    instance_filename: str | None = None
    magnification: int | None = None
    physical_size_x: float | None = None
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    resolution: float | None = None
    fps: float | None = None
    review_start: datetime | None = None
    review_stop: datetime | None = None
    review_user: int | None = None


def _name(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_NAME:
        raise InvalidInput(f"Property instanceFilename is longer than {MAX_NAME} characters")
    return value


def _size(value: float | None, name: str) -> float | None:
    """A calibration value: absent or 0 means "inherit"; otherwise positive and finite."""
    if value is None or value == 0:
        return None
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"Property {name} must be a positive number")
    return float(value)


def _calibration(fields: ImageInstanceFields) -> Calibration:
    # `resolution` is only ever sent on purpose (nothing emits it), so it wins (as for
    # abstract images)
    physical_x = fields.physical_size_x if fields.resolution is None else fields.resolution
    magnification = fields.magnification
    if magnification is not None and magnification < 0:
        raise InvalidInput("Property magnification must be a positive number")
    return Calibration(
        _size(physical_x, "physicalSizeX"),
        _size(fields.physical_size_y, "physicalSizeY"),
        _size(fields.physical_size_z, "physicalSizeZ"),
        _size(fields.fps, "fps"),
        magnification or None,
    )


def _review(fields: ImageInstanceFields) -> dict[str, Any]:
    """The review columns; a reviewer needs a start and a start a reviewer, and a stop needs
    a start no later than it (§2.6). reviewStop is read from reviewStop (not reviewStart, the
    Java bug)."""
    start, stop, reviewer = fields.review_start, fields.review_stop, fields.review_user
    if reviewer is not None and start is None:
        raise InvalidInput("reviewUser is set but reviewStart is not")
    if start is not None and reviewer is None:
        raise InvalidInput("reviewStart is set but reviewUser is not")
    if stop is not None and start is None:
        raise InvalidInput("reviewStop is set but reviewStart is not")
    if stop is not None and start is not None and stop < start:
        raise InvalidInput("reviewStop is before reviewStart")
    return {"review_start": start, "review_stop": stop, "review_user_id": reviewer}


def _calibration_values(calibration: Calibration) -> dict[str, Any]:
    return {
        "physical_size_x": calibration.physical_size_x,
        "physical_size_y": calibration.physical_size_y,
        "physical_size_z": calibration.physical_size_z,
        "fps": calibration.fps,
        "magnification": calibration.magnification,
    }


async def _body_project(ctx: Context, project_id: int | None) -> ProjectAccess:
    """A project named in a body: required, and unknown is a 400 (core.md §5.2)."""
    if project_id is None:
        raise InvalidInput("Property project must be set")
    if await ctx.loader(projects_by_id).load(project_id) is None:
        raise InvalidInput(f"project was not found with id: {project_id}")
    return await project_access(ctx, project_id)


async def _readable_base_image(ctx: Context, image_id: int | None) -> Any:
    """The abstract image named in a body (400 when unknown), readable through its storage
    (the check images-annotations.md §2.6 recommends)."""
    if image_id is None:
        raise InvalidInput("Property baseImage must be set")
    if await ctx.loader(abstract_images_by_id).load(image_id) is None:
        raise InvalidInput(f"baseImage was not found with id: {image_id}")
    return await get_abstract_image(ctx, image_id)


async def _check_reviewer(conn: Connection, user_id: int | None) -> None:
    if user_id is None:
        return
    if (await conn.execute(select(SecUser.id).where(SecUser.id == user_id))).first() is None:
        raise InvalidInput(f"reviewUser was not found with id: {user_id}")


async def _image_in(conn: Connection, image_id: int) -> Row[Any]:
    """An image instance as an `ImageRow`, read inside a write's transaction."""
    return (await conn.execute(_images().where(_II.c.id == image_id))).one()


def _conflict(base_image_id: int, project_id: int) -> str:
    return f"Image {base_image_id} already exists in project {project_id}"


async def create_image_instance(ctx: Context, fields: ImageInstanceFields) -> Changed:
    """Add an abstract image to a project (§2.6): READ and the read-only check on the project,
    READ on the image's storage, user role. Each of the image's slices gets its slice instance
    in the same transaction; the project's image count follows (a trigger)."""
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
        image = await _image_in(conn, row.id)
    return Changed(image, command)


# Clients PUT back what they fetched (the python client does): a value equal to what the
# image shows keeps what is stored, so re-sending a fetched image changes nothing. An
# inherited calibration stays inherited and a blinded name is not stored as a name.


async def _name_on_update(ctx: Context, current: Any, incoming: str | None) -> str | None:
    """The stored name after a PUT; a viewer from whom names are hidden cannot rename."""
    shown = (await image_names(ctx, current)).instance_filename
    if await names_hidden(ctx, current) or (incoming is not None and incoming == shown):
        return cast("str | None", current.instance_filename)
    return _name(incoming)


def _calibration_on_update(current: Any, incoming: Calibration) -> dict[str, Any]:
    """The stored overrides after a PUT."""
    shown = effective_calibration(current)
    values = _calibration_values(incoming)
    for key, value in values.items():
        if value is not None and value == getattr(shown, key):
            values[key] = getattr(current, key)
    return values


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
    slice instances, annotations and tag associations go with it, recorded so undo restores
    them after the image."""
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
        await record_tags(conn, log, SLICE_INSTANCE_CLASS, [piece.id for piece in slices])
        await log.delete_many(SLICE_INSTANCE, slices)
        await record_tags(conn, log, IMAGE_INSTANCE_CLASS, [image_id])
        command = await log.delete(IMAGE_INSTANCE, row)
        await conn.execute(delete(SLICE_TABLE).where(_SI.c.image_id == image_id))
        await conn.execute(delete(IMAGE_TABLE).where(_II.c.id == image_id))
    return Changed(image, command)


# --- slice instance writes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SliceInstanceFields:
    """A slice instance's fields, all required (§2.7); an update replaces them."""

    base_slice: int | None = None
    image: int | None = None
    project: int | None = None


async def _slice_values(ctx: Context, fields: SliceInstanceFields) -> tuple[dict[str, Any], Any]:
    """Validated columns and the image: the base slice must be a plane of the image's abstract
    image and the project the image's project (400 otherwise); READ and the read-only check on
    the project."""
    for value, name in ((fields.base_slice, "baseSlice"), (fields.image, "image"),
                        (fields.project, "project")):  # fmt: skip
        if value is None:
            raise InvalidInput(f"Property {name} must be set")
    assert fields.base_slice is not None and fields.image is not None
    image = await ctx.loader(image_instances_by_id).load(fields.image)
    if image is None:
        raise InvalidInput(f"image was not found with id: {fields.image}")
    access = (await _body_project(ctx, fields.project)).require_writable()
    if image.project_id != access.row.id:
        raise InvalidInput(f"ImageInstance {image.id} is not in project {access.row.id}")
    async with ctx.db.read() as conn:
        found = await conn.execute(select(_AS.c.image_id).where(_AS.c.id == fields.base_slice))
        base = found.first()
    if base is None:
        raise InvalidInput(f"baseSlice was not found with id: {fields.base_slice}")
    if base.image_id != image.base_image_id:
        raise InvalidInput(f"AbstractSlice {fields.base_slice} is not a plane of image {image.id}")
    values = {
        "base_slice_id": fields.base_slice,
        "image_id": image.id,
        "project_id": image.project_id,
    }
    return values, image


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
        await record_tags(conn, log, SLICE_INSTANCE_CLASS, [slice_id])
        command = await log.delete(SLICE_INSTANCE, row)
        await conn.execute(delete(SLICE_TABLE).where(_SI.c.id == slice_id))
    return Changed(shown, command)


# --- pixels ----------------------------------------------------------------------------------


def _hide_file(ctx: Context, hidden: bool) -> None:
    """An image-server request names the file, so whoever may not see the project's file
    names gets it only through the REST bridge, which relays the pixels without showing it."""
    if hidden and not ctx.trusted:
        raise Forbidden("This project hides its file names from you: use the pixel URLs")


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
    return await image_server_request(ctx, "ImageInstance", image.id, image.file_path, args)


async def slice_instance_request(ctx: Context, piece: Any, args: PixelArgs) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of a slice instance (READ on its
    project)."""
    (await project_access(ctx, piece.project_id)).require_read()
    _hide_file(ctx, await names_hidden(ctx, piece))
    return await image_server_request(ctx, "SliceInstance", piece.id, piece.file_path, args)
