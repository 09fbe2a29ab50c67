"""The annotation listings run a number of SQL statements that does not grow with the number
of annotations: 5 and 60 annotations (with terms, on two images) cost the same."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.annotation.listing import _kept_page
from tests.factories import abstract_image, add_image
from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request

NESTED = """
query($project: Long!) {
  annotations(filter: {project: $project}) {
    totalCount
    nodes {
      id location termIds cropUrl
      terms { term { name } user { username } }
      tracks { trackId }
      slice { rank } image { instanceFilename } project { name } user { username }
    }
  }
}
"""
ROWS = """
query($project: Long!) {
  annotationRows(filter: {project: $project}) {
    totalCount nodes { id location termIds userByTerm trackIds creator channel instanceFilename }
  }
}
"""
FLAGS = "showMeta=true&showWKT=true&showTerm=true&showTrack=true&showUser=true&showImage=true"


def add_annotations(api: Api, scene: dict[str, Any], images: list[int], n: int) -> None:
    terms = [scene["terms"]["Stroma"], scene["terms"]["Tumour"]]
    body = [{"location": f"POINT ({i} {i})", "image": images[i % len(images)],
             "term": [terms[i % 2]]} for i in range(n)]  # fmt: skip
    response = api.post("/api/annotation.json", json=body)
    assert response.status_code == 200, response.text


def count(server: Server, api: Api, project: int, expected: int) -> tuple[int, int, int]:
    counts = []
    for query in (NESTED, ROWS):
        with server.count_statements() as counter:
            answer = api.gql(query, {"project": project})
        assert "errors" not in answer, answer
        [listing] = answer["data"].values()
        assert listing["totalCount"] == expected
        counts.append(counter.n)
    with server.count_statements() as counter:
        response = api.get(f"/api/annotation.json?project={project}&{FLAGS}")
    assert response.status_code == 200, response.text
    assert response.json()["size"] == expected
    rows = response.json()["collection"]
    assert all(row["term"] and row["user"] for row in rows), rows[0]
    counts.append(counter.n)
    return counts[0], counts[1], counts[2]


def test_listings_cost_the_same_for_5_and_60_annotations(server, api, scene):
    second = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    images = [scene["image"]["id"], second["id"]]
    add_annotations(api, scene, images, 5)
    small = count(server, api, scene["project"]["id"], 5)
    add_annotations(api, scene, images, 55)
    assert count(server, api, scene["project"]["id"], 60) == small


def test_a_listing_by_image_or_slice_costs_what_one_by_project_does(server, api, scene,
                                                                     make_user):  # fmt: skip
    """The image (or slice) is read with its project and the caller's access to it, in one
    statement: naming an image adds no round trip to naming the project."""
    member = make_user()
    api.post(f"/api/project/{scene['project']['id']}/user/{member['id']}.json")
    add_annotations(api, scene, [scene["image"]["id"]], 3)
    places = (f"project={scene['project']['id']}", f"image={scene['image']['id']}",
              f"slice={scene['slices'][0]}")  # fmt: skip
    for caller in (api, member["api"]):
        counts = []
        for place in places:
            with server.count_statements() as counter:
                response = caller.get(f"/api/annotation.json?{place}&showTerm=true")
            assert response.status_code == 200, response.text
            if not place.startswith("slice"):  # the slice named may hold none of them
                assert response.json()["size"] == 3, place
            counts.append(counter.n)
        assert counts[1] == counts[2] == counts[0], counts


def test_a_whole_layer_page_is_built_once_and_answers_as_a_narrowed_one(server, api, scene):
    """An image's or project's whole layer (the commonest listing) runs a page SELECT built
    once per shape, the scope, offset and size bound: its pages, totals included, are those
    of the same listing narrowed by a filter that keeps every row (built for each request)."""
    add_annotations(api, scene, [scene["image"]["id"]], 7)
    me = api.get("/api/user/current.json").json()["id"]
    _kept_page.cache_clear()
    for place in (f"image={scene['image']['id']}", f"project={scene['project']['id']}"):
        for offset in (0, 2, 6, 9):
            path = f"/api/annotation.json?{place}&max=2&offset={offset}&showTerm=true"
            whole, narrowed = api.get(path).json(), api.get(f"{path}&users={me}").json()
            assert whole["size"] == narrowed["size"] == 7
            assert whole["collection"] == narrowed["collection"], (place, offset)
    built = _kept_page.cache_info()
    assert (built.misses, built.hits) == (2, 6), built  # one shape per scope column
