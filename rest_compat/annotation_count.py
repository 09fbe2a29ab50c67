"""REST routes of the per-slice annotation index and the user-annotation counts (contract
images-annotations.md §3.4 "Counts", §3.12, §9.9, §9.11)."""

from __future__ import annotations

from typing import Any, Final

from rest_compat.envelopes import bare, items
from rest_compat.routes import Route
from rest_compat.shapes import JSON

__all__ = ["ROUTES"]


def _total(count: Any) -> JSON:
    return {"total": count}


ROUTES: Final = (
    Route("GET", "/api/sliceinstance/{id:int}/annotationindex.json", "AnnotationIndexOfSlice",
          items(lambda row: row)),
    Route("GET", "/api/user/{id:int}/userannotation/count.json", "UserAnnotationCountOfUser",
          bare(_total)),
    Route("GET", "/api/project/{id:int}/userannotation/count.json",
          "UserAnnotationCountOfProject", bare(_total)),
)  # fmt: skip
