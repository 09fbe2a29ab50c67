"""Comments on annotations in the graph (contract images-annotations.md §3.4 "Comments"): the
type keeps Cytomine's class name, SharedAnnotation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers.annotation import annotations_by_id
from resolvers.annotation import comment as comments
from resolvers.annotation.comment import CommentFields
from resolvers.crud import Changed
from resolvers.user import users_by_id
from schema.annotation import UserAnnotation
from schema.common import Command, Connection, Info, Long, connection
from schema.user import User

__all__ = ["AnnotationCommentMutation", "AnnotationCommentQuery", "SharedAnnotation"]


@strawberry.type(description="A comment on a user annotation, from its sender to some users; "
                 "only they (and administrators) read it.")  # fmt: skip
class SharedAnnotation:
    id: Long
    created: datetime
    updated: datetime
    user_annotation_id: Long = strawberry.field(description="The annotation commented on.")
    comment: str = strawberry.field(description="Its text.")
    sender_id: Long

    @strawberry.field(description="The receivers' ids.")
    @staticmethod
    def receiver_ids(parent: strawberry.Parent[Any]) -> list[Long]:
        return [Long(receiver) for receiver in parent.receivers]

    @strawberry.field(
        graphql_type=UserAnnotation | None, description="The annotation commented on."
    )
    @staticmethod
    async def annotation(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(annotations_by_id).load(parent.user_annotation_id)

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def sender(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.sender_id)

    @strawberry.field(description="The sender's first and last names, as Cytomine shows them.")
    @staticmethod
    async def sender_name(parent: strawberry.Parent[Any], info: Info) -> str | None:
        sender = await info.context.loader(users_by_id).load(parent.sender_id)
        return None if sender is None else f"{sender.firstname} {sender.lastname}"

    @strawberry.field(graphql_type=list[User])
    @staticmethod
    async def receivers(parent: strawberry.Parent[Any], info: Info) -> Any:
        found = await info.context.loader(users_by_id).load_many(list(parent.receivers))
        return [user for user in found if user is not None]


@strawberry.input(description="A new comment on an annotation.")
class AnnotationCommentInput:
    annotation: Long | None = None
    comment: str | None = strawberry.field(
        default=None, description="Its text (required, at most 10 000 characters)."
    )
    receivers: list[Long] | None = strawberry.field(
        default=None, description="The users it is sent to."
    )

    def fields(self) -> CommentFields:
        return CommentFields(self.annotation, self.comment, list(self.receivers or ()))


@strawberry.type
class SharedAnnotationPayload:
    shared_annotation: Any = strawberry.field(graphql_type=SharedAnnotation)
    command: Command


SharedAnnotationConnection = Connection[SharedAnnotation]


def _payload(changed: Changed) -> SharedAnnotationPayload:
    return SharedAnnotationPayload(
        shared_annotation=changed.row, command=Command.of(changed.command)
    )


@strawberry.type
class AnnotationCommentQuery:
    @strawberry.field(description="The comments on an annotation you sent or received, newest "
                      "first.")  # fmt: skip
    async def annotation_comments(
        self, info: Info, annotation_id: Long, first: int | None = None, offset: int = 0
    ) -> SharedAnnotationConnection:
        page = await comments.list_comments(info.context, annotation_id, limit=first, offset=offset)
        return connection(page)

    @strawberry.field(
        graphql_type=SharedAnnotation,
        description="One comment on an annotation, by its id (NOT_FOUND when not on it); only "
        "its sender, its receivers and administrators read it.",
    )
    async def annotation_comment(
        self,
        info: Info,
        annotation_id: Long,
        id: Annotated[Long, strawberry.argument(description="The id of the comment.")],
    ) -> Any:
        return await comments.get_comment(info.context, annotation_id, id)


@strawberry.type
class AnnotationCommentMutation:
    @strawberry.mutation(description="Comment an annotation, to some users.")
    async def annotation_comment_create(
        self, info: Info, input: AnnotationCommentInput
    ) -> SharedAnnotationPayload:
        return _payload(await comments.create_comment(info.context, input.fields()))
