"""Listing annotations: every filter of contract images-annotations.md §3.6 as SQL, paging in
SQL, and the optional groups (`show*`) as columns selected only when asked for.

A listing reads one table (§3.6 "Which table"), described by a `Layer`: user annotations, or
reviewed annotations (`reviewed=true`). The filters and groups are the same for both, with
these differences: on the reviewed layer `users` are the original creators and `reviewUsers`
the reviewers, terms form a plain set (no author: `usersForTerm` does not apply), and the
filters that only make sense for user annotations (tracks, `notReviewedOnly`) are ignored.

A listing needs a security scope (a project, images or slices of one project) and READ on it.
Hide-layer flags apply to non-managers on the user layer (core.md §7.4). Rows are flat: the
base columns plus the extras asked for (`EXTRAS`), each a plain value, so thousands of rows
complete through the fast path of schema/executor.py. Rows are newest first, or by plane rank
when tracks are filtered on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, cast

import shapely
from geoalchemy2.shape import from_shape
from shapely.errors import GEOSException, ShapelyError
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    distinct,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from db.direct import Direct
from db.encoded_json import encoded_json
from db.engine import Connection, Lease
from db.id_lists import among, among_bound
from db.models import (
    AbstractImage,
    AbstractSlice,
    AclEntry,
    AnnotationIndex,
    AnnotationTerm,
    AnnotationTrack,
    ImageInstance,
    Project,
    ReviewedAnnotation,
    ReviewedAnnotationTerm,
    SecUser,
    SliceInstance,
    Tag,
    Term,
    Track,
    UserAnnotation,
)
from resolvers.acl import ADMINISTRATION, entries_of
from resolvers.annotation.rows import STORED_COLUMNS, distinct_term_ids
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.errors import InvalidInput, NotFound
from resolvers.listing import Page, RowStream
from resolvers.metadata_target import REVIEWED_ANNOTATION_CLASS, USER_ANNOTATION_CLASS
from resolvers.project import ProjectAccess, project_access
from resolvers.project_access import (
    access_columns,
    access_of,
    access_params,
    kept_access,
    remember_access,
)
from resolvers.tag import tagged

__all__ = [
    "EXTRAS",
    "REVIEWED_LAYER",
    "USER_LAYER",
    "AnnotationSearch",
    "Layer",
    "Listing",
    "annotation_listing",
    "annotation_select",
    "annotation_urls",
    "columns_of",
    "conditions",
    "list_annotations",
    "parse_bbox",
    "term_ids",
    "visible_to",
]

UA: Final = table_of(UserAnnotation)
RA: Final = table_of(ReviewedAnnotation)
#: Columns every listed row has (cheap: no text, no join).
BASE: Final = tuple(c for c in STORED_COLUMNS if c.key != "wkt_location")
REVIEWED_BASE: Final = tuple(c for c in RA.c if c.key not in ("location", "wkt_location"))
_DIGITS: Final = re.compile(r"[0-9]+")
_BBOX: Final = re.compile(r"^\s*(-?[\d.eE+-]+)\s*,\s*(-?[\d.eE+-]+)\s*,\s*(-?[\d.eE+-]+)\s*,"
                          r"\s*(-?[\d.eE+-]+)\s*$")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Layer:
    """One table of annotations a listing reads.

    Args:
        kind: the word naming it in URLs (`/api/<kind>/{id}/crop.png`).
        table: the annotation table.
        base: the columns every listed row has.
        links: its term links, `linked` the column naming the annotation, `author` the one
            naming who put the term (None: a plain term set).
        authored: user annotations (tracks, hide-layer flags and review state apply).
        class_name: the Java class of its annotations, as tag associations name them.
    """

    kind: str
    table: Table
    base: tuple[Any, ...]
    links: Table
    linked: Any
    author: Any | None
    authored: bool
    class_name: str


_AT: Final = table_of(AnnotationTerm)
_RAT: Final = table_of(ReviewedAnnotationTerm)
USER_LAYER: Final = Layer("userannotation", UA, BASE, _AT, _AT.c.user_annotation_id,
                          _AT.c.user_id, True, USER_ANNOTATION_CLASS)  # fmt: skip
REVIEWED_LAYER: Final = Layer("reviewedannotation", RA, REVIEWED_BASE, _RAT,
                              _RAT.c.reviewed_annotation_id, None, False,
                              REVIEWED_ANNOTATION_CLASS)  # fmt: skip


#: Rows read per partition of a streamed listing: a few megabytes of WKT at most.
STREAM_PARTITION = 2000

_LAYERS: Final = {layer.kind: layer for layer in (USER_LAYER, REVIEWED_LAYER)}


def term_ids(layer: Layer) -> Any:
    """The distinct term ids of each annotation of the layer, as a correlated subquery."""
    return distinct_term_ids(layer.links.c.term_id, layer.linked, layer.table.c.id)


@dataclass(frozen=True, slots=True)
class AnnotationSearch:
    """The filters of a listing (§3.6); lists are ids, `base_annotation` an id or a WKT."""

    project: int | None = None
    image: int | None = None
    images: Sequence[int] | None = None
    slice: int | None = None
    slices: Sequence[int] | None = None
    users: Sequence[int] | None = None
    review_users: Sequence[int] | None = None
    terms: Sequence[int] | None = None
    no_term: bool = False
    multiple_term: bool = False
    users_for_term: Sequence[int] | None = None
    tracks: Sequence[int] | None = None
    no_track: bool = False
    multiple_track: bool = False
    before_slice: int | None = None
    after_slice: int | None = None
    tags: Sequence[int] | None = None
    no_tag: bool = False
    not_reviewed_only: bool = False
    bbox: str | None = None
    bbox_annotation: int | None = None
    base_annotation: str | None = None
    max_distance_base_annotation: float | None = None
    excluded_annotation: int | None = None
    after_than: datetime | None = None
    before_than: datetime | None = None

    @property
    def scoped(self) -> bool:
        """Names a project, images or slices."""
        places = (self.project, self.image, self.images, self.slice, self.slices)
        return any(place is not None for place in places)


# --- scope -----------------------------------------------------------------------------------


async def _scope(
    ctx: Context, conn: Connection, query: AnnotationSearch
) -> tuple[ProjectAccess, dict[str, tuple[Any, Any]]]:
    """The one project the listing is about (400 without one), with READ checked, and the
    extent (width, height) of the image of `query.image` and of `query.slice`, by name. Images
    and slices are read with their project and the caller's access to it, in one statement
    (none when the decision is kept: `_place_rows`)."""
    ctx.require_viewer()
    project_id: int | None = None
    images = [*(query.images or ()), *(() if query.image is None else (query.image,))]
    slices = [*(query.slices or ()), *(() if query.slice is None else (query.slice,))]
    if query.images is not None and not query.images:
        raise NotFound("ImageInstance", "[]", "ids")
    if query.slices is not None and not query.slices:
        raise NotFound("SliceInstance", "[]", "ids")
    projects: set[int] = set()
    decided: dict[int, Any] = {}
    extents: dict[str, tuple[Any, Any]] = {}
    places = ((ImageInstance, images, "ImageInstance", query.image),
              (SliceInstance, slices, "SliceInstance", query.slice))  # fmt: skip
    for table, ids, domain, one in places:
        if not ids:
            continue
        found = {}
        rows, kept = await _place_rows(ctx, conn, table, ids)
        for row in rows:
            found[row._place] = row._of
            if row._place == one:
                extents[domain] = (row._width, row._height)
            if row.id is None:
                continue
            decided[row.id] = row
            if not kept:  # a kept row decides this listing's access only (`kept_access`)
                remember_access(ctx, row)
        for wanted in ids:
            if wanted not in found:
                raise NotFound(domain, wanted)
        projects.update(found.values())
    if query.project is not None:
        projects.add(query.project)
    if not projects:
        raise InvalidInput("The listing needs a project, image or slice filter")
    if len(projects) > 1:
        raise InvalidInput("The images and slices of a listing must belong to one project")
    (project_id,) = projects
    if project_id in decided:
        return access_of(ctx, decided[project_id]).require_read(), extents
    return (await project_access(ctx, project_id)).require_read(), extents


async def _place_rows(
    ctx: Context, conn: Connection, table: Any, ids: list[int]
) -> tuple[Sequence[Any], bool]:
    """`_places`' rows for `ids`, and whether they were kept from an earlier request (access
    decisions, `kept_access`): a viewer's next listings of an image start with their page."""
    viewer = ctx.require_viewer()
    memo = kept_access(ctx)
    key = (table.__tablename__, viewer.id, viewer.is_admin, *ids)
    kept = memo.get(key) if memo is not None else None
    if kept is not None:
        return cast("Sequence[Any]", kept), True
    generation = memo.generation if memo is not None else 0
    params = {"ids": ids, **access_params(viewer)}
    rows = (await conn.fetch(_places(table, viewer.is_admin), params)).all()
    if memo is not None:
        memo.put(key, rows, generation)
    return rows, False


