"""Geometry tools on annotations in the graph: simplify, fill, correction, repeat, and what the
image server is asked for an annotation's crop, mask or alpha mask (contract
images-annotations.md §3.4, §3.8, §3.14). The rules live in resolvers/annotation/tool.py."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from resolvers.annotation import tool as annotation_tool
from resolvers.pixels import ImageServerRequest, PixelArgs, PixelKind
from resolvers.review import AnyAnnotation
from schema.annotation import (
    AnnotationPayload,
    UserAnnotation,
    annotation_payload,
)
from schema.common import Command, Info, Long
from schema.pixels import ImageServerRequestType
from schema.review import AnnotationAny, ReviewedAnnotation, as_any

__all__ = ["AnnotationToolMutation", "AnnotationToolQuery"]

#: The point budget of the simplification tools, per part of the geometry (resolvers/geometry.py
#: `simplify`; a geometry of fewer than 100 points is left as it is).
_MIN_POINT = "Simplification stops once under this many points per part (absent: automatic)."
_MAX_POINT = "Simplification goes on while over this many points per part (absent: automatic)."


@strawberry.type(description="A simplified geometry, stored nowhere.")
class SimplifiedGeometry:
    wkt: str = strawberry.field(description="The simplified geometry, WKT.")
    geometry_compression: float = strawberry.field(description="The tolerance that made it.")


@strawberry.input(description="A freehand correction: `location` added to the annotations it "
                  "touches, or cut out of them with `remove`.")  # fmt: skip
class AnnotationCorrectionInput:
    location: str = strawberry.field(description="The region drawn, WKT.")
    image: Long | None = strawberry.field(
        default=None, description="Where to look for the annotations the region touches."
    )
    layers: list[Long] | None = strawberry.field(
        default=None, description="Whose annotations (a non-manager always corrects their own)."
    )
    review: bool = strawberry.field(
        default=False,
        description="Correct the reviewed annotations the region touches (or `annotation`, "
        "a reviewed one); when it touches none, the layers' annotations.",
    )
    remove: bool = strawberry.field(default=False, description="Cut instead of add.")
    annotation: Long | None = strawberry.field(
        default=None, description="Correct just this annotation."
    )


@strawberry.type(
    description="An annotation a tool changed: exactly one of `annotation` and "
    "`reviewedAnnotation` is set (its kind), and `annotationAny` is it whatever its kind."
)
class AnnotationToolPayload:
    annotation: Any = strawberry.field(
        graphql_type=UserAnnotation | None, description="The user annotation changed."
    )
    reviewed_annotation: Any = strawberry.field(
        graphql_type=ReviewedAnnotation | None, description="The reviewed annotation changed."
    )
    annotation_any: Any = strawberry.field(
        graphql_type=AnnotationAny, description="The annotation changed, whatever its kind."
    )
    command: Command = strawberry.field(description="Its update.")


def _changed(found: AnyAnnotation) -> dict[str, Any]:
    """The fields of an `AnnotationToolPayload` for an annotation a tool just changed."""
    assert found.command is not None  # a change always has one
    return {
        "annotation": None if found.reviewed else found.row,
        "reviewed_annotation": found.row if found.reviewed else None,
        "annotation_any": as_any(found),
        "command": Command.of(found.command),
    }


@strawberry.type(
    description="A correction's targets, all of one kind: the first, corrected (exactly one "
    "of `annotation` and `reviewedAnnotation` is set; `annotationAny` is it), with its "
    "update; the others cut or deleted."
)
class AnnotationCorrectionPayload(AnnotationToolPayload):
    updated: Any = strawberry.field(
        graphql_type=list[UserAnnotation],
        description="The other targets, cut (remove), when they are user annotations.",
    )
    reviewed_updated: Any = strawberry.field(
        graphql_type=list[ReviewedAnnotation],
        description="The other targets, cut (remove), when they are reviewed annotations.",
    )
    deleted_ids: list[Long] = strawberry.field(
        description="The other targets merged into the first (add), or emptied (remove)."
    )


@strawberry.type
class AnnotationToolQuery:
    @strawberry.field(
        description="Simplify a WKT as a create would, storing nothing. Point budgets as in "
        "annotationSimplify."
    )
    def simplified_geometry(
        self,
        wkt: Annotated[
            str, strawberry.argument(description="The geometry to simplify, WKT in pixels.")
        ],
        min_point: Annotated[int | None, strawberry.argument(description=_MIN_POINT)] = None,
        max_point: Annotated[int | None, strawberry.argument(description=_MAX_POINT)] = None,
    ) -> SimplifiedGeometry:
        found = annotation_tool.simplify_wkt(wkt, min_point, max_point)
        return SimplifiedGeometry(wkt=found.wkt, geometry_compression=found.compression)

    @strawberry.field(
        graphql_type=ImageServerRequestType,
        description="What the image server is asked for an annotation's CROP, MASK or "
        "ALPHA_MASK in `format` (png, jpg, webp): READ on its project, then UNAVAILABLE while "
        "no image server is configured. `reviewed`: the id names a reviewed annotation (true), "
        "a user annotation (false), or either (null).",
    )
    async def annotation_image_server_request(
        self,
        info: Info,
        id: Annotated[
            Long,
            strawberry.argument(
                description="The id of the annotation, of the kind `reviewed` says."
            ),
        ],
        kind: Annotated[
            PixelKind,
            strawberry.argument(description="The endpoint asked for: CROP, MASK or ALPHA_MASK."),
        ],
        format: Annotated[
            str,
            strawberry.argument(
                description="The picture's format: jpg, png or webp; any other asks for jpg "
                "(png for ALPHA_MASK, which has no jpg)."
            ),
        ],
        reviewed: Annotated[
            bool | None,
            strawberry.argument(
                description="The id names a reviewed annotation (true), a user annotation "
                "(false), or either (null)."
            ),
        ] = None,
    ) -> ImageServerRequest:
        args = PixelArgs(kind, format)
        return await annotation_tool.annotation_request(info.context, id, args, reviewed=reviewed)


@strawberry.type
class AnnotationToolMutation:
    @strawberry.mutation(
        description="Re-simplify the geometry of an annotation of either kind with a new point "
        "budget (minPoint, maxPoint per part) and keep the tolerance found as its "
        "geometryCompression (a reviewed one: its reviewer or an administrator)."
    )
    async def annotation_simplify(
        self,
        info: Info,
        id: Annotated[
            Long,
            strawberry.argument(
                description="The id of the annotation to simplify, user or reviewed."
            ),
        ],
        min_point: Annotated[int | None, strawberry.argument(description=_MIN_POINT)] = None,
        max_point: Annotated[int | None, strawberry.argument(description=_MAX_POINT)] = None,
    ) -> AnnotationToolPayload:
        found = await annotation_tool.simplify_annotation(info.context, id, min_point, max_point)
        return AnnotationToolPayload(**_changed(found))

    @strawberry.mutation(
        description="Remove the holes of a polygon or multipolygon annotation of either kind "
        "(a reviewed one: its reviewer or an administrator)."
    )
    async def annotation_fill(
        self,
        info: Info,
        id: Annotated[
            Long,
            strawberry.argument(description="The id of the annotation to fill, user or reviewed."),
        ],
    ) -> AnnotationToolPayload:
        found = await annotation_tool.fill_annotation(info.context, id)
        return AnnotationToolPayload(**_changed(found))

    @strawberry.mutation(
        description="Add a freehand region to an annotation or cut it out of the annotations "
        "it touches. Adding merges the other targets into the first (the oldest) and deletes "
        "them. With review, the reviewed annotations are corrected when the region touches "
        "some. Targets come from one user (or reviewer), share the first one's terms, and when "
        "they carry terms only those with the term of smallest total area are kept."
    )
    async def annotation_correct(
        self, info: Info, input: AnnotationCorrectionInput
    ) -> AnnotationCorrectionPayload:
        correction = annotation_tool.Correction(
            location=input.location, image=input.image, layers=input.layers or [],
            review=input.review, remove=input.remove, annotation=input.annotation,
        )  # fmt: skip
        done = await annotation_tool.correct_annotations(info.context, correction)
        return AnnotationCorrectionPayload(
            **_changed(AnyAnnotation(done.row, done.reviewed, done.command)),
            updated=[] if done.reviewed else done.updated,
            reviewed_updated=done.updated if done.reviewed else [],
            deleted_ids=[Long(i) for i in done.deleted],
        )

    @strawberry.mutation(
        description="Copy an annotation (WKT, terms, tracks) onto the next `repeat` slices of "
        "its image from `slice` on, in time, z, channel order, skipping its own slice."
    )
    async def annotation_repeat(
        self,
        info: Info,
        id: Annotated[
            Long, strawberry.argument(description="The id of the user annotation to copy.")
        ],
        slice: Annotated[
            Long | None,
            strawberry.argument(
                description="The slice the copies start from (absent: the annotation's own)."
            ),
        ] = None,
        repeat: Annotated[
            int,
            strawberry.argument(
                description="How many copies to make, from 1 to 1000 (fewer when fewer slices "
                "follow)."
            ),
        ] = 1,
    ) -> list[AnnotationPayload]:
        made = await annotation_tool.repeat_annotation(info.context, id, slice, repeat)
        return [annotation_payload(item) for item in made]
