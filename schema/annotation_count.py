"""Annotation counts in the graph: the per-slice index and the user-annotation counts
(contract images-annotations.md §3.4 "Counts", §3.12)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.annotation import count as counts
from resolvers.image import slice_instances_by_id
from resolvers.user import users_by_id
from schema.common import Info, Long
from schema.user import User

if TYPE_CHECKING:
    from schema.image import SliceInstance

__all__ = ["AnnotationCountQuery", "AnnotationIndex"]


@strawberry.type(description="One user's layer on one slice: the annotations they drew there "
                 "and the reviewed annotations they made there.")  # fmt: skip
class AnnotationIndex:
    user_id: Long
    slice_id: Long
    count_annotation: int = strawberry.field(
        description="The user annotations the user created on the slice."
    )
    count_reviewed_annotation: int = strawberry.field(
        description="The reviewed annotations on the slice whose reviewer is the user."
    )

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.user_id)

    @strawberry.field(
        graphql_type=Annotated["SliceInstance", strawberry.lazy("schema.image")] | None
    )
    @staticmethod
    async def slice(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(slice_instances_by_id).load(parent.slice_id)


@strawberry.type
class AnnotationCountQuery:
    @strawberry.field(
        graphql_type=list[AnnotationIndex],
        description="Per user, the annotations drawn and reviewed on a slice.",
    )
    async def annotation_index(self, info: Info, slice_id: Long) -> Any:
        return await counts.list_annotation_index(info.context, slice_id)

    @strawberry.field(
        description="The annotations a user drew, everywhere or in one project: your own, or "
        "your project members' when you manage the project."
    )
    async def user_annotation_count(
        self, info: Info, user_id: Long, project_id: Long | None = None
    ) -> int:
        return await counts.count_user_annotations(info.context, user_id, project_id)

    @strawberry.field(
        description="The user annotations of a project, created between startDate and endDate "
        "(both included) when given."
    )
    async def project_annotation_count(
        self,
        info: Info,
        project_id: Long,
        start_date: Annotated[
            datetime | None,
            strawberry.argument(
                description="Count only those created at or after this moment (to the "
                "millisecond); absent: no lower bound."
            ),
        ] = None,
        end_date: Annotated[
            datetime | None,
            strawberry.argument(
                description="Count only those created at or before this moment (to the "
                "millisecond); absent: no upper bound."
            ),
        ] = None,
    ) -> int:
        return await counts.count_project_annotations(
            info.context, project_id, start=start_date, end=end_date
        )