@lru_cache(maxsize=4)
def _places(table: Any, admin: bool) -> Direct:
    """The SELECT of images or slices (bound `ids`) with their project, the caller's access to
    it and the image's extent (`_covering`), built once."""
    image = ImageInstance.__table__.alias("placed_image")
    image_id = table.id if table is ImageInstance else table.image_id
    return Direct(
        select(table.id.label("_place"), table.project_id.label("_of"),
               _ABSTRACT.c.width.label("_width"), _ABSTRACT.c.height.label("_height"),
               *access_columns(admin))
        .outerjoin(Project, Project.id == table.project_id)
        .outerjoin(image, image.c.id == image_id)
        .outerjoin(_ABSTRACT, _ABSTRACT.c.id == image.c.base_image_id)
        .where(among_bound(table.id))
    )  # fmt: skip


def _covering(query: AnnotationSearch, extents: Mapping[str, tuple[Any, Any]]) -> bool:
    """Whether the query's `bbox` is a box around the whole of the one image it lists (an
    image or one of its slices): writes clip annotations to their image, so such a box keeps
    them all and the listing is the image's whole layer (a viewer zoomed out; over a million
    annotations 663 → 7 ms: the kept counter instead of the spatial test of every row), unless
    the clipping left one beside the image (`_escaped`)."""
    if query.bbox is None or query.images or query.slices:
        return False
    # with both, the slice is the image's (or the listing is empty whatever the box)
    extent = extents.get("ImageInstance") or extents.get("SliceInstance")
    found = _BBOX.match(query.bbox)
    if extent is None or None in extent or found is None:
        return False
    try:
        x1, y1, x2, y2 = (float(v) for v in found.groups())
    except ValueError:
        return False
    width, height = extent
    return min(x1, x2) <= 0 and min(y1, y2) <= 0 and max(x1, x2) >= width and max(y1, y2) >= height


#: Left of and below every image: where Cytomine's clipping (§3.3 step 3) lets an annotation
#: lying wholly left of or below its image stay, as a point or a line.
_LEFT: Final = func.ST_MakeEnvelope(-1e300, -1e300, 0, 1e300)
_BELOW: Final = func.ST_MakeEnvelope(-1e300, -1e300, 1e300, 0)


async def _escaped(conn: Connection, layer: Layer, query: AnnotationSearch) -> bool:
    """Whether an annotation of the listing's image or slice lies partly left of or below
    the image, which a box around the image may miss (`_covering` holds only without one):
    read through the geometry index, where only such annotations and those on the image's
    left or bottom edge are found."""
    table = layer.table.c
    place = table.image_id == query.image if query.image is not None else (
        table.slice_id == query.slice)  # fmt: skip
    outside = [
        exists(select(literal(1)).where(place, table.location.op("&&")(strip), edge < 0))
        for strip, edge in ((_LEFT, func.ST_XMin(table.location)),
                            (_BELOW, func.ST_YMin(table.location)))
    ]  # fmt: skip
    return bool((await conn.execute(select(or_(*outside)))).scalar_one())


def _managers(project_id: int) -> Any:
    return select(AclEntry.user_id).where(
        AclEntry.object_id == project_id, AclEntry.mask >= ADMINISTRATION
    )


def _sees_every_layer(access: ProjectAccess) -> bool:
    """No hide-layer flag (core.md §7.4) hides a layer of the project from the caller."""
    project = access.row
    return access.is_manager or not (project.hide_users_layers or project.hide_admins_layers)


