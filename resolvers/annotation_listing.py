"""Listing annotations: every filter of contract images-annotations.md §3.6 as SQL, paging in
SQL, and the optional groups (`show*`) as columns selected only when asked for.

A listing needs a security scope (a project, images or slices of one project) and READ on it.
Hide-layer flags apply to non-managers (core.md §7.4). Rows are flat: the base columns plus
the extras asked for (`EXTRAS`), each a plain value, so thousands of rows complete through the
fast path of schema/executor.py. Rows are newest first, or by plane rank when tracks are
filtered on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import shapely
from geoalchemy2.shape import from_shape
from shapely.errors import GEOSException, ShapelyError
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import (
    AbstractImage,
    AbstractSlice,
    AclEntry,
    AnnotationTerm,
    AnnotationTrack,
    ImageInstance,
    Project,
    SecUser,
    SliceInstance,
    Term,
    Track,
    UserAnnotation,
)
from resolvers.acl import ADMINISTRATION
from resolvers.annotation import STORED_COLUMNS, TERM_IDS
from resolvers.context import Context
from resolvers.errors import InvalidInput, NotFound
from resolvers.listing import Page, fetch_page
from resolvers.project import ProjectAccess, project_access

__all__ = ["EXTRAS", "AnnotationSearch", "annotation_urls", "list_annotations", "parse_bbox"]

UA: Final = UserAnnotation.__table__
#: Columns every listed row has (cheap: no text, no join).
BASE: Final = tuple(c for c in STORED_COLUMNS if c.key != "wkt_location")
_BBOX: Final = re.compile(r"^\s*(-?[\d.eE+-]+)\s*,\s*(-?[\d.eE+-]+)\s*,\s*(-?[\d.eE+-]+)\s*,"
                          r"\s*(-?[\d.eE+-]+)\s*$")  # fmt: skip


@dataclass(frozen=True, slots=True)
class AnnotationSearch:
    """The filters of a listing (§3.6); lists are ids, `base_annotation` an id or a WKT."""

    project: int | None = None
    image: int | None = None
    images: Sequence[int] | None = None
    slice: int | None = None
    slices: Sequence[int] | None = None
    users: Sequence[int] | None = None
    terms: Sequence[int] | None = None
    no_term: bool = False
    multiple_term: bool = False
    users_for_term: Sequence[int] | None = None
    tracks: Sequence[int] | None = None
    no_track: bool = False
    multiple_track: bool = False
    before_slice: int | None = None
    after_slice: int | None = None
    not_reviewed_only: bool = False
    bbox: str | None = None
    bbox_annotation: int | None = None
    base_annotation: str | None = None
    max_distance_base_annotation: float | None = None
    excluded_annotation: int | None = None
    after_than: datetime | None = None
    before_than: datetime | None = None


# --- scope -----------------------------------------------------------------------------------


async def _scope(ctx: Context, conn: AsyncConnection, query: AnnotationSearch) -> ProjectAccess:
    """The one project the listing is about (400 without one), with READ checked."""
    project_id: int | None = None
    images = [*(query.images or ()), *(() if query.image is None else (query.image,))]
    slices = [*(query.slices or ()), *(() if query.slice is None else (query.slice,))]
    if query.images is not None and not query.images:
        raise NotFound("ImageInstance", "[]", "ids")
    if query.slices is not None and not query.slices:
        raise NotFound("SliceInstance", "[]", "ids")
    projects: set[int] = set()
    for table, ids, domain in ((ImageInstance, images, "ImageInstance"),
                               (SliceInstance, slices, "SliceInstance")):  # fmt: skip
        if not ids:
            continue
        found = dict(
            (await conn.execute(select(table.id, table.project_id).where(table.id.in_(ids)))).all()
        )
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
    return (await project_access(ctx, project_id)).require_read()


def _managers(project_id: int) -> Any:
    return select(AclEntry.user_id).where(
        AclEntry.object_id == project_id, AclEntry.mask >= ADMINISTRATION
    )


def _visible_layers(access: ProjectAccess) -> ColumnElement[bool]:
    """Hide-layer flags (core.md §7.4): others' layers a non-manager may not see."""
    project = access.row
    if access.is_manager or not (project.hide_users_layers or project.hide_admins_layers):
        return true()
    own = UA.c.user_id == access.viewer.id
    if project.hide_users_layers and project.hide_admins_layers:
        return own
    managers = _managers(project.id)
    if project.hide_users_layers:
        return or_(own, UA.c.user_id.in_(managers))
    return or_(own, UA.c.user_id.not_in(managers))


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


