"""k-means overviews of the listing (contract images-annotations.md §3.6, "k-means"): forced
modes, the AUTO table, the GraphQL field, bad input."""

from __future__ import annotations

from typing import Any

import pytest
import shapely

from tests.factories import abstract_image, add_image
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

#: Five tight groups of four points, one around each centre.
CENTRES = ((100, 100), (300, 600), (500, 200), (800, 700), (900, 100))
MANY = """
mutation($inputs: [AnnotationInput!]!) { annotationCreateMany(inputs: $inputs) { command { id } } }
"""
CLUSTERS = """
query($filter: AnnotationFilter!, $mode: ClusterMode!) {
  annotationClusters(filter: $filter, mode: $mode) {
    mode clusters { id location count ratio termIds } rows { totalCount }
  }
}
"""


def corners(x: int, y: int) -> list[str]:
    return [f"POINT ({x + dx} {y + dy})" for dx in (-5, 5) for dy in (-5, 5)]


@pytest.fixture
def groups(api: Api, scene: dict[str, Any]) -> dict[str, Any]:
    inputs = [{"location": point, "image": scene["image"]["id"]}
              for x, y in CENTRES for point in corners(x, y)]  # fmt: skip
    answer = api.gql(MANY, {"inputs": inputs})
    assert "errors" not in answer, answer
    return scene


def listing(api: Api, **params: Any) -> Any:
    return api.get("/api/annotation.json", params={"kmeans": "true", **params})


def test_forced_hull_and_centroid_clusters(api, groups):
    image = groups["image"]["id"]
    hulls = listing(api, image=image, kmeansValue=2)
    assert hulls.status_code == 200, hulls.text
    body = hulls.json()
    assert body["size"] == 5
    items = body["collection"]
    assert [item["id"] for item in items] == [0, 1, 2, 3, 4]
    assert all(item["count"] == 4 and item["ratio"] == 1.0 and item["term"] == []
               for item in items)  # fmt: skip
    expected = [shapely.box(x - 5, y - 5, x + 5, y + 5) for x, y in CENTRES]
    found = [shapely.from_wkt(item["location"]) for item in items]
    assert all(any(shape.equals(box) for shape in found) for box in expected)
    centroids = listing(api, image=image, kmeansValue=1).json()["collection"]
    assert sorted(item["location"] for item in centroids) == sorted(
        f"POINT ({x} {y})" for x, y in CENTRES)  # fmt: skip
    plain = listing(api, image=image, kmeansValue=3, showWKT="true").json()
    assert plain["size"] == 20 and plain["collection"][0]["location"].startswith("POINT")


def test_clusters_follow_the_listing_filters(api, groups):
    image = groups["image"]["id"]
    items = listing(api, image=image, kmeansValue=1, bbox="0,0,600,650").json()["collection"]
    assert len(items) == 5 and sum(item["count"] for item in items) == 12  # three groups
    boxes = [shapely.box(x - 5, y - 5, x + 5, y + 5) for x, y in CENTRES[:3]]
    for item in items:
        assert any(box.covers(shapely.from_wkt(item["location"])) for box in boxes), item
    few = listing(api, image=image, kmeansValue=2, bbox="90,90,96,96").json()["collection"]
    assert few == [{"id": 0, "location": "POINT (95 95)", "term": [], "count": 1, "ratio": 1.0}]
    assert listing(api, image=image, kmeansValue=2, bbox="0,0,1,1").json()["size"] == 0
    nothing_reviewed = listing(api, image=image, kmeansValue=2, reviewed="true")
    assert nothing_reviewed.json()["collection"] == []  # the reviewed layer: never user clusters
    posted = api.post("/api/annotation/search.json", params={"kmeans": "true"},
                      json={"image": image, "kmeansValue": 1})  # fmt: skip
    assert posted.status_code == 200, posted.text
    assert posted.json()["size"] == 5


REVIEWED_CLUSTERS = """
query($filter: ReviewedAnnotationFilter!, $mode: ClusterMode!) {
  reviewedAnnotationClusters(filter: $filter, mode: $mode) {
    mode clusters { count } rows { totalCount } reviewedRows { totalCount }
  }
}
"""


def test_the_reviewed_layer_clusters_its_own_annotations(api, groups):
    image = groups["image"]["id"]
    me = api.get("/api/user/current.json").json()["id"]
    assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    accepted = api.post(f"/api/imageinstance/{image}/annotation/review.json", params={"users": me})
    assert accepted.status_code == 200, accepted.text
    hulls = listing(api, image=image, kmeansValue=2, reviewed="true").json()["collection"]
    assert [(item["id"], item["count"]) for item in hulls] == [(i, 4) for i in range(5)]
    mine = listing(api, image=image, kmeansValue=2, reviewed="true", reviewusers=me).json()
    assert sum(item["count"] for item in mine["collection"]) == 20
    assert_error(listing(api, image=image, kmeansValue=2, reviewed="true", reviewusers=999999), 404)
    inside = listing(api, image=image, kmeansValue=1, reviewed="true", bbox="0,0,600,650")
    assert sum(item["count"] for item in inside.json()["collection"]) == 12
    plain = listing(api, image=image, kmeansValue=3, reviewed="true").json()
    assert plain["size"] == 20 and all("reviewUser" in item for item in plain["collection"])
    found = api.gql(REVIEWED_CLUSTERS, {"filter": {"image": image}, "mode": "CENTROIDS"})
    clustered = found["data"]["reviewedAnnotationClusters"]
    assert clustered["mode"] == "CENTROIDS" and clustered["reviewedRows"] is None
    assert sum(c["count"] for c in clustered["clusters"]) == 20
    found = api.gql(REVIEWED_CLUSTERS, {"filter": {"image": image}, "mode": "PLAIN"})
    listed = found["data"]["reviewedAnnotationClusters"]
    assert listed["rows"] is None and listed["reviewedRows"] == {"totalCount": 20}
    shown = {"image": image, "slice": groups["slices"][1], "bbox": "0,0,1000,800"}
    auto = api.gql(REVIEWED_CLUSTERS, {"filter": shown, "mode": "AUTO"})
    assert auto["data"]["reviewedAnnotationClusters"]["mode"] == "PLAIN"