def _visible_layers(layer: Layer, access: ProjectAccess) -> ColumnElement[bool]:
    """Hide-layer flags (core.md §7.4): others' layers a non-manager may not see."""
    project = access.row
    if not layer.authored or _sees_every_layer(access):
        return true()
    creator = layer.table.c.user_id
    own = creator == access.viewer.id
    if project.hide_users_layers and project.hide_admins_layers:
        return own
    managers = _managers(project.id)
    if project.hide_users_layers:
        return or_(own, creator.in_(managers))
    return or_(own, creator.not_in(managers))


# --- filters ---------------------------------------------------------------------------------


def parse_bbox(text: str) -> Any:
    """A box "minX,minY,maxX,maxY" or a WKT polygon, as a PostGIS geometry (400 otherwise)."""
    found = _BBOX.match(text)
    if found:
        try:
            x1, y1, x2, y2 = (float(v) for v in found.groups())
        except ValueError:
            raise InvalidInput(f"bbox {text!r} is not four numbers") from None
        if not all(map(_finite, (x1, y1, x2, y2))):
            raise InvalidInput(f"bbox {text!r} has coordinates that are not finite numbers")
        return func.ST_MakeEnvelope(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2), 0)
    return from_shape(_wkt(text, "bbox"), srid=0)


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def _wkt(text: str, name: str) -> Any:
    try:
        geometry = shapely.from_wkt(text)
    except (ShapelyError, GEOSException, ValueError):
        raise InvalidInput(f"{name} {text[:80]!r} is neither a box nor a WKT geometry") from None
    if geometry is None or geometry.is_empty:
        raise InvalidInput(f"{name} is an empty geometry")
    return geometry


#: Which projects a listing reads, as a condition on a `project_id` column.
InProjects = Callable[[Any], ColumnElement[bool]]
#: The rows of a layer a listing may read: its projects and, scoped, the hide-layer flags.
Visible = Callable[[Layer], ColumnElement[bool]]


async def _geometry_of(conn: Connection, annotation_id: int, visible: Visible) -> Any:
    """The geometry of an annotation of either kind (one id sequence names both), found only
    among those the listing may read: a filter never reaches into another project or a hidden
    layer."""
    either = union_all(
        *(
            select(layer.table.c.location).where(layer.table.c.id == annotation_id, visible(layer))
            for layer in (USER_LAYER, REVIEWED_LAYER)
        )
    )
    found = (await conn.execute(either)).first()
    if found is None:
        raise NotFound("Annotation", annotation_id)
    return found.location


def _terms(
    layer: Layer, terms: Sequence[int] | None = None, users: Sequence[int] | None = None
) -> Any:
    """EXISTS a term link of the annotation (to one of `terms`, put by one of `users` where
    links have authors)."""
    stmt = select(literal(1)).where(layer.linked == layer.table.c.id)
    if terms:
        stmt = stmt.where(layer.links.c.term_id.in_(terms))
    if users and layer.author is not None:
        stmt = stmt.where(layer.author.in_(users))
    return exists(stmt)


def _multiple_terms(layer: Layer) -> Any:
    """The annotation has two different terms (two links at least, whatever their authors):
    read per row, which a page walking the scope's index in order needs."""
    links = layer.links
    terms = select(func.min(links.c.term_id) != func.max(links.c.term_id))
    return terms.where(layer.linked == layer.table.c.id).scalar_subquery()


def _multiple_terms_count(layer: Layer, others: Sequence[Any]) -> Any:
    """The number of the listing's annotations with two different terms, counted from their
    term links grouped by annotation: a correlated test per row cost 1.6 s over a project of
    a million annotations, half of them with two terms; the grouped links, joined to the
    rows the other filters keep (the planner walks whichever side is smaller), 0.4 s."""
    links = layer.links.alias("grouped_links")  # the filters' own term tests read the table
    linked = links.c[layer.linked.key]
    grouped = (
        select(linked)
        .select_from(links.join(layer.table, linked == layer.table.c.id))
        .where(*others)
        .group_by(linked)
        .having(func.min(links.c.term_id) != func.max(links.c.term_id))
    )
    return select(func.count()).select_from(grouped.subquery())


def _tracks(layer: Layer, tracks: Sequence[int] | None = None) -> Any:
    """EXISTS a track link of the annotation (to one of `tracks`)."""
    stmt = select(literal(1)).where(AnnotationTrack.annotation_id == layer.table.c.id)
    if tracks:
        stmt = stmt.where(AnnotationTrack.track_id.in_(tracks))
    return exists(stmt)


async def _known(conn: Connection, model: Any, ids: Sequence[int], domain: str) -> None:
    found = set((await conn.execute(select(model.id).where(among(model.id, ids)))).scalars())
    for wanted in ids:
        if wanted not in found:
            raise NotFound(domain, wanted)


async def conditions(
    conn: Connection, layer: Layer, query: AnnotationSearch, visible: Visible,
    *, multiple_term: bool = True,
) -> list[Any]:  # fmt: skip
    """The filters of `query` on the layer's table (the scope aside, `projects` bounding the
    annotations a filter names); without `multiple_term`, all but `multipleTerm`'s (which
    `annotation_listing` applies itself, to count it its own way)."""
    t = layer.table
    where: list[Any] = []
    if query.image is not None:
        where.append(t.c.image_id == query.image)
    if query.images:
        where.append(t.c.image_id.in_(query.images))
    if query.slice is not None:
        where.append(t.c.slice_id == query.slice)
    if query.slices:
        where.append(t.c.slice_id.in_(query.slices))
    if query.users:
        await _known(conn, SecUser, query.users, "User")
        where.append(t.c.user_id.in_(query.users))
    if query.review_users and not layer.authored:
        await _known(conn, SecUser, query.review_users, "User")
        where.append(t.c.review_user_id.in_(query.review_users))
    for_term = query.users_for_term if layer.author is not None else None
    if query.terms:
        await _known(conn, Term, query.terms, "Term")
        matching = _terms(layer, query.terms, for_term)
        where.append(or_(matching, not_(_terms(layer))) if query.no_term else matching)
    elif query.no_term:
        where.append(not_(_terms(layer, users=query.users)))
    elif for_term:
        where.append(_terms(layer, users=for_term))
    if query.multiple_term and multiple_term:
        where.append(_multiple_terms(layer))
    if layer.authored:
        where += await _track_conditions(conn, layer, query)
    if query.tags:
        await _known(conn, Tag, query.tags, "Tag")
        matching = tagged(t.c.id, layer.class_name, query.tags)
        untagged = not_(tagged(t.c.id, layer.class_name))
        where.append(or_(matching, untagged) if query.no_tag else matching)
    elif query.no_tag:
        where.append(not_(tagged(t.c.id, layer.class_name)))
    if query.bbox is not None:
        where.append(func.ST_Intersects(t.c.location, parse_bbox(query.bbox)))
    if query.bbox_annotation is not None:
        area = await _geometry_of(conn, query.bbox_annotation, visible)
        where.append(func.ST_Intersects(t.c.location, area))
    if query.max_distance_base_annotation is not None and query.base_annotation is None:
        raise NotFound("UserAnnotation", "none", "baseAnnotation")
    if query.base_annotation is not None:
        if _DIGITS.fullmatch(query.base_annotation.strip()):
            base = await _geometry_of(conn, int(query.base_annotation), visible)
        else:
            base = from_shape(_wkt(query.base_annotation, "baseAnnotation"), srid=0)
        distance = query.max_distance_base_annotation
        if distance is None or not _finite(distance) or distance < 0:
            raise InvalidInput("maxDistanceBaseAnnotation must be a positive number")
        where.append(func.ST_DWithin(t.c.location, base, distance))
    if query.excluded_annotation is not None:
        where.append(t.c.id != query.excluded_annotation)
    if query.after_than is not None:
        where.append(t.c.created > query.after_than)
    if query.before_than is not None:
        where.append(t.c.created < query.before_than)
    return where


