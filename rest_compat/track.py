"""REST routes of tracks and annotation tracks (contract images-annotations.md §4, §9.11–§9.12).

The python client saves an AnnotationTrack by POSTing to `annotationtrack/{a}/{t}.json`, a
route Cytomine lacks (§7.3): it is served from the path's values, the body being optional.
"""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, items, page, single
from rest_compat.routes import Route
from rest_compat.shapes import CLASS_NAMES, JSON, domain

__all__ = ["ROUTES", "annotation_track_json", "track_json"]

track_json = domain("ontology.Track")
_link = domain("ontology.AnnotationTrack")


def annotation_track_json(node: JSON) -> JSON:
    """A link with the class of the annotation it holds (only user annotations are tracked)."""
    node = _link(node)
    node["annotationClassName"] = CLASS_NAMES["UserAnnotation"]
    return node


_track_command = command("track", "Track", track_json)
_link_command = command("annotationtrack", "AnnotationTrack", annotation_track_json)
_TRACK: Final = "/api/track/{id:int}.json"
_LINK: Final = "/api/annotationtrack/{annotationIdent:int}/{track:int}.json"

ROUTES: Final = (
    Route("GET", _TRACK, "TrackShow", single(track_json)),
    Route("POST", "/api/track.json", "TrackCreate", _track_command, body="input", bulk=True,
          command=True),
    Route("PUT", _TRACK, "TrackUpdate", _track_command, body="input", command=True),
    Route("DELETE", _TRACK, "TrackDelete", _track_command, command=True),
    Route("GET", "/api/project/{project:int}/track.json", "TracksOfProject", page(track_json)),
    Route("GET", "/api/imageinstance/{image:int}/track.json", "TracksOfImage",
          page(track_json)),
    Route("POST", "/api/annotationtrack.json", "AnnotationTrackCreate", _link_command, body="*",
          bulk=True, command=True),
    Route("POST", _LINK, "AnnotationTrackCreate", _link_command, command=True),
    Route("GET", _LINK, "AnnotationTrackShow", single(annotation_track_json)),
    Route("DELETE", _LINK, "AnnotationTrackDelete", _link_command, command=True),
    Route("GET", "/api/track/{id:int}/annotationtrack.json", "AnnotationTracksOfTrack",
          items(annotation_track_json)),
    Route("GET", "/api/annotation/{id:int}/annotationtrack.json", "AnnotationTracksOfAnnotation",
          items(annotation_track_json)),
)  # fmt: skip
