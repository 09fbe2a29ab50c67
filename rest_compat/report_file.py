"""Report files: a table written as CSV, an XLSX workbook or a PDF, sent as an attachment.

Reports (of annotations, of a project's members) get their rows from a GraphQL operation as
every REST answer does; the file is an HTTP matter and is written here. A CSV is sent in chunks
as it is written (decision 6: never the whole file in memory); a workbook and a PDF can only be
written whole, so they are built off the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from aiohttp.payload import AsyncIterablePayload
from fpdf import FPDF
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

from rest_compat.envelopes import NO_STORE

__all__ = [
    "CHUNK",
    "Table",
    "attachment",
    "csv_chunks",
    "csv_parts",
    "download_headers",
    "streamed",
    "table_file",
]

#: Bytes gathered before a chunk of a streamed file is sent.
CHUNK: Final = 64 * 1024
#: PDF table: font size and row height (mm); pages are landscape A4 within 8 mm margins.
PDF_FONT: Final = 5.5
PDF_ROW: Final = 3.5


@dataclass(frozen=True, slots=True)
class Table:
    """What a report's file shows: a title (PDF), the header, the rows as text cells, the PDF
    column widths (mm) and how a row's cells are typed in a workbook (numbers as numbers)."""

    title: str
    sheet: str
    columns: Sequence[str]
    rows: Iterable[list[Any]]
    widths: Sequence[float]
    typed: Callable[[list[Any]], list[Any]] = list


class _CsvWriter:
    """CSV as Cytomine writes it (Excel dialect, `;` between values), UTF-8, gathered into
    chunks of about CHUNK bytes."""

    def __init__(self, columns: Iterable[str]) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, delimiter=";")
        self.writer.writerow(columns)

    def full_chunks(self, rows: Iterable[list[Any]]) -> Iterator[bytes]:
        """Writes `rows`; yields each chunk as it fills."""
        for row in rows:
            self.writer.writerow(row)
            if self.buffer.tell() >= CHUNK:
                yield self.rest()

    def rest(self) -> bytes:
        """What is written and not yet yielded."""
        chunk = self.buffer.getvalue().encode()
        self.buffer.seek(0)
        self.buffer.truncate()
        return chunk


def csv_chunks(columns: Iterable[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """The CSV of a table, in chunks."""
    writer = _CsvWriter(columns)
    yield from writer.full_chunks(rows)
    yield writer.rest()


async def csv_parts(
    columns: Iterable[str], partitions: AsyncIterable[Iterable[list[Any]]]
) -> AsyncIterator[bytes]:
    """The CSV of a table whose rows come a partition at a time (a whole list read from the
    database as it is written), in chunks."""
    writer = _CsvWriter(columns)
    async for rows in partitions:
        for chunk in writer.full_chunks(rows):
            yield chunk
    yield writer.rest()


def _text_cell(sheet: Any, value: Any) -> Any:
    """A workbook cell: text stays text (a name starting with "=" is no formula) without the
    control characters a workbook cannot hold."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def _xlsx(table: Table, rows: list[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.sheet)
    sheet.append(list(table.columns))
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in table.typed(row)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _latin(text: Any) -> str:
    """PDF core fonts cover Latin-1 only: other characters print as "?"."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _fitted(pdf: FPDF, text: str, width: float) -> str:
    """Text cut to fit a cell, with an ellipsis: the longest prefix that fits is found by
    halving, in a few measures whatever the text's length (a character at a time, a cell of
    200 000 characters, such as many long term names, took minutes)."""
    room = width - 1
    if pdf.get_string_width(text) <= room:
        return text
    fits, fails = 0, len(text)  # text[:fits] + "..." fits or is "..."; text[:fails] does not
    while fails - fits > 1:
        middle = (fits + fails) // 2
        if pdf.get_string_width(text[:middle] + "...") <= room:
            fits = middle
        else:
            fails = middle
    return text[:fits] + "..."


def _pdf(table: Table, rows: list[list[Any]]) -> bytes:
    """A landscape table under its title, the header repeated on each page."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(8, 8)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 9)
    pdf.multi_cell(0, 5, _latin(table.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    def header() -> None:
        pdf.set_font("Helvetica", "B", PDF_FONT)
        for width, label in zip(table.widths, table.columns, strict=True):
            pdf.cell(width, PDF_ROW + 0.5, _fitted(pdf, _latin(label), width), border=1)
        pdf.ln()
        pdf.set_font("Helvetica", "", PDF_FONT)

    header()
    for row in rows:
        if pdf.get_y() > pdf.h - 8 - PDF_ROW:
            pdf.add_page()
            header()
        for width, value in zip(table.widths, row, strict=True):
            pdf.cell(width, PDF_ROW, _fitted(pdf, _latin("" if value is None else value), width),
                     border=1)  # fmt: skip
        pdf.ln()
    return bytes(pdf.output())


async def _whole(build: Callable[[], bytes]) -> AsyncIterator[bytes]:
    yield await asyncio.get_running_loop().run_in_executor(None, build)


async def streamed(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Chunks sent as they are made, other requests running between them."""
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0)


def table_file(kind: str, table: Table) -> AsyncIterator[bytes]:
    """The table as a file of `kind` (the GraphQL ReportFormat: CSV, PDF, else a workbook)."""
    if kind == "CSV":
        return streamed(csv_chunks(table.columns, table.rows))
    rows = list(table.rows)
    if kind == "PDF":
        return _whole(lambda: _pdf(table, rows))
    return _whole(lambda: _xlsx(table, rows))


def download_headers(filename: str) -> dict[str, str]:
    """The headers of a file download, named as Cytomine names it."""
    return {**NO_STORE, "Content-Disposition": f"attachment; filename={filename}"}


def attachment(body: AsyncIterator[bytes], filename: str, media_type: str) -> web.Response:
    """A file download, named as Cytomine names it."""
    payload = AsyncIterablePayload(body, content_type=media_type)
    return web.Response(body=payload, headers=download_headers(filename))