async def _track_conditions(conn: Connection, layer: Layer, query: AnnotationSearch) -> list[Any]:
    """The filters only user annotations have: tracks, and whether a reviewed copy exists."""
    where: list[Any] = []
    if query.tracks:
        await _known(conn, Track, query.tracks, "Track")
        matching = _tracks(layer, query.tracks)
        where.append(or_(matching, not_(_tracks(layer))) if query.no_track else matching)
    elif query.no_track:
        where.append(not_(_tracks(layer)))
    if query.multiple_track:
        tracks = (
            select(func.count(AnnotationTrack.track_id))
            .where(AnnotationTrack.annotation_id == layer.table.c.id)
            .scalar_subquery()
        )
        where.append(tracks >= 2)
    if query.not_reviewed_only:
        where.append(layer.table.c.count_reviewed_annotations == 0)
    return where


# --- extras ----------------------------------------------------------------------------------

_SLICE = SliceInstance.__table__
_BASE_SLICE = AbstractSlice.__table__
_IMAGE = ImageInstance.__table__
_ABSTRACT = AbstractImage.__table__
_PROJECT = Project.__table__
_USER = SecUser.__table__


@dataclass(frozen=True, slots=True)
class Reading:
    """What an optional column depends on: the layer read, whether the caller manages each
    row's project (an SQL condition), and the public base URL of links; and which stored
    columns the caller reads (`reads`; None: all of them, the ids of the row always)."""

    layer: Layer
    manages: ColumnElement[bool]
    base: str
    reads: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Extra:
    """An optional column of listed rows, with the joins it needs."""

    column: Callable[[Reading], Any]
    joins: tuple[str, ...] = ()


def _url(path: str, suffix: str = "") -> Callable[[Reading], Any]:
    """An absolute link `<base>/<path with {kind}, {id}, {project}, {image}><suffix>`, built in
    SQL."""

    def column(reading: Reading) -> Any:
        t = reading.layer.table
        parts = {"id": t.c.id, "project": t.c.project_id, "image": t.c.image_id}
        text: Any = literal(reading.base, String)
        for piece in re.split(r"(\{\w+\})", path + suffix):
            if piece == "{kind}":
                text = text + literal(reading.layer.kind, String)
            elif piece.startswith("{"):
                text = text + func.cast(parts[piece[1:-1]], String)
            elif piece:
                text = text + literal(piece, String)
        return text

    return column


def annotation_urls(base: str, row: Any, kind: str = USER_LAYER.kind) -> dict[str, str]:
    """The links of one annotation (the same as `_url` builds in SQL for listed rows); `kind`
    is the layer's URL word."""
    crop = f"{base}/api/{kind}/{row.id}/crop.png"
    return {
        "crop_url": crop,
        "small_crop_url": f"{crop}?maxSize=256",
        "image_url": f"{base}/#/project/{row.project_id}/image/{row.image_id}/annotation/{row.id}",
    }


def _user_by_term(reading: Reading) -> Any:
    """Per term: the first link and who put it; on a plain term set, link 0 and the creator
    (§3.6 "term" group)."""
    layer = reading.layer
    if layer.author is None:
        creator = func.jsonb_build_array(layer.table.c.user_id)
        item = func.jsonb_build_object("id", 0, "term", layer.links.c.term_id, "user", creator)
        return (
            select(func.coalesce(func.jsonb_agg(item), func.jsonb_build_array()))
            .where(layer.linked == layer.table.c.id)
            .scalar_subquery()
        )
    grouped = (
        select(
            layer.links.c.term_id,
            func.min(layer.links.c.id).label("first"),
            func.array_agg(distinct(layer.author)).label("users"),
        )
        .where(layer.linked == layer.table.c.id)
        .group_by(layer.links.c.term_id)
        .correlate(layer.table)  # the row's own links: a derived table is not correlated alone
        .subquery()
    )
    item = func.jsonb_build_object("id", grouped.c.first, "term", grouped.c.term_id,
                                   "user", grouped.c.users)  # fmt: skip
    return (
        select(func.coalesce(func.jsonb_agg(item), func.jsonb_build_array()))
        .select_from(grouped)
        .scalar_subquery()
    )


def _track_ids(reading: Reading) -> Any:
    return (
        select(
            func.coalesce(func.array_agg(AnnotationTrack.track_id), literal([], ARRAY(BigInteger)))
        )
        .where(AnnotationTrack.annotation_id == reading.layer.table.c.id)
        .scalar_subquery()
    )


def _annotation_tracks(reading: Reading) -> Any:
    item = func.jsonb_build_object("id", AnnotationTrack.id, "track", AnnotationTrack.track_id)
    return (
        select(func.coalesce(func.jsonb_agg(item), func.jsonb_build_array()))
        .where(AnnotationTrack.annotation_id == reading.layer.table.c.id)
        .scalar_subquery()
    )


