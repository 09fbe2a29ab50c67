"""The listing at scale keeps its answers: each row's own terms in `userByTerm`, pages that
tile the list whatever the route takes to build them (counters or a count, page first then
columns), and `offset` past the end."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_project
from tests.harness import Api

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def annotate(api: Api, image: int, location: str, terms: list[int]) -> dict[str, Any]:
    response = api.post("/api/annotation.json",
                        json={"location": location, "image": image, "term": terms})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["annotation"]  # type: ignore[no-any-return]


def test_user_by_term_lists_each_annotations_own_links(api, scene, make_user):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    image, project = scene["image"]["id"], scene["project"]["id"]
    other = make_user()
    api.post(f"/api/project/{project}/user/{other['id']}.json")
    mine = annotate(api, image, "POINT (10 10)", [tumour])
    theirs = annotate(other["api"], image, "POINT (20 20)", [stroma])
    both = annotate(api, image, "POINT (30 30)", [tumour])
    added = other["api"].post(f"/api/annotation/{both['id']}/term/{stroma}.json", json={})
    assert added.status_code == 200, added.text
    admin = api.get("/api/user/current.json").json()["id"]

    listed = api.get(f"/api/annotation.json?image={image}&showTerm=true").json()["collection"]
    by_id = {row["id"]: row for row in listed}

    def links(row: dict[str, Any]) -> list[tuple[int, list[int]]]:
        return sorted((item["term"], item["user"]) for item in row["userByTerm"])

    assert links(by_id[mine["id"]]) == [(tumour, [admin])]
    assert links(by_id[theirs["id"]]) == [(stroma, [other["id"]])]
    assert links(by_id[both["id"]]) == sorted([(tumour, [admin]), (stroma, [other["id"]])])
    first_links = {row["id"]: {item["id"] for item in row["userByTerm"]} for row in listed}
    assert first_links[mine["id"]].isdisjoint(first_links[theirs["id"]])
    assert sorted(by_id[both["id"]]["term"]) == sorted([tumour, stroma])


@pytest.fixture
def fifty(api: Api, scene: dict[str, Any]) -> list[int]:
    """Fifty annotations on the scene's image, every third with Stroma too; their ids, newest
    first (the listing's order)."""
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    body = [{"location": f"POINT ({i * 10} {i * 10})", "image": scene["image"]["id"],
             "term": [tumour, stroma] if i % 3 == 0 else [tumour]} for i in range(50)]  # fmt: skip
    response = api.post("/api/annotation.json", json=body)
    assert response.status_code == 200, response.text
    listed = api.get(f"/api/annotation.json?image={scene['image']['id']}&max=0").json()
    return [row["id"] for row in listed["collection"]]


@pytest.mark.parametrize("where", ["image", "project", "term", "bbox", "multipleTerm",
                                   "multipleTerm, bbox", "multipleTerm, term"])  # fmt: skip
def test_pages_tile_the_whole_list_with_its_size(api, scene, fifty, where):
    condition = {
        "image": f"image={scene['image']['id']}",
        "project": f"project={scene['project']['id']}",
        "term": f"project={scene['project']['id']}&term={scene['terms']['Stroma']}",
        "bbox": f"image={scene['image']['id']}&bbox=0,0,245,245",
        "multipleTerm": f"project={scene['project']['id']}&multipleTerm=true",
        "multipleTerm, bbox": f"image={scene['image']['id']}&multipleTerm=true&bbox=0,0,245,245",
        "multipleTerm, term": f"project={scene['project']['id']}&multipleTerm=true"
        f"&term={scene['terms']['Stroma']}",
    }[where]
    whole = api.get(f"/api/annotation.json?{condition}&max=0&showTerm=true").json()
    expected = [row["id"] for row in whole["collection"]]
    assert whole["size"] == len(expected) > 0
    pages = []
    for offset in range(0, len(expected) + 7, 7):
        page = api.get(f"/api/annotation.json?{condition}&max=7&offset={offset}").json()
        assert page["size"] == len(expected), (offset, page["size"])
        assert page["offset"] == offset and page["perPage"] == len(page["collection"])
        pages += [row["id"] for row in page["collection"]]
    assert pages == expected
    past = api.get(f"/api/annotation.json?{condition}&max=5&offset={len(expected) + 100}").json()
    assert (past["collection"], past["size"]) == ([], len(expected))


def test_multiple_terms_are_different_terms_whoever_put_them(api, scene, make_user):
    """`multipleTerm` lists and counts annotations with two different terms: one term put by
    two users is one term."""
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    image, project = scene["image"]["id"], scene["project"]["id"]
    other = make_user()
    api.post(f"/api/project/{project}/user/{other['id']}.json")
    twice = annotate(api, image, "POINT (10 10)", [tumour])
    added = other["api"].post(f"/api/annotation/{twice['id']}/term/{tumour}.json", json={})
    assert added.status_code == 200, added.text
    both = annotate(api, image, "POINT (20 20)", [tumour, stroma])
    annotate(other["api"], image, "POINT (30 30)", [stroma])
    listed = api.get(f"/api/annotation.json?project={project}&multipleTerm=true&max=10").json()
    assert ([row["id"] for row in listed["collection"]], listed["size"]) == ([both["id"]], 1)
    theirs = api.get(f"/api/annotation.json?project={project}&multipleTerm=true&max=10"
                     f"&users={other['id']}").json()  # fmt: skip
    assert (theirs["collection"], theirs["size"]) == ([], 0)


def test_graphql_pages_tile_the_list_and_count_it_only_when_asked(api, scene, fifty):
    document = """query($image: Long!, $first: Int, $offset: Int!) {
      annotations(filter: {image: $image}, first: $first, offset: $offset) {
        totalCount nodes { id termIds } pageInfo { hasNextPage hasPreviousPage offset } } }"""
    seen = []
    for offset in range(0, 60, 20):
        page = api.gql(document, {"image": scene["image"]["id"], "first": 20, "offset": offset})
        data = page["data"]["annotations"]
        assert data["totalCount"] == 50
        assert data["pageInfo"] == {"hasNextPage": offset + 20 < 50,
                                    "hasPreviousPage": offset > 0, "offset": offset}  # fmt: skip
        seen += [node["id"] for node in data["nodes"]]
    assert seen == fifty


def test_listing_in_a_project_of_hidden_layers_counts_what_the_caller_sees(
    api, scene, fifty, make_user
):
    """A contributor of a project hiding others' layers sees only their own rows, and the size
    says so (no kept counter holds that number)."""
    contributor = make_user()
    project = make_project(api, ontology=scene["ontology"]["id"], users=(contributor["id"],),
                           hideUsersLayers=True, hideAdminsLayers=True)  # fmt: skip
    moved = api.post("/api/imageinstance.json", json={
        "baseImage": scene["image"]["baseImage"], "project": project["id"]})  # fmt: skip
    image = moved.json()["imageinstance"]["id"]
    plane = annotate(contributor["api"], image, "POINT (5 5)", [])["slice"]
    annotate(api, image, "POINT (6 6)", [])
    for scope in (f"image={image}", f"slice={plane}"):
        listed = contributor["api"].get(f"/api/annotation.json?{scope}&max=1").json()
        assert listed["size"] == 1, scope
        assert api.get(f"/api/annotation.json?{scope}&max=1").json()["size"] == 2, scope


def test_max_zero_streams_the_whole_list_in_parts(api, scene, fifty, monkeypatch):
    """`max=0` is written as its rows are read from a cursor (chunked, no length known ahead),
    and says the same as the list read in pages."""
    from resolvers.annotation import listing

    monkeypatch.setattr(listing, "STREAM_PARTITION", 7)
    image = scene["image"]["id"]
    whole = api.get(f"/api/annotation.json?image={image}&max=0&showTerm=true&showWKT=true")
    assert whole.status_code == 200
    assert whole.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in whole.headers
    body = whole.json()
    assert [row["id"] for row in body["collection"]] == fifty
    assert (body["size"], body["perPage"], body["offset"], body["totalPages"]) == (50, 50, 0, 1)
    paged = api.get(f"/api/annotation.json?image={image}&max=50&showTerm=true&showWKT=true")
    assert body["collection"] == paged.json()["collection"]
    after = api.get(f"/api/annotation.json?image={image}&max=0&offset=45").json()
    assert [row["id"] for row in after["collection"]] == fifty[45:]
    assert after["size"] == 50
    empty = api.get(f"/api/annotation.json?image={image}&max=0&offset=80").json()
    assert (empty["collection"], empty["size"]) == ([], 50)
