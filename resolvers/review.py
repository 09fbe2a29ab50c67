"""The review of an image and the reviewed annotations it makes (contract
images-annotations.md §3.5, §3.9, §3.10, §3.13).

An image is *in review* once a reviewer started it (`reviewStart` and `reviewUser` set), and
stays so when validated (`reviewStop` set) until the review is cancelled, as in Cytomine. Only
its reviewer accepts or rejects annotations (400 for anyone else: Cytomine's choice). Accepting
copies a user annotation into the reviewed layer — geometry, slice, image, project, compression
and measures — with the terms given or the original's; rejecting deletes the copy. Changing or
deleting a reviewed annotation is for its reviewer and administrators (403).

Every write is recorded (undo, redo); the counters (image, project, the index row of the
reviewer, the original's `countReviewedAnnotations`) are kept by triggers (migration 0003).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import shapely
from geoalchemy2.shape import from_shape
from shapely.errors import GEOSException, ShapelyError
from sqlalchemy import (
    BigInteger,
    Row,
    Select,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import (
    AnnotationIndex,
    AnnotationTerm,
    ReviewedAnnotation,
    ReviewedAnnotationTerm,
    SecUser,
    SliceInstance,
    UserAnnotation,
)
from resolvers.annotation import (
    AnnotationFields,
    annotations_by_id,
    check_terms,
    delete_annotation,
    get_annotation,
    update_annotation,
)
from resolvers.annotation.listing import REVIEWED_LAYER, term_ids
from resolvers.annotation.rules import terms_fit_their_project
from resolvers.command import (
    Action,
    CommandInfo,
    CommandLog,
    Spec,
    register,
    row_data,
    update_logged,
)
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, lock_row, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.geometry import MAX_WKT_LENGTH, Shaped, measure, prepare_edit, to_wkt
from resolvers.image import (
    IMAGE_INSTANCE,
    effective_calibration,
    get_image_instance,
    image_instances_by_id,
    reference_slice,
    slice_instances_by_id,
)
from resolvers.metadata import record_metadata
from resolvers.metadata_target import REVIEWED_ANNOTATION_CLASS, USER_ANNOTATION_CLASS
from resolvers.project_access import project_access
from resolvers.viewer import Viewer

__all__ = [
    "REVIEWED_ANNOTATION",
    "REVIEWED_ANNOTATION_TERM",
    "REVIEWED_COLUMNS",
    "AnyAnnotation",
    "Layers",
    "ReviewedFields",
    "accept_layers",
    "count_creator_reviewed",
    "create_reviewed_annotation",
    "delete_any_annotation",
    "delete_reviewed_annotation",
    "get_any_annotation",
    "get_reviewed_annotation",
    "readable_original",
    "readable_reviewed_copy",
    "reject_layers",
    "review_annotation",
    "review_stats",
    "reviewed_annotations_by_id",
    "reviewed_by_parent",
    "set_reviewed_terms",
    "start_review",
    "stop_review",
    "unreview_annotation",
    "update_any_annotation",
    "update_reviewed_annotation",
]

REVIEWED_TABLE: Final = table_of(ReviewedAnnotation)
TERM_SET_TABLE: Final = table_of(ReviewedAnnotationTerm)
USER_TABLE: Final = table_of(UserAnnotation)
_SLICES: Final = table_of(SliceInstance)
#: The stored columns of a reviewed annotation but its PostGIS geometry (read as its WKT).
STORED: Final = tuple(c for c in REVIEWED_TABLE.c if c.key != "location")
#: What every read of a single reviewed annotation returns: the stored columns, its term ids.
REVIEWED_COLUMNS: Final = (*STORED, term_ids(REVIEWED_LAYER).label("term_ids"))
#: What a reviewed annotation copies from the user annotation it is made from.
COPIED: Final = ("slice_id", "image_id", "project_id", "location", "wkt_location",
                 "geometry_compression", "area", "area_unit", "perimeter", "perimeter_unit",
                 "centroid_x", "centroid_y", "user_id")  # fmt: skip
#: Most users one accept or reject of layers names.
MAX_LAYERS: Final = 1000


def _require_author(viewer: Viewer, review_user_id: int) -> None:
    """A reviewed annotation is changed by its reviewer or an administrator (§3.10)."""
    if not (viewer.is_admin or viewer.id == review_user_id):
        raise Forbidden("Only the reviewer of this annotation or an administrator may change it")


async def _may_edit_reviewed(ctx: Context, row: Mapping[str, Any]) -> None:
    """Its reviewer or an administrator, in a project that takes their writes."""
    (await project_access(ctx, row["project_id"])).require_writable()
    _require_author(ctx.require_viewer(), row["review_user_id"])


async def _may_edit_term_set(ctx: Context, row: Mapping[str, Any]) -> None:
    reviewed = await ctx.loader(reviewed_annotations_by_id).load(row["reviewed_annotation_id"])
    if reviewed is not None:
        await _may_edit_reviewed(ctx, reviewed._asdict())


def _location(row: Mapping[str, Any]) -> Any:
    return func.ST_GeomFromText(row["wkt_location"], 0)


REVIEWED_ANNOTATION: Final = register(
    Spec("ReviewedAnnotation", ReviewedAnnotation, lambda row: str(row["id"]),
         project_of=lambda row: row["project_id"], authorize=_may_edit_reviewed,
         counters=("count_comments",), derived={"location": _location})
)  # fmt: skip
REVIEWED_ANNOTATION_TERM: Final = register(
    Spec("ReviewedAnnotationTerm", ReviewedAnnotationTerm,
         lambda row: f"{row['reviewed_annotation_id']} ({row['term_id']})",
         authorize=_may_edit_term_set,
         after_replay=terms_fit_their_project(ReviewedAnnotationTerm))
)  # fmt: skip


# --- loaders and reads -----------------------------------------------------------------------


_REVIEWED: Final = Direct(select(*REVIEWED_COLUMNS).where(among_bound(ReviewedAnnotation.id)))


async def reviewed_annotations_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Reviewed annotations by id (with their term ids), one SELECT for the batch."""
    return await rows_by_id(db, _REVIEWED, ids)


