"""REST routes of included annotations (contract images-annotations.md §3.7, §9.8): the image
comes from the path, or from `image` where the python client's `AnnotationCollection(
included=True)` sends it; items are listing items (§3.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rest_compat.annotation import annotation_groups, listed_annotation_json
from rest_compat.envelopes import page
from rest_compat.review import listed_reviewed_json
from rest_compat.routes import Route, upper

__all__ = ["ROUTES"]


def _derive(params: Mapping[str, Any]) -> dict[str, Any]:
    return {**annotation_groups(params), **upper("relation")(params)}


def _reviewed_layer(query: Mapping[str, str]) -> bool:
    """`user=0` names the reviewed layer (§3.7)."""
    return query.get("user", "").strip() == "0"


_listing = page(listed_annotation_json)
_reviewed = page(listed_reviewed_json)
_PATHS: Final = ("/api/imageinstance/{image:int}/annotation/included.json",
                 "/api/annotation/included.json")  # fmt: skip

ROUTES: Final = tuple(
    route
    for path in _PATHS
    for route in (
        Route("GET", path, "AnnotationsIncluded", _listing, rename={"term": "terms"},
              derive=_derive),
        Route("GET", path, "ReviewedAnnotationsIncluded", _reviewed, rename={"term": "terms"},
              when=_reviewed_layer, derive=_derive),
    )
)  # fmt: skip