def _image_name(kind: str) -> Callable[[Reading], Any]:
    """An image name, blinded like the image's own (§2.6): the base image's id in blind
    projects, nothing at all for whoever does not manage the project."""

    def column(reading: Reading) -> Any:
        real: Any = _ABSTRACT.c.original_filename
        if kind == "instance":
            real = func.coalesce(_IMAGE.c.instance_filename, real)
        blinded = case(
            (reading.manages, func.cast(_IMAGE.c.base_image_id, String)),
            else_=literal(None, String),
        )
        return case((_PROJECT.c.blind_mode, blinded), else_=real)

    return column


def _column(name: str) -> Callable[[Reading], Any]:
    """A column of the layer's table."""
    return lambda reading: reading.layer.table.c[name]


#: The stored columns a narrowed read (`Reading.reads`) keeps whatever the caller asks for: the
#: row's id and those naming where it lies and who drew it.
_ROW_IDS: Final = frozenset(("id", "user_id", "image_id", "project_id", "slice_id"))
EXTRAS: Final[Mapping[str, Extra]] = {
    "wkt_location": Extra(_column("wkt_location")),
    "term_ids": Extra(lambda reading: term_ids(reading.layer)),
    "user_by_term": Extra(lambda reading: encoded_json(_user_by_term(reading))),
    "track_ids": Extra(_track_ids),
    "annotation_tracks": Extra(_annotation_tracks),
    "original_filename": Extra(_image_name("original"), ("image",)),
    "instance_filename": Extra(_image_name("instance"), ("image",)),
    "channel": Extra(lambda _: _BASE_SLICE.c.channel, ("slice",)),
    "z_stack": Extra(lambda _: _BASE_SLICE.c.z_stack, ("slice",)),
    "time": Extra(lambda _: _BASE_SLICE.c.time, ("slice",)),
    "creator": Extra(lambda _: _USER.c.username, ("user",)),
    "creator_name": Extra(lambda _: _USER.c.firstname + " " + _USER.c.lastname, ("user",)),
    "crop_url": Extra(_url("/api/{kind}/{id}/crop.png")),
    "small_crop_url": Extra(_url("/api/{kind}/{id}/crop.png", "?maxSize=256")),
    "image_url": Extra(_url("/#/project/{project}/image/{image}/annotation/{id}")),
}
_JOINS: Final[Mapping[str, Callable[[Any, Table], Any]]] = {
    "image": lambda source, t: (
        source.join(_IMAGE, _IMAGE.c.id == t.c.image_id)
        .join(_ABSTRACT, _ABSTRACT.c.id == _IMAGE.c.base_image_id)
        .join(_PROJECT, _PROJECT.c.id == t.c.project_id)
    ),
    "slice": lambda source, t: source.join(_SLICE, _SLICE.c.id == t.c.slice_id).join(
        _BASE_SLICE, _BASE_SLICE.c.id == _SLICE.c.base_slice_id
    ),
    "user": lambda source, t: source.join(_USER, _USER.c.id == t.c.user_id),
}


_RANKED_IMAGE: Final = _ABSTRACT.alias("ranked_image")
#: A row's plane rank (tracks order rows by plane: channel, then z, then time), read through
#: the joins of `_ranked`.
_RANK: Final = _BASE_SLICE.c.channel + _RANKED_IMAGE.c.channels * (
    _BASE_SLICE.c.z_stack + _RANKED_IMAGE.c.depth * _BASE_SLICE.c.time
)


def _ranked(source: Any, table: Table) -> Any:
    """`source` (holding `table`) joined to what `_RANK` reads."""
    return _JOINS["slice"](source, table).join(
        _RANKED_IMAGE, _RANKED_IMAGE.c.id == _BASE_SLICE.c.image_id
    )


def columns_of(reading: Reading, wanted: Iterable[str], source: Any) -> tuple[list[Any], Any]:
    """The base columns and the `wanted` extras of rows read from `source` (the layer's table,
    or a page joined to it), with the joins the extras need."""
    chosen = tuple(sorted(name for name in wanted if name in EXTRAS))
    if reading.manages is true() or reading.manages is false():
        columns, joins = _built_columns(
            reading.layer.kind, reading.manages is true(), reading.base, chosen, reading.reads
        )
    else:  # who manages varies per row (every project the caller reads): built each time
        columns, joins = _build_columns(reading, chosen)
    table = reading.layer.table
    for join in ("image", "slice", "user"):
        if join in joins:
            source = _JOINS[join](source, table)
    return list(columns), source


def _build_columns(
    reading: Reading, chosen: tuple[str, ...]
) -> tuple[tuple[Any, ...], frozenset[str]]:
    extras = {name: EXTRAS[name] for name in chosen}
    base = reading.layer.base
    if reading.reads is not None:  # asyncpg decodes every column read: only those used
        base = tuple(c for c in base if c.key in reading.reads or c.key in _ROW_IDS)
    columns = (*base,
               *(extra.column(reading).label(name) for name, extra in extras.items()))  # fmt: skip
    return columns, frozenset(join for extra in extras.values() for join in extra.joins)


