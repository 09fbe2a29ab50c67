"""Included annotations in the graph (contract images-annotations.md §3.7); the rules live in
resolvers/annotation/included.py."""

from __future__ import annotations

import strawberry

from resolvers.annotation.included import IncludedSearch, Relation, list_included
from schema.annotation import AnnotationRow, AnnotationRowConnection
from schema.common import Info, Long, connection, selected
from schema.review import ReviewedAnnotationRow, ReviewedAnnotationRowConnection

__all__ = ["AnnotationIncludedQuery"]

RelationType = strawberry.enum(
    Relation,
    name="IncludedRelation",
    description="How an annotation lies against the region: INTERSECTS (shares a point with "
    "it, Cytomine's meaning of included) or CONTAINED (wholly inside it, boundary included).",
)


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
        geometry: str | None = None,
        annotation: Long | None = None,
        user: Long | None = None,
        users: list[Long] | None = None,
        terms: list[Long] | None = None,
        no_term: bool = False,
        relation: Relation = Relation.INTERSECTS,
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
        geometry: str | None = None,
        annotation: Long | None = None,
        terms: list[Long] | None = None,
        no_term: bool = False,
        relation: Relation = Relation.INTERSECTS,
        first: int | None = None,
        offset: int = 0,
    ) -> ReviewedAnnotationRowConnection:
        search = IncludedSearch(image=image, geometry=geometry, annotation=annotation,
                                terms=terms, no_term=no_term, relation=relation)  # fmt: skip
        wanted = selected(info, ReviewedAnnotationRow, "nodes")
        page = await list_included(info.context, search, wanted=wanted, limit=first,
                                   offset=offset, reviewed=True)  # fmt: skip
        return connection(page)
