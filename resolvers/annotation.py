"""User annotations: create (with terms and tracks), read, update, delete (contract
images-annotations.md §3.1–§3.5, §3.11).

Every write runs the geometry pipeline (resolvers/geometry.py) and stores, beside the PostGIS
geometry, the WKT the client reads back and the measures computed with the image's effective
calibration. Counters (image, project, annotation index) are kept by triggers in the same
transaction. Rights: READ on the project and the read-only check to create; the owner-or-mode
check with the annotation's creator as owner to change or delete (core.md §7.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from geoalchemy2.shape import from_shape
from sqlalchemy import BigInteger, Row, delete, distinct, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from db.engine import Connection, Lease
from db.models import (
    AnnotationTerm,
    AnnotationTrack,
    Project,
    ReviewedAnnotation,
    SecUser,
    SharedAnnotation,
    Term,
    UserAnnotation,
)
from resolvers.command import CommandInfo, CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, table_of
from resolvers.errors import InvalidInput, NotFound
from resolvers.geometry import MAX_POINTS, Measures, Shaped, measure, prepare_edit, prepare_new
from resolvers.image import (
    image_instances_by_id,
    reference_slice,
    slice_instances_by_id,
)
from resolvers.metadata_target import USER_ANNOTATION_CLASS
from resolvers.project import ProjectAccess, project_access
from resolvers.tag import record_tags
from resolvers.track import ANNOTATION_TRACK, link_tracks
from resolvers.viewer import Viewer

__all__ = [
    "ANNOTATION_COLUMNS",
    "ANNOTATION_TERM",
    "USER_ANNOTATION",
    "AnnotationFields",
    "Created",
    "annotations_by_id",
    "check_terms",
    "create_annotation",
    "create_annotations",
    "delete_annotation",
    "distinct_term_ids",
    "get_annotation",
    "terms_by_annotation",
    "tracks_by_annotation",
    "update_annotation",
]

#: Most annotations one `annotationCreateMany` may carry.
MAX_BATCH: Final = 1000
ANNOTATION_TABLE: Final = table_of(UserAnnotation)
TERM_LINK_TABLE: Final = table_of(AnnotationTerm)
#: The columns of an annotation row: everything but the PostGIS geometry, which is read back
#: through the stored WKT (and rebuilt from it when undo re-inserts a row).
STORED_COLUMNS: Final = tuple(c for c in ANNOTATION_TABLE.c if c.key != "location")


def distinct_term_ids(term_id: Any, linked: Any, annotation_id: Any) -> Any:
    """The distinct `term_id`s of the links whose `linked` column names the annotation (an
    empty array when none), as a correlated subquery."""
    return (
        select(func.coalesce(func.array_agg(distinct(term_id)), literal([], ARRAY(BigInteger))))
        .where(linked == annotation_id)
        .scalar_subquery()
    )


TERM_IDS: Final = distinct_term_ids(
    AnnotationTerm.term_id, AnnotationTerm.user_annotation_id, UserAnnotation.id
).label("term_ids")
#: What every read of a single annotation returns: the stored columns and its term ids.
ANNOTATION_COLUMNS: Final = (*STORED_COLUMNS, TERM_IDS)


def _location(row: Mapping[str, Any]) -> Any:
    return func.ST_GeomFromText(row["wkt_location"], 0)


async def _recount_reviews(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A restored annotation's reviewed copy may have outlived its deletion: count it again
    (snapshots never carry counters)."""
    table = table_of(UserAnnotation)
    copies = (
        select(func.count()).where(ReviewedAnnotation.parent_ident == table.c.id).scalar_subquery()
    )
    await conn.execute(
        update(table)
        .where(table.c.id.in_([row["id"] for row in rows]))
        .values(count_reviewed_annotations=copies)
    )


async def _may_edit(ctx: Context, row: Mapping[str, Any]) -> None:
    (await project_access(ctx, row["project_id"])).require_owner_or_mode(row["user_id"])


async def _may_edit_annotation_of(ctx: Context, row: Mapping[str, Any]) -> None:
    annotation = await ctx.loader(annotations_by_id).load(row["user_annotation_id"])
    if annotation is not None:
        access = await project_access(ctx, annotation.project_id)
        access.require_owner_or_mode(annotation.user_id)


