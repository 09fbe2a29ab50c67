"""What every report type shows of its file (resolvers/report.py): the REST downloads name
and type the file from these fields and write the rows as CSV, XLSX or PDF."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.report import ReportFile, ReportFormat
from schema.common import Long, described_enum

__all__ = ["ReportFileFields", "ReportFormatType"]

ReportFormatType = described_enum(
    ReportFormat,
    name="ReportFormat",
    description="The format a report's file is written in.",
    values={
        ReportFormat.CSV: "A CSV table, its cells separated by semicolons.",
        ReportFormat.XLSX: "An Excel workbook (.xlsx).",
        ReportFormat.XLS: "Cytomine's name for Excel: written as an XLSX workbook, named .xlsx.",
        ReportFormat.PDF: "A PDF document holding the table.",
        ReportFormat.GEOJSON: "A GeoJSON feature collection with each annotation's geometry; "
        "annotation reports only.",
    },
)


@strawberry.type
class ReportFileFields:
    """The fields of a report's file, shared by every report type."""

    file: strawberry.Private[ReportFile]

    @strawberry.field(description="The file's name: <date>_<subject>_project<id>.<ext>.")
    def filename(self) -> str:
        return self.file.filename

    @strawberry.field(description="The file's media type (text/csv, application/pdf…).")
    def media_type(self) -> str:
        return self.file.media_type

    @strawberry.field(description="The format asked for (XLS is written as XLSX).")
    def format(self) -> ReportFormat:
        return self.file.format

    @strawberry.field(description="When the report was made.")
    def generated(self) -> datetime:
        return self.file.generated

    @strawberry.field
    def project_id(self) -> Long:
        return Long(self.file.project.id)

    @strawberry.field(description="The project's name.")
    def project_name(self) -> str:
        return str(self.file.project.name)
