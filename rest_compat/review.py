"""REST routes of the review workflow, reviewed annotations and the generic annotation
endpoints (contract images-annotations.md §3.5, §3.6, §3.9, §3.10, §9.8, §9.10).

A reviewed annotation's JSON is a user annotation's (rest_compat/annotation.py) with its own
class, `terms` beside `term`, `reviewed: true` and the review fields. Answers about an
annotation of either kind carry GraphQL's `__typename`, which picks the shape here; a PUT or
DELETE of a reviewed annotation through the generic route answers it under both
`reviewedannotation` and `annotation`, the key the python client reads (§3.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from rest_compat.annotation import annotation_groups, annotation_json, listed_annotation_json
from rest_compat.envelopes import (
    Call,
    Envelope,
    bare,
    command,
    command_body,
    items,
    json_response,
    page,
    single,
    within,
)
from rest_compat.image import image_json
from rest_compat.routes import Route, flag
from rest_compat.shapes import CLASS_NAMES, JSON

__all__ = ["ROUTES", "any_command", "by_type", "reviewed_annotation_json"]

REVIEWED_CLASS: Final = CLASS_NAMES["ReviewedAnnotation"]
_RENAME: Final = {"userForTerm": "usersForTerm", "reviewusers": "reviewUsers"}


def reviewed_annotation_json(node: JSON) -> JSON:
    """A reviewed annotation as a single object (§3.1)."""
    node = annotation_json(node)
    node.update({"class": REVIEWED_CLASS, "terms": node["term"], "reviewed": True})
    return node


def listed_reviewed_json(node: JSON) -> JSON:
    """An item of the reviewed listing (§3.6): the meta group says `reviewed: true`."""
    node = listed_annotation_json(node)
    node["class"] = REVIEWED_CLASS
    if "reviewUser" in node:
        node["reviewed"] = True
    return node


def by_type(envelopes: Mapping[str, Envelope], field: str | None = None) -> Envelope:
    """The envelope of the union member an answer holds (at `field` of the root object, or
    the root itself), told by its `__typename`, which is dropped."""

    def envelope(data: Any, call: Call) -> web.StreamResponse:
        root = next(iter(data.values()))
        node = root if field is None else root[field]
        return envelopes[node.pop("__typename")](data, call)

    return envelope


def _both_keys(key: str, also: str, class_name: str, shape: Any, object_field: str) -> Envelope:
    """A command envelope carrying the object under `key` and under `also` (§3.5)."""
    body = command_body(key, class_name, shape, object_field)

    def envelope(data: Any, call: Call) -> web.StreamResponse:
        answer = body(next(iter(data.values())))
        answer[also] = answer[key]
        return json_response(answer, headers=call.headers)

    return envelope


def _image_answer(payload: JSON) -> JSON:
    """Starting or stopping a review answers the message and the image (§3.9)."""
    return {"message": payload["command"]["message"],
            "imageinstance": image_json(payload["imageInstance"])}  # fmt: skip


def _total(count: Any) -> JSON:
    return {"total": count}


_reviewed_command = command("reviewedannotation", "ReviewedAnnotation", reviewed_annotation_json,
                            object_field="reviewedAnnotation")  # fmt: skip
_any_show = by_type({"UserAnnotation": single(annotation_json),
                     "ReviewedAnnotation": single(reviewed_annotation_json)})  # fmt: skip
any_command = by_type(
    {"UserAnnotation": command("annotation", "UserAnnotation", annotation_json,
                               object_field="annotation", id_key="userannotationID"),
     "ReviewedAnnotation": _both_keys("reviewedannotation", "annotation", "ReviewedAnnotation",
                                      reviewed_annotation_json, "annotation")},
    "annotation",
)  # fmt: skip
_listing = page(listed_reviewed_json)
#: Accepting or rejecting layers answers the ids of the reviewed annotations concerned.
_ids = within("reviewedAnnotationIds", items(lambda node: node))


def _plain_reviewed(query: Mapping[str, str]) -> bool:
    """The reviewed layer's listing; with kmeans=true, rest_compat/annotation_cluster.py."""
    return flag("reviewed")(query) and not flag("kmeans")(query)


_ANNOTATION: Final = "/api/annotation/{id:int}.json"
_REVIEW: Final = "/api/annotation/{id:int}/review.json"
_IMAGE_REVIEW: Final = "/api/imageinstance/{id:int}/review.json"
_LAYERS: Final = "/api/imageinstance/{id:int}/annotation/review.json"
_REVIEWED: Final = "/api/reviewedannotation/{id:int}.json"

ROUTES: Final = (
    Route("GET", _ANNOTATION, "AnnotationAnyShow", _any_show),
    # The App Engine's path: without App Engine layers, the same as the generic read.
    Route("GET", "/api/annotations/{id:int}", "AnnotationAnyShow", _any_show),
    Route("PUT", _ANNOTATION, "AnnotationAnyUpdate", any_command, body="input", command=True),
    Route("DELETE", _ANNOTATION, "AnnotationAnyDelete", any_command, command=True),
    Route("GET", "/api/annotation.json", "ReviewedAnnotationListing", _listing,
          when=_plain_reviewed, rename=_RENAME, derive=annotation_groups),
    *(
        Route(method, "/api/annotation/search.json", "ReviewedAnnotationListing", _listing,
              body="*", when=_plain_reviewed, rename=_RENAME, derive=annotation_groups)
        for method in ("GET", "POST")
    ),
    Route("GET", "/api/reviewedannotation.json", "ReviewedAnnotationsEverywhere", _listing,
          derive=annotation_groups),
    Route("POST", "/api/reviewedannotation.json", "ReviewedAnnotationCreate", _reviewed_command,
          body="input", bulk=True, command=True),
    Route("POST", "/api/user/{user:int}/reviewedannotation.json", "ReviewedAnnotationCreate",
          _reviewed_command, body="input", bulk=True, command=True),
    Route("GET", _REVIEWED, "ReviewedAnnotationShow", single(reviewed_annotation_json)),
    Route("PUT", _REVIEWED, "ReviewedAnnotationUpdate", _reviewed_command, body="input",
          command=True),
    Route("DELETE", _REVIEWED, "ReviewedAnnotationDelete", _reviewed_command, command=True),
    *(
        Route(method, _IMAGE_REVIEW, "ImageReviewStart", bare(_image_answer), command=True)
        for method in ("PUT", "POST")
    ),
    Route("DELETE", _IMAGE_REVIEW, "ImageReviewStop", bare(_image_answer), command=True),
    *(
        Route(method, _REVIEW, "AnnotationReview", _reviewed_command, body="*", form=True,
              command=True)
        for method in ("PUT", "POST")
    ),
    Route("GET", _REVIEW, "AnnotationReview", _reviewed_command, command=True),
    Route("DELETE", _REVIEW, "AnnotationUnreview", _reviewed_command, command=True),
    *(
        Route(method, _LAYERS, "ImageReviewAcceptLayers", _ids, body="*", form=True,
              command=True)
        for method in ("PUT", "POST")
    ),
    Route("DELETE", _LAYERS, "ImageReviewRejectLayers", _ids, command=True),
    Route("GET", "/api/imageinstance/{id:int}/reviewedannotation/stats.json",
          "ReviewedAnnotationStats", items(lambda row: row)),
    Route("GET", "/api/project/{id:int}/reviewedannotation/count.json",
          "ReviewedAnnotationCountOfProject", bare(_total)),
    Route("GET", "/api/user/{id:int}/reviewedannotation/count.json",
          "ReviewedAnnotationCountOfUser", bare(_total)),
)  # fmt: skip