async def _geometry_of(conn: AsyncConnection, annotation_id: int) -> Any:
    found = (await conn.execute(select(UA.c.location).where(UA.c.id == annotation_id))).first()
    if found is None:
        raise NotFound("UserAnnotation", annotation_id)
    return found.location


def _terms(terms: Sequence[int] | None = None, users: Sequence[int] | None = None) -> Any:
    """EXISTS a term link of the annotation (to one of `terms`, added by one of `users`)."""
    stmt = select(literal(1)).where(AnnotationTerm.user_annotation_id == UA.c.id)
    if terms:
        stmt = stmt.where(AnnotationTerm.term_id.in_(terms))
    if users:
        stmt = stmt.where(AnnotationTerm.user_id.in_(users))
    return exists(stmt)


def _tracks(tracks: Sequence[int] | None = None) -> Any:
    """EXISTS a track link of the annotation (to one of `tracks`)."""
    stmt = select(literal(1)).where(AnnotationTrack.annotation_id == UA.c.id)
    if tracks:
        stmt = stmt.where(AnnotationTrack.track_id.in_(tracks))
    return exists(stmt)


async def _known(conn: AsyncConnection, model: Any, ids: Sequence[int], domain: str) -> None:
    found = set((await conn.execute(select(model.id).where(model.id.in_(ids)))).scalars())
    for wanted in ids:
        if wanted not in found:
            raise NotFound(domain, wanted)


async def _conditions(
    conn: AsyncConnection, query: AnnotationSearch, access: ProjectAccess
) -> list[Any]:
    where: list[Any] = [UA.c.project_id == access.row.id, _visible_layers(access)]
    if query.image is not None:
        where.append(UA.c.image_id == query.image)
    if query.images:
        where.append(UA.c.image_id.in_(query.images))
    if query.slice is not None:
        where.append(UA.c.slice_id == query.slice)
    if query.slices:
        where.append(UA.c.slice_id.in_(query.slices))
    if query.users:
        await _known(conn, SecUser, query.users, "User")
        where.append(UA.c.user_id.in_(query.users))
    if query.terms:
        await _known(conn, Term, query.terms, "Term")
        matching = _terms(query.terms, query.users_for_term)
        where.append(or_(matching, not_(_terms())) if query.no_term else matching)
    elif query.no_term:
        where.append(not_(_terms(users=query.users)))
    elif query.users_for_term:
        where.append(_terms(users=query.users_for_term))
    if query.multiple_term:
        distinct_terms = (
            select(func.count(distinct(AnnotationTerm.term_id)))
            .where(AnnotationTerm.user_annotation_id == UA.c.id)
            .scalar_subquery()
        )
        where.append(distinct_terms >= 2)
    if query.tracks:
        await _known(conn, Track, query.tracks, "Track")
        matching = _tracks(query.tracks)
        where.append(or_(matching, not_(_tracks())) if query.no_track else matching)
    elif query.no_track:
        where.append(not_(_tracks()))
    if query.multiple_track:
        tracks = (
            select(func.count(AnnotationTrack.track_id))
            .where(AnnotationTrack.annotation_id == UA.c.id)
            .scalar_subquery()
        )
        where.append(tracks >= 2)
    if query.not_reviewed_only:
        where.append(UA.c.count_reviewed_annotations == 0)
    if query.bbox is not None:
        where.append(func.ST_Intersects(UA.c.location, parse_bbox(query.bbox)))
    if query.bbox_annotation is not None:
        area = await _geometry_of(conn, query.bbox_annotation)
        where.append(func.ST_Intersects(UA.c.location, area))
    if query.max_distance_base_annotation is not None and query.base_annotation is None:
        raise NotFound("UserAnnotation", "none", "baseAnnotation")
    if query.base_annotation is not None:
        if query.base_annotation.strip().isdigit():
            base = await _geometry_of(conn, int(query.base_annotation))
        else:
            base = from_shape(_wkt(query.base_annotation, "baseAnnotation"), srid=0)
        distance = query.max_distance_base_annotation
        if distance is None or not _finite(distance) or distance < 0:
            raise InvalidInput("maxDistanceBaseAnnotation must be a positive number")
        where.append(func.ST_DWithin(UA.c.location, base, distance))
    if query.excluded_annotation is not None:
        where.append(UA.c.id != query.excluded_annotation)
    if query.after_than is not None:
        where.append(UA.c.created > query.after_than)
    if query.before_than is not None:
        where.append(UA.c.created < query.before_than)
    return where


