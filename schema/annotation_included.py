"""Included annotations in the graph (contract images-annotations.md §3.7); the rules live in
resolvers/annotation/included.py."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.annotation.included import IncludedSearch, Relation, list_included
from schema.annotation import AnnotationRow, AnnotationRowConnection
from schema.common import Info, Long, connection, described_enum, selected
from schema.review import ReviewedAnnotationRow, ReviewedAnnotationRowConnection

__all__ = ["AnnotationIncludedQuery"]

RelationType = described_enum(
    Relation,
    name="IncludedRelation",
    description="How an annotation must lie against the region to be included.",
    values={
        Relation.INTERSECTS: "It shares at least a point with the region (Cytomine's meaning "
        "of included).",
        Relation.CONTAINED: "It lies wholly inside the region, its boundary included.",
    },
)

#: The arguments both fields share.
_GEOMETRY = (
    "The region, WKT in pixels (origin at the bottom-left corner); absent: the geometry of "
    "`annotation`."
)
_NO_TERM = "Also include the annotations without any term."
_RELATION = "How an annotation must lie against the region (default: it intersects it)."


@strawberry.type
class AnnotationIncludedQuery:
    @strawberry.field(
        description="The annotations of an image included in a region, newest first: the "
        "region is `geometry` (WKT, pixels, origin at the bottom-left corner) or else "
        "`annotation`'s geometry (that annotation left out). Included means INTERSECTS unless "
        "`relation` says CONTAINED. Without `terms` only annotations carrying a term of the "
        "project's ontology come back (`noTerm` keeps termless ones too). `user`/`users`: "
        "whose annotations (all when absent); 0 is refused here: the reviewed layer is "
        "includedReviewedAnnotations."
    )
    async def included_annotations(
        self,
        info: Info,
        image: Long,
        geometry: Annotated[str | None, strawberry.argument(description=_GEOMETRY)] = None,
        annotation: Long | None = None,
        user: Long | None = None,
        users: list[Long] | None = None,
        terms: list[Long] | None = None,
        no_term: Annotated[bool, strawberry.argument(description=_NO_TERM)] = False,
        relation: Annotated[
            Relation, strawberry.argument(description=_RELATION)
        ] = Relation.INTERSECTS,
        first: int | None = None,
        offset: int = 0,
    ) -> AnnotationRowConnection:
        creators = [*(users or ()), *(() if user is None else (user,))]
        search = IncludedSearch(
            image=image, geometry=geometry, annotation=annotation,
            users=creators if user is not None or users is not None else None, terms=terms,
            no_term=no_term, relation=relation,
        )  # fmt: skip
        wanted = selected(info, AnnotationRow, "nodes")
        page = await list_included(info.context, search, wanted=wanted, limit=first,
                                   offset=offset)  # fmt: skip
        return connection(page)

    @strawberry.field(
        description="The reviewed annotations of an image included in a region: as "
        "includedAnnotations, on the reviewed layer (Cytomine's user=0)."
    )
    async def included_reviewed_annotations(
        self,
        info: Info,
        image: Long,
        geometry: Annotated[str | None, strawberry.argument(description=_GEOMETRY)] = None,
        annotation: Long | None = None,
        terms: list[Long] | None = None,
        no_term: Annotated[bool, strawberry.argument(description=_NO_TERM)] = False,
        relation: Annotated[
            Relation, strawberry.argument(description=_RELATION)
        ] = Relation.INTERSECTS,
        first: int | None = None,
        offset: int = 0,
    ) -> ReviewedAnnotationRowConnection:
        search = IncludedSearch(image=image, geometry=geometry, annotation=annotation,
                                terms=terms, no_term=no_term, relation=relation)  # fmt: skip
        wanted = selected(info, ReviewedAnnotationRow, "nodes")
        page = await list_included(info.context, search, wanted=wanted, limit=first,
                                   offset=offset, reviewed=True)  # fmt: skip
        return connection(page)
