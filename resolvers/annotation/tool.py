"""Geometry tools on annotations: simplify, fill, freehand correction, repeat on other slices,
and the image-server request behind crops, masks and alpha masks (contract
images-annotations.md §3.4, §3.8, §3.14, §2.10).

Every change goes through the ordinary writes of its layer (`update_annotation`,
`delete_annotation`, `create_annotations` for user annotations; `update_reviewed_annotation`,
`delete_reviewed_annotation` for reviewed ones), so the geometry pipeline, the permission
checks, the commands (undo) and the counters stay in one place. A tool computes the new
geometry with the pure functions of resolvers/geometry.py and checks what it can before its
first write: a refused correction changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Table, func, select

from db.models import AnnotationTrack, ReviewedAnnotation, UserAnnotation
from resolvers.annotation.bulk import create_annotations
from resolvers.annotation.reads import get_annotation
from resolvers.annotation.rows import ANNOTATION_COLUMNS
from resolvers.annotation.rules import USER_ANNOTATION, AnnotationFields
from resolvers.annotation.writes import Created, delete_annotation, update_annotation
from resolvers.command import CommandInfo, Spec
from resolvers.context import Context
from resolvers.crud import Changed, table_of
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.geometry import MAX_POINTS, fill, parse, prepare_edit, simplify, to_wkt
from resolvers.image import (
    get_image_instance,
    image_instances_by_id,
    names_hidden,
    slice_instances_by_id,
    slice_target,
    slices_of,
)
from resolvers.pixels import ImageServerRequest, PixelArgs, image_server_request
from resolvers.project_access import project_access
from resolvers.review import (
    REVIEWED_ANNOTATION,
    REVIEWED_COLUMNS,
    AnyAnnotation,
    ReviewedFields,
    delete_reviewed_annotation,
    get_any_annotation,
    get_reviewed_annotation,
    update_any_annotation,
    update_reviewed_annotation,
)

__all__ = [
    "MAX_REPEAT",
    "Corrected",
    "Correction",
    "Simplified",
    "annotation_request",
    "correct_annotations",
    "fill_annotation",
    "repeat_annotation",
    "simplify_annotation",
    "simplify_wkt",
]

#: Most copies one repeat makes (they are created in one transaction).
MAX_REPEAT: Final = 1000


@dataclass(frozen=True, slots=True)
class Simplified:
    """A simplified geometry and the tolerance that made it (`geometryCompression`)."""

    wkt: str
    compression: float


def _bounds(min_point: int | None, max_point: int | None) -> None:
    for name, value in (("minPoint", min_point), ("maxPoint", max_point)):
        if value is not None and value < 0:
            raise InvalidInput(f"{name} must not be negative")


def simplify_wkt(
    text: str | None, min_point: int | None = None, max_point: int | None = None
) -> Simplified:
    """Simplify a WKT the way a create does (§3.3), storing nothing: `PUT /api/simplify.json`.
    The geometry must be valid, as everywhere else a WKT comes in."""
    _bounds(min_point, max_point)
    geometry, compression = simplify(parse(text), min_point, max_point, MAX_POINTS)
    return Simplified(to_wkt(geometry), compression)


async def simplify_annotation(
    ctx: Context, annotation_id: int, min_point: int | None = None, max_point: int | None = None
) -> AnyAnnotation:
    """Re-simplify the stored geometry of an annotation of either kind with a new point budget
    and store the result with its tolerance (§3.8; Cytomine takes the generic annotation, as
    its path says, §3.5). Cytomine checks nothing here; cytogate applies that kind's update
    permissions, and the change is an ordinary edit (with a command, so it can be undone):
    the stored geometry with the new tolerance is exactly what the update pipeline turns into
    the simplified geometry."""
    _bounds(min_point, max_point)
    current = (await get_any_annotation(ctx, annotation_id)).row
    _, compression = simplify(parse(current.wkt_location), min_point, max_point, MAX_POINTS)
    fields = AnnotationFields(location=current.wkt_location, geometry_compression=compression)
    return await update_any_annotation(ctx, annotation_id, fields)


async def fill_annotation(ctx: Context, annotation_id: int) -> AnyAnnotation:
    """Remove the holes of an annotation of either kind (each member's, for a multipolygon)
    through that kind's update path (§3.5, §3.8); anything but a polygon is a 400."""
    current = (await get_any_annotation(ctx, annotation_id)).row
    filled = fill(parse(current.wkt_location))
    fields = AnnotationFields(location=to_wkt(filled),
                              geometry_compression=current.geometry_compression)  # fmt: skip
    return await update_any_annotation(ctx, annotation_id, fields)


# --- correction ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Correction:
    """A freehand correction (§3.8): `location` added to (or, with `remove`, cut from) the
    annotation `annotation`, or else the annotations of `image` it touches: with `review`
    the reviewed ones, and when there are none (or without `review`) those of `layers`."""

    location: str | None
    image: int | None = None
    layers: Sequence[int] = ()
    review: bool = False
    remove: bool = False
    annotation: int | None = None


@dataclass(frozen=True, slots=True)
class Corrected:
    """The first target after its update (and that update's command), whether the targets
    were reviewed annotations, the other targets updated, and the ids of those deleted."""

    row: Any
    command: CommandInfo
    reviewed: bool = False
    updated: list[Any] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)


