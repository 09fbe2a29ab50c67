"""REST routes of the listing with `kmeans=true` (contract images-annotations.md §3.6): beside
the plain listing routes, chosen by the flag, on the user layer or (`reviewed=true`) the
reviewed one. The answer is a list of clusters, or the plain listing's page when the mode
comes out plain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from resolvers.errors import InvalidInput
from rest_compat.annotation import annotation_groups, listed_annotation_json
from rest_compat.envelopes import Call, items, page
from rest_compat.review import listed_reviewed_json
from rest_compat.routes import Route, flag
from rest_compat.shapes import JSON

__all__ = ["ROUTES"]

#: Cytomine's `kmeansValue`: 3 plain, 2 hull clusters, 1 centroid clusters (the GraphQL
#: `ClusterMode` names).
KMEANS_VALUES: Final = {3: "PLAIN", 2: "HULLS", 1: "CENTROIDS"}

_listing = page(listed_annotation_json)
_reviewed_listing = page(listed_reviewed_json)


def _cluster_json(node: JSON) -> JSON:
    return {"id": node["id"], "location": node["location"], "term": node["term"],
            "count": node["count"], "ratio": node["ratio"]}  # fmt: skip


_clusters = items(_cluster_json)


def _answer(data: Any, call: Call) -> web.StreamResponse:
    clustering = next(iter(data.values()))
    if clustering["mode"] == "PLAIN" and "reviewedRows" in clustering:
        return _reviewed_listing({"rows": clustering["reviewedRows"]}, call)
    if clustering["mode"] == "PLAIN":
        return _listing({"rows": clustering["rows"]}, call)
    return _clusters({"clusters": clustering["clusters"]}, call)


def _derive(params: Mapping[str, Any]) -> dict[str, Any]:
    """The listing's groups and the mode `kmeansValue` forces (AUTO without it)."""
    return {**annotation_groups(params), "mode": _kmeans_mode(params.get("kmeansValue"))}


def _kmeans_mode(value: Any) -> str:
    """The mode Cytomine's `kmeansValue` forces (3, 2 or 1); AUTO when absent."""
    if value is None or value == "":
        return "AUTO"
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"kmeansValue must be 1, 2 or 3, not {value!r}") from None
    if number not in KMEANS_VALUES:
        raise InvalidInput(f"kmeansValue must be 1, 2 or 3, not {number}")
    return KMEANS_VALUES[number]


_RENAME: Final = {"userForTerm": "usersForTerm", "reviewusers": "reviewUsers"}


def _user_layer_kmeans(query: Mapping[str, str]) -> bool:
    return flag("kmeans")(query) and not flag("reviewed")(query)


def _reviewed_kmeans(query: Mapping[str, str]) -> bool:
    return flag("kmeans")(query) and flag("reviewed")(query)


ROUTES: Final = tuple(
    Route(method, path, operation, _answer, body=None if path.endswith("annotation.json") else "*",
          when=when, rename=_RENAME, derive=_derive)
    for operation, when in (("AnnotationListingClusters", _user_layer_kmeans),
                            ("ReviewedAnnotationListingClusters", _reviewed_kmeans))
    for method, path in (("GET", "/api/annotation.json"), ("GET", "/api/annotation/search.json"),
                         ("POST", "/api/annotation/search.json"))
)  # fmt: skip