@lru_cache(maxsize=256)
def _built_columns(
    kind: str, manages: bool, base: str, chosen: tuple[str, ...], reads: frozenset[str] | None
) -> tuple[tuple[Any, ...], frozenset[str]]:
    """`_build_columns`, built once per key: building SQL expressions costs more than running
    the page they read, and a few keys (the layer, whether the caller manages every row or
    none, the base URL, the extras, the columns read) serve every request."""
    reading = Reading(_LAYERS[kind], true() if manages else false(), base, reads)
    return _build_columns(reading, chosen)


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing ready to run: what its rows may show (`reading`), the condition rows pass, the
    order (by plane rank when `ranked`), and `counter`, what builds the SELECT of the number
    of rows when something counts them better than the condition would (a kept counter, or
    the grouped count of `multipleTerm`; None: count the rows that pass), and the caller's
    access to the listing's one project (None when it spans every project the caller
    reads)."""

    reading: Reading
    #: Builds the condition rows pass (see `where`).
    where_of: Callable[[], ColumnElement[bool]]
    ranked: bool
    counter: Callable[[], Any] | None
    access: ProjectAccess | None = None
    #: The scope (column, id) of a listing that is one image's or project's whole layer as
    #: the caller sees it: the most common listing, whose page SELECT is built once per
    #: shape and kept (`_kept_page`), the scope, offset and size bound at execution.
    kept: tuple[str, int] | None = None

    @property
    def where(self) -> ColumnElement[bool]:
        """The condition rows pass."""
        return self.where_of()

    @property
    def source(self) -> Any:
        """What `where` reads: the layer's table, joined to the planes' tables for a listing by
        plane (whose `beforeSlice`/`afterSlice` bound their rank). Unjoined, a statement read
        them as a cartesian product."""
        table = self.reading.layer.table
        return _ranked(table, table) if self.ranked else table

    def select(self, wanted: Iterable[str] = ()) -> Any:
        """Every row, with the `wanted` extras, in the listing's order."""
        table = self.reading.layer.table
        columns, source = columns_of(self.reading, wanted, self.source)
        order = [_RANK, table.c.id.desc()] if self.ranked else [table.c.id.desc()]
        return select(*columns).select_from(source).where(self.where).order_by(*order)

    def count(self) -> Any:
        """The SELECT of the number of rows (the kept counter when there is one)."""
        if self.counter is not None:
            return self.counter()
        return select(func.count()).select_from(self.source).where(self.where)

    def stream(self, lease: Lease, wanted: Iterable[str]) -> RowStream:
        """Every row, read later from a server-side cursor."""
        return RowStream(lease, self.select(wanted), STREAM_PARTITION)

    async def page(
        self, conn: Connection, wanted: Iterable[str], *, limit: int | None, offset: int,
        counted: bool,
    ) -> Page[Any]:  # fmt: skip
        """One page: the ids of the page first (an index walk, whatever the columns), then
        their columns and extras, so a subquery per row runs for the page's rows only, never
        for the rows an offset skips. The total comes from `count()` in the same statement,
        unless not `counted`: then a row past the page says whether another page follows."""
        if offset < 0 or (limit is not None and limit < 0):
            raise InvalidInput("max and offset must not be negative")
        probe = limit if counted or limit is None else limit + 1
        summed = counted and limit is not None
        chosen = tuple(sorted(name for name in wanted if name in EXTRAS))
        if self.kept is not None:
            column, scope = self.kept
            manages = self.reading.manages is true()
            stmt = _kept_page(self.reading.layer.kind, column, manages, self.reading.base,
                              chosen, probe is not None, summed, self.reading.reads)  # fmt: skip
            params = {"scope": scope, "offset": offset}
            if probe is not None:
                params["probe"] = probe
        else:
            stmt = _page_select(self.reading, self.where, self.ranked, self.count, chosen,
                                offset, probe, summed, gated=True)  # fmt: skip
            params = {}
        rows = (await conn.fetch(stmt, params)).all() if probe != 0 else []
        if summed and rows:
            total = int(rows[0]._total)
            rows = [row for row in rows if row.id is not None]  # none: the total's row alone
        elif rows or (offset == 0 and not summed):
            total = offset + len(rows)  # every row from the offset, or the probe says more
            rows = rows[:limit] if limit is not None else rows
        else:
            total = int((await conn.execute(select(self.count().scalar_subquery()))).scalar_one())
        return Page(rows=rows, total=total, offset=offset, limit=limit)


def _page_select(
    reading: Reading, where: Any, ranked: bool, count: Callable[[], Any], chosen: tuple[str, ...],
    offset: Any, probe: Any, summed: bool, gated: bool = False,
) -> Any:  # fmt: skip
    """The SELECT of a page (see `Listing.page`); `offset` and `probe` (the rows read, None
    for all) are numbers or bound parameters.

    With `summed`, the answer is the total's one row joined to the page's rows, or alone (its
    page columns null) when there are none; `gated`, the total is counted first and the page
    read only when it reaches past the offset. A page past the end, or of a filter nothing
    matches, then costs the count alone: `noTerm` over a project of a million annotations
    that all have terms walked the million rows to find none, then counted them again
    (1 200 → 403 ms). Not for a kept counter, cheap already: the gate costs a step for every
    row an offset skips (offset 500 000: 39 → 62 ms)."""
    table = reading.layer.table
    keys: Any = select(table.c.id)
    source: Any = table
    if ranked:
        source = _ranked(source, table)
        keys = keys.add_columns(_RANK.label("rank"))
    order = [_RANK, table.c.id.desc()] if ranked else [table.c.id.desc()]
    keys = keys.select_from(source).where(where).order_by(*order).offset(offset)
    if probe is not None:
        keys = keys.limit(probe)
    total = count().cte("total").prefix_with("MATERIALIZED") if summed else None
    if total is not None and gated:
        keys = keys.where(select(total.c[0]).scalar_subquery() > offset)
    page = keys.cte("page")
    columns, joined = columns_of(reading, chosen, page.join(table, table.c.id == page.c.id))
    if total is not None:
        columns.append(total.c[0].label("_total"))
        joined = total.outerjoin(joined, true())
    outer = [page.c.rank, page.c.id.desc()] if ranked else [page.c.id.desc()]
    return select(*columns).select_from(joined).order_by(*outer)


async def list_annotations(
    ctx: Context,
    query: AnnotationSearch,
    *,
    wanted: Iterable[str] = (),
    limit: int | None = None,
    offset: int = 0,
    layer: Layer = USER_LAYER,
    everywhere: bool = False,
    counted: bool = True,
    streamed: bool = False,
    reads: frozenset[str] | None = None,
) -> Page[Any] | RowStream:
    """A page of the annotations matching `query`, with the `wanted` extras (EXTRAS keys);
    `layer` and `everywhere` as for `annotation_select`; without `counted`, the page's total
    only tells whether another page follows (GraphQL when `totalCount` is not selected). With
    `streamed`, a request for every row (REST's `max=0`) gets them as a `RowStream`. `reads`:
    the stored columns the caller uses (None: all)."""
    ctx.require_viewer()
    async with ctx.db.read() as conn:
        listing = await annotation_listing(ctx, conn, query, layer=layer, everywhere=everywhere)
        if reads is not None:
            listing = dataclasses.replace(
                listing, reading=dataclasses.replace(listing.reading, reads=reads)
            )
        limit = ctx.page_limit(limit)
        if streamed and limit is None and offset == 0:  # past an offset, a count is needed
            return listing.stream(ctx.db, wanted)
        return await listing.page(conn, wanted, limit=limit, offset=offset, counted=counted)


