"""What an annotation write must satisfy: the undo/redo specs of annotations and of their
term and share links, and the checks run before any write (where the annotation is drawn, by
whom, and its geometry through the pipeline).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from geoalchemy2.shape import from_shape
from sqlalchemy import func, select, update

from db.engine import Connection
from db.id_lists import among
from db.models import (
    AnnotationTerm,
    AnnotationTrack,
    Project,
    ReviewedAnnotation,
    ReviewedAnnotationTerm,
    SecUser,
    SharedAnnotation,
    Term,
    UserAnnotation,
)
from resolvers.annotation.rows import annotations_by_id
from resolvers.command import Spec, register
from resolvers.context import Context
from resolvers.crud import constraint_errors, table_of
from resolvers.errors import InvalidInput, NotFound
from resolvers.geometry import MAX_POINTS, Measures, Shaped, measure, prepare_new
from resolvers.image import image_instances_by_id, reference_slice, slice_instances_by_id
from resolvers.metadata import property_pairs
from resolvers.project import ProjectAccess, project_access
from resolvers.track import stray_link

__all__ = [
    "ANNOTATION_TERM",
    "SHARED_ANNOTATION",
    "USER_ANNOTATION",
    "AnnotationFields",
    "check_terms",
    "links_follow",
    "stray_term",
    "terms_fit_their_annotations",
    "terms_fit_their_project",
]


# --- specs: how commands of these domains are replayed ---------------------------------------


def _location(row: Mapping[str, Any]) -> Any:
    return func.ST_GeomFromText(row["wkt_location"], 0)


async def links_follow(conn: Connection, annotation_ids: list[int], conflict: str) -> None:
    """Put the track links of the annotations on their annotation's slice, where a link lives
    (§4.2), after a move or its replay; another link of one of their tracks on that slice is
    a 409 (`conflict`), a track of another image than its annotation's a 400 (a track holds
    annotations of its image only: a replay may take one out of the image it was put in
    a track of since)."""
    links = table_of(AnnotationTrack)
    found = await stray_link(conn, among(links.c.annotation_id, annotation_ids))
    if found is not None:
        raise InvalidInput(f"Annotation {found.annotation_id} is in track {found.track_id} of "
                           "another image: take it out of the track first")  # fmt: skip
    with constraint_errors(conflict):
        await conn.execute(
            update(links)
            .where(links.c.annotation_id == UserAnnotation.id,
                   among(UserAnnotation.id, annotation_ids),
                   links.c.slice_id != UserAnnotation.slice_id)
            .values(slice_id=UserAnnotation.slice_id)
        )  # fmt: skip


async def terms_fit_their_annotations(conn: Connection, annotation_ids: list[int]) -> None:
    """The terms on the annotations must be of their project's ontology (§3.4): an annotation
    moved (or moved back by a replay) to a project of another ontology must not take its
    terms there (400)."""
    where = among(AnnotationTerm.user_annotation_id, annotation_ids)
    term_id = await stray_term(conn, AnnotationTerm, where)
    if term_id is not None:
        raise InvalidInput(f"Term {term_id} is not in the ontology of the project the "
                           "annotation would be in: take it off the annotation first")  # fmt: skip


async def _after_replay(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A restored annotation's reviewed copy may have outlived its deletion: count it again
    (snapshots never carry counters); a replayed move takes the annotation's track links
    with it, as the move did, and its terms must fit its project, as on a move."""
    table = table_of(UserAnnotation)
    ids = [row["id"] for row in rows]
    copies = (
        select(func.count()).where(ReviewedAnnotation.parent_ident == table.c.id).scalar_subquery()
    )
    await conn.execute(
        update(table).where(among(table.c.id, ids)).values(count_reviewed_annotations=copies)
    )
    await links_follow(conn, ids, "Cannot restore UserAnnotation: a track of it has another "
                       "annotation on the slice it goes back to")  # fmt: skip
    await terms_fit_their_annotations(conn, ids)


