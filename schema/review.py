"""The review workflow and reviewed annotations in the graph (contract images-annotations.md
§3.5, §3.6, §3.9, §3.10, §11).

`ReviewedAnnotation` is the object, `ReviewedAnnotationRow` the flat row of its listing (plain
values only, for the fast path of schema/executor.py). `AnnotationAny` is a union, not an
interface: an interface gives its types an `is_type_of`, which takes them off the fast path.
A union member is told apart by `strawberry.cast`, which needs an object that takes
attributes: SQLAlchemy rows do not, so `cast_row` wraps the row in a `Cast` reading through
to it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from resolvers import review
from resolvers.annotation.count import count_project_annotations
from resolvers.annotation.listing import REVIEWED_LAYER, AnnotationSearch
from resolvers.annotation.listing import list_annotations as list_layer
from resolvers.crud import Changed
from resolvers.metadata_target import REVIEWED_ANNOTATION_CLASS
from resolvers.ontology import terms_by_id
from resolvers.review import AnyAnnotation, Layers, ReviewedFields
from resolvers.user import users_by_id
from schema.annotation import (
    AnnotationFilter,
    AnnotationInput,
    ListedExtras,
    Measured,
    UserAnnotation,
    placed,
)
from schema.common import Command, Connection, Info, Long, connection, selected
from schema.metadata import attached_files_field, description_field, properties_field
from schema.tag import tags_field
from schema.user import User

if TYPE_CHECKING:
    from schema.image import ImageInstance
    from schema.ontology import Term

__all__ = [
    "AnnotationAny",
    "Cast",
    "ReviewMutation",
    "ReviewQuery",
    "ReviewedAnnotation",
    "ReviewedAnnotationRow",
    "cast_row",
]


class Cast:
    """A row answered through a union, marked (`strawberry.cast`) with the member type it is;
    attribute reads go to the row."""

    def __init__(self, type_: type, row: Any) -> None:
        self._row = row
        strawberry.cast(type_, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def cast_row(type_: type, row: Any) -> Any:
    """`row` as the union member `type_`."""
    return Cast(type_, row)


@strawberry.type
class ReviewedAnnotationCore(Measured):
    """The fields every reviewed annotation row holds (each a plain value)."""

    user_id: Long = strawberry.field(description="The creator of the original annotation.")
    review_user_id: Long = strawberry.field(description="Who accepted it (the reviewer).")
    parent_ident: Long | None = strawberry.field(description="The original user annotation.")
    parent_class_name: str | None = strawberry.field(
        description="The original's class (Cytomine's name of a user annotation)."
    )
    status: int = strawberry.field(description="1 when made by accepting an annotation.")
    wkt_location: str = strawberry.field(
        name="location", description="WKT in pixels, origin at the bottom-left corner."
    )
    term_ids: list[Long] = strawberry.field(description="Its term set.")


@strawberry.type(
    description="The validated copy of an annotation, made during the review of "
    "its image (the reviewed layer)."
)
class ReviewedAnnotation(ReviewedAnnotationCore, placed(REVIEWED_LAYER.kind)):  # type: ignore[misc]
    tags = tags_field(REVIEWED_ANNOTATION_CLASS)
    properties = properties_field(REVIEWED_ANNOTATION_CLASS)
    attached_files = attached_files_field(REVIEWED_ANNOTATION_CLASS)
    description = description_field(REVIEWED_ANNOTATION_CLASS)

    @strawberry.field(description="Always true: it is in the reviewed layer.")
    @staticmethod
    def reviewed() -> bool:
        return True

    @strawberry.field(graphql_type=User, description="The creator of the original.")
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.user_id)

    @strawberry.field(graphql_type=User)
    @staticmethod
    async def review_user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.review_user_id)

    @strawberry.field(
        graphql_type=UserAnnotation | None,
        description="The original, while it exists (deleting it keeps this copy) and you may "
        "read it (it may have moved to another project).",
    )
    @staticmethod
    async def parent(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await review.readable_original(info.context, parent)

    @strawberry.field(graphql_type=list[Annotated["Term", strawberry.lazy("schema.ontology")]])
    @staticmethod
    async def terms(parent: strawberry.Parent[Any], info: Info) -> Any:
        found = await info.context.loader(terms_by_id).load_many(list(parent.term_ids))
        return [term for term in found if term is not None]


@strawberry.type(
    description="A flat row of the reviewed listing: plain values only, the optional ones "
    "computed when selected. Made for bulk reads and exports."
)
class ReviewedAnnotationRow(ReviewedAnnotationCore, ListedExtras):
    user_by_term: JSON = strawberry.field(
        description='[{"id": 0, "term": id, "user": [the creator]}]'
    )


AnnotationAny = Annotated[
    UserAnnotation | ReviewedAnnotation,
    strawberry.union(
        "AnnotationAny", description="An annotation of either kind (one id sequence names both)."
    ),
]


@strawberry.input(
    description="The reviewed listing's filters: the listing's (users are the "
    "original creators; tracks, usersForTerm and notReviewedOnly do not apply), "
    "and the reviewers."
)
class ReviewedAnnotationFilter(AnnotationFilter):
    # The fields whose meaning differs on the reviewed layer, described anew.
    user: Long | None = strawberry.field(
        default=None,
        description="Only annotations whose original this user created (merged with `users`).",
    )
    users: list[Long] | None = strawberry.field(
        default=None, description="Only annotations whose original one of these users created."
    )
    users_for_term: list[Long] | None = strawberry.field(
        default=None, description="Ignored: reviewed terms have no author."
    )
    track: list[Long] | None = strawberry.field(
        default=None, description="Ignored on the reviewed layer."
    )
    tracks: list[Long] | None = strawberry.field(
        default=None, description="Ignored on the reviewed layer."
    )
    no_track: bool = strawberry.field(default=False, description="Ignored on the reviewed layer.")
    multiple_track: bool = strawberry.field(
        default=False, description="Ignored on the reviewed layer."
    )
    before_slice: Long | None = strawberry.field(
        default=None, description="Ignored on the reviewed layer."
    )
    after_slice: Long | None = strawberry.field(
        default=None, description="Ignored on the reviewed layer."
    )
    not_reviewed_only: bool = strawberry.field(
        default=False, description="Ignored on the reviewed layer."
    )
    review_users: list[Long] | None = strawberry.field(
        default=None, description="Only annotations whose reviewer is one of these users."
    )

    def query(self) -> AnnotationSearch:
        return dataclasses.replace(super().query(), review_users=self.review_users)


@strawberry.input(
    description="A reviewed annotation's fields. On create location, user, "
    "reviewUser, terms and a slice or an image are required; on update location "
    "is, and absent terms keep the set."
)
class ReviewedAnnotationInput:
    location: str | None = strawberry.field(default=None, description="WKT; only made valid.")
    slice: Long | None = None
    image: Long | None = None
    project: Long | None = strawberry.field(
        default=None, description="Ignored: the image's project."
    )
    user: Long | None = strawberry.field(default=None, description="The original's creator.")
    review_user: Long | None = None
    term: list[Long] | None = strawberry.field(
        default=None, description="Cytomine's name of `terms`, used when terms is not given."
    )
    terms: list[Long] | None = None
    parent_ident: Long | None = strawberry.field(default=None, description="The original.")
    annotation: Long | None = strawberry.field(
        default=None, description="The original, when parentIdent is not given."
    )
    geometry_compression: float | None = strawberry.field(
        default=None,
        description="On update, the tolerance the new geometry is simplified with (absent: "
        "none); ignored on create.",
    )

    def fields(self) -> ReviewedFields:
        given = self.terms if self.terms is not None else self.term
        terms = None if given is None else [int(term) for term in given]
        parent = self.parent_ident if self.parent_ident is not None else self.annotation
        return ReviewedFields(
            location=self.location,
            slice=self.slice,
            image=self.image,
            user=self.user,
            review_user=self.review_user,
            terms=terms,
            parent=parent,
            geometry_compression=self.geometry_compression,
        )


@strawberry.input(description="Accept an annotation into the reviewed layer.")
class AnnotationReviewInput:
    annotation: Long
    terms: list[Long] | None = strawberry.field(
        default=None, description="The copy's terms; none given: the original's."
    )


@strawberry.input(description="The layers (creators) to accept or reject on an image.")
class ReviewLayersInput:
    image: Long
    users: list[Long] | None = strawberry.field(default=None, description="Required.")
    task: Long | None = strawberry.field(
        default=None, description="A progress task to report to (accepted, not used)."
    )


@strawberry.type
class ReviewedAnnotationPayload:
    reviewed_annotation: Any = strawberry.field(graphql_type=ReviewedAnnotation)
    command: Command


@strawberry.type
class ImageReviewPayload:
    image_instance: Any = strawberry.field(
        graphql_type=Annotated["ImageInstance", strawberry.lazy("schema.image")]
    )
    command: Command


@strawberry.type
class ReviewLayersPayload:
    reviewed_annotation_ids: list[Long] = strawberry.field(
        description="The reviewed annotations made (accept) or deleted (reject)."
    )
    command: Command | None = strawberry.field(description="None when nothing was to do.")


@strawberry.type
class AnnotationAnyPayload:
    annotation: Any = strawberry.field(graphql_type=AnnotationAny)
    command: Command


@strawberry.type(description="How much of a creator's work on an image is reviewed.")
class ReviewStat:
    user_id: Long
    all: int = strawberry.field(description="Their user annotations on the image.")
    reviewed: int = strawberry.field(description="Those with a reviewed copy.")

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.user_id)


ReviewedAnnotationConnection = Connection[ReviewedAnnotation]
ReviewedAnnotationRowConnection = Connection[ReviewedAnnotationRow]


def _reviewed_payload(changed: Changed) -> ReviewedAnnotationPayload:
    return ReviewedAnnotationPayload(
        reviewed_annotation=changed.row, command=Command.of(changed.command)
    )


def _image_payload(changed: Changed) -> ImageReviewPayload:
    return ImageReviewPayload(image_instance=changed.row, command=Command.of(changed.command))


def _layers_payload(layers: Layers) -> ReviewLayersPayload:
    command = None if layers.command is None else Command.of(layers.command)
    return ReviewLayersPayload(
        reviewed_annotation_ids=[Long(i) for i in layers.ids], command=command
    )


def as_any(found: AnyAnnotation) -> Any:
    """The annotation as its `AnnotationAny` member."""
    return cast_row(ReviewedAnnotation if found.reviewed else UserAnnotation, found.row)


def _any_payload(found: AnyAnnotation) -> AnnotationAnyPayload:
    assert found.command is not None
    return AnnotationAnyPayload(annotation=as_any(found), command=Command.of(found.command))


async def _listing(
    info: Info, type_: type, filter: ReviewedAnnotationFilter | None, first: int | None, offset: int
) -> Connection[Any]:
    """A page of the reviewed layer: with a filter, the listing's scope rules; without, every
    project you may read."""
    wanted = selected(info, type_, "nodes")
    query = AnnotationSearch() if filter is None else filter.query()
    page = await list_layer(
        info.context,
        query,
        wanted=wanted,
        limit=first,
        offset=offset,
        layer=REVIEWED_LAYER,
        everywhere=filter is None,
    )
    return connection(page)


@strawberry.type
class ReviewQuery:
    @strawberry.field(graphql_type=ReviewedAnnotation)
    async def reviewed_annotation(self, info: Info, id: Long) -> Any:
        return await review.get_reviewed_annotation(info.context, id)

    @strawberry.field(
        graphql_type=ReviewedAnnotation | None,
        description="The reviewed copy of a user annotation, if any you may read.",
    )
    async def reviewed_copy(self, info: Info, annotation_id: Long) -> Any:
        return await review.readable_reviewed_copy(info.context, annotation_id)

    @strawberry.field(
        graphql_type=AnnotationAny,
        description="An annotation of either kind: user first, then reviewed.",
    )
    async def annotation_any(self, info: Info, id: Long) -> Any:
        return as_any(await review.get_any_annotation(info.context, id))

    @strawberry.field(
        description="Reviewed annotations, newest first; without a filter, those "
        "of every project you may read."
    )
    async def reviewed_annotations(
        self,
        info: Info,
        filter: ReviewedAnnotationFilter | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> ReviewedAnnotationConnection:
        return await _listing(info, ReviewedAnnotation, filter, first, offset)

    @strawberry.field(description="The same listing as flat rows, for bulk reads and exports.")
    async def reviewed_annotation_rows(
        self,
        info: Info,
        filter: ReviewedAnnotationFilter | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> ReviewedAnnotationRowConnection:
        return await _listing(info, ReviewedAnnotationRow, filter, first, offset)

    @strawberry.field(
        graphql_type=list[ReviewStat],
        description="Per creator of annotations on the image, how many are "
        "reviewed; most reviewed first.",
    )
    async def reviewed_annotation_stats(self, info: Info, image_id: Long) -> Any:
        return await review.review_stats(info.context, image_id)

    @strawberry.field(
        description="The reviewed annotations of a project, created between the "
        "dates (inclusive) when given."
    )
    async def reviewed_annotation_count(
        self,
        info: Info,
        project_id: Long,
        after: Annotated[
            datetime | None,
            strawberry.argument(
                description="Count only those created at or after this moment (to the "
                "millisecond); absent: no lower bound."
            ),
        ] = None,
        before: Annotated[
            datetime | None,
            strawberry.argument(
                description="Count only those created at or before this moment (to the "
                "millisecond); absent: no upper bound."
            ),
        ] = None,
    ) -> int:
        return await count_project_annotations(
            info.context, project_id, start=after, end=before, reviewed=True
        )

    @strawberry.field(
        description="The reviewed copies of the annotations a user created (the "
        "user themself or an administrator)."
    )
    async def reviewed_annotation_count_of_creator(self, info: Info, user_id: Long) -> int:
        return await review.count_creator_reviewed(info.context, user_id)


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(description="Start reviewing an image; you are its reviewer.")
    async def image_review_start(
        self,
        info: Info,
        id: Annotated[
            Long, strawberry.argument(description="The id of the image instance to review.")
        ],
    ) -> ImageReviewPayload:
        return _image_payload(await review.start_review(info.context, id))

    @strawberry.mutation(
        description="Validate the image you review; with cancel, take back a "
        "validation, or end a review not validated yet."
    )
    async def image_review_stop(
        self,
        info: Info,
        id: Annotated[
            Long, strawberry.argument(description="The id of the image instance you review.")
        ],
        cancel: Annotated[
            bool,
            strawberry.argument(
                description="Take back the validation, or end the review when it is not "
                "validated yet, instead of validating."
            ),
        ] = False,
    ) -> ImageReviewPayload:
        return _image_payload(await review.stop_review(info.context, id, cancel=cancel))

    @strawberry.mutation(
        description="Accept an annotation of an image you review: a reviewed "
        "copy with the terms given, else the original's."
    )
    async def annotation_review(
        self, info: Info, input: AnnotationReviewInput
    ) -> ReviewedAnnotationPayload:
        changed = await review.review_annotation(info.context, input.annotation, input.terms)
        return _reviewed_payload(changed)

    @strawberry.mutation(
        description="Reject an annotation: delete the reviewed copy of the user annotation `id`."
    )
    async def annotation_unreview(
        self,
        info: Info,
        id: Annotated[
            Long,
            strawberry.argument(
                description="The id of the user annotation whose reviewed copy to delete."
            ),
        ],
    ) -> ReviewedAnnotationPayload:
        return _reviewed_payload(await review.unreview_annotation(info.context, id))

    @strawberry.mutation(
        description="Accept every not yet reviewed annotation of these creators "
        "on an image you review."
    )
    async def image_review_accept_layers(
        self, info: Info, input: ReviewLayersInput
    ) -> ReviewLayersPayload:
        layers = await review.accept_layers(info.context, input.image, input.users, input.task)
        return _layers_payload(layers)

    @strawberry.mutation(
        description="Delete the reviewed copies of these creators' annotations "
        "on an image you review."
    )
    async def image_review_reject_layers(
        self, info: Info, input: ReviewLayersInput
    ) -> ReviewLayersPayload:
        layers = await review.reject_layers(info.context, input.image, input.users, input.task)
        return _layers_payload(layers)

    @strawberry.mutation(
        description="Create a reviewed annotation directly (its geometry is only made valid)."
    )
    async def reviewed_annotation_create(
        self, info: Info, input: ReviewedAnnotationInput, user_id: Long | None = None
    ) -> ReviewedAnnotationPayload:
        fields = input.fields()
        if user_id is not None:  # a path's user (`/user/{id}/reviewedannotation.json`) wins
            fields = dataclasses.replace(fields, user=user_id)
        return _reviewed_payload(await review.create_reviewed_annotation(info.context, fields))

    @strawberry.mutation(
        description="Replace a reviewed annotation's geometry and terms (its "
        "reviewer or an administrator)."
    )
    async def reviewed_annotation_update(
        self, info: Info, id: Long, input: ReviewedAnnotationInput
    ) -> ReviewedAnnotationPayload:
        changed = await review.update_reviewed_annotation(info.context, id, input.fields())
        return _reviewed_payload(changed)

    @strawberry.mutation(
        description="Delete a reviewed annotation (its reviewer or an administrator)."
    )
    async def reviewed_annotation_delete(self, info: Info, id: Long) -> ReviewedAnnotationPayload:
        return _reviewed_payload(await review.delete_reviewed_annotation(info.context, id))

    @strawberry.mutation(
        description="Update an annotation of either kind as its own mutation "
        "would; a reviewed one's terms are replaced by those given."
    )
    async def annotation_any_update(
        self, info: Info, id: Long, input: AnnotationInput
    ) -> AnnotationAnyPayload:
        return _any_payload(await review.update_any_annotation(info.context, id, input.fields()))

    @strawberry.mutation(description="Delete an annotation of either kind.")
    async def annotation_any_delete(self, info: Info, id: Long) -> AnnotationAnyPayload:
        return _any_payload(await review.delete_any_annotation(info.context, id))