def test_graphql_cluster_field(api, groups):
    image = groups["image"]["id"]
    hulls = api.gql(CLUSTERS, {"filter": {"image": image}, "mode": "HULLS"})
    found = hulls["data"]["annotationClusters"]
    assert found["mode"] == "HULLS" and found["rows"] is None
    assert sum(cluster["count"] for cluster in found["clusters"]) == 20
    assert all(cluster["termIds"] == [] for cluster in found["clusters"])
    plain = api.gql(CLUSTERS, {"filter": {"image": image}, "mode": "PLAIN"})
    assert plain["data"]["annotationClusters"]["clusters"] == []
    assert plain["data"]["annotationClusters"]["rows"] == {"totalCount": 20}
    auto = api.gql(CLUSTERS, {"filter": {"image": image, "slice": groups["slices"][1],
                                         "bbox": "0,0,1000,800"}, "mode": "AUTO"})  # fmt: skip
    assert auto["data"]["annotationClusters"]["mode"] == "PLAIN"  # 20 annotations: too few


def test_auto_mode_follows_the_table(api, scene, make_user):
    """2 000 annotations of a user on a slice: their layer in hulls when the box shows the
    whole width, plain from three quarters of it, and plain for a user with none there.
    Without a user, the reviewed annotations count (§3.6): none here, so plain."""
    image, piece = scene["image"]["id"], scene["slices"][1]
    for start in (0, 1000):
        inputs = [{"location": f"POINT ({(i % 100) * 10 + 1} {(i // 100) * 10 + 1})",
                   "slice": piece} for i in range(start, start + 1000)]  # fmt: skip
        assert "errors" not in api.gql(MANY, {"inputs": inputs})
    mine = api.get("/api/user/current.json").json()["id"]
    whole = listing(api, image=image, slice=piece, bbox="0,0,1000,800", user=mine)
    assert whole.status_code == 200, whole.text
    assert whole.json()["size"] == 5 and set(whole.json()["collection"][0]) == {
        "id", "location", "term", "count", "ratio"}  # fmt: skip
    assert sum(item["count"] for item in whole.json()["collection"]) == 2000
    three_quarters = listing(api, image=image, slice=piece, bbox="0,0,800,800", max=3,
                             user=mine).json()  # fmt: skip
    assert three_quarters["size"] == 1600 and len(three_quarters["collection"]) == 3
    assert "location" not in three_quarters["collection"][0]  # plain items, default groups
    everyone = listing(api, image=image, slice=piece, bbox="0,0,1000,800", max=3).json()
    assert everyone["size"] == 2000 and "location" not in everyone["collection"][0]
    other = make_user()
    api.post(f"/api/project/{scene['project']['id']}/user/{other['id']}.json")
    theirs = listing(api, image=image, slice=piece, bbox="0,0,1000,800", user=other["id"])
    assert theirs.json()["size"] == 0  # plain: their layer is empty
    huge = listing(api, image=image, slice=piece, bbox="0,0,1e308,1")  # wider than any image
    assert huge.status_code == 200, huge.text


def test_kmeans_bad_input_and_permissions(api, groups, make_user):
    image, piece = groups["image"]["id"], groups["slices"][1]
    for params in ({"image": image}, {"image": image, "bbox": "0,0,10,10"},
                   {"slice": piece}, {"image": image, "kmeansValue": 7},
                   {"image": image, "kmeansValue": "x"}, {"slice": piece, "bbox": "a,b,c"},
                   {"kmeansValue": 2}):  # fmt: skip
        assert_error(listing(api, **params), 400)
    second = add_image(api, groups["project"]["id"], abstract_image(api)["id"])
    elsewhere = api.get(f"/api/imageinstance/{second['id']}/sliceinstance.json").json()
    two_images = f"{piece},{elsewhere['collection'][0]['id']}"
    error = assert_error(listing(api, slices=two_images, bbox="0,0,1,1"), 400)
    assert "one image" in error["message"]
    stranger = make_user()
    assert_error(listing(stranger["api"], image=image, kmeansValue=2), 403)
    answer = stranger["api"].gql(CLUSTERS, {"filter": {"image": image}, "mode": "HULLS"})
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_search_body_chooses_the_route_as_the_query_would(api, groups):
    image = groups["image"]["id"]
    clustered = api.post("/api/annotation/search.json",
                         json={"image": image, "kmeans": True, "kmeansValue": 1})  # fmt: skip
    assert clustered.status_code == 200, clustered.text
    assert clustered.json()["size"] == 5 and "ratio" in clustered.json()["collection"][0]
    reviewed = api.post("/api/annotation/search.json",
                        json={"image": image, "reviewed": "true"})  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["size"] == 0  # nothing is reviewed yet: the reviewed layer answered
    plain = api.post("/api/annotation/search.json", json={"image": image})
    assert plain.json()["size"] == 20
