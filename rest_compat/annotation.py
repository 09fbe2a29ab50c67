"""REST routes of user annotations and their listing (contract images-annotations.md §3.1–§3.6,
§9.8–§9.9).

Annotation JSON differs from GraphQL in ways only REST clients care about: the class name,
epoch-ms dates (strings on objects, numbers in listings), unit names ("micron²"), a `centroid`
object and `reviewed`. A listing's item carries the groups of fields its `show*`/`hide*`
parameters ask for, decided here before the operation runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from resolvers.errors import NotFound
from rest_compat.envelopes import bare, command, page, single
from rest_compat.routes import Route
from rest_compat.shapes import CLASS_NAMES, JSON, domain, epoch_ms_number
from rest_compat.track import annotation_track_json
from schema.common import parse_bool

__all__ = [
    "ROUTES",
    "annotation_groups",
    "annotation_json",
    "listed_annotation_json",
    "with_track_links",
]

USER_ANNOTATION_CLASS: Final = CLASS_NAMES["UserAnnotation"]
AREA_UNITS: Final = {"PIXELS2": "pixels²", "MICRON2": "micron²"}
LENGTH_UNITS: Final = {"PIXELS": "pixels", "MM": "mm"}
#: The property groups of a listing item (§3.6), in Cytomine's spelling.
GROUPS: Final = ("Basic", "Meta", "WKT", "GIS", "Term", "Image", "User", "Slice", "Track")
DEFAULT_GROUPS: Final = frozenset(("Basic", "Meta", "Term"))

_annotation = domain("ontology.UserAnnotation")


def _measures(node: JSON) -> JSON:
    """Unit names and the centroid object, from GraphQL's enum names and flat coordinates."""
    if "areaUnit" in node:
        node["areaUnit"] = AREA_UNITS[node["areaUnit"]]
        node["perimeterUnit"] = LENGTH_UNITS[node["perimeterUnit"]]
    if "centroidX" in node:
        node["centroid"] = {"x": node.pop("centroidX"), "y": node.pop("centroidY")}
    if "countReviewedAnnotations" in node:
        node["reviewed"] = node["countReviewedAnnotations"] > 0
    return node


def annotation_json(node: JSON) -> JSON:
    """A user annotation as a single object (dates as epoch-ms strings)."""
    node = _measures(_annotation(node))
    node.pop("countReviewedAnnotations", None)
    return node


def listed_annotation_json(node: JSON) -> JSON:
    """A listing item: the groups asked for, dates as epoch-ms numbers (§3.6)."""
    node["class"] = USER_ANNOTATION_CLASS
    for key in ("created", "updated"):
        if key in node:
            node[key] = epoch_ms_number(node[key]) or 0
    return _measures(node)


def annotation_groups(params: Mapping[str, Any]) -> dict[str, bool]:
    """Which groups a listing item carries (§3.6): the `show*` ones, or (none, or
    showDefault) basic, meta and term; minus the `hide*` ones; basic always. Parameter names
    are read case-insensitively (the OpenAPI file spells some in lower case)."""
    flags = {str(key).lower(): parse_bool(str(value)) for key, value in params.items()}
    shown = {group for group in GROUPS if flags.get(f"show{group.lower()}")}
    if not shown or flags.get("showdefault"):
        shown |= DEFAULT_GROUPS
    shown -= {group for group in GROUPS if flags.get(f"hide{group.lower()}")}
    if not shown:
        raise NotFound("Property group", "none", "show")
    return {f"group{group}": group in shown for group in GROUPS if group != "Basic"}


def with_track_links(payload: JSON, node: JSON) -> None:
    """A created annotation shows the track links made with it (§3.4)."""
    links = payload.get("annotationTracks") or []
    if links:
        node["track"] = [link["track"] for link in links]
        node["annotationTrack"] = [annotation_track_json(dict(link)) for link in links]


_command = command("annotation", "UserAnnotation", annotation_json, object_field="annotation",
                   id_key="userannotationID", enrich=with_track_links)  # fmt: skip
_show = single(annotation_json)
_listing = page(listed_annotation_json)


def _deleted_json(deleted: JSON) -> JSON:
    """cytogate's answer to a delete by filter (Cytomine has none): the ids and the command
    that undo reverses."""
    ids = deleted["ids"]
    return {"success": True, "message": f"{len(ids)} annotations deleted", "deleted": ids,
            "command": deleted["command"]["id"] if deleted["command"] else None}  # fmt: skip


ROUTES: Final = (
    *(
        route
        for path in ("/api/annotation.json", "/api/userannotation.json")
        for route in (
            Route("POST", path, "AnnotationCreate", _command, body="input", bulk=True,
                  bulk_operation="AnnotationCreateEach", command=True),
        )
    ),
    Route("DELETE", "/api/annotation.json", "AnnotationDeleteMany", bare(_deleted_json),
          rename={"userForTerm": "usersForTerm"}, command=True),
    Route("GET", "/api/annotation.json", "AnnotationListing", _listing,
          rename={"userForTerm": "usersForTerm"}, derive=annotation_groups),
    *(
        Route(method, "/api/annotation/search.json", "AnnotationListing", _listing, body="*",
              rename={"userForTerm": "usersForTerm"}, derive=annotation_groups)
        for method in ("GET", "POST")
    ),
    # The generic /api/annotation/{id}.json serves either kind: rest_compat/review.py.
    Route("GET", "/api/userannotation/{id:int}.json", "AnnotationShow", _show),
    Route("PUT", "/api/userannotation/{id:int}.json", "AnnotationUpdate", _command,
          body="input", command=True),
    Route("DELETE", "/api/userannotation/{id:int}.json", "AnnotationDelete", _command,
          command=True),
)  # fmt: skip