async def _may_edit(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode in the project the replay puts the annotation in and, when it takes it
    out of another one (a move undone or redone), there too, as the move asks in both."""
    (await project_access(ctx, row["project_id"])).require_owner_or_mode(row["user_id"])
    current = await ctx.loader(annotations_by_id).load(row["id"])
    if current is not None and current.project_id != row["project_id"]:
        (await project_access(ctx, current.project_id)).require_owner_or_mode(current.user_id)


async def _may_edit_annotation_of(ctx: Context, row: Mapping[str, Any]) -> None:
    annotation = await ctx.loader(annotations_by_id).load(row["user_annotation_id"])
    if annotation is not None:
        access = await project_access(ctx, annotation.project_id)
        access.require_owner_or_mode(annotation.user_id)


USER_ANNOTATION: Final = register(
    Spec("UserAnnotation", UserAnnotation, lambda row: str(row["id"]),
         project_of=lambda row: row["project_id"], authorize=_may_edit,
         scope=lambda row: (row["project_id"], row["user_id"]),
         counters=("count_comments", "count_reviewed_annotations"),
         derived={"location": _location}, after_replay=_after_replay)
)  # fmt: skip


#: The links that put terms on annotations, each with its annotation's column and model.
_TERM_CARRIERS: Final[Mapping[Any, tuple[Any, Any]]] = {
    AnnotationTerm: (AnnotationTerm.user_annotation_id, UserAnnotation),
    ReviewedAnnotationTerm: (ReviewedAnnotationTerm.reviewed_annotation_id, ReviewedAnnotation),
}


async def stray_term(
    conn: Connection, link: type[AnnotationTerm] | type[ReviewedAnnotationTerm], *where: Any
) -> int | None:
    """A term that one of the `link` rows `where` selects puts on an annotation whose
    project's ontology does not hold it (§5.2), None when all fit: the one query behind a
    replay of term links and a term's move to another ontology."""
    annotation_id, annotation = _TERM_CARRIERS[link]
    stmt = (
        select(link.term_id)
        .join(annotation, annotation.id == annotation_id)
        .join(Project, Project.id == annotation.project_id)
        .join(Term, Term.id == link.term_id)
        .where(*where, Project.ontology_id.is_distinct_from(Term.ontology_id))
        .limit(1)
    )
    return (await conn.execute(stmt)).scalar()


def terms_fit_their_project(
    link: type[AnnotationTerm] | type[ReviewedAnnotationTerm],
) -> Callable[[Connection, list[dict[str, Any]]], Awaitable[None]]:
    """The `after_replay` of a term link spec: a replay restoring links checks them as putting
    them on does (400), since the project may have taken another ontology, or the term moved,
    since they were recorded."""

    async def check(conn: Connection, rows: list[dict[str, Any]]) -> None:
        term_id = await stray_term(conn, link, among(link.id, [row["id"] for row in rows]))
        if term_id is not None:
            raise InvalidInput(f"Term {term_id} is not in the ontology of the project")

    return check


ANNOTATION_TERM: Final = register(
    Spec("AnnotationTerm", AnnotationTerm,
         lambda row: f"{row['user_annotation_id']} ({row['term_id']})",
         authorize=_may_edit_annotation_of,
         after_replay=terms_fit_their_project(AnnotationTerm))
)  # fmt: skip
SHARED_ANNOTATION: Final = register(
    Spec("SharedAnnotation", SharedAnnotation, lambda row: str(row["id"]),
         authorize=_may_edit_annotation_of)
)  # fmt: skip


# --- checks ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnnotationFields:
    """What a create or an update gives: `slice` wins over `image`; on update, absent values
    keep the stored ones and `terms`/`tracks`/`properties` are ignored (§3.4). `properties`
    is as sent: a map or a list of {key, value} (`property_pairs` reads it)."""

    location: str | None = None
    slice: int | None = None
    image: int | None = None
    user: int | None = None
    terms: list[int] = field(default_factory=list)
    tracks: list[int] = field(default_factory=list)
    geometry_compression: float | None = None
    min_point: int | None = None
    max_point: int | None = None
    properties: Any = None


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
    """A checked create: where, by whom, what geometry, which terms, tracks and properties."""

    place: _Place
    user_id: int
    values: dict[str, Any]
    terms: list[int]
    tracks: list[int]
    properties: list[tuple[str, str]]


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
                     list(dict.fromkeys(fields.tracks)),
                     property_pairs(fields.properties))  # fmt: skip
