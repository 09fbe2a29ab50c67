"""Annotation reports of a project (contract images-annotations.md §3.15) and the
administrators' light list of annotations (§3.4 "Light list").

A report is a listing (resolvers/annotation/listing.py: its scope check, filters and columns)
with the parameters Cytomine requires of a download: the users, terms and images, each of
which must be given though the first two may be empty (every member, every term of the
ontology). The file itself (CSV, XLSX, PDF, GeoJSON) is written by the REST layer from the
report's rows; here live the rules and what names the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, select

from db.models import UserAnnotation
from resolvers.annotation.included import ontology_term_ids
from resolvers.annotation.listing import REVIEWED_LAYER, USER_LAYER, AnnotationSearch, Layer
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput
from resolvers.listing import Page, fetch_page
from resolvers.project_access import member_ids, project_access
from resolvers.report import ReportFile, ReportFormat

__all__ = [
    "COLUMNS",
    "LIGHT_MAX_AREA",
    "Report",
    "ReportRequest",
    "annotation_report",
    "list_light_annotations",
]


#: The header of Cytomine's report table, in order (§3.15).
COLUMNS: Final = (
    "Id", "Area (microns²)", "Perimeter (mm)", "X", "Y", "Image Id", "Image Filename", "User",
    "Term", "View annotation picture", "View annotation on image",
)  # fmt: skip
#: The light list keeps annotations smaller than this many square pixels.
LIGHT_MAX_AREA: Final = 1_500_000


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What a download asks for: `users`, `terms` and `images` are required but `users` and
    `terms` may be empty (every member, every term of the ontology)."""

    project: int
    format: ReportFormat
    users: Sequence[int]
    terms: Sequence[int]
    images: Sequence[int]
    reviewed: bool = False
    no_term: bool = False
    after_than: datetime | None = None
    before_than: datetime | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """A report: its file (which names its project), the users and terms it was made for
    (those of the project's ontology), and the listing of its rows (`query` on `layer`)."""

    file: ReportFile
    user_ids: list[int]
    term_ids: list[int]
    query: AnnotationSearch
    layer: Layer = USER_LAYER


async def annotation_report(ctx: Context, request: ReportRequest) -> Report:
    """The report of a project's annotations (READ on the project): those on `images`,
    drawn by `users` (empty: the project's members), carrying one of `terms` (empty: a term of
    the ontology; `noTerm` adds termless ones), created in the window given.

    A reviewed report reads the reviewed layer, and its `users` are the reviewers (Cytomine
    compares them with the creators, which its own parameter name, reviewUsers, contradicts).
    """
    access = (await project_access(ctx, request.project)).require_read()
    if not request.images:
        raise InvalidInput("images must name the images of the report (at least one)")
    async with ctx.db.read() as conn:
        users = list(dict.fromkeys(request.users)) or sorted(
            await member_ids(conn, access.row.id, manager=False)
        )
        ontology = await ontology_term_ids(conn, access.row.id) or []
        terms = list(dict.fromkeys(request.terms)) or ontology
    query = AnnotationSearch(
        project=access.row.id, images=list(request.images), terms=terms or None,
        users=None if request.reviewed else users or None,
        review_users=(users or None) if request.reviewed else None, no_term=request.no_term,
        after_than=request.after_than, before_than=request.before_than,
    )  # fmt: skip
    layer = REVIEWED_LAYER if request.reviewed else USER_LAYER
    file = ReportFile("annotations", access.project, request.format, datetime.now(UTC))
    # the report names the terms of the project's ontology only: another ontology's term
    # selects no annotation here, and its name is not the caller's to read
    known = set(ontology)
    named = [term for term in terms if term in known]
    return Report(file, users, named, query, layer)


async def list_light_annotations(
    ctx: Context, *, limit: int | None = None, offset: int = 0
) -> Page[Any]:
    """Every annotation but points smaller than LIGHT_MAX_AREA px², largest first, as
    (id, project): an administrators' list of annotations to process."""
    viewer = ctx.require_viewer()
    if not viewer.is_admin:
        raise Forbidden("Only administrators list every annotation")
    location = UserAnnotation.location
    area = func.ST_Area(location)
    stmt = (
        select(UserAnnotation.id, UserAnnotation.project_id)
        .where(func.GeometryType(location).not_in(("POINT", "MULTIPOINT")), area < LIGHT_MAX_AREA)
        .order_by(area.desc(), UserAnnotation.id)
    )
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)
