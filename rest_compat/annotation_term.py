"""REST routes of terms on annotations (contract images-annotations.md §3.11, §9.11).

The python client's `TermCollection(filters={"annotation": id})` reads the term list into
`Term` objects, and `AnnotationTerm(a, t).save()` posts `{"userannotation": a, "term": t}`:
the path names both, the body may add `user`. A reviewed annotation's terms list as
`{"term", "user"}` (the image's reviewer); clear-before on it answers the reviewed annotation.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from rest_compat.envelopes import Call, bare, command, items, single
from rest_compat.review import reviewed_annotation_json
from rest_compat.routes import Route
from rest_compat.shapes import JSON, domain

__all__ = ["ROUTES", "annotation_term_json"]

annotation_term_json = domain("ontology.AnnotationTerm")


def _link(node: JSON) -> JSON:
    """A listed term: a user annotation's link, or a reviewed annotation's `{term, user}`."""
    if node.pop("__typename") == "ReviewedAnnotationTerm":
        return {"term": node["term"], "user": node["reviewer"]}
    return annotation_term_json(node)


def _callback(link: JSON) -> dict[str, str]:
    return {"annotationID": str(link["userannotation"]), "termID": str(link["term"])}


_command = command("annotationterm", "AnnotationTerm", annotation_term_json,
                   object_field="annotationTerm", callback=_callback)  # fmt: skip
_reviewed = bare(lambda payload: reviewed_annotation_json(payload["reviewedAnnotation"]))


def _set(data: Any, call: Call) -> web.StreamResponse:
    """Clear-before answers the new link's command, or the reviewed annotation (§3.11)."""
    payload = next(iter(data.values()))
    return (_reviewed if payload["annotationTerm"] is None else _command)(data, call)


_TERM: Final = "/api/annotation/{annotation:int}/term/{idTerm:int}"

ROUTES: Final = (
    Route("GET", "/api/annotation/{annotation:int}/term.json", "AnnotationTermsOf", items(_link)),
    Route("GET", "/api/annotation/{annotation:int}/notuser/{notUser:int}/term.json",
          "AnnotationTermsOf", items(_link)),
    Route("GET", "/api/userannotation/{annotation:int}/user/{idUser:int}/term.json",
          "AnnotationTermsOf", items(_link)),
    Route("GET", f"{_TERM}.json", "AnnotationTermShow", single(annotation_term_json)),
    Route("GET", f"{_TERM}/user/{{idUser:int}}.json", "AnnotationTermShow",
          single(annotation_term_json)),
    Route("POST", f"{_TERM}.json", "AnnotationTermAdd", _command, body="*", form=True,
          command=True),
    Route("DELETE", f"{_TERM}.json", "AnnotationTermRemove", _command, command=True),
    Route("DELETE", f"{_TERM}/user/{{idUser:int}}.json", "AnnotationTermRemove", _command,
          command=True),
    Route("POST", f"{_TERM}/clearBefore.json", "AnnotationTermSet", _set, body="*", form=True,
          command=True),
)  # fmt: skip
