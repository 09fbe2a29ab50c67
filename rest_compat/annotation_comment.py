"""REST routes of comments on user annotations (contract images-annotations.md §3.4
"Comments", §9.9): Cytomine's SharedAnnotation, under the envelope key `sharedannotation`."""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, page, single
from rest_compat.routes import Route
from rest_compat.shapes import CLASS_NAMES, JSON, domain

__all__ = ["ROUTES", "comment_json"]

_comment = domain("ontology.SharedAnnotation")


def comment_json(node: JSON) -> JSON:
    """A comment with the class of the annotation it is about (only user annotations)."""
    node = _comment(node)
    node["annotationClassName"] = CLASS_NAMES["UserAnnotation"]
    return node


_COMMENTS: Final = "/api/userannotation/{id:int}/comment.json"

ROUTES: Final = (
    Route("POST", _COMMENTS, "AnnotationCommentCreate",
          command("sharedannotation", "SharedAnnotation", comment_json), body="*", command=True),
    Route("GET", _COMMENTS, "AnnotationComments", page(comment_json)),
    Route("GET", "/api/userannotation/{annotation:int}/comment/{id:int}.json",
          "AnnotationCommentShow", single(comment_json)),
)  # fmt: skip
