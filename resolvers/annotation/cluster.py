"""k-means overviews of dense annotation layers (contract images-annotations.md §3.6,
"k-means").

A viewer zoomed out on a slice with many annotations asks for a handful of clusters instead of
every geometry. The annotations are those of the listing of either layer (user or reviewed;
resolvers/annotation/listing.py: same scope check, same filters); PostGIS `ST_ClusterKMeans`
splits them into five clusters, and each cluster is answered as the convex hull of its members
(HULLS) or their centroid (CENTROIDS). AUTO decides between the plain listing and hulls from
how much of the image the box shows and how many annotations the annotation index counts on
those slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

import shapely
from sqlalchemy import Integer, cast, func, select

from db.engine import Connection
from db.models import AnnotationIndex, SliceInstance
from resolvers.annotation.listing import (
    REVIEWED_LAYER,
    USER_LAYER,
    AnnotationSearch,
    Layer,
    annotation_select,
    parse_bbox,
)
from resolvers.context import Context
from resolvers.errors import InvalidInput
from resolvers.geometry import to_wkt
from resolvers.image import image_instances_by_id

__all__ = [
    "CLUSTERS",
    "Cluster",
    "ClusterMode",
    "Clustering",
    "auto_mode",
    "cluster_annotations",
]

#: How many clusters the matching annotations are split into.
CLUSTERS: Final = 5
#: Partial hulls per cluster (by annotation id), merged into its hull (`_clusters`).
HULL_PARTS: Final = 256


class ClusterMode(Enum):
    """How a layer is shown: decided (AUTO), every annotation (PLAIN), or clusters."""

    AUTO = "auto"
    PLAIN = "plain"
    HULLS = "hulls"
    CENTROIDS = "centroids"


#: Per share of the image width the box shows (in quarters, 100 = all of it), the number of
#: annotations from which hulls replace the plain listing; below 50 it never does.
HULLS_FROM: Final = {100: 2_000, 75: 10_000, 50: 100_000}


@dataclass(frozen=True, slots=True)
class Cluster:
    """One cluster: its index, hull or centroid (WKT), members, and members / largest's."""

    id: int
    location: str
    count: int
    ratio: float


@dataclass(frozen=True, slots=True)
class Clustering:
    """The mode used (never AUTO), the clusters (none in PLAIN mode) and the listing they
    come from (`query` on `layer`)."""

    mode: ClusterMode
    clusters: list[Cluster]
    query: AnnotationSearch
    layer: Layer = USER_LAYER


def _slices(query: AnnotationSearch) -> list[int]:
    return [*(query.slices or ()), *(() if query.slice is None else (query.slice,))]


async def auto_mode(
    ctx: Context, conn: Connection, query: AnnotationSearch, layer: Layer = USER_LAYER
) -> ClusterMode:
    """PLAIN or HULLS from the box's share of the image width and the number of annotations
    on the slices, from the annotation index: the annotations of `users` on the user layer;
    without users, and on the reviewed layer (of `reviewUsers` when given), the reviewed
    ones, as Cytomine counts them (§3.6)."""
    if not query.bbox:
        raise InvalidInput("kmeans without kmeansValue needs the bbox shown")
    slices = _slices(query)
    if not slices:
        raise InvalidInput("kmeans without kmeansValue needs the slice or slices shown")
    found = await conn.execute(select(SliceInstance.image_id).where(SliceInstance.id.in_(slices)))
    images = set(found.scalars())
    if len(images) != 1:
        raise InvalidInput("kmeans without kmeansValue needs slices of one image")
    image = await ctx.loader(image_instances_by_id).load(images.pop())
    if image is None or not image.width:
        return ClusterMode.PLAIN
    box = parse_bbox(query.bbox)
    box_width = float(
        (await conn.execute(select(func.ST_XMax(box) - func.ST_XMin(box)))).scalar_one()
    )
    quarters = 4 * box_width / image.width  # how many quarter-widths the viewport spans
    bucket = 100 if not math.isfinite(quarters) or quarters >= 4 else math.floor(quarters) * 25
    reviewed = layer is REVIEWED_LAYER
    users = query.review_users if reviewed else query.users
    # Cytomine counts a user layer by its users' annotations, and every other case (the
    # reviewed layer, or no user named) by the reviewed ones (§3.6)
    count = (
        AnnotationIndex.count_annotation
        if users and not reviewed
        else AnnotationIndex.count_reviewed_annotation
    )
    counted = select(func.coalesce(func.sum(count), 0)).where(AnnotationIndex.slice_id.in_(slices))
    if users:
        counted = counted.where(AnnotationIndex.user_id.in_(users))
    total = int((await conn.execute(counted)).scalar_one())
    threshold = HULLS_FROM.get(bucket)
    return ClusterMode.HULLS if threshold is not None and total >= threshold else ClusterMode.PLAIN