# --- extras ----------------------------------------------------------------------------------

_SLICE = SliceInstance.__table__
_BASE_SLICE = AbstractSlice.__table__
_IMAGE = ImageInstance.__table__
_ABSTRACT = AbstractImage.__table__
_PROJECT = Project.__table__
_USER = SecUser.__table__


@dataclass(frozen=True, slots=True)
class Extra:
    """An optional column of listed rows, with the joins it needs."""

    column: Callable[[ProjectAccess, str], Any]
    joins: tuple[str, ...] = ()


def _url(path: str, suffix: str = "") -> Callable[[ProjectAccess, str], Any]:
    """An absolute link `<base>/<path with {id}, {project}, {image}><suffix>`, built in SQL."""
    parts = {"id": UA.c.id, "project": UA.c.project_id, "image": UA.c.image_id}

    def column(_: ProjectAccess, base: str) -> Any:
        text: Any = literal(base, String)
        for piece in re.split(r"(\{\w+\})", path + suffix):
            if piece.startswith("{"):
                text = text + func.cast(parts[piece[1:-1]], String)
            elif piece:
                text = text + literal(piece, String)
        return text

    return column


def annotation_urls(base: str, row: Any) -> dict[str, str]:
    """The links of one annotation (the same as `_url` builds in SQL for listed rows)."""
    crop = f"{base}/api/userannotation/{row.id}/crop.png"
    return {
        "crop_url": crop,
        "small_crop_url": f"{crop}?maxSize=256",
        "image_url": f"{base}/#/project/{row.project_id}/image/{row.image_id}/annotation/{row.id}",
    }


def _user_by_term(_: ProjectAccess, __: str) -> Any:
    grouped = (
        select(
            AnnotationTerm.term_id,
            func.min(AnnotationTerm.id).label("first"),
            func.array_agg(distinct(AnnotationTerm.user_id)).label("users"),
        )
        .where(AnnotationTerm.user_annotation_id == UA.c.id)
        .group_by(AnnotationTerm.term_id)
        .subquery()
    )
    item = func.jsonb_build_object("id", grouped.c.first, "term", grouped.c.term_id,
                                   "user", grouped.c.users)  # fmt: skip
    return (
        select(func.coalesce(func.jsonb_agg(item), func.jsonb_build_array()))
        .select_from(grouped)
        .scalar_subquery()
    )


def _track_ids(_: ProjectAccess, __: str) -> Any:
    return (
        select(
            func.coalesce(func.array_agg(AnnotationTrack.track_id), literal([], ARRAY(BigInteger)))
        )
        .where(AnnotationTrack.annotation_id == UA.c.id)
        .scalar_subquery()
    )


def _annotation_tracks(_: ProjectAccess, __: str) -> Any:
    item = func.jsonb_build_object("id", AnnotationTrack.id, "track", AnnotationTrack.track_id)
    return (
        select(func.coalesce(func.jsonb_agg(item), func.jsonb_build_array()))
        .where(AnnotationTrack.annotation_id == UA.c.id)
        .scalar_subquery()
    )


def _image_name(kind: str) -> Callable[[ProjectAccess, str], Any]:
    """An image name, blinded like the image's own (§2.6): the base image's id in blind
    projects, nothing at all for whoever does not manage the project."""

    def column(access: ProjectAccess, _: str) -> Any:
        real: Any = _ABSTRACT.c.original_filename
        if kind == "instance":
            real = func.coalesce(_IMAGE.c.instance_filename, real)
        blinded = (
            func.cast(_IMAGE.c.base_image_id, String)
            if access.is_manager
            else literal(None, String)
        )
        return case((_PROJECT.c.blind_mode, blinded), else_=real)

    return column