async def reviewed_by_parent(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """The reviewed copy of each user annotation (None when it has none)."""
    stmt = select(*REVIEWED_COLUMNS).where(among(ReviewedAnnotation.parent_ident, ids))
    async with db.read() as conn:
        found = {row.parent_ident: row for row in await conn.execute(stmt)}
    return [found.get(key) for key in ids]


async def _read(conn: Connection, reviewed_id: int) -> Row[Any]:
    """A reviewed annotation as readers see it, inside the writing transaction."""
    return (
        await conn.execute(select(*REVIEWED_COLUMNS).where(REVIEWED_TABLE.c.id == reviewed_id))
    ).one()


async def get_reviewed_annotation(ctx: Context, reviewed_id: int) -> Any:
    """One reviewed annotation; READ on its project."""
    row = await ctx.found(reviewed_annotations_by_id, reviewed_id, "ReviewedAnnotation")
    (await project_access(ctx, row.project_id)).require_read()
    return row


async def _readable(ctx: Context, project_id: int) -> bool:
    """Whether the caller reads the project (without refusing: for a field that hides)."""
    return (await project_access(ctx, project_id)).is_member


async def readable_original(ctx: Context, reviewed: Any) -> Any:
    """The user annotation a reviewed one was made from, while it exists and the caller may
    read it: an original moved into another project after its review is that project's
    readers' alone (None for the others)."""
    if reviewed.parent_ident is None:
        return None
    original = await ctx.loader(annotations_by_id).load(reviewed.parent_ident)
    if original is None or original.project_id == reviewed.project_id:
        return original
    return original if await _readable(ctx, original.project_id) else None


async def readable_reviewed_copy(ctx: Context, annotation_id: int) -> Any:
    """The reviewed copy of a user annotation the caller may read (404/403 otherwise), when
    the caller may read the copy too: a copy stays in its project when its original moves to
    another one, and is no reader's of the new project (None then, as when there is none)."""
    await get_any_annotation(ctx, annotation_id)
    copy = await ctx.loader(reviewed_by_parent).load(annotation_id)
    if copy is None or not await _readable(ctx, copy.project_id):
        return None
    return copy


@dataclass(frozen=True, slots=True)
class AnyAnnotation:
    """An annotation of either kind (§3.5), with its command when it was just changed."""

    row: Any
    reviewed: bool
    command: CommandInfo | None = None


async def _kind_of(ctx: Context, annotation_id: int) -> bool:
    """Whether an id names a reviewed annotation: user annotations are looked up first, then
    reviewed ones; neither is a 404."""
    ctx.require_viewer()
    if await ctx.loader(annotations_by_id).load(annotation_id) is not None:
        return False
    if await ctx.loader(reviewed_annotations_by_id).load(annotation_id) is not None:
        return True
    raise NotFound("Annotation", annotation_id)


async def get_any_annotation(ctx: Context, annotation_id: int) -> AnyAnnotation:
    """An annotation of either kind, as its own endpoint reads it."""
    if await _kind_of(ctx, annotation_id):
        return AnyAnnotation(await get_reviewed_annotation(ctx, annotation_id), True)
    return AnyAnnotation(await get_annotation(ctx, annotation_id), False)


# --- the image's review ----------------------------------------------------------------------


def _in_review(image: Any) -> bool:
    return image.review_start is not None and image.review_user_id is not None


async def _require_reviewer(ctx: Context, image: Any, viewer: Viewer, doing: str) -> None:
    """The image is in review and the caller is its reviewer (400 otherwise, §3.9), in a
    project that takes writes from them (403 in a read-only one)."""
    (await project_access(ctx, image.project_id)).require_writable()
    if not _in_review(image):
        raise InvalidInput(f"Cannot {doing}: image {image.id} is not in review")
    if image.review_user_id != viewer.id:
        raise InvalidInput(
            f"Cannot {doing}: only the reviewer of image {image.id} "
            f"(user {image.review_user_id}) may"
        )


async def _set_review(
    ctx: Context, viewer: Viewer, image_id: int, values: Mapping[str, Any]
) -> Changed:
    """Write the image's review columns as an ordinary image edit (so undo reverts it)."""
    async with ctx.db.transaction() as conn:
        _, _, command = await update_logged(
            CommandLog(conn, viewer), IMAGE_INSTANCE, image_id, values
        )
    return Changed(await ctx.loader(image_instances_by_id).load(image_id), command)


async def start_review(ctx: Context, image_id: int) -> Changed:
    """Start reviewing an image, the caller as its reviewer: owner-or-mode with the image's
    creator as owner (§3.9). A running review is taken over, as in Cytomine."""
    viewer = ctx.require_viewer()
    image = await get_image_instance(ctx, image_id)
    (await project_access(ctx, image.project_id)).require_owner_or_mode(image.user_id)
    return await _set_review(ctx, viewer, image_id,
                             {"review_start": func.now(), "review_user_id": viewer.id})  # fmt: skip


async def stop_review(ctx: Context, image_id: int, *, cancel: bool = False) -> Changed:
    """Validate the image (`reviewStop`), or with `cancel` take back a validation, and end a
    review not validated yet; only its reviewer may (§3.9)."""
    viewer = ctx.require_viewer()
    image = await get_image_instance(ctx, image_id)
    await _require_reviewer(ctx, image, viewer, "stop the review")
    values: dict[str, Any] = {"review_stop": None if cancel else func.now()}
    if cancel and image.review_stop is None:
        values.update(review_start=None, review_user_id=None)
    return await _set_review(ctx, viewer, image_id, values)


# --- accepting and rejecting -----------------------------------------------------------------


def _copies(where: Any, reviewer_id: int) -> Any:
    """INSERT of the reviewed copies of the user annotations matching `where`, returning them."""
    source = select(
        *(USER_TABLE.c[name] for name in COPIED),
        literal(reviewer_id, BigInteger),
        USER_TABLE.c.id,
        literal(USER_ANNOTATION_CLASS),
        literal(1, BigInteger),
    ).where(where)
    columns = [*COPIED, "review_user_id", "parent_ident", "parent_class_name", "status"]
    return insert(REVIEWED_TABLE).from_select(columns, source).returning(*STORED)


async def _copy_terms(conn: Connection, log: CommandLog, reviewed_ids: Sequence[int]) -> None:
    """Give each new reviewed annotation the distinct terms of its original."""
    source = (
        select(REVIEWED_TABLE.c.id, AnnotationTerm.term_id)
        .distinct()
        .join(AnnotationTerm, AnnotationTerm.user_annotation_id == REVIEWED_TABLE.c.parent_ident)
        .where(REVIEWED_TABLE.c.id.in_(reviewed_ids))
    )
    stmt = (
        insert(TERM_SET_TABLE)
        .from_select(["reviewed_annotation_id", "term_id"], source)
        .returning(*TERM_SET_TABLE.c)
    )
    await log.add_many(REVIEWED_ANNOTATION_TERM, (await conn.execute(stmt)).all())


async def _set_terms(
    conn: Connection, log: CommandLog, reviewed_id: int, terms: Sequence[int]
) -> None:
    """Make the term set of a reviewed annotation exactly `terms`, recording what changes."""
    current = (
        await conn.execute(
            select(*TERM_SET_TABLE.c).where(TERM_SET_TABLE.c.reviewed_annotation_id == reviewed_id)
        )
    ).all()
    removed = [row for row in current if row.term_id not in terms]
    kept = {row.term_id for row in current}
    added = [term_id for term_id in terms if term_id not in kept]
    if removed:
        await log.delete_many(REVIEWED_ANNOTATION_TERM, removed)
        await conn.execute(
            delete(TERM_SET_TABLE).where(among(TERM_SET_TABLE.c.id, [r.id for r in removed]))
        )
    if added:
        values = [{"reviewed_annotation_id": reviewed_id, "term_id": term_id} for term_id in added]
        rows = (
            await conn.execute(insert(TERM_SET_TABLE).values(values).returning(*TERM_SET_TABLE.c))
        ).all()
        await log.add_many(REVIEWED_ANNOTATION_TERM, rows)


async def _image_of(ctx: Context, image_id: int) -> Any:
    return await ctx.found(image_instances_by_id, image_id, "ImageInstance")


async def review_annotation(
    ctx: Context, annotation_id: int, terms: Sequence[int] | None = None
) -> Changed:
    """Accept a user annotation into the reviewed layer (§3.9): its image must be in review
    by the caller (400); a second acceptance is a 409. The copy's terms are `terms` when some
    are given (404 for an unknown one, 400 outside the ontology), else the original's."""
    viewer = ctx.require_viewer()
    annotation = await get_annotation(ctx, annotation_id)
    image = await _image_of(ctx, annotation.image_id)
    await _require_reviewer(ctx, image, viewer, "accept an annotation")
    wanted = list(dict.fromkeys(terms or ()))
    async with ctx.db.transaction() as conn:
        if wanted:
            await check_terms(conn, annotation.project_id, wanted, unknown_is_404=True)
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Annotation {annotation_id} is already reviewed"):
            row = (await conn.execute(_copies(USER_TABLE.c.id == annotation_id, viewer.id))).first()
        if row is None:  # deleted since it was read
            raise NotFound("UserAnnotation", annotation_id)
        command = await log.add(REVIEWED_ANNOTATION, row)
        if wanted:
            await _set_terms(conn, log, row.id, wanted)
        else:
            await _copy_terms(conn, log, [row.id])
        reviewed = await _read(conn, row.id)
    return Changed(reviewed, command)


async def _delete_reviewed(conn: Connection, log: CommandLog, rows: Sequence[Any]) -> CommandInfo:
    """Delete reviewed annotations with their term sets and tag associations, recorded so undo
    brings them back (after their annotation); one command for one annotation, else one for
    all."""
    ids = [row.id for row in rows]
    terms = await conn.execute(
        select(*TERM_SET_TABLE.c).where(among(TERM_SET_TABLE.c.reviewed_annotation_id, ids))
    )
    await log.delete_many(REVIEWED_ANNOTATION_TERM, terms.all())
    await record_metadata(conn, log, REVIEWED_ANNOTATION_CLASS, ids)
    stored = [{key: row._mapping[key] for key in (c.key for c in STORED)} for row in rows]
    if len(rows) == 1:
        command = await log.delete(REVIEWED_ANNOTATION, stored[0])
    else:
        command = await _record_rows(log, "DELETE", stored, rows[0].project_id)
    await conn.execute(delete(REVIEWED_TABLE).where(among(REVIEWED_TABLE.c.id, ids)))
    return command


async def _record_rows(
    log: CommandLog, action: Action, rows: Sequence[Any], project_id: int
) -> CommandInfo:
    """One printed command for many reviewed annotations: undone and redone as one, and its
    permissions checked again on the first (all share the reviewer and the project)."""
    data: dict[str, Any] = {"rows": [row_data(row) for row in rows]}
    verb = "added" if action == "ADD" else "deleted"
    message = f"{len(rows)} ReviewedAnnotation {verb}"
    return await log.record(REVIEWED_ANNOTATION, action, data, message, project_id=project_id)


async def unreview_annotation(ctx: Context, annotation_id: int) -> Changed:
    """Reject an annotation: delete the reviewed copy of the user annotation `annotation_id`
    (§3.9). No copy is a 400; the caller must review the image (400) and be the copy's
    reviewer or an administrator (403)."""
    viewer = ctx.require_viewer()
    reviewed = await ctx.loader(reviewed_by_parent).load(annotation_id)
    if reviewed is None:
        original = await get_annotation(ctx, annotation_id)
        raise InvalidInput(f"Annotation {original.id} is not reviewed: nothing to reject")
    (await project_access(ctx, reviewed.project_id)).require_read()
    image = await _image_of(ctx, reviewed.image_id)
    await _require_reviewer(ctx, image, viewer, "reject an annotation")
    _require_author(viewer, reviewed.review_user_id)
    async with ctx.db.transaction() as conn:
        await lock_row(conn, ReviewedAnnotation, "ReviewedAnnotation", reviewed.id)
        row = await _read(conn, reviewed.id)
        command = await _delete_reviewed(conn, CommandLog(conn, viewer), [row])
    return Changed(row, command)


@dataclass(frozen=True, slots=True)
class Layers:
    """The reviewed annotations an accept or reject of layers made or removed, by id, and
    its command (None when there was nothing to do)."""

    ids: list[int]
    command: CommandInfo | None


async def _layers_check(
    ctx: Context, image_id: int, users: Sequence[int] | None, doing: str
) -> tuple[Viewer, Any, list[int]]:
    viewer = ctx.require_viewer()
    wanted = list(dict.fromkeys(users or ()))
    if not wanted:
        raise InvalidInput("Parameter users must be set: the creators whose layers to review")
    if len(wanted) > MAX_LAYERS:
        raise InvalidInput(f"At most {MAX_LAYERS} users may be named at once")
    image = await get_image_instance(ctx, image_id)
    await _require_reviewer(ctx, image, viewer, doing)
    return viewer, image, wanted


async def accept_layers(
    ctx: Context, image_id: int, users: Sequence[int] | None, task: int | None = None
) -> Layers:
    """Accept every user annotation of these creators on the image that has no reviewed copy
    yet, each with its original's terms (§3.9). `task` names a progress task, which only
    reports progress: the work is one transaction here, so it is accepted and not used."""
    viewer, image, wanted = await _layers_check(ctx, image_id, users, "accept annotations")
    reviewed = exists().where(REVIEWED_TABLE.c.parent_ident == USER_TABLE.c.id)
    where = (USER_TABLE.c.image_id == image.id) & USER_TABLE.c.user_id.in_(wanted) & ~reviewed
    async with ctx.db.transaction() as conn:
        with constraint_errors("Some of these annotations were accepted meanwhile: try again"):
            rows = sorted((await conn.execute(_copies(where, viewer.id))).all(), key=lambda r: r.id)
        if not rows:
            return Layers([], None)
        log = CommandLog(conn, viewer)
        command = await _record_rows(log, "ADD", rows, image.project_id)
        await _copy_terms(conn, log, [row.id for row in rows])
    return Layers([row.id for row in rows], command)


async def reject_layers(
    ctx: Context, image_id: int, users: Sequence[int] | None, task: int | None = None
) -> Layers:
    """Delete the reviewed copies of these creators' annotations on the image (§3.9); each
    must be the caller's (or the caller an administrator: 403)."""
    viewer, image, wanted = await _layers_check(ctx, image_id, users, "reject annotations")
    async with ctx.db.transaction() as conn:
        rows = (
            await conn.execute(
                select(*STORED)
                .where(REVIEWED_TABLE.c.image_id == image.id, REVIEWED_TABLE.c.user_id.in_(wanted))
                .order_by(REVIEWED_TABLE.c.id)
                .with_for_update()
            )
        ).all()
        for row in rows:
            _require_author(viewer, row.review_user_id)
        if not rows:
            return Layers([], None)
        command = await _delete_reviewed(conn, CommandLog(conn, viewer), rows)
    return Layers([row.id for row in rows], command)


# --- the reviewed annotation resource --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewedFields:
    """A reviewed annotation's fields (§3.10). On create `user`, `review_user`, `location`,
    `terms` and a slice or an image are required; on update only `location` is, and absent
    `terms` keep the stored set."""

    location: str | None = None
    slice: int | None = None
    image: int | None = None
    user: int | None = None
    review_user: int | None = None
    terms: list[int] | None = None
    parent: int | None = None
    geometry_compression: float | None = None


def _raw_shape(text: str | None) -> Shaped:
    """A geometry kept as given, only made valid (§3.10: no clipping, no simplification)."""
    if text is not None and len(text) <= MAX_WKT_LENGTH:
        try:
            geometry = shapely.from_wkt(text)
        except (ShapelyError, GEOSException, ValueError):
            geometry = None  # the pipeline below says what is wrong with it
        if geometry is not None and not geometry.is_empty and not geometry.is_valid:
            text = to_wkt(shapely.make_valid(geometry))
    return prepare_edit(text, None, None, None)


async def _users_exist(conn: Connection, fields: ReviewedFields) -> None:
    for value, name in ((fields.user, "user"), (fields.review_user, "reviewUser")):
        if value is None:
            raise InvalidInput(f"Property {name} must be set")
        found = await conn.execute(select(SecUser.id).where(SecUser.id == value))
        if found.first() is None:
            raise InvalidInput(f"{name} was not found with id: {value}")


async def _where(ctx: Context, fields: ReviewedFields) -> tuple[int, Any]:
    """The slice and image a raw reviewed annotation lies on (the slice wins; an image alone
    gives its first slice)."""
    image_id = fields.image
    slice_id = fields.slice
    if slice_id is not None:
        piece = await ctx.found(slice_instances_by_id, slice_id, "SliceInstance")
        if image_id is not None and image_id != piece.image_id:
            raise InvalidInput(f"SliceInstance {slice_id} is not a slice of image {image_id}")
        image_id = piece.image_id
    if image_id is None:
        raise InvalidInput("Give the slice or the image the annotation lies on")
    image = await _image_of(ctx, image_id)
    if slice_id is None:
        slice_id = (await reference_slice(ctx, image)).id
    return slice_id, image


def _measured(shaped: Shaped, image: Any) -> dict[str, Any]:
    measures = measure(shaped.geometry, effective_calibration(image).physical_size_x)
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


async def create_reviewed_annotation(ctx: Context, fields: ReviewedFields) -> Changed:
    """Create a reviewed annotation directly (§3.10): READ and the read-only check on the
    image's project, the geometry only made valid, every term in the project's ontology; a
    second copy of one parent is a 409."""
    viewer = ctx.require_viewer()
    if fields.location is None or not fields.location.strip():
        raise InvalidInput("Property location must be set: a WKT geometry is required")
    slice_id, image = await _where(ctx, fields)
    (await project_access(ctx, image.project_id)).require_writable()
    if fields.terms is None:
        raise InvalidInput("Property terms must be set: term list not found")
    terms = list(dict.fromkeys(fields.terms))
    shaped = _raw_shape(fields.location)
    async with ctx.db.transaction() as conn:
        await _users_exist(conn, fields)
        await check_terms(conn, image.project_id, terms)
        if fields.parent is not None:
            found = await conn.execute(
                select(USER_TABLE.c.image_id).where(USER_TABLE.c.id == fields.parent)
            )
            parent = found.first()
            if parent is None:
                raise InvalidInput(f"annotation was not found with id: {fields.parent}")
            if parent.image_id != image.id:
                raise InvalidInput(
                    f"Annotation {fields.parent} lies on another image: a reviewed copy lies "
                    "where its original does"
                )
        values = {
            "slice_id": slice_id, "image_id": image.id, "project_id": image.project_id,
            "user_id": fields.user, "review_user_id": fields.review_user,
            "parent_ident": fields.parent,
            "parent_class_name": None if fields.parent is None else USER_ANNOTATION_CLASS,
            **_measured(shaped, image),
        }  # fmt: skip
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Annotation {fields.parent} is already reviewed"):
            row = (
                await conn.execute(insert(REVIEWED_TABLE).values(**values).returning(*STORED))
            ).one()
        command = await log.add(REVIEWED_ANNOTATION, row)
        await _set_terms(conn, log, row.id, terms)
        reviewed = await _read(conn, row.id)
    return Changed(reviewed, command)


async def _edit(
    ctx: Context, current: Any, values: Mapping[str, Any], terms: Sequence[int] | None
) -> Changed:
    """Change a reviewed annotation and (when given) replace its term set, in one command."""
    viewer = ctx.require_viewer()
    await _may_edit_reviewed(ctx, current._asdict())
    wanted = None if terms is None else list(dict.fromkeys(terms))
    async with ctx.db.transaction() as conn:
        if wanted:
            await check_terms(conn, current.project_id, wanted)
        log = CommandLog(conn, viewer)
        table = REVIEWED_TABLE
        before = await conn.execute(
            select(*STORED).where(table.c.id == current.id).with_for_update()
        )
        locked = before.first()
        if locked is None:
            raise NotFound("ReviewedAnnotation", current.id)
        changed = update(table).where(table.c.id == current.id).values(**values)
        after = (await conn.execute(changed.returning(*STORED))).one()
        command = await log.edit(REVIEWED_ANNOTATION, locked, after)
        if wanted is not None:
            await _set_terms(conn, log, current.id, wanted)
        reviewed = await _read(conn, current.id)
    return Changed(reviewed, command)


async def update_reviewed_annotation(
    ctx: Context, reviewed_id: int, fields: ReviewedFields
) -> Changed:
    """Replace a reviewed annotation's geometry (the update pipeline, re-applying its
    compression) and term set; its reviewer or an administrator only (§3.10)."""
    current = await get_reviewed_annotation(ctx, reviewed_id)
    _require_author(ctx.require_viewer(), current.review_user_id)
    if fields.location is None or not fields.location.strip():
        raise InvalidInput("Property location must be set: a WKT geometry is required")
    image = await _image_of(ctx, current.image_id)
    shaped = prepare_edit(fields.location, image.width, image.height, fields.geometry_compression)
    return await _edit(ctx, current, _measured(shaped, image), fields.terms)


async def set_reviewed_terms(ctx: Context, reviewed_id: int, terms: Sequence[int]) -> Changed:
    """Make a reviewed annotation's term set exactly `terms` (clear-before, §3.11)."""
    current = await get_reviewed_annotation(ctx, reviewed_id)
    return await _edit(ctx, current, {"updated": func.now()}, list(terms))


async def delete_reviewed_annotation(ctx: Context, reviewed_id: int) -> Changed:
    """Delete a reviewed annotation and its term set; its reviewer or an administrator."""
    viewer = ctx.require_viewer()
    current = await get_reviewed_annotation(ctx, reviewed_id)
    await _may_edit_reviewed(ctx, current._asdict())
    async with ctx.db.transaction() as conn:
        await lock_row(conn, ReviewedAnnotation, "ReviewedAnnotation", reviewed_id)
        row = await _read(conn, reviewed_id)
        command = await _delete_reviewed(conn, CommandLog(conn, viewer), [row])
    return Changed(row, command)


# --- either kind (the generic endpoints, §3.5) -----------------------------------------------


async def update_any_annotation(
    ctx: Context, annotation_id: int, fields: AnnotationFields
) -> AnyAnnotation:
    """Update an annotation of either kind as its own endpoint would; for a reviewed one the
    terms given replace its set (none given keep it)."""
    if await _kind_of(ctx, annotation_id):
        reviewed = ReviewedFields(location=fields.location, terms=fields.terms or None,
                                  geometry_compression=fields.geometry_compression)  # fmt: skip
        changed = await update_reviewed_annotation(ctx, annotation_id, reviewed)
        return AnyAnnotation(changed.row, True, changed.command)
    changed = await update_annotation(ctx, annotation_id, fields)
    return AnyAnnotation(changed.row, False, changed.command)


async def delete_any_annotation(ctx: Context, annotation_id: int) -> AnyAnnotation:
    """Delete an annotation of either kind as its own endpoint would."""
    if await _kind_of(ctx, annotation_id):
        changed = await delete_reviewed_annotation(ctx, annotation_id)
        return AnyAnnotation(changed.row, True, changed.command)
    changed = await delete_annotation(ctx, annotation_id)
    return AnyAnnotation(changed.row, False, changed.command)


# --- statistics and counts -------------------------------------------------------------------


async def review_stats(ctx: Context, image_id: int) -> list[Row[Any]]:
    """Per creator of user annotations on the image: how many, and how many have a reviewed
    copy; most reviewed first (§3.10). READ on the image's project.

    Read from what is kept, not from the image's annotations: how many from the annotation
    index of the image's slices, how many reviewed from the image's originals that have a
    reviewed copy, through an index of those alone (migration 0016; their copy may lie on
    another image when the original moved after its review). A million annotations on the
    image: 232 ms an answer when counted, 4 ms so."""
    await get_image_instance(ctx, image_id)
    index = table_of(AnnotationIndex)
    drawn = (
        select(index.c.user_id, cast(func.sum(index.c.count_annotation), BigInteger).label("all"))
        .join(_SLICES, _SLICES.c.id == index.c.slice_id)
        .where(_SLICES.c.image_id == image_id)
        .group_by(index.c.user_id)
        .having(func.sum(index.c.count_annotation) > 0)
        .cte("drawn")
    )
    copied = (
        select(USER_TABLE.c.user_id, func.count().label("reviewed"))
        .where(USER_TABLE.c.image_id == image_id, USER_TABLE.c.count_reviewed_annotations > 0)
        .group_by(USER_TABLE.c.user_id)
        .cte("copied")
    )
    reviewed = func.coalesce(copied.c.reviewed, 0)
    stmt: Select[Any] = (
        select(drawn.c.user_id, drawn.c["all"], reviewed.label("reviewed"))
        .outerjoin(copied, copied.c.user_id == drawn.c.user_id)
        .order_by(reviewed.desc(), drawn.c.user_id)
    )
    async with ctx.db.read() as conn:
        return list((await conn.execute(stmt)).all())


async def count_creator_reviewed(ctx: Context, user_id: int) -> int:
    """The reviewed copies of the annotations a user created, in every project (§3.10); the
    user themself or an administrator may count them."""
    viewer = ctx.require_viewer()
    if not (viewer.is_admin or viewer.id == user_id):
        raise Forbidden("Only the user or an administrator may count these annotations")
    stmt = (
        select(func.count()).select_from(REVIEWED_TABLE).where(REVIEWED_TABLE.c.user_id == user_id)
    )
    async with ctx.db.read() as conn:
        return int((await conn.execute(stmt)).scalar_one())
