"""`annotations` on the types that hold annotations (images, slices, projects, users, terms,
tracks): one factory, one batched loader (resolvers/annotation/nested.py) behind every field.

The field resolves the parents of a list together (`BATCHED`, schema/executor.py): the list
executor calls `resolve_many` once for a list's items, and graphql-core calls `resolve` for a
single parent. The connection and filter types are referenced lazily: the user and image types
that carry the field are themselves imported by the annotation types' module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.annotation import nested
from schema.common import Connection, Info, asks_total, connection, reads_of, selected
from schema.executor import BATCHED

__all__ = ["annotations_field"]

if TYPE_CHECKING:
    from schema.annotation import AnnotationFilter, UserAnnotation

AnnotationFilterType = Annotated["AnnotationFilter", strawberry.lazy("schema.annotation")]
UserAnnotationType = Annotated["UserAnnotation", strawberry.lazy("schema.annotation")]


def annotations_field(parent: str, of: str) -> Any:
    """The paged `annotations` field of a type whose objects are `parent`s (`nested.PARENTS`),
    `of` completing its description."""

    async def resolve_many(
        roots: list[Any],
        info: Info,
        filter: AnnotationFilter | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> list[Connection[Any]]:
        from schema.annotation import UserAnnotation

        wanted = selected(info, UserAnnotation, "nodes")
        pages = await nested.annotations_of(
            info.context, parent, [root.id for root in roots],
            None if filter is None else filter.query(), wanted=wanted, limit=first,
            offset=offset, counted=asks_total(info), reads=reads_of(UserAnnotation, wanted),
        )  # fmt: skip
        return [connection(page) for page in pages]

    async def resolve(
        root: strawberry.Parent[Any],
        info: Info,
        filter: AnnotationFilterType | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> Connection[UserAnnotationType]:
        (found,) = await resolve_many([root], info, filter, first, offset)
        return found

    return strawberry.field(
        resolver=resolve,
        description=f"The annotations {of} that you may see, newest first, narrowed by "
        "`filter`: one statement for every parent of a query.",
        metadata={BATCHED: resolve_many},
    )
