"""Keeping annotations right when what they lie on changes.

- Deleting an image instance or a slice instance deletes its annotations through foreign keys
  (and their tag associations by trigger). Before that, the deleting transaction records them
  and everything hanging from them (term and track links, comments, tag associations, reviewed
  copies and their terms, the image's tracks), children before parents, so undo brings every
  row back in an order the keys accept.
- When an image's effective calibration changes, the area and perimeter of its annotations are
  recomputed in one statement per table (contract images-annotations.md §2.3, §2.6, §3.3),
  with the pipeline's rules: µm² and mm with a calibration, rounded pixels without.
- An image holding annotations or tracks does not move to another project, neither by an
  edit nor by a replay.

Specs are looked up by name: this module sits below the image modules, which call it, and the
annotation modules, which import them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Float,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)

from db.engine import Connection
from db.models import (
    AbstractImage,
    AnnotationTerm,
    AnnotationTrack,
    ImageInstance,
    ReviewedAnnotation,
    ReviewedAnnotationTerm,
    SharedAnnotation,
    Track,
    UserAnnotation,
)
from resolvers.command import CommandLog, spec_of
from resolvers.crud import table_of
from resolvers.metadata import record_metadata
from resolvers.metadata_target import (
    REVIEWED_ANNOTATION_CLASS,
    TRACK_CLASS,
    USER_ANNOTATION_CLASS,
)

__all__ = [
    "image_is_annotated",
    "record_annotations",
    "remeasure_annotations",
    "remeasure_instances_of",
]

#: Annotation tables, whose geometry column stays out of snapshots (rebuilt from the WKT).
LOCATED: Final = (UserAnnotation, ReviewedAnnotation)


def _columns(model: Any) -> list[Any]:
    return [c for c in table_of(model).c if c.key != "location"]


def _on(model: Any, image_ids: Sequence[int], slice_ids: Sequence[int]) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if image_ids:
        conditions.append(model.image_id.in_(image_ids))
    if slice_ids and hasattr(model, "slice_id"):
        conditions.append(model.slice_id.in_(slice_ids))
    return or_(*conditions) if conditions else false()


async def record_annotations(
    conn: Connection,
    log: CommandLog,
    *,
    image_ids: Sequence[int] = (),
    slice_ids: Sequence[int] = (),
) -> None:
    """Record, as silent delete commands, the annotations on these images or slices and what
    hangs from them; the foreign keys then delete them with their image or slice."""
    users = select(UserAnnotation.id).where(_on(UserAnnotation, image_ids, slice_ids))
    reviewed = select(ReviewedAnnotation.id).where(_on(ReviewedAnnotation, image_ids, slice_ids))
    tracks = select(Track.id).where(_on(Track, image_ids, ()))
    groups: list[tuple[str, Any, ColumnElement[bool]]] = [
        ("AnnotationTerm", AnnotationTerm, AnnotationTerm.user_annotation_id.in_(users)),
        ("AnnotationTrack", AnnotationTrack,
         or_(AnnotationTrack.annotation_id.in_(users), AnnotationTrack.track_id.in_(tracks))),
        ("SharedAnnotation", SharedAnnotation, SharedAnnotation.user_annotation_id.in_(users)),
        ("ReviewedAnnotationTerm", ReviewedAnnotationTerm,
         ReviewedAnnotationTerm.reviewed_annotation_id.in_(reviewed)),
        ("UserAnnotation", UserAnnotation, UserAnnotation.id.in_(users)),
        ("ReviewedAnnotation", ReviewedAnnotation, ReviewedAnnotation.id.in_(reviewed)),
        ("Track", Track, Track.id.in_(tracks)),
    ]  # fmt: skip
    await record_metadata(conn, log, USER_ANNOTATION_CLASS, users)
    await record_metadata(conn, log, REVIEWED_ANNOTATION_CLASS, reviewed)
    await record_metadata(conn, log, TRACK_CLASS, tracks)
    for domain, model, where in groups:
        rows = (await conn.execute(select(*_columns(model)).where(where).order_by(model.id))).all()
        await log.delete_many(spec_of(domain), rows)


def _length(location: Any) -> Any:
    """The boundary length of polygons, the length of lines, 0 for points."""
    return func.ST_Perimeter(location) + func.ST_Length(location)


def _half_up(value: Any) -> Any:
    return func.floor(value + literal(0.5, Float))


async def remeasure_annotations(conn: Connection, image_ids: Sequence[int]) -> None:
    """Recompute area and perimeter of the images' annotations with each image's effective
    calibration (its own `physicalSizeX` when set and not 0, else its abstract image's)."""
    if not image_ids:
        return
    image = table_of(ImageInstance)
    base = table_of(AbstractImage)
    effective = func.coalesce(func.nullif(image.c.physical_size_x, 0), base.c.physical_size_x)
    for model in LOCATED:
        table = table_of(model)
        psx = (
            select(effective)
            .select_from(image.join(base, base.c.id == image.c.base_image_id))
            .where(image.c.id == table.c.image_id)
            .scalar_subquery()
        )
        area = func.ST_Area(table.c.location)
        length = _length(table.c.location)
        calibrated = psx.is_not(None)
        await conn.execute(
            update(table)
            .where(table.c.image_id.in_(image_ids))
            .values(
                area=case((calibrated, area * psx * psx), else_=_half_up(area)),
                area_unit=case((calibrated, 3), else_=1),
                perimeter=case((calibrated, length * psx / 1000), else_=_half_up(length)),
                perimeter_unit=case((calibrated, 2), else_=0),
            )
        )


async def remeasure_instances_of(conn: Connection, abstract_image_ids: Sequence[int]) -> None:
    """`remeasure_annotations` for every instance of these abstract images."""
    instances = select(ImageInstance.id).where(ImageInstance.base_image_id.in_(abstract_image_ids))
    await remeasure_annotations(conn, list((await conn.execute(instances)).scalars()))


async def image_is_annotated(conn: Connection, image_id: int) -> bool:
    """Whether any annotation or track lies on this image. Such an image stays in its project:
    moving it would hand other users' work to another project's members."""
    found = [select(model.id).where(model.image_id == image_id) for model in (*LOCATED, Track)]
    return bool((await conn.execute(select(exists(union_all(*found))))).scalar_one())
