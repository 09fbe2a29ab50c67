"""k-means overviews of annotation layers in the graph (contract images-annotations.md §3.6);
the rules live in resolvers/annotation/cluster.py.

A separate field rather than a flag on the listing: its items are clusters, not annotations.
When the mode comes out PLAIN, `rows` is the listing itself, so a viewer asks once.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from resolvers.annotation.cluster import Clustering, ClusterMode, cluster_annotations
from resolvers.annotation.listing import REVIEWED_LAYER, USER_LAYER, Layer, list_annotations
from schema.annotation import AnnotationFilter, AnnotationRow, AnnotationRowConnection
from schema.common import Connection, Info, Long, connection, described_enum, selected
from schema.review import (
    ReviewedAnnotationFilter,
    ReviewedAnnotationRow,
    ReviewedAnnotationRowConnection,
)

__all__ = ["AnnotationClusterQuery"]

ClusterModeType = described_enum(
    ClusterMode,
    name="ClusterMode",
    description="How a layer of annotations is shown: every annotation, or k-means clusters.",
    values={
        ClusterMode.AUTO: "PLAIN or HULLS, chosen from the box's share of the image width and "
        "the number of annotations on the slices (needs bbox and the slices of one image).",
        ClusterMode.PLAIN: "Every annotation, as the listing gives them; no clusters.",
        ClusterMode.HULLS: "At most five k-means clusters, each the convex hull of its members.",
        ClusterMode.CENTROIDS: "At most five k-means clusters, each the centroid of its members.",
    },
)

_MODE = "How to show the annotations (default: AUTO decides between PLAIN and HULLS)."


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
    found: strawberry.Private[Clustering]

    async def _rows(
        self, info: Info, layer: Layer, row: type, first: int | None, offset: int
    ) -> Connection[Any] | None:
        """The listing's page on `layer` when the clustering is plain and of that layer."""
        if self.mode is not ClusterMode.PLAIN or self.found.layer is not layer:
            return None
        wanted = selected(info, row, "nodes")
        page = await list_annotations(info.context, self.found.query, wanted=wanted, limit=first,
                                      offset=offset, layer=layer)  # fmt: skip
        return connection(page)

    @strawberry.field(description="The user layer's rows in mode PLAIN, else null.")
    async def rows(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> AnnotationRowConnection | None:
        return await self._rows(info, USER_LAYER, AnnotationRow, first, offset)

    @strawberry.field(description="The reviewed layer's rows in mode PLAIN, else null.")
    async def reviewed_rows(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> ReviewedAnnotationRowConnection | None:
        return await self._rows(info, REVIEWED_LAYER, ReviewedAnnotationRow, first, offset)


def _clustering(found: Clustering) -> AnnotationClustering:
    clusters: Any = [
        AnnotationCluster(id=c.id, location=c.location, count=c.count, ratio=c.ratio)
        for c in found.clusters
    ]
    return AnnotationClustering(mode=found.mode, clusters=clusters, found=found)


@strawberry.type
class AnnotationClusterQuery:
    @strawberry.field(
        description="The annotations of a listing split into k-means clusters, or the plain "
        "listing when the mode (decided by AUTO, or forced) is PLAIN."
    )
    async def annotation_clusters(
        self,
        info: Info,
        filter: AnnotationFilter,
        mode: Annotated[ClusterMode, strawberry.argument(description=_MODE)] = ClusterMode.AUTO,
    ) -> AnnotationClustering:
        return _clustering(await cluster_annotations(info.context, filter.query(), mode))

    @strawberry.field(
        description="The reviewed annotations of a listing split into k-means clusters, or "
        "the plain listing (reviewedRows) when the mode is PLAIN."
    )
    async def reviewed_annotation_clusters(
        self,
        info: Info,
        filter: ReviewedAnnotationFilter,
        mode: Annotated[ClusterMode, strawberry.argument(description=_MODE)] = ClusterMode.AUTO,
    ) -> AnnotationClustering:
        found = await cluster_annotations(info.context, filter.query(), mode, REVIEWED_LAYER)
        return _clustering(found)
