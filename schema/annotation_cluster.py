"""k-means overviews of annotation layers in the graph (contract images-annotations.md §3.6);
the rules live in resolvers/annotation_cluster.py.

A separate field rather than a flag on the listing: its items are clusters, not annotations.
When the mode comes out PLAIN, `rows` is the listing itself, so a viewer asks once.
"""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.annotation_cluster import (
    Cluster,
    ClusterMode,
    cluster_annotations,
)
from resolvers.annotation_listing import AnnotationSearch, list_annotations
from schema.annotation import AnnotationFilter, AnnotationRow, AnnotationRowConnection
from schema.common import Info, Long, connection, selected

__all__ = ["AnnotationClusterQuery"]

ClusterModeType = strawberry.enum(
    ClusterMode,
    name="ClusterMode",
    description="AUTO: PLAIN or HULLS, from the box's share of the image width and the number "
    "of annotations on the slices (needs bbox and the slices of one image). PLAIN: every "
    "annotation. HULLS / CENTROIDS: five k-means clusters, each as the convex hull / centroid "
    "of its members.",
)


@strawberry.type(description="A k-means cluster of annotations.")
class AnnotationCluster:
    id: int = strawberry.field(description="The cluster's index, from 0.")
    location: str = strawberry.field(description="Its hull or centroid, WKT.")
    count: int = strawberry.field(description="Its annotations.")
    ratio: float = strawberry.field(description="count / the largest cluster's count.")

    @strawberry.field(description="Always empty: a cluster carries no term (Cytomine's field).")
    def term_ids(self) -> list[Long]:
        return []


@strawberry.type(description="A layer as clusters, or (mode PLAIN) as its listing.")
class AnnotationClustering:
    mode: ClusterMode = strawberry.field(description="The mode used: never AUTO.")
    clusters: list[AnnotationCluster] = strawberry.field(description="None in mode PLAIN.")
    query: strawberry.Private[AnnotationSearch]

    @strawberry.field(description="The listing's rows in mode PLAIN, else null.")
    async def rows(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> AnnotationRowConnection | None:
        if self.mode is not ClusterMode.PLAIN:
            return None
        wanted = selected(info, AnnotationRow, "nodes")
        page = await list_annotations(info.context, self.query, wanted=wanted, limit=first,
                                      offset=offset)  # fmt: skip
        return connection(page)


def _cluster(found: Cluster) -> AnnotationCluster:
    return AnnotationCluster(id=found.id, location=found.location, count=found.count,
                             ratio=found.ratio)  # fmt: skip


@strawberry.type
class AnnotationClusterQuery:
    @strawberry.field(
        description="The annotations of a listing split into k-means clusters, or the plain "
        "listing when the mode (decided by AUTO, or forced) is PLAIN."
    )
    async def annotation_clusters(
        self, info: Info, filter: AnnotationFilter, mode: ClusterMode = ClusterMode.AUTO
    ) -> AnnotationClustering:
        found = await cluster_annotations(info.context, filter.query(), mode)
        clusters: Any = [_cluster(item) for item in found.clusters]
        return AnnotationClustering(mode=found.mode, clusters=clusters, query=found.query)