def visible_to(viewer: int | None) -> tuple[Visible, Any]:
    """The rows of a layer the viewer sees in whatever project they lie (None: an
    administrator, who sees every row), and the condition "the viewer manages the row's
    project" for the columns that depend on it (blinded names).

    A row is seen by its project's members; on the user layer the hide-layer flags of its
    project (core.md §7.4) hide it too, unless the viewer manages the project or drew it: the
    listing's own rule, decided in SQL per row, for lists whose rows span projects.
    """
    if viewer is None:
        return (lambda _: true()), true()
    readable, managed = entries_of(viewer), entries_of(viewer, managed=True)
    flags = _PROJECT.alias("flags")

    def visible(layer: Layer) -> ColumnElement[bool]:
        t = layer.table
        member = t.c.project_id.in_(readable)
        if not layer.authored:
            return member
        drawn_by_manager = t.c.user_id.in_(
            select(AclEntry.user_id)
            .where(AclEntry.object_id == t.c.project_id, AclEntry.mask >= ADMINISTRATION)
            .correlate_except(AclEntry)  # the row's table, from however deep it is read
        )
        shown = exists(
            select(literal(1))
            .correlate_except(flags)
            .where(
                flags.c.id == t.c.project_id,
                or_(
                    and_(~flags.c.hide_users_layers, ~flags.c.hide_admins_layers),
                    and_(flags.c.hide_users_layers, ~flags.c.hide_admins_layers,
                         drawn_by_manager),
                    and_(flags.c.hide_admins_layers, ~flags.c.hide_users_layers,
                         ~drawn_by_manager),
                ),
            )
        )  # fmt: skip
        return and_(member, or_(t.c.user_id == viewer, t.c.project_id.in_(managed), shown))

    return visible, USER_LAYER.table.c.project_id.in_(managed)


def _in_projects(projects: InProjects) -> Visible:
    """The rows of a layer in these projects (hide-layer flags aside: see `everywhere`)."""
    return lambda layer: projects(layer.table.c.project_id)


def _in_scope(access: ProjectAccess) -> Visible:
    """The rows of a layer in the listing's project that the caller may see."""
    return lambda layer: and_(
        layer.table.c.project_id == access.row.id, _visible_layers(layer, access)
    )


def _readable(ctx: Context) -> tuple[InProjects, InProjects]:
    """Every project the caller may read, and those they manage (administrators read and
    manage every one)."""
    viewer = ctx.require_viewer()
    if viewer.is_admin:
        return (lambda _: true()), (lambda _: true())
    entries, managed = entries_of(viewer.id), entries_of(viewer.id, managed=True)
    return (lambda column: column.in_(entries)), (lambda column: column.in_(managed))


#: The kept counters of each layer: of an image, of a project.
_COUNTERS: Final = {
    False: (_IMAGE.c.count_image_reviewed_annotations, _PROJECT.c.count_reviewed_annotations),
    True: (_IMAGE.c.count_image_annotations, _PROJECT.c.count_annotations),
}
#: The filters a kept counter does not count, with their defaults: all but the scope itself.
_NARROWING: Final = tuple((f.name, f.default) for f in fields(AnnotationSearch)
                          if f.name not in ("project", "image"))  # fmt: skip


def _whole_but(
    query: AnnotationSearch, layer: Layer, access: ProjectAccess | None, *but: str
) -> bool:
    """Whether the listing is its scope's whole layer as the caller sees every row of it (no
    hide-layer flag hides one), narrowed by no filter but those named in `but`: what lets a
    kept counter stand for its total."""
    if access is None or (layer.authored and not _sees_every_layer(access)):
        return False
    return all(getattr(query, name) == default for name, default in _NARROWING
               if name not in but)  # fmt: skip


def _scope_counter(query: AnnotationSearch, layer: Layer, access: ProjectAccess) -> Any:
    """The kept counter of the layer's annotations in the listing's image, else its project,
    as a scalar subquery."""
    image_counter, project_counter = _COUNTERS[layer.authored]
    if query.image is not None:
        return select(image_counter).where(_IMAGE.c.id == query.image).scalar_subquery()
    return select(project_counter).where(_PROJECT.c.id == access.row.id).scalar_subquery()


def _kept_counter(
    query: AnnotationSearch, layer: Layer, access: ProjectAccess
) -> Callable[[], Any] | None:
    """What builds the SELECT of the kept counter equal to the listing's size, when the
    listing is one image's or one project's whole layer as the caller sees every row of it
    (built when a total is asked for, not for every page)."""
    if not _whole_but(query, layer, access):
        return None
    return lambda: select(_scope_counter(query, layer, access))


def _slice_counter(
    query: AnnotationSearch, layer: Layer, access: ProjectAccess | None
) -> Callable[[], Any] | None:
    """What builds the SELECT of a slice's user annotations from the annotation index, when
    the listing is that slice's whole layer as the caller sees every row of it (a viewer's
    plane, zoomed out: 239 → 9 ms over a million annotations, the index's rows for the total
    instead of the slice's million)."""
    slice_id, image = query.slice, query.image
    if slice_id is None or not layer.authored or not _whole_but(query, layer, access, "slice"):
        return None
    index = AnnotationIndex.__table__
    count = select(func.coalesce(func.sum(index.c.count_annotation), 0).cast(BigInteger))
    count = count.where(index.c.slice_id == slice_id)
    if image is not None:  # a slice of another image lists nothing
        its = select(_SLICE.c.id).where(_SLICE.c.id == slice_id, _SLICE.c.image_id == image)
        count = count.where(exists(its))
    return lambda: count


def _unreviewed_counter(
    query: AnnotationSearch, layer: Layer, access: ProjectAccess | None
) -> Callable[[], Any] | None:
    """What builds the SELECT of the number of not yet reviewed annotations of one image or
    project (`notReviewedOnly` and nothing else narrowing), as the caller sees every row: the
    kept counter less the reviewed originals, which the partial index of reviewed ones counts
    alone (over a million annotations none reviewed 206 → a few ms: the counter, where every
    row of the image was tested)."""
    if not query.not_reviewed_only or not layer.authored or access is None:
        return None
    if not _whole_but(query, layer, access, "not_reviewed_only"):
        return None
    table = layer.table
    reviewed = select(func.count()).where(table.c.count_reviewed_annotations > 0)
    if query.image is not None:
        reviewed = reviewed.where(table.c.image_id == query.image)
    else:
        reviewed = reviewed.where(table.c.project_id == access.row.id)
    count = select(_scope_counter(query, layer, access) - reviewed.scalar_subquery())
    return lambda: count


