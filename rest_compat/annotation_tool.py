"""REST routes of the geometry tools on annotations and of their crops, masks and alpha masks
(contract images-annotations.md §3.4, §3.5, §3.8, §3.14, §9.8–§9.9)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from aiohttp import web

from rest_compat.annotation import annotation_json, with_track_links
from rest_compat.envelopes import Call, bare, command_body, items, single
from rest_compat.pixels import answer, pixel_routes
from rest_compat.review import any_command, reviewed_annotation_json
from rest_compat.routes import Route, flag
from rest_compat.shapes import JSON
from schema.pixels import KINDS, PixelKind

__all__ = ["ROUTES"]

#: What an annotation's command response holds (§3.4): key `annotation`, callback
#: `userannotationID`, the track links made with a copy.
_body = command_body("annotation", "UserAnnotation", annotation_json, object_field="annotation",
                     id_key="userannotationID", enrich=with_track_links)  # fmt: skip


def _simplified(payload: JSON) -> JSON:
    """`PUT /annotation/{id}/simplify.json` answers the bare annotation, of either kind (§3.8)."""
    node = payload["annotation"]
    reviewed = node.pop("__typename") == "ReviewedAnnotation"
    return (reviewed_annotation_json if reviewed else annotation_json)(node)


def _wkt(found: JSON) -> JSON:
    return {"wkt": found["wkt"]}


async def _pixels(data: Any, call: Call) -> web.StreamResponse:
    """The shared pixel answer, which reads the request one level down (`object { request }`)."""
    return await answer({"annotation": data}, call)


def _pixel_rows(
    resource: str, kinds: frozenset[PixelKind], reviewed: bool | None
) -> tuple[Route, ...]:
    """The pixel rows of one kind of annotation (`reviewed` None: either kind, §3.5)."""
    return tuple(
        replace(row, envelope=_pixels, fixed={**row.fixed, "reviewed": reviewed})
        for row in pixel_routes(resource, "AnnotationPixels", kinds, reuse=False)
    )


ROUTES: Final = (
    Route("PUT", "/api/annotation/{id:int}/simplify.json", "AnnotationSimplify",
          single(_simplified)),
    Route("PUT", "/api/simplify.json", "SimplifiedGeometry", bare(_wkt), body="*"),
    # Fill and correction answer their update's command response whatever the annotation's
    # kind, as the generic PUT /api/annotation/{id}.json does (§3.5).
    Route("POST", "/api/annotation/{id:int}/fill.json", "AnnotationFill", any_command,
          command=True),
    Route("PUT", "/api/annotation/{id:int}.json", "AnnotationFill", any_command,
          when=flag("fill"), command=True),
    Route("POST", "/api/annotationcorrection.json", "AnnotationCorrect", any_command,
          body="input", command=True),
    Route("POST", "/api/userannotation/{id:int}/repeat.json", "AnnotationRepeat", items(_body),
          body="*", command=True),
    *_pixel_rows("userannotation", KINDS["UserAnnotation"], False),
    *_pixel_rows("reviewedannotation", KINDS["ReviewedAnnotation"], True),
    *_pixel_rows("annotation", frozenset((PixelKind.CROP,)), None),
)  # fmt: skip