EXTRAS: Final[Mapping[str, Extra]] = {
    "wkt_location": Extra(lambda *_: UA.c.wkt_location),
    "term_ids": Extra(lambda *_: TERM_IDS.element),
    "user_by_term": Extra(_user_by_term),
    "track_ids": Extra(_track_ids),
    "annotation_tracks": Extra(_annotation_tracks),
    "original_filename": Extra(_image_name("original"), ("image",)),
    "instance_filename": Extra(_image_name("instance"), ("image",)),
    "channel": Extra(lambda *_: _BASE_SLICE.c.channel, ("slice",)),
    "z_stack": Extra(lambda *_: _BASE_SLICE.c.z_stack, ("slice",)),
    "time": Extra(lambda *_: _BASE_SLICE.c.time, ("slice",)),
    "creator": Extra(lambda *_: _USER.c.username, ("user",)),
    "creator_name": Extra(lambda *_: _USER.c.firstname + " " + _USER.c.lastname, ("user",)),
    "crop_url": Extra(_url("/api/userannotation/{id}/crop.png")),
    "small_crop_url": Extra(_url("/api/userannotation/{id}/crop.png", "?maxSize=256")),
    "image_url": Extra(_url("/#/project/{project}/image/{image}/annotation/{id}")),
}
_JOINS: Final[Mapping[str, Callable[[Any], Any]]] = {
    "image": lambda source: (
        source.join(_IMAGE, _IMAGE.c.id == UA.c.image_id)
        .join(_ABSTRACT, _ABSTRACT.c.id == _IMAGE.c.base_image_id)
        .join(_PROJECT, _PROJECT.c.id == UA.c.project_id)
    ),
    "slice": lambda source: source.join(_SLICE, _SLICE.c.id == UA.c.slice_id).join(
        _BASE_SLICE, _BASE_SLICE.c.id == _SLICE.c.base_slice_id
    ),
    "user": lambda source: source.join(_USER, _USER.c.id == UA.c.user_id),
}


def _select(access: ProjectAccess, base: str, wanted: Iterable[str], ranked: bool) -> Any:
    extras = {name: EXTRAS[name] for name in wanted if name in EXTRAS}
    joins = {join for extra in extras.values() for join in extra.joins}
    if ranked:
        joins |= {"slice"}
    source: Any = UA
    for join in ("image", "slice", "user"):
        if join in joins:
            source = _JOINS[join](source)
    columns = [*BASE, *(extra.column(access, base).label(name) for name, extra in extras.items())]
    stmt = select(*columns).select_from(source)
    if ranked:
        image = _ABSTRACT.alias("ranked_image")
        rank = _BASE_SLICE.c.channel + image.c.channels * (
            _BASE_SLICE.c.z_stack + image.c.depth * _BASE_SLICE.c.time
        )
        stmt = stmt.join(image, image.c.id == _BASE_SLICE.c.image_id)
        return stmt, rank
    return stmt, None


async def list_annotations(
    ctx: Context,
    query: AnnotationSearch,
    *,
    wanted: Iterable[str] = (),
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """A page of the annotations matching `query`, with the `wanted` extras (EXTRAS keys)."""
    ctx.require_viewer()
    async with ctx.db.read() as conn:
        access = await _scope(ctx, conn, query)
        where = await _conditions(conn, query, access)
        ranked = bool(query.tracks)
        stmt, rank = _select(access, ctx.public_url, wanted, ranked)
        if rank is not None:
            for name, base_slice in (("before", query.before_slice), ("after", query.after_slice)):
                if base_slice is not None:
                    where.append(await _rank_bound(conn, rank, base_slice, name))
            stmt = stmt.order_by(rank, UA.c.id.desc())
        else:
            stmt = stmt.order_by(UA.c.id.desc())
        stmt = stmt.where(and_(*where))
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def _rank_bound(conn: AsyncConnection, rank: Any, slice_id: int, side: str) -> Any:
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