#: Per layer and scope column: the condition and the kept counter of a whole layer, the
#: scope's id bound at execution (`scope`).
_KEPT_SCOPES: Final = {
    (layer.kind, column): (
        layer.table.c[f"{column}_id"] == bindparam("scope"),
        select(counter).where(owner.c.id == bindparam("scope")),
    )
    for layer in (USER_LAYER, REVIEWED_LAYER)
    for column, owner, counter in (
        ("image", _IMAGE, _COUNTERS[layer.authored][0]),
        ("project", _PROJECT, _COUNTERS[layer.authored][1]),
    )
}


@lru_cache(maxsize=256)
def _kept_page(
    kind: str, column: str, manages: bool, base: str, chosen: tuple[str, ...], probed: bool,
    summed: bool, reads: frozenset[str] | None,
) -> Direct:  # fmt: skip
    """The page SELECT of a whole layer of one image or project (`Listing.kept`), built once
    per shape: building it cost more than running it (scope, offset and size bound)."""
    where, counter = _KEPT_SCOPES[(kind, column)]
    reading = Reading(_LAYERS[kind], true() if manages else false(), base, reads)
    probe = bindparam("probe", type_=Integer) if probed else None
    return Direct(_page_select(reading, where, False, lambda: counter, chosen,
                               bindparam("offset", type_=Integer), probe, summed))  # fmt: skip


async def annotation_listing(
    ctx: Context,
    conn: Connection,
    query: AnnotationSearch,
    *,
    layer: Layer = USER_LAYER,
    everywhere: bool = False,
) -> Listing:
    """The listing of `query`: the scope checked (400 without one, READ), every filter
    applied. Modules that narrow or aggregate a listing (included annotations, k-means
    clusters) build on it instead of copying the filters.

    Args:
        layer: the table read: user annotations, or reviewed ones (`REVIEWED_LAYER`).
        everywhere: a query without a scope reads every project the caller may read instead
            of being refused (the reviewed layer's own listing, §3.10); hide-layer flags do not
            apply there, so it is refused on the user layer.
    """
    counter = own = access = None
    if everywhere and not query.scoped:
        if layer.authored:
            raise ValueError("an unscoped listing skips hide-layer flags: reviewed layer only")
        projects, managed = _readable(ctx)
        manages = managed(layer.table.c.project_id)
        visible = _in_projects(projects)
    else:
        access, extents = await _scope(ctx, conn, query)
        if _covering(query, extents) and not await _escaped(conn, layer, query):
            query = dataclasses.replace(query, bbox=None)
        manages = true() if access.is_manager else false()
        visible = _in_scope(access)
        counter = _kept_counter(query, layer, access)
        if query.image is not None or query.images or query.slice is not None or query.slices:
            # Images and slices, checked to be the project's, imply it (an annotation stays
            # in its image's project): without the project's condition the page walks the
            # image's index alone.
            own = _visible_layers(layer, access)
    reading = Reading(layer, manages, ctx.public_url)
    if counter is not None and access is not None:  # a whole layer, as the caller sees it
        # The page SELECT is kept (`_kept_page`): the condition, which only the project or
        # image narrows, is built for a caller that asks for it (a stream, a count).
        kept = ("image", query.image) if query.image is not None else ("project", access.row.id)
        seen = own if own is not None else visible(layer)
        image = query.image
        return Listing(reading, lambda: _whole_layer(layer, seen, image), False, counter,
                       access, kept)  # fmt: skip
    where = [own if own is not None else visible(layer),
             *await conditions(conn, layer, query, visible, multiple_term=False)]  # fmt: skip
    ranked = layer.authored and bool(query.tracks)
    if ranked:
        for name, base_slice in (("before", query.before_slice), ("after", query.after_slice)):
            if base_slice is not None:
                where.append(await _rank_bound(conn, _RANK, base_slice, name))
    counter = _slice_counter(query, layer, access) or _unreviewed_counter(query, layer, access)
    if query.multiple_term:
        others = tuple(where)
        where.append(_multiple_terms(layer))
        if not ranked:  # a plane's rank needs the slices joined, which the count does not
            counter = lambda: _multiple_terms_count(layer, others)  # noqa: E731
    condition = and_(*where)
    return Listing(reading, lambda: condition, ranked, counter, access)


def _whole_layer(layer: Layer, seen: Any, image: int | None) -> ColumnElement[bool]:
    """The condition of a whole layer as the caller sees it, in one image or project."""
    return seen if image is None else and_(seen, layer.table.c.image_id == image)


async def annotation_select(
    ctx: Context,
    conn: Connection,
    query: AnnotationSearch,
    *,
    wanted: Iterable[str] = (),
    layer: Layer = USER_LAYER,
    everywhere: bool = False,
) -> Any:
    """The listing's SELECT for `query`, unpaged, with the `wanted` extras, in the listing's
    order (see `annotation_listing`)."""
    listing = await annotation_listing(ctx, conn, query, layer=layer, everywhere=everywhere)
    return listing.select(wanted)


async def _rank_bound(conn: Connection, rank: Any, slice_id: int, side: str) -> Any:
    """Keep annotations whose plane comes before (or after) the given slice's."""
    image = _ABSTRACT.alias("bound_image")
    bound = (
        await conn.execute(
            select(
                _BASE_SLICE.c.channel
                + image.c.channels * (_BASE_SLICE.c.z_stack + image.c.depth * _BASE_SLICE.c.time)
            )
            .select_from(
                _SLICE.join(_BASE_SLICE, _BASE_SLICE.c.id == _SLICE.c.base_slice_id).join(
                    image, image.c.id == _BASE_SLICE.c.image_id
                )
            )
            .where(_SLICE.c.id == slice_id)
        )
    ).scalar_one_or_none()
    if bound is None:
        raise NotFound("SliceInstance", slice_id)
    return rank < bound if side == "before" else rank > bound