async def _update_user(ctx: Context, target: Any, geometry: BaseGeometry) -> Changed:
    fields = AnnotationFields(location=to_wkt(geometry),
                              geometry_compression=target.geometry_compression)  # fmt: skip
    return await update_annotation(ctx, target.id, fields)


async def _update_reviewed(ctx: Context, target: Any, geometry: BaseGeometry) -> Changed:
    fields = ReviewedFields(location=to_wkt(geometry),
                            geometry_compression=target.geometry_compression)  # fmt: skip
    return await update_reviewed_annotation(ctx, target.id, fields)


@dataclass(frozen=True, slots=True)
class _Layer:
    """What a correction needs of one layer of annotations: where its targets are read, whose
    layer a target is in (`owner`, named `whose` in messages), and the layer's own update and
    delete, whose permission rule (`spec.authorize`) is checked for every target first."""

    reviewed: bool
    table: Table
    columns: tuple[Any, ...]
    owner: str
    whose: str
    spec: Spec
    get: Callable[[Context, int], Awaitable[Any]]
    update: Callable[[Context, Any, BaseGeometry], Awaitable[Changed]]
    delete: Callable[[Context, int], Awaitable[Changed]]

    async def authorize(self, ctx: Context, target: Any) -> None:
        """What this layer's update and delete would refuse the caller on `target`."""
        assert self.spec.authorize is not None, self.spec.domain  # both layers have one
        await self.spec.authorize(ctx, target._asdict())

    async def touched(
        self, ctx: Context, image_id: int, region: BaseGeometry, owners: list[int] | None = None
    ) -> list[Any]:
        """The layer's annotations of the image the region touches (only those of `owners`
        when given), oldest first."""
        table = self.table
        stmt = select(*self.columns).where(
            table.c.image_id == image_id,
            func.ST_Intersects(table.c.location, from_shape(region, srid=0)),
        )
        if owners is not None:
            stmt = stmt.where(table.c[self.owner].in_(owners))
        async with ctx.db.read() as conn:
            return list((await conn.execute(stmt.order_by(table.c.id))).all())


#: User annotations: a layer is its creator's; owner-or-mode with the creator as owner.
_USER_LAYER: Final = _Layer(
    reviewed=False, table=table_of(UserAnnotation), columns=tuple(ANNOTATION_COLUMNS),
    owner="user_id", whose="user", spec=USER_ANNOTATION, get=get_annotation,
    update=_update_user, delete=delete_annotation,
)  # fmt: skip
#: Reviewed annotations: a layer is its reviewer's; the reviewer or an administrator, in a
#: project that takes their writes (§3.10).
_REVIEWED_LAYER: Final = _Layer(
    reviewed=True, table=table_of(ReviewedAnnotation), columns=tuple(REVIEWED_COLUMNS),
    owner="review_user_id", whose="reviewer", spec=REVIEWED_ANNOTATION,
    get=get_reviewed_annotation, update=_update_reviewed, delete=delete_reviewed_annotation,
)  # fmt: skip


