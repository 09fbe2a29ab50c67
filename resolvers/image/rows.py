"""How image instances and slice instances are read: tables, joined rows, batch loaders
and the columns listings sort and filter on.

An instance is read together with what its JSON copies from elsewhere: one SELECT joins the
instance to its abstract image, the abstract image's uploaded file and the project, so a row
carries its dimensions, format, file path and the project's blind flag (`ImageRow`). Slice
instances are read the same way with their base slice (`SliceRow`). Listings page in SQL; the
project listing is one windowed statement for any number of projects, so `projects { images }`
costs the same whatever the number of projects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, Protocol

from sqlalchemy import (
    BigInteger,
    Row,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)

from db.direct import Direct
from db.engine import Lease
from db.id_lists import among, among_bound, rows_by_id, rows_grouped
from db.models import (
    AbstractImage,
    AbstractSlice,
    ImageConsultation,
    ImageInstance,
    Project,
    SliceInstance,
    UploadedFile,
)
from resolvers.abstract_image import VIRTUAL_STACK
from resolvers.crud import table_of
from resolvers.errors import NotSupported
from resolvers.listing import (
    Filter,
    Page,
    apply_filters,
    order_clauses,
    parent_pages,
    read_parent_pages,
)
from resolvers.metadata_target import IMAGE_INSTANCE_CLASS
from resolvers.tag import tag_filter

__all__ = [
    "ABSTRACT_TABLE",
    "BASE_SLICE_TABLE",
    "BOUNDED",
    "CONSULTATION_SOURCES",
    "DEFAULT_LAST_OPENED",
    "DEFAULT_SORT",
    "DISPLAY_NAME",
    "FILE_TABLE",
    "IMAGE_COLUMNS",
    "IMAGE_FIELDS",
    "IMAGE_FROM",
    "IMAGE_TABLE",
    "IMAGE_TAGS",
    "LISTED",
    "MAX_NAME",
    "PROJECT_TABLE",
    "SLICE_COLUMNS",
    "SLICE_FROM",
    "SLICE_ORDER",
    "SLICE_TABLE",
    "ImageQuery",
    "ImageRow",
    "SliceRow",
    "image_instances_by_id",
    "images_by_project",
    "last_opened_by_image",
    "neighbours_by_image",
    "slice_instances_by_id",
    "slices_by_image_instance",
]

IMAGE_TABLE: Final = table_of(ImageInstance)
SLICE_TABLE: Final = table_of(SliceInstance)
ABSTRACT_TABLE: Final = table_of(AbstractImage)
BASE_SLICE_TABLE: Final = table_of(AbstractSlice)
FILE_TABLE: Final = table_of(UploadedFile)
PROJECT_TABLE: Final = table_of(Project)

MAX_NAME: Final = 255
DEFAULT_LAST_OPENED: Final = 5


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


_IMAGES_BY_ID: Final = Direct(_images().where(among_bound(_II.c.id)))
_SLICES_BY_ID: Final = Direct(_slices().where(among_bound(_SI.c.id)))


async def image_instances_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Image instances (as `ImageRow`s) by id, one SELECT for the batch."""
    return await rows_by_id(db, _IMAGES_BY_ID, ids)


async def slice_instances_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Slice instances (as `SliceRow`s) by id, one SELECT for the batch."""
    return await rows_by_id(db, _SLICES_BY_ID, ids)


async def slices_by_image_instance(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The slice instances of each image instance, by channel, z, time (slices without an
    uploaded file included, unlike Cytomine, §2.7)."""
    stmt = _slices().where(among(_SI.c.image_id, ids)).order_by(*SLICE_ORDER)
    return await rows_grouped(db, stmt, "image_id", ids)


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

    stmt = select(me.c.id, neighbour(True), neighbour(False)).where(among(me.c.id, ids))
    async with db.read() as conn:
        found = {key: (older, newer) for key, older, newer in await conn.execute(stmt)}
    return [found.get(key, (None, None)) for key in ids]


# --- consultations (activity) ----------------------------------------------------------------


def _consulted(user_id: int) -> Any:
    """The user's image consultations (activity, core.md §9.17)."""
    c = ImageConsultation
    return select(c.image_id.label("image_id"), c.created.label("date")).where(c.user_id == user_id)


#: Where "when did this user open this image" comes from: each source builds, for a user id,
#: a SELECT of (`image_id`, `date`) rows; "last opened" lists and `lastActivity` read every
#: source. The user's image consultations are the one source.
CONSULTATION_SOURCES: Final[tuple[Callable[[int], Any], ...]] = (_consulted,)


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
            found = await read_parent_pages(
                conn, _image_pages(limit, offset, sort, order, filters), project_ids,
                limit=limit, offset=offset, params={"managed": managed_ids},
            )  # fmt: skip
            for key in group:
                pages[key] = found[key.project_id]
    return [pages[key] for key in keys]


@lru_cache(maxsize=256)
def _image_pages(
    limit: int | None, offset: int, sort: str | None, order: str | None,
    filters: tuple[Filter, ...],
) -> Direct:  # fmt: skip
    """The windowed SELECT of a paging of images, built once per paging (projects, and those
    the caller manages, bound at execution): its image columns cost more to build than the
    page costs to run."""
    managed = among_bound(_II.c.project_id, "managed")
    stmt = _filtered(_images(), filters, managed)
    return Direct(parent_pages(stmt, _II.c.project_id, _ordering(sort, order), limit=limit,
                               offset=offset))  # fmt: skip


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
