"""What every report type shows of its file (resolvers/report.py): the REST downloads name
and type the file from these fields and write the rows as CSV, XLSX or PDF."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.report import ReportFile, ReportFormat
from schema.common import Long

__all__ = ["ReportFileFields", "ReportFormatType"]

ReportFormatType = strawberry.enum(
    ReportFormat,
    name="ReportFormat",
    description="The file of a report; XLS is written as an XLSX workbook (named .xlsx).",
)


@strawberry.type
class ReportFileFields:
    """The fields of a report's file, shared by every report type."""

    file: strawberry.Private[ReportFile]

    @strawberry.field(description="The file's name: <date>_<subject>_project<id>.<ext>.")
    def filename(self) -> str:
        return self.file.filename

    @strawberry.field
    def media_type(self) -> str:
        return self.file.media_type

    @strawberry.field
    def format(self) -> ReportFormat:
        return self.file.format

    @strawberry.field
    def generated(self) -> datetime:
        return self.file.generated

    @strawberry.field
    def project_id(self) -> Long:
        return Long(self.file.project.id)

    @strawberry.field
    def project_name(self) -> str:
        return str(self.file.project.name)
