"""REST downloads of annotation reports and the administrators' light list (contract
images-annotations.md §3.15, §3.4).

The report's rows come from one GraphQL operation, as every REST answer does; the file is
written from them here, because a file is an HTTP matter. CSV and GeoJSON are sent in chunks
as they are written (decision 6: never the whole file in memory); a workbook and a PDF can only
be written whole, so they are built off the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

import orjson
import shapely
from aiohttp import web
from aiohttp.payload import AsyncIterablePayload
from fpdf import FPDF
from openpyxl import Workbook  # type: ignore[import-untyped]
from shapely.geometry import mapping

from rest_compat.annotation import listed_annotation_json
from rest_compat.annotation_included import upper
from rest_compat.envelopes import NO_STORE, Call, page
from rest_compat.review import listed_reviewed_json
from rest_compat.routes import Route
from rest_compat.shapes import JSON

__all__ = ["ROUTES", "csv_chunks", "geojson_chunks", "report_cells"]

#: Bytes gathered before a chunk of a streamed file is sent.
CHUNK: Final = 64 * 1024
#: The groups of fields a report's rows carry (§3.15): basic, meta, term, gis, image, user;
#: a GeoJSON export adds the geometry.
GROUPS: Final = {"groupMeta": True, "groupGIS": True, "groupTerm": True, "groupImage": True,
                 "groupUser": True, "groupTrack": False, "groupSlice": False}  # fmt: skip
#: PDF table: column widths (mm, landscape A4 within 8 mm margins), font size, row height.
PDF_WIDTHS: Final = (12, 17, 16, 13, 13, 12, 28, 18, 25, 63, 64)
PDF_FONT: Final = 5.5
PDF_ROW: Final = 3.5


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


def csv_chunks(columns: Iterable[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """The CSV of a table as Cytomine writes it (Excel dialect, `;` between values), UTF-8,
    in chunks of about CHUNK bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


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


def _xlsx(columns: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Annotations")
    sheet.append(columns)
    for row in rows:
        sheet.append(_typed(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _latin(text: Any) -> str:
    """PDF core fonts cover Latin-1 only: other characters print as "?"."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _fitted(pdf: FPDF, text: str, width: float) -> str:
    """Text cut to fit a cell, with an ellipsis."""
    if pdf.get_string_width(text) <= width - 1:
        return text
    while text and pdf.get_string_width(text + "...") > width - 1:
        text = text[:-1]
    return text + "..."


def _pdf(title: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    """A landscape table, its header repeated on each page."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(8, 8)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 9)
    pdf.multi_cell(0, 5, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    def header() -> None:
        pdf.set_font("Helvetica", "B", PDF_FONT)
        for width, label in zip(PDF_WIDTHS, columns, strict=True):
            pdf.cell(width, PDF_ROW + 0.5, _fitted(pdf, _latin(label), width), border=1)
        pdf.ln()
        pdf.set_font("Helvetica", "", PDF_FONT)

    header()
    for row in rows:
        if pdf.get_y() > pdf.h - 8 - PDF_ROW:
            pdf.add_page()
            header()
        for width, value in zip(PDF_WIDTHS, row, strict=True):
            pdf.cell(width, PDF_ROW, _fitted(pdf, _latin("" if value is None else value), width),
                     border=1)  # fmt: skip
        pdf.ln()
    return bytes(pdf.output())


def _title(report: JSON) -> str:
    users = ", ".join(user["username"] for user in report["users"]) or "every user"
    terms = ", ".join(term["name"] for term in report["terms"]) or "every term"
    generated = datetime.fromisoformat(report["generated"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"Annotations of project {report['projectName']} - users: {users} - terms: {terms} - "
        f"{generated}"
    )


async def _whole(build: Callable[[], bytes]) -> AsyncIterator[bytes]:
    yield await asyncio.get_running_loop().run_in_executor(None, build)


async def _streamed(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0)  # let other requests run between chunks


def _body(report: JSON) -> AsyncIterator[bytes]:
    columns: list[str] = report["columns"]
    names = _term_names(report)
    kind = report["format"]
    if kind == "GEOJSON":
        return _streamed(geojson_chunks(_items(report)))
    rows = (report_cells(item, names) for item in _items(report))
    if kind == "CSV":
        return _streamed(csv_chunks(columns, rows))
    table = list(rows)
    if kind == "PDF":
        title = _title(report)
        return _whole(lambda: _pdf(title, columns, table))
    return _whole(lambda: _xlsx(columns, table))


def _download(data: Any, call: Call) -> web.Response:
    """The report as an attachment named as Cytomine names it."""
    report = next(iter(data.values()))
    payload = AsyncIterablePayload(_body(report), content_type=report["mediaType"])
    headers = {**NO_STORE, "Content-Disposition": f"attachment; filename={report['filename']}"}
    return web.Response(body=payload, headers=headers)


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
    Route("GET", f"{_PROJECT}/reviewedannotation/download", "AnnotationReport", _download,
          fixed={"reviewed": True}, rename={"reviewUsers": "users"}, derive=_derive),
    Route("GET", "/api/userannotation.json", "AnnotationLightList", page(_light)),
)  # fmt: skip