async def _touched(
    ctx: Context, correction: Correction, region: BaseGeometry
) -> tuple[_Layer, list[Any]]:
    """The annotations of the image the region touches: with `review`, the reviewed ones;
    when there are none (or without `review`), the user annotations drawn by the layers (a
    non-manager corrects only their own)."""
    if correction.image is None:
        raise InvalidInput("Give the annotation to correct, or the image and layers")
    image = await get_image_instance(ctx, correction.image)
    if correction.review:
        reviewed = await _REVIEWED_LAYER.touched(ctx, image.id, region)
        if reviewed:
            return _REVIEWED_LAYER, reviewed
    access = await project_access(ctx, image.project_id)
    layers = list(correction.layers) if access.is_manager else [access.viewer.id]
    if not layers:
        raise InvalidInput("Give the layers (user ids) whose annotations to correct")
    return _USER_LAYER, await _USER_LAYER.touched(ctx, image.id, region, layers)


def _by_smallest_term(targets: list[Any]) -> list[Any]:
    """When the targets carry terms, those having the term whose targets add up to the
    smallest area (ties: the lowest term id); termless targets then drop out."""
    area_by_term: defaultdict[int, float] = defaultdict(float)
    for target in targets:
        for term_id in target.term_ids:
            area_by_term[term_id] += target.area
    if not area_by_term:
        return targets
    chosen = min(area_by_term, key=lambda term_id: (area_by_term[term_id], term_id))
    return [target for target in targets if chosen in target.term_ids]


async def _targets(
    ctx: Context, correction: Correction, region: BaseGeometry
) -> tuple[_Layer, list[Any]]:
    if correction.annotation is not None:
        layer = _REVIEWED_LAYER if correction.review else _USER_LAYER
        return layer, [await layer.get(ctx, correction.annotation)]
    layer, targets = await _touched(ctx, correction, region)
    if len({getattr(target, layer.owner) for target in targets}) > 1:
        narrow = "pick a layer" if layer.whose == "user" else "name the annotation to correct"
        raise InvalidInput(
            f"The region touches annotations of more than one {layer.whose}: {narrow}"
        )
    return layer, _by_smallest_term(targets)


def _corrected(
    first: Any, others: list[Any], region: BaseGeometry, remove: bool
) -> tuple[BaseGeometry, list[BaseGeometry | None]]:
    """The new geometry of the first target and of each other one (None: deleted)."""
    shapes = [parse(target.wkt_location) for target in (first, *others)]
    if not remove:
        return shapely.union_all([shapes[0], region, *shapes[1:]]), [None] * len(others)
    cut = shapes[0].difference(region)
    if cut.is_empty or shapely.get_num_coordinates(cut) < 2:
        raise InvalidInput("The correction would leave less than two points of the annotation")
    rest = [shape.difference(region) for shape in shapes[1:]]
    return cut, [None if shape.is_empty else shape for shape in rest]


async def _check_edit(
    ctx: Context, layer: _Layer, target: Any, geometry: BaseGeometry | None
) -> None:
    """What an update or delete of `target` would refuse, before anything is written."""
    await layer.authorize(ctx, target)
    if geometry is not None:
        image = await ctx.loader(image_instances_by_id).load(target.image_id)
        width, height = (image.width, image.height) if image is not None else (None, None)
        prepare_edit(to_wkt(geometry), width, height, target.geometry_compression)


async def correct_annotations(ctx: Context, correction: Correction) -> Corrected:
    """Add a freehand region to an annotation, or cut it out of the annotations it touches
    (§3.8), in the reviewed layer or the users' (see `Correction`). Adding merges every
    other target into the first (the oldest) and deletes them; removing cuts the region out
    of each (an emptied other target is deleted). All targets must share the first one's
    terms, and lie in one user's (or one reviewer's) layer.

    Each change is its layer's ordinary update or delete, all in one transaction (one undo);
    every rule those apply is checked for every target first, so a refusal changes nothing.
    """
    ctx.require_viewer()
    region = parse(correction.location)
    layer, targets = await _targets(ctx, correction, region)
    if not targets:
        raise InvalidInput("The correction touches no annotation")
    first, others = targets[0], targets[1:]
    for other in others:
        if set(other.term_ids) != set(first.term_ids):
            raise InvalidInput(
                f"Annotation {other.id} has other terms than annotation {first.id}: "
                "a correction only joins annotations with the same terms"
            )
    geometry, rest = _corrected(first, others, region, correction.remove)
    await _check_edit(ctx, layer, first, geometry)
    for other, shape in zip(others, rest, strict=True):
        await _check_edit(ctx, layer, other, shape)
    updated: list[Any] = []
    deleted: list[int] = []
    async with ctx.db.transaction():
        changed = await layer.update(ctx, first, geometry)
        for other, shape in zip(others, rest, strict=True):
            if shape is None:
                await layer.delete(ctx, other.id)
                deleted.append(other.id)
            else:
                updated.append((await layer.update(ctx, other, shape)).row)
    return Corrected(changed.row, changed.command, layer.reviewed, updated, deleted)