USER_ANNOTATION: Final = register(
    Spec("UserAnnotation", UserAnnotation, lambda row: str(row["id"]),
         project_of=lambda row: row["project_id"], authorize=_may_edit,
         counters=("count_comments", "count_reviewed_annotations"),
         derived={"location": _location}, after_replay=_recount_reviews)
)  # fmt: skip
ANNOTATION_TERM: Final = register(
    Spec("AnnotationTerm", AnnotationTerm,
         lambda row: f"{row['user_annotation_id']} ({row['term_id']})",
         authorize=_may_edit_annotation_of)
)  # fmt: skip
SHARED_ANNOTATION: Final = register(
    Spec("SharedAnnotation", SharedAnnotation, lambda row: str(row["id"]),
         authorize=_may_edit_annotation_of)
)  # fmt: skip


# --- loaders ---------------------------------------------------------------------------------


async def annotations_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """User annotations by id (with their term ids), one SELECT for the batch."""
    stmt = select(*ANNOTATION_COLUMNS).where(UserAnnotation.id.in_(ids))
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def _read(conn: Connection, annotation_id: int) -> Row[Any]:
    """An annotation as readers see it, read inside the writing transaction."""
    stmt = select(*ANNOTATION_COLUMNS).where(UserAnnotation.id == annotation_id)
    return (await conn.execute(stmt)).one()


async def get_annotation(ctx: Context, annotation_id: int) -> Any:
    """One user annotation; READ on its project."""
    row = await ctx.found(annotations_by_id, annotation_id, "UserAnnotation")
    (await project_access(ctx, row.project_id)).require_read()
    return row


# --- writes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnnotationFields:
    """What a create or an update gives: `slice` wins over `image`; on update, absent values
    keep the stored ones and `terms`/`tracks` are ignored (§3.4)."""

    location: str | None = None
    slice: int | None = None
    image: int | None = None
    user: int | None = None
    terms: list[int] = field(default_factory=list)
    tracks: list[int] = field(default_factory=list)
    geometry_compression: float | None = None
    min_point: int | None = None
    max_point: int | None = None


@dataclass(frozen=True, slots=True)
class Created:
    """A created annotation, its command, and the track links made with it."""

    row: Any
    command: CommandInfo
    tracks: list[Any]


@dataclass(frozen=True, slots=True)
class _Place:
    """Where an annotation goes: its slice, image (row with size and calibration) and project."""

    slice_id: int
    image: Any
    access: ProjectAccess

    @property
    def width(self) -> int | None:
        return self.image.width  # type: ignore[no-any-return]

    @property
    def height(self) -> int | None:
        return self.image.height  # type: ignore[no-any-return]

    @property
    def physical_size_x(self) -> float | None:
        """The effective calibration: the instance's override when set, else the image's."""
        return self.image.physical_size_x or self.image.base_physical_size_x  # type: ignore[no-any-return]


async def _place(ctx: Context, slice_id: int | None, image_id: int | None) -> _Place:
    """The slice (or the image's reference slice) an annotation is drawn on."""
    if slice_id is not None:
        slice_row = await ctx.found(slice_instances_by_id, slice_id, "SliceInstance")
        image_id = slice_row.image_id
    elif image_id is None:
        raise InvalidInput("Give the slice or the image the annotation is drawn on")
    image = await ctx.found(image_instances_by_id, image_id, "ImageInstance")
    if slice_id is None:
        slice_id = (await reference_slice(ctx, image)).id
    access = await project_access(ctx, image.project_id)
    return _Place(slice_id, image, access)


async def _author(ctx: Context, place: _Place, user_id: int | None) -> int:
    """The creator: the caller, or someone else when the mode lets the caller act for others
    (in restricted mode only managers may, §3.4)."""
    viewer = ctx.require_viewer()
    if user_id is None or user_id == viewer.id:
        return viewer.id
    async with ctx.db.read() as conn:
        found = await conn.execute(select(SecUser.id).where(SecUser.id == user_id))
    if found.first() is None:
        raise InvalidInput(f"user was not found with id: {user_id}")
    place.access.require_owner_or_mode(None)
    return user_id


