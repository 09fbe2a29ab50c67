"""REST downloads of annotation reports and the administrators' light list (contract
images-annotations.md §3.15, §3.4).

The report's rows come from one GraphQL operation; the table is written by
rest_compat/report_file.py, and the GeoJSON export, streamed as it is written, here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

import orjson
import shapely
from aiohttp import web
from shapely.geometry import mapping

from rest_compat.annotation import listed_annotation_json
from rest_compat.envelopes import Call, page
from rest_compat.report_file import CHUNK, Table, attachment, streamed, table_file
from rest_compat.review import listed_reviewed_json
from rest_compat.routes import Route, upper
from rest_compat.shapes import JSON

__all__ = ["ROUTES", "geojson_chunks", "report_cells"]

#: The groups of fields a report's rows carry (§3.15): basic, meta, term, gis, image, user;
#: a GeoJSON export adds the geometry.
GROUPS: Final = {"groupMeta": True, "groupGIS": True, "groupTerm": True, "groupImage": True,
                 "groupUser": True, "groupTrack": False, "groupSlice": False}  # fmt: skip
#: PDF table: column widths (mm).
PDF_WIDTHS: Final = (12, 17, 16, 13, 13, 12, 28, 18, 25, 63, 64)


def _two(value: Any) -> str:
    return "" if value is None else f"{float(value):.2f}"


def report_cells(item: JSON, term_names: Mapping[int, str]) -> list[Any]:
    """One row of the report's table from a listing item (§3.15): measures and the centroid
    with two decimals, term names joined by "- ", the crop and the viewer links."""
    centroid = item.get("centroid") or {}
    return [
        item["id"], _two(item.get("area")), _two(item.get("perimeter")),
        _two(centroid.get("x")), _two(centroid.get("y")), item.get("image"),
        item.get("instanceFilename") or "", item.get("creator") or "",
        "- ".join(term_names.get(term, str(term)) for term in item.get("term") or ()),
        item.get("cropURL") or "", item.get("imageURL") or "",
    ]  # fmt: skip


def _items(report: JSON) -> Iterator[JSON]:
    """The report's rows as listing items of their layer, shaped one at a time."""
    if report["rows"] is not None:
        yield from map(listed_annotation_json, report["rows"]["nodes"])
    else:
        yield from map(listed_reviewed_json, report["reviewedRows"]["nodes"])


def _term_names(report: JSON) -> dict[int, str]:
    return {int(term["id"]): term["name"] for term in report["ontologyTerms"]}


def geojson_chunks(items: Iterable[JSON]) -> Iterator[bytes]:
    """A FeatureCollection of listing items: each feature's geometry is the item's location
    in the image's pixel frame (origin at the bottom-left corner, as Cytomine's WKT), its
    properties the rest of the item."""
    yield b'{"type":"FeatureCollection","features":['
    pending: list[bytes] = []
    size = 0
    for index, item in enumerate(items):
        location = item.pop("location", None)
        geometry = None if location is None else mapping(shapely.from_wkt(location))
        feature = {"type": "Feature", "id": item["id"], "geometry": geometry, "properties": item}
        piece = (b"," if index else b"") + orjson.dumps(feature)
        pending.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    pending.append(b"]}")
    yield b"".join(pending)


def _typed(cells: list[Any]) -> list[Any]:
    """Workbook cells keep numbers as numbers (the text form is the CSV's)."""
    out = list(cells)
    for index in range(1, 5):
        out[index] = float(out[index]) if out[index] else None
    return out


def _title(report: JSON) -> str:
    users = ", ".join(user["username"] for user in report["users"]) or "every user"
    terms = ", ".join(term["name"] for term in report["terms"]) or "every term"
    generated = datetime.fromisoformat(report["generated"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"Annotations of project {report['projectName']} - users: {users} - terms: {terms} - "
        f"{generated}"
    )


def _body(report: JSON) -> AsyncIterator[bytes]:
    if report["format"] == "GEOJSON":
        return streamed(geojson_chunks(_items(report)))
    names = _term_names(report)
    rows = (report_cells(item, names) for item in _items(report))
    table = Table(_title(report), "Annotations", report["columns"], rows, PDF_WIDTHS, _typed)
    return table_file(report["format"], table)


def _download(data: Any, call: Call) -> web.Response:
    report = next(iter(data.values()))
    return attachment(_body(report), report["filename"], report["mediaType"])


def _derive(params: Mapping[str, Any]) -> dict[str, Any]:
    """The format in any case; the row groups of a report (with the geometry for GeoJSON)."""
    derived = upper("format")(params)
    return {**derived, **GROUPS, "groupWKT": derived.get("format") == "GEOJSON"}


def _light(node: JSON) -> JSON:
    return {**node, "url": ""}


_PROJECT: Final = "/api/project/{project:int}"

ROUTES: Final = (
    Route("GET", f"{_PROJECT}/userannotation/download", "AnnotationReport", _download,
          fixed={"reviewed": False}, derive=_derive),
    Route("GET", f"{_PROJECT}/annotation/download", "AnnotationReport", _download,
          derive=_derive),
    Route("GET", "/api/annotation/method/download", "AnnotationReport", _download,
          derive=_derive),
    Route("GET", f"{_PROJECT}/reviewedannotation/download", "AnnotationReport", _download,
          fixed={"reviewed": True}, rename={"reviewUsers": "users"}, derive=_derive),
    Route("GET", "/api/userannotation.json", "AnnotationLightList", page(_light)),
)  # fmt: skip