# --- repeat ----------------------------------------------------------------------------------


async def repeat_annotation(
    ctx: Context, annotation_id: int, slice_id: int | None = None, repeat: int = 1
) -> list[Created]:
    """Copy an annotation (its WKT, terms and tracks) onto the next `repeat` slices of its
    image, from `slice` on (default: its own), in time, then z, then channel order, among
    slices whose time, z and channel are all at least the given slice's; its own slice is
    skipped (§3.4). Each copy goes through the create pipeline; all are made, or none.

    Cytomine passes the two values swapped; this implements what they mean.
    """
    if repeat < 1 or repeat > MAX_REPEAT:
        raise InvalidInput(f"repeat must be between 1 and {MAX_REPEAT}")
    original = await get_annotation(ctx, annotation_id)
    start = await ctx.loader(slice_instances_by_id).load(slice_id or original.slice_id)
    if start is None:
        raise NotFound("SliceInstance", slice_id)
    if start.image_id != original.image_id:
        raise InvalidInput(f"Slice {slice_id} is not a slice of the annotation's image")
    image = await get_image_instance(ctx, original.image_id)
    after = sorted(
        (
            piece
            for piece in await slices_of(ctx, image)
            if piece.id != original.slice_id
            and piece.time >= start.time
            and piece.z_stack >= start.z_stack
            and piece.channel >= start.channel
        ),
        key=lambda piece: (piece.time, piece.z_stack, piece.channel, piece.id),
    )[:repeat]
    async with ctx.db.read() as conn:
        tracks = list(
            (
                await conn.execute(
                    select(AnnotationTrack.track_id)
                    .where(AnnotationTrack.annotation_id == annotation_id)
                    .order_by(AnnotationTrack.id)
                )
            ).scalars()
        )
    copies = [
        AnnotationFields(location=original.wkt_location, slice=piece.id,
                         terms=list(original.term_ids), tracks=tracks)
        for piece in after
    ]  # fmt: skip
    return await create_annotations(ctx, copies) if copies else []


# --- pixels ----------------------------------------------------------------------------------


async def annotation_request(
    ctx: Context, annotation_id: int, args: PixelArgs, *, reviewed: bool | None = None
) -> ImageServerRequest:
    """The image-server request behind an annotation's crop, mask or alpha mask (§3.14): READ
    on its project (404 and 403 first), then the shared image-server check. The request names
    the slice's file, so in a blind project only its managers see it outside the REST bridge,
    as for slices.

    Args:
        reviewed: the kind of annotation the id names: user (False), reviewed (True), or
            either (None, the generic `/api/annotation/{id}/…` routes, §3.5).
    """
    if reviewed is None:
        found = await get_any_annotation(ctx, annotation_id)
        row, reviewed = found.row, found.reviewed
    elif reviewed:
        row = await get_reviewed_annotation(ctx, annotation_id)
    else:
        row = await get_annotation(ctx, annotation_id)
    domain = "ReviewedAnnotation" if reviewed else "UserAnnotation"
    piece = await ctx.loader(slice_instances_by_id).load(row.slice_id)
    if piece is None:
        raise InvalidInput(f"The slice of annotation {annotation_id} is gone")
    if await names_hidden(ctx, piece) and not ctx.trusted:
        raise Forbidden("This project hides its file names from you: use the pixel URLs")
    target = await slice_target(ctx, piece, row.wkt_location)
    return await image_server_request(ctx, domain, row.id, target, args)
