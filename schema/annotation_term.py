"""Terms on annotations in the graph (contract images-annotations.md §3.11).

A user annotation's terms are `AnnotationTerm` links (who put which term); a reviewed
annotation's are a plain set, listed as `ReviewedAnnotationTerm` (the term, and the image's
reviewer). `annotationTerms` lists either through the `AnnotationTermLink` union.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.annotation import term as annotation_term
from resolvers.annotation.term import TermLinks
from resolvers.ontology import terms_by_id
from resolvers.user import users_by_id
from schema.annotation import AnnotationTerm
from schema.common import Command, Info, Long, loaded
from schema.review import ReviewedAnnotation, cast_row
from schema.user import User

if TYPE_CHECKING:
    from schema.ontology import Term

__all__ = ["AnnotationTermMutation", "AnnotationTermQuery", "ReviewedAnnotationTerm"]


@strawberry.type(description="A term of a reviewed annotation's set.")
class ReviewedAnnotationTerm:
    term_id: Long
    reviewed_annotation_id: Long
    reviewer_id: Long | None = strawberry.field(
        description="The reviewer of the annotation's image, if it is in review."
    )

    term = loaded(
        terms_by_id,
        "term_id",
        graphql_type=Annotated["Term", strawberry.lazy("schema.ontology")] | None,
    )
    reviewer = loaded(users_by_id, "reviewer_id", graphql_type=User | None)


AnnotationTermLink = Annotated[
    AnnotationTerm | ReviewedAnnotationTerm,
    strawberry.union("AnnotationTermLink", description="A term on an annotation of either kind."),
]


@strawberry.input(description="A term on a user annotation, and who put it (default: you).")
class AnnotationTermInput:
    annotation: Long
    term: Long
    user: Long | None = strawberry.field(
        default=None, description="Add: ignored unless it names a user. Remove: whose link."
    )


@strawberry.input(description="Make a term an annotation's only term.")
class AnnotationTermSetInput:
    annotation: Long
    term: Long
    clear_for_all: bool = strawberry.field(
        default=False, description="A user annotation loses everyone's terms, not only yours."
    )


@strawberry.type
class AnnotationTermPayload:
    annotation_term: Any = strawberry.field(graphql_type=AnnotationTerm)
    command: Command


@strawberry.type(
    description="The new link (user annotation) or the changed reviewed "
    "annotation, and the command."
)
class AnnotationTermSetPayload:
    annotation_term: Any = strawberry.field(graphql_type=AnnotationTerm | None)
    reviewed_annotation: Any = strawberry.field(graphql_type=ReviewedAnnotation | None)
    command: Command


def _links(found: TermLinks) -> list[Any]:
    member = ReviewedAnnotationTerm if found.reviewed else AnnotationTerm
    return [cast_row(member, row) for row in found.rows]


@strawberry.type
class AnnotationTermQuery:
    @strawberry.field(
        graphql_type=list[AnnotationTermLink],
        description="The terms of an annotation of either kind, oldest first; for a user "
        "annotation only those a user put (userId) or did not put (notUserId).",
    )
    async def annotation_terms(
        self,
        info: Info,
        annotation_id: Long,
        user_id: Long | None = None,
        not_user_id: Annotated[
            Long | None,
            strawberry.argument(
                description="Leave out the terms this user put (user annotations only)."
            ),
        ] = None,
    ) -> Any:
        found = await annotation_term.list_annotation_terms(
            info.context, annotation_id, user_id=user_id, not_user_id=not_user_id
        )
        return _links(found)

    @strawberry.field(
        graphql_type=AnnotationTerm,
        description="The first link of a user annotation to a term (put by userId if given).",
    )
    async def annotation_term(
        self, info: Info, annotation_id: Long, term_id: Long, user_id: Long | None = None
    ) -> Any:
        return await annotation_term.get_annotation_term(
            info.context, annotation_id, term_id, user_id
        )


@strawberry.type
class AnnotationTermMutation:
    @strawberry.mutation(description="Put a term on a user annotation.")
    async def annotation_term_add(
        self, info: Info, input: AnnotationTermInput
    ) -> AnnotationTermPayload:
        changed = await annotation_term.add_annotation_term(
            info.context, input.annotation, input.term, input.user
        )
        return AnnotationTermPayload(
            annotation_term=changed.row, command=Command.of(changed.command)
        )

    @strawberry.mutation(description="Take a term off a user annotation (your link by default).")
    async def annotation_term_remove(
        self, info: Info, input: AnnotationTermInput
    ) -> AnnotationTermPayload:
        changed = await annotation_term.remove_annotation_term(
            info.context, input.annotation, input.term, input.user
        )
        return AnnotationTermPayload(
            annotation_term=changed.row, command=Command.of(changed.command)
        )

    @strawberry.mutation(description="Make a term an annotation's only one (either kind).")
    async def annotation_term_set(
        self, info: Info, input: AnnotationTermSetInput
    ) -> AnnotationTermSetPayload:
        done = await annotation_term.set_annotation_term(
            info.context, input.annotation, input.term, clear_for_all=input.clear_for_all
        )
        row = done.changed.row
        return AnnotationTermSetPayload(
            annotation_term=None if done.reviewed else row,
            reviewed_annotation=row if done.reviewed else None,
            command=Command.of(done.changed.command),
        )
