"""Annotation reports and the administrators' light list in the graph (contract
images-annotations.md §3.15, §3.4); the rules live in resolvers/annotation/report.py.

A report gives what its file holds: the header, the users and terms it was made for, the names
of the ontology's terms, and its rows as listing rows. The REST downloads write these as CSV,
XLSX, PDF or GeoJSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers.annotation.listing import REVIEWED_LAYER, USER_LAYER, list_annotations
from resolvers.annotation.report import (
    COLUMNS,
    Report,
    ReportRequest,
    annotation_report,
    list_light_annotations,
)
from resolvers.ontology import terms_by_id, terms_by_ontology
from resolvers.report import ReportFormat
from resolvers.user import users_by_id
from schema.annotation import AnnotationRow, AnnotationRowConnection
from schema.common import Connection, Info, Long, connection, selected
from schema.ontology import Term
from schema.report import ReportFileFields
from schema.review import ReviewedAnnotationRow, ReviewedAnnotationRowConnection
from schema.user import User

__all__ = ["AnnotationReportQuery"]


@strawberry.type(description="A report of a project's annotations, as its file holds it.")
class AnnotationReport(ReportFileFields):
    report: strawberry.Private[Report]

    @strawberry.field(description="The header of the report's table.")
    def columns(self) -> list[str]:
        return list(COLUMNS)

    @strawberry.field(graphql_type=list[User], description="Whose annotations it holds.")
    async def users(self, info: Info) -> Any:
        found = await info.context.loader(users_by_id).load_many(self.report.user_ids)
        return [user for user in found if user is not None]

    @strawberry.field(
        graphql_type=list[Term],
        description="The terms its annotations carry one of (none: no term filter).",
    )
    async def terms(self, info: Info) -> Any:
        found = await info.context.loader(terms_by_id).load_many(self.report.term_ids)
        return [term for term in found if term is not None]

    @strawberry.field(
        graphql_type=list[Term], description="Every term of the project's ontology, by name."
    )
    async def ontology_terms(self, info: Info) -> Any:
        ontology = self.file.project.ontology_id
        return (
            [] if ontology is None else await info.context.loader(terms_by_ontology).load(ontology)
        )

    @strawberry.field(
        description="Its rows, as the annotation listing gives them; null for a reviewed "
        "report (see reviewedRows)."
    )
    async def rows(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> AnnotationRowConnection | None:
        if self.report.layer is not USER_LAYER:
            return None
        wanted = selected(info, AnnotationRow, "nodes")
        page = await list_annotations(info.context, self.report.query, wanted=wanted,
                                      limit=first, offset=offset)  # fmt: skip
        return connection(page)

    @strawberry.field(
        description="A reviewed report's rows, as the reviewed listing gives them; else null."
    )
    async def reviewed_rows(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> ReviewedAnnotationRowConnection | None:
        if self.report.layer is not REVIEWED_LAYER:
            return None
        wanted = selected(info, ReviewedAnnotationRow, "nodes")
        page = await list_annotations(info.context, self.report.query, wanted=wanted,
                                      limit=first, offset=offset, layer=REVIEWED_LAYER)  # fmt: skip
        return connection(page)


@strawberry.type(description="An annotation of the administrators' light list.")
class AnnotationLight:
    id: Long
    project_id: Long = strawberry.field(
        name="container", description="The id of the project it lies in."
    )


@strawberry.type
class AnnotationReportQuery:
    @strawberry.field(
        description="A report of a project's annotations on `images` (at least one), drawn by "
        "`users` (empty: every member), carrying one of `terms` (empty: a term of the "
        "ontology; `noTerm` adds termless ones). With `reviewed`, the reviewed layer, and "
        "`users` are the reviewers."
    )
    async def annotation_report(
        self,
        info: Info,
        project: Long,
        format: Annotated[
            ReportFormat,
            strawberry.argument(
                description="The format of the report's file, which names the file and its "
                "media type."
            ),
        ],
        users: list[Long],
        terms: list[Long],
        images: list[Long],
        reviewed: Annotated[
            bool,
            strawberry.argument(
                description="Report the reviewed annotations instead, `users` naming their "
                "reviewers."
            ),
        ] = False,
        no_term: Annotated[
            bool, strawberry.argument(description="Also report the annotations without any term.")
        ] = False,
        after_than: datetime | None = None,
        before_than: datetime | None = None,
    ) -> AnnotationReport:
        request = ReportRequest(project, format, users, terms, images, reviewed, no_term,
                                after_than, before_than)  # fmt: skip
        report = await annotation_report(info.context, request)
        return AnnotationReport(file=report.file, report=report)

    @strawberry.field(
        description="Administrators: every annotation but points smaller than 1.5 M px², "
        "largest first."
    )
    async def annotation_light_list(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> Connection[AnnotationLight]:
        page = await list_light_annotations(info.context, limit=first, offset=offset)
        return connection(page)
