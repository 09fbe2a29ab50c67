"""The schema: every area's queries and mutations merged, with limits and error codes."""

from __future__ import annotations

import logging
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.abstract_image import AbstractImageMutation, AbstractImageQuery
from schema.activity import ActivityMutation, ActivityQuery
from schema.annotation import AnnotationMutation, AnnotationQuery
from schema.annotation_cluster import AnnotationClusterQuery
from schema.annotation_comment import AnnotationCommentMutation, AnnotationCommentQuery
from schema.annotation_count import AnnotationCountQuery
from schema.annotation_included import AnnotationIncludedQuery
from schema.annotation_report import AnnotationReportQuery
from schema.annotation_term import AnnotationTermMutation, AnnotationTermQuery
from schema.annotation_tool import AnnotationToolMutation, AnnotationToolQuery
from schema.command import CommandMutation, CommandQuery
from schema.common import SCALARS
from schema.companion_file import CompanionFileMutation, CompanionFileQuery
from schema.errors import INTERNAL, DomainErrors, error_code
from schema.executor import PLANS, ListExecutionContext, PlanCache
from schema.image import ImageMutation, ImageQuery
from schema.image_import import ImageImportMutation
from schema.limits import limit_rules, row_budget
from schema.metadata import MetadataMutation, MetadataQuery
from schema.ontology import OntologyMutation, OntologyQuery
from schema.pixels import ImageServerQuery
from schema.project import ProjectMutation, ProjectQuery
from schema.review import ReviewMutation, ReviewQuery
from schema.shared_docs import describe_shared
from schema.software import SoftwareMutation, SoftwareQuery
from schema.storage import StorageMutation, StorageQuery
from schema.tag import TagMutation, TagQuery
from schema.track import TrackMutation, TrackQuery
from schema.uploaded_file import UploadedFileMutation, UploadedFileQuery
from schema.user import UserMutation, UserQuery
from schema.validation import KeptDocument
from settings import Settings

__all__ = ["CytogateSchema", "build_schema"]

log = logging.getLogger("cytogate.graphql")

Query = merge_types(
    "Query",
    (
        UserQuery,
        ProjectQuery,
        SoftwareQuery,
        OntologyQuery,
        StorageQuery,
        UploadedFileQuery,
        AbstractImageQuery,
        CompanionFileQuery,
        ImageServerQuery,
        ImageQuery,
        AnnotationQuery,
        AnnotationToolQuery,
        AnnotationIncludedQuery,
        AnnotationClusterQuery,
        AnnotationReportQuery,
        AnnotationCommentQuery,
        AnnotationCountQuery,
        AnnotationTermQuery,
        ReviewQuery,
        TrackQuery,
        TagQuery,
        MetadataQuery,
        ActivityQuery,
        CommandQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        UserMutation,
        ProjectMutation,
        SoftwareMutation,
        OntologyMutation,
        StorageMutation,
        UploadedFileMutation,
        AbstractImageMutation,
        CompanionFileMutation,
        ImageMutation,
        ImageImportMutation,
        AnnotationMutation,
        AnnotationToolMutation,
        AnnotationCommentMutation,
        AnnotationTermMutation,
        ReviewMutation,
        TrackMutation,
        TagMutation,
        MetadataMutation,
        ActivityMutation,
        CommandMutation,
    ),
)


Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What can be read: objects by id, lists with their filters and pages, counts and reports."
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "What can be changed: each change is recorded as a command that undo and redo act on."
)


class CytogateSchema(strawberry.Schema):
    """Strawberry's schema, logging a caller's mistakes in one line instead of a traceback.

    `DomainErrors` has already logged unexpected errors (with their traceback) once.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = error_code(error)
            if code != INTERNAL:
                log.info("%s: %s", code, error.message)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with this configuration's limits (schema/limits.py) and token count, and the
    list executor's plan cache (schema/executor.py)."""
    schema = CytogateSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=ListExecutionContext,
        extensions=[
            DomainErrors,
            partial(KeptDocument, settings.graphql_max_tokens, limit_rules(settings)),
            row_budget(settings),
        ],
    )
    schema._schema.extensions = {**(schema._schema.extensions or {}), PLANS: PlanCache()}
    describe_shared(schema._schema)
    return schema
