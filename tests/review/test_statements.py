"""The reviewed listings run a number of SQL statements that does not grow with the number of
reviewed annotations: 4 and 40, on two images, cost the same."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image
from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request

NESTED = """
query($project: Long!) {
  reviewedAnnotations(filter: {project: $project}) {
    totalCount
    nodes {
      id location termIds cropUrl reviewed
      terms { name } parent { id reviewed } user { username } reviewUser { username }
      slice { rank } image { instanceFilename } project { name }
    }
  }
}
"""
ROWS = """
query($project: Long!) {
  reviewedAnnotationRows(filter: {project: $project}) {
    totalCount nodes { id location termIds userByTerm creator channel instanceFilename }
  }
}
"""
FLAGS = "showWKT=true&showTerm=true&showUser=true&showImage=true&showSlice=true&showGIS=true"


def accept_more(api: Api, scene: dict[str, Any], images: list[int], n: int) -> None:
    """Draw n annotations over the images, then accept every layer of both images."""
    body = [
        {
            "location": f"POINT ({i} {i})",
            "image": images[i % len(images)],
            "term": [scene["terms"]["Tumour" if i % 2 else "Stroma"]],
        }
        for i in range(n)
    ]
    assert api.post("/api/annotation.json", json=body).status_code == 200
    me = api.get("/api/user/current.json").json()["id"]
    for image in images:
        accepted = api.post(
            f"/api/imageinstance/{image}/annotation/review.json", params={"users": me}
        )
        assert accepted.status_code == 200, accepted.text


def count(server: Server, api: Api, project: int, expected: int) -> list[int]:
    counts = []
    for query in (NESTED, ROWS):
        with server.count_statements() as counter:
            answer = api.gql(query, {"project": project})
        assert "errors" not in answer, answer
        [listing] = answer["data"].values()
        assert listing["totalCount"] == expected
        assert all(node["termIds"] for node in listing["nodes"])
        counts.append(counter.n)
    for path in (
        f"/api/annotation.json?reviewed=true&project={project}&{FLAGS}",
        f"/api/reviewedannotation.json?{FLAGS}",
    ):
        with server.count_statements() as counter:
            response = api.get(path)
        assert response.status_code == 200, response.text
        assert response.json()["size"] == expected
        counts.append(counter.n)
    return counts


def test_reviewed_listings_cost_the_same_for_4_and_40_annotations(server, api, scene):
    second = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    images = [scene["image"]["id"], second["id"]]
    for image in images:
        assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    accept_more(api, scene, images, 4)
    small = count(server, api, scene["project"]["id"], 4)
    accept_more(api, scene, images, 36)
    assert count(server, api, scene["project"]["id"], 40) == small