async def check_terms(
    conn: Connection, project_id: int, term_ids: Sequence[int], *, unknown_is_404: bool = False
) -> None:
    """Every term must belong to the ontology of the annotation's project (400 otherwise);
    routes that name one term answer 404 for an unknown one (`unknown_is_404`)."""
    if not term_ids:
        return
    ontology = select(Project.ontology_id).where(Project.id == project_id).scalar_subquery()
    stmt = select(Term.id, Term.ontology_id == ontology).where(Term.id.in_(term_ids))
    fits: dict[int, bool] = {row[0]: row[1] for row in await conn.execute(stmt)}
    for term_id in term_ids:
        if unknown_is_404 and term_id not in fits:
            raise NotFound("Term", term_id)
        if not fits.get(term_id):
            raise InvalidInput(f"Term {term_id} is not in the ontology of the project")


def _geometry_values(shaped: Shaped, measures: Measures) -> dict[str, Any]:
    return {
        "location": from_shape(shaped.geometry, srid=0),
        "wkt_location": shaped.wkt,
        "geometry_compression": shaped.compression,
        "area": measures.area,
        "area_unit": measures.area_unit,
        "perimeter": measures.perimeter,
        "perimeter_unit": measures.perimeter_unit,
        "centroid_x": measures.centroid_x,
        "centroid_y": measures.centroid_y,
    }


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A checked create: where, by whom, what geometry, which terms and tracks."""

    place: _Place
    user_id: int
    values: dict[str, Any]
    terms: list[int]
    tracks: list[int]


async def _prepare(ctx: Context, fields: AnnotationFields) -> _Prepared:
    """Permissions and the geometry pipeline, before any write."""
    ctx.require_guest()
    if fields.location is None or not fields.location.strip():
        raise InvalidInput("Property location must be set: a WKT geometry is required")
    place = await _place(ctx, fields.slice, fields.image)
    place.access.require_writable()
    user_id = await _author(ctx, place, fields.user)
    shaped = prepare_new(fields.location, place.width, place.height,
                         min_point=fields.min_point, max_point=fields.max_point,
                         max_points=MAX_POINTS)  # fmt: skip
    values = {
        "slice_id": place.slice_id,
        "image_id": place.image.id,
        "project_id": place.image.project_id,
        "user_id": user_id,
        **_geometry_values(shaped, measure(shaped.geometry, place.physical_size_x)),
    }
    return _Prepared(place, user_id, values, list(dict.fromkeys(fields.terms)),
                     list(dict.fromkeys(fields.tracks)))  # fmt: skip


async def _insert(
    conn: Connection, log: CommandLog, viewer: Viewer, prepared: _Prepared, *, printed: bool
) -> Created:
    await check_terms(conn, prepared.values["project_id"], prepared.terms)
    inserted = (
        await conn.execute(
            ANNOTATION_TABLE.insert().values(**prepared.values).returning(*STORED_COLUMNS)
        )
    ).one()
    command = await log.add(USER_ANNOTATION, inserted, printed=printed)
    for term_id in prepared.terms:
        values = {"user_annotation_id": inserted.id, "term_id": term_id, "user_id": viewer.id}
        link = await insert_row(conn, AnnotationTerm, values)
        await log.add(ANNOTATION_TERM, link, printed=False)
    tracks = await link_tracks(conn, log, inserted, prepared.tracks, printed=False)
    return Created(await _read(conn, inserted.id), command, tracks)


async def create_annotation(ctx: Context, fields: AnnotationFields) -> Created:
    """Create one annotation, its terms (by the caller) and its track links, in one
    transaction."""
    viewer = ctx.require_guest()
    prepared = await _prepare(ctx, fields)
    async with ctx.db.transaction() as conn:
        return await _insert(conn, CommandLog(conn, viewer), viewer, prepared, printed=True)


async def create_annotations(ctx: Context, many: Sequence[AnnotationFields]) -> list[Created]:
    """Create several annotations in one transaction: all of them, or none (the REST bridge
    answers a JSON array element by element instead, as Cytomine does)."""
    viewer = ctx.require_guest()
    if len(many) > MAX_BATCH:
        raise InvalidInput(f"At most {MAX_BATCH} annotations may be created at once")
    prepared = [await _prepare(ctx, fields) for fields in many]
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        return [await _insert(conn, log, viewer, item, printed=True) for item in prepared]


async def update_annotation(ctx: Context, annotation_id: int, fields: AnnotationFields) -> Changed:
    """Replace an annotation's geometry (re-applying its compression), and move it to another
    slice or creator when asked; owner-or-mode with the creator as owner."""
    viewer = ctx.require_guest()
    current = await get_annotation(ctx, annotation_id)
    (await project_access(ctx, current.project_id)).require_owner_or_mode(current.user_id)
    if fields.location is None or not fields.location.strip():
        raise InvalidInput("Property location must be set: a WKT geometry is required")
    moved = (fields.slice is not None and fields.slice != current.slice_id) or (
        fields.slice is None and fields.image is not None and fields.image != current.image_id
    )
    place = await _place(ctx, fields.slice if moved else current.slice_id,
                         fields.image if moved else None)  # fmt: skip
    if moved:
        place.access.require_writable()
    user_id = current.user_id
    if fields.user is not None and fields.user != current.user_id:
        user_id = await _author(ctx, place, fields.user)
    shaped = prepare_edit(fields.location, place.width, place.height, fields.geometry_compression)
    values = {
        "slice_id": place.slice_id,
        "image_id": place.image.id,
        "project_id": place.image.project_id,
        "user_id": user_id,
        **_geometry_values(shaped, measure(shaped.geometry, place.physical_size_x)),
    }
    async with ctx.db.transaction() as conn:
        before = await _lock(conn, annotation_id)
        after = (
            await conn.execute(
                update(UserAnnotation)
                .where(UserAnnotation.id == annotation_id)
                .values(**values)
                .returning(*STORED_COLUMNS)
            )
        ).one()
        command = await CommandLog(conn, viewer).edit(USER_ANNOTATION, before, after)
        taken = f"A track of annotation {annotation_id} already has one on slice {after.slice_id}"
        with constraint_errors(taken):  # track links live on the annotation's slice
            await conn.execute(
                update(AnnotationTrack)
                .where(AnnotationTrack.annotation_id == annotation_id)
                .values(slice_id=after.slice_id)
            )
        row = await _read(conn, annotation_id)
    return Changed(row, command)


async def _lock(conn: Connection, annotation_id: int) -> Row[Any]:
    """The annotation's stored row, locked for the rest of the transaction."""
    stmt = select(*STORED_COLUMNS).where(UserAnnotation.id == annotation_id).with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("UserAnnotation", annotation_id)
    return row


