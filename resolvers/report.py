"""What names a report's file, shared by the reports of annotations and of a project's
members: the format asked for, the file's name and its media type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final

__all__ = ["ReportFile", "ReportFormat"]


class ReportFormat(Enum):
    """The file a report is written as; XLS is answered as an XLSX workbook (the binary
    BIFF8 format has no maintained writer). GeoJSON holds geometries: annotations only."""

    CSV = "csv"
    XLSX = "xlsx"
    XLS = "xls"
    PDF = "pdf"
    GEOJSON = "geojson"


XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Per format: the file name's extension and the media type.
FILES: Final = {
    ReportFormat.CSV: ("csv", "text/csv"),
    ReportFormat.XLSX: ("xlsx", XLSX_TYPE),
    ReportFormat.XLS: ("xlsx", XLSX_TYPE),
    ReportFormat.PDF: ("pdf", "application/pdf"),
    ReportFormat.GEOJSON: ("geojson", "application/geo+json"),
}


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A report's file: what it lists, of which project, in which format, made when."""

    subject: str
    project: Any
    format: ReportFormat
    generated: datetime

    @property
    def filename(self) -> str:
        """<date>_<subject>_project<id>.<ext>, as Cytomine names its reports."""
        extension, _ = FILES[self.format]
        stamp = self.generated.strftime("%Y%m%d_%H%M%S")
        return f"{stamp}_{self.subject}_project{self.project.id}.{extension}"

    @property
    def media_type(self) -> str:
        return FILES[self.format][1]
