"""Edges of the rewritten review statistics (resolvers/review.review_stats): read from the
annotation index and the reviewed copies instead of the image's annotations."""

from __future__ import annotations

from typing import Any

from tests.factories import abstract_image, add_image
from tests.harness import Api


def _stats(api: Api, image: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/imageinstance/{image}/reviewedannotation/stats.json")
    assert response.status_code == 200, response.text
    return response.json()["collection"]  # type: ignore[no-any-return]


def test_stats_count_an_original_moved_after_its_review_where_it_lies(api, reviewing):
    """An annotation reviewed, then moved to another image, has a reviewed copy still (left
    on the first image): the image it lies on counts it reviewed, as its counter says."""
    contributor = reviewing["contributor"]
    first, moved, _ = reviewing["annotations"]
    reviewer = reviewing["reviewer"]["api"]
    for original in (first, moved):
        accepted = reviewer.post(f"/api/annotation/{original['id']}/review.json")
        assert accepted.status_code == 200, accepted.text
    other = add_image(api, reviewing["project"]["id"],
                      abstract_image(api, width=1000, height=800)["id"])  # fmt: skip
    body = {"location": moved["location"], "image": other["id"]}
    shifted = contributor["api"].put(f"/api/annotation/{moved['id']}.json", json=body)
    assert shifted.status_code == 200, shifted.text
    assert _stats(api, reviewing["image"]["id"]) == [
        {"user": contributor["id"], "all": 2, "reviewed": 1}]  # fmt: skip
    assert _stats(api, other["id"]) == [{"user": contributor["id"], "all": 1, "reviewed": 1}]
    graphql = api.gql(
        "query($id: Long!) { reviewedAnnotationStats(imageId: $id) { all reviewed } }",
        {"id": other["id"]},
    )
    assert graphql["data"] == {"reviewedAnnotationStats": [{"all": 1, "reviewed": 1}]}, graphql


def test_stats_of_an_image_without_annotations_and_after_deletions(api, reviewing):
    """No annotation: no row (an index row emptied by deletions is not a creator's row); an
    original deleted after its review is counted nowhere, its copy staying."""
    contributor = reviewing["contributor"]
    first, second, third = reviewing["annotations"]
    reviewer = reviewing["reviewer"]["api"]
    assert reviewer.post(f"/api/annotation/{first['id']}/review.json").status_code == 200
    for gone in (first, third):
        assert contributor["api"].delete(f"/api/annotation/{gone['id']}.json").ok
    assert _stats(api, reviewing["image"]["id"]) == [
        {"user": contributor["id"], "all": 1, "reviewed": 0}]  # fmt: skip
    assert contributor["api"].delete(f"/api/annotation/{second['id']}.json").ok
    assert _stats(api, reviewing["image"]["id"]) == []
    empty = add_image(api, reviewing["project"]["id"], abstract_image(api)["id"])
    assert _stats(api, empty["id"]) == []