async def delete_annotation(ctx: Context, annotation_id: int) -> Changed:
    """Delete an annotation with its terms, track links, comments and tag associations
    (recorded first, so undo brings them back); its reviewed copy stays."""
    viewer = ctx.require_guest()
    current = await get_annotation(ctx, annotation_id)
    (await project_access(ctx, current.project_id)).require_owner_or_mode(current.user_id)
    async with ctx.db.transaction() as conn:
        await _lock(conn, annotation_id)
        row = await _read(conn, annotation_id)
        log = CommandLog(conn, viewer)
        for model, spec, column in (
            (AnnotationTerm, ANNOTATION_TERM, AnnotationTerm.user_annotation_id),
            (AnnotationTrack, ANNOTATION_TRACK, AnnotationTrack.annotation_id),
            (SharedAnnotation, SHARED_ANNOTATION, SharedAnnotation.user_annotation_id),
        ):
            children = await conn.execute(select(*table_of(model).c).where(column == annotation_id))
            await log.delete_many(spec, children.all())
        await record_tags(conn, log, USER_ANNOTATION_CLASS, [annotation_id])
        command = await log.delete(USER_ANNOTATION, row)
        await conn.execute(delete(UserAnnotation).where(UserAnnotation.id == annotation_id))
    return Changed(row, command)


async def terms_by_annotation(db: Lease, ids: list[int]) -> list[list[Any]]:
    """The term links of each user annotation, oldest first."""
    stmt = (
        select(*TERM_LINK_TABLE.c)
        .where(AnnotationTerm.user_annotation_id.in_(ids))
        .order_by(AnnotationTerm.id)
    )
    grouped: dict[int, list[Any]] = {key: [] for key in ids}
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.user_annotation_id].append(row)
    return [grouped[key] for key in ids]


async def tracks_by_annotation(db: Lease, ids: list[int]) -> list[list[Any]]:
    """The track links of each user annotation."""
    stmt = (
        select(*table_of(AnnotationTrack).c)
        .where(AnnotationTrack.annotation_id.in_(ids))
        .order_by(AnnotationTrack.id)
    )
    grouped: dict[int, list[Any]] = {key: [] for key in ids}
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.annotation_id].append(row)
    return [grouped[key] for key in ids]