async def _clusters(
    conn: Connection, listing: Any, layer: Layer, mode: ClusterMode
) -> list[Cluster]:
    """Split the listing's annotations into (at most) CLUSTERS clusters, in SQL.

    The listing is read once (a materialised CTE gives both the members and their count);
    k-means runs on the members' centroids, the distance PostGIS uses for 2D shapes anyway,
    so the window carries points, not shapes. A hull is the hull of `HULL_PARTS` partial
    hulls: the same shape, but GEOS collects and hulls 200 000 polygons in one go five times
    slower than in slices (5.9 s against 1.3 s for the hulls of a 200 000-annotation
    overview)."""
    t = layer.table
    members = (
        listing.with_only_columns(t.c.id.label("id"), t.c.location.label("geom"))
        .order_by(None)
        .cte("members")
        .prefix_with("MATERIALIZED")
    )
    size = select(func.count()).select_from(members).scalar_subquery()
    k = cast(func.least(CLUSTERS, size), Integer)  # fewer annotations: one cluster each
    cid = func.ST_ClusterKMeans(func.ST_Centroid(members.c.geom), k).over().label("cid")
    labelled = select(members.c.id, members.c.geom, cid).subquery()
    if mode is ClusterMode.HULLS:
        parts = (
            select(
                labelled.c.cid,
                func.count().label("n"),
                func.ST_ConvexHull(func.ST_Collect(labelled.c.geom)).label("geom"),
            )
            .group_by(labelled.c.cid, labelled.c.id % HULL_PARTS)
            .subquery()
        )
        grouped = parts
        count: Any = func.sum(parts.c.n)
        shape = func.ST_ConvexHull(func.ST_Collect(parts.c.geom))
    else:
        count, shape = func.count(), func.ST_Centroid(func.ST_Collect(labelled.c.geom))
        grouped = labelled
    stmt = (
        select(grouped.c.cid, count.label("n"), func.ST_AsBinary(shape).label("wkb"))
        .group_by(grouped.c.cid)
        .order_by(grouped.c.cid)
    )
    rows = (await conn.execute(stmt)).all()
    largest = max((row.n for row in rows), default=0)
    return [
        Cluster(int(row.cid), to_wkt(shapely.from_wkb(bytes(row.wkb))), int(row.n),
                row.n / largest)
        for row in rows
    ]  # fmt: skip


async def cluster_annotations(
    ctx: Context,
    query: AnnotationSearch,
    mode: ClusterMode = ClusterMode.AUTO,
    layer: Layer = USER_LAYER,
) -> Clustering:
    """The clusters of the listing `query` of `layer` in `mode` (AUTO decides first); PLAIN
    computes none and leaves the listing to its caller."""
    ctx.require_viewer()
    async with ctx.db.read() as conn:
        listing = await annotation_select(ctx, conn, query, layer=layer)
        if mode is ClusterMode.AUTO:
            mode = await auto_mode(ctx, conn, query, layer)
        if mode is ClusterMode.PLAIN:
            return Clustering(mode, [], query, layer)
        return Clustering(mode, await _clusters(conn, listing, layer, mode), query, layer)
