"""Included annotations: the annotations of one image that a region, or another annotation,
takes in (contract images-annotations.md §3.7).

"Included" means **intersects** by default, as in Cytomine: every annotation sharing at least
a point with the region, the one a viewer's selection tool picks. `CONTAINED` asks for the
annotations lying wholly inside the region instead (its boundary included: PostGIS
`ST_CoveredBy`), what an export of a drawn area wants. Both use the GiST index.

The rest is the listing (resolvers/annotation/listing.py): the same scope check, filters,
optional columns and order, narrowed by the region, on the user layer or (Cytomine's `user=0`)
the reviewed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import func, select

from db.engine import Connection
from db.models import Project, Term
from resolvers.annotation.listing import (
    REVIEWED_LAYER,
    USER_LAYER,
    AnnotationSearch,
    annotation_select,
)
from resolvers.context import Context
from resolvers.errors import InvalidInput
from resolvers.geometry import parse
from resolvers.image import get_image_instance
from resolvers.listing import Page, fetch_page
from resolvers.review import get_any_annotation

__all__ = [
    "NO_REVIEWED_LISTING",
    "IncludedSearch",
    "Relation",
    "list_included",
    "ontology_term_ids",
]

NO_REVIEWED_LISTING = (
    "user 0 names the reviewed layer, not a user: ask for the reviewed layer's included "
    "annotations (REST: user=0 alone; GraphQL: includedReviewedAnnotations)"
)


class Relation(Enum):
    """How an annotation must lie against the region to be included."""

    INTERSECTS = "intersects"
    CONTAINED = "contained"


@dataclass(frozen=True, slots=True)
class IncludedSearch:
    """What to include (§3.7): the region is `geometry`, else `annotation`'s geometry (that
    annotation left out either way); `users` None for every user, `[0]` for the reviewed layer;
    `terms` None for every term of the project's ontology; the region's annotation may be of
    either kind."""

    image: int
    geometry: str | None = None
    annotation: int | None = None
    users: Sequence[int] | None = None
    terms: Sequence[int] | None = None
    no_term: bool = False
    relation: Relation = Relation.INTERSECTS


async def ontology_term_ids(conn: Connection, project_id: int) -> list[int] | None:
    """The terms of the project's ontology; None when it has no ontology or no term (then
    there is nothing to filter on)."""
    stmt = (
        select(Term.id)
        .join(Project, Project.ontology_id == Term.ontology_id)
        .where(Project.id == project_id)
        .order_by(Term.id)
    )
    found = list((await conn.execute(stmt)).scalars())
    return found or None


async def list_included(
    ctx: Context,
    search: IncludedSearch,
    *,
    wanted: Iterable[str] = (),
    limit: int | None = None,
    offset: int = 0,
    reviewed: bool = False,
) -> Page[Any]:
    """A page of the image's annotations the region includes, newest first, with the `wanted`
    listing extras. Termless annotations are left out unless `terms` is given (with `noTerm`
    to keep them), as Cytomine does.

    Args:
        reviewed: read the reviewed layer (Cytomine's `user=0`); `users` then does not apply.
    """
    ctx.require_viewer()
    if search.geometry is None and search.annotation is None:
        raise InvalidInput("Give the region: a geometry (WKT) or an annotation id")
    if not reviewed and search.users is not None and 0 in search.users:
        raise InvalidInput(NO_REVIEWED_LISTING)
    layer = REVIEWED_LAYER if reviewed else USER_LAYER
    image = await get_image_instance(ctx, search.image)
    if search.geometry is not None:
        shape = parse(search.geometry)
    else:
        assert search.annotation is not None
        shape = parse((await get_any_annotation(ctx, search.annotation)).row.wkt_location)
    region = from_shape(shape, srid=0)
    async with ctx.db.read() as conn:
        terms = search.terms
        if terms is None:
            terms = await ontology_term_ids(conn, image.project_id)
        query = AnnotationSearch(
            image=image.id, users=None if reviewed else search.users or None,
            terms=terms or None, no_term=search.no_term, excluded_annotation=search.annotation,
        )  # fmt: skip
        stmt = await annotation_select(ctx, conn, query, wanted=wanted, layer=layer)
        location = layer.table.c.location
        if search.relation is Relation.CONTAINED:
            stmt = stmt.where(func.ST_CoveredBy(location, region))
        else:
            stmt = stmt.where(func.ST_Intersects(location, region))
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)
