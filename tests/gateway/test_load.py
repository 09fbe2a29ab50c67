"""Many clients at once on a deliberately small pool (two connections), so that a request
holding one connection while it waits for another cannot hide behind the pool's size; and the
bounds on what one GraphQL document may ask (DESIGN.md, "Connections and load")."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
import requests

from settings import Settings
from tests.conftest import base_settings
from tests.factories import abstract_image, add_image, make_ontology, make_project
from tests.harness import Api

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

CLIENTS = 50
ANNOTATIONS = 150
LISTING = """
query($image: Long!) {
  annotations(filter: {image: $image}, first: 100) {
    totalCount nodes { id area location termIds terms { term { name } } image { id } }
  }
}
"""


@pytest.fixture
def settings() -> Settings:
    return replace(base_settings(), pool_size=2)


@pytest.fixture
def scene(api: Api) -> dict[str, Any]:
    """A project holding one image with `ANNOTATIONS` annotations, each with a term."""
    ontology = make_ontology(api, terms=("Tumour",))
    project = make_project(api, ontology=ontology["id"])
    image = add_image(api, project["id"], abstract_image(api, width=4000, height=4000)["id"])
    term = ontology["terms"]["Tumour"]["id"]
    body = [{"location": f"POLYGON (({i} 0, {i + 5} 0, {i + 5} 5, {i} 0))",
             "image": image["id"], "term": [term]} for i in range(ANNOTATIONS)]  # fmt: skip
    response = api.post("/api/annotation.json", json=body)
    assert response.status_code == 200, response.text
    return {"project": project, "image": image, "term": term}


def at_once(n: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """`n` calls of `call(i)` from `n` threads at once."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(call, range(n)))


def test_fifty_concurrent_rest_listings_all_answer_on_two_connections(api, scene):
    clients = [api.as_keys(api.public_key, api.private_key) for _ in range(CLIENTS)]
    path = f"/api/annotation.json?image={scene['image']['id']}&max=100&showTerm=true"
    answers = at_once(CLIENTS, lambda i: clients[i].get(path))
    assert [a.status_code for a in answers] == [200] * CLIENTS
    assert {len(a.json()["collection"]) for a in answers} == {100}
    assert {a.json()["size"] for a in answers} == {ANNOTATIONS}


def test_fifty_concurrent_graphql_listings_all_answer_on_two_connections(api, scene):
    clients = [api.as_keys(api.public_key, api.private_key) for _ in range(CLIENTS)]
    variables = {"image": scene["image"]["id"]}
    answers = at_once(CLIENTS, lambda i: clients[i].post(
        "/graphql", json={"query": LISTING, "variables": variables}))  # fmt: skip
    assert [a.status_code for a in answers] == [200] * CLIENTS
    for answer in answers:
        body = answer.json()
        assert "errors" not in body, body
        assert body["data"]["annotations"]["totalCount"] == ANNOTATIONS
        assert len(body["data"]["annotations"]["nodes"]) == 100


def test_concurrent_writes_and_reads_all_answer_and_counters_stay_exact(api, scene):
    clients = [api.as_keys(api.public_key, api.private_key) for _ in range(CLIENTS)]
    image = scene["image"]["id"]

    def call(i: int) -> requests.Response:
        if i % 2:
            return clients[i].get(f"/api/annotation.json?image={image}&max=20&showTerm=true")
        return clients[i].post("/api/annotation.json", json={
            "location": f"POINT ({i} {i})", "image": image, "term": [scene["term"]]})  # fmt: skip

    answers = at_once(CLIENTS, call)
    assert [a.status_code for a in answers] == [200] * CLIENTS
    written = ANNOTATIONS + CLIENTS // 2
    listed = api.get(f"/api/annotation.json?image={image}&max=1").json()["size"]
    counted = api.get(f"/api/imageinstance/{image}.json").json()["numberOfAnnotations"]
    assert listed == counted == written


def test_thirty_aliased_listings_in_one_document_answer(api, scene):
    fields = "totalCount nodes { id area location }"
    aliases = " ".join(
        f"a{i}: annotations(filter: {{image: {scene['image']['id']}}}, first: 100) {{ {fields} }}"
        for i in range(30)
    )
    body = api.gql(f"{{ {aliases} }}")
    assert "errors" not in body, body
    assert {len(body["data"][f"a{i}"]["nodes"]) for i in range(30)} == {100}
    assert body["extensions"]["cost"] == {"rows": 3000, "limit": 50_000}


def test_first_zero_is_an_empty_page_that_still_counts(api, scene):
    body = api.gql(
        "query($image: Long!) { annotations(filter: {image: $image}, first: 0) "
        "{ totalCount nodes { id } pageInfo { hasNextPage } } }",
        {"image": scene["image"]["id"]},
    )
    page = body["data"]["annotations"]
    assert page == {"totalCount": ANNOTATIONS, "nodes": [], "pageInfo": {"hasNextPage": True}}
    projects = api.gql("{ projects(first: 0) { totalCount nodes { id } } }")["data"]["projects"]
    assert projects == {"totalCount": 1, "nodes": []}


def test_rest_max_zero_still_means_every_row(api, scene):
    listed = api.get(f"/api/annotation.json?image={scene['image']['id']}&max=0").json()
    assert len(listed["collection"]) == ANNOTATIONS


def test_a_page_over_the_cap_is_cut_to_the_cap(api, scene):
    body = api.gql(
        "query($image: Long!) { annotations(filter: {image: $image}, first: 100000) "
        "{ nodes { id } } }",
        {"image": scene["image"]["id"]},
    )
    assert len(body["data"]["annotations"]["nodes"]) == ANNOTATIONS
    assert body["extensions"]["cost"]["rows"] == 1000


def test_a_document_over_the_row_budget_is_refused_before_it_runs(api, scene):
    nested = (
        "query($n: Int) { projects(first: $n) { nodes { images(first: $n) { nodes { id } } } } }"
    )
    body = api.post("/graphql", json={"query": nested, "variables": {"n": 1000}}).json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "ROW_LIMIT_EXCEEDED"
    # 1000 projects, each with 1000 images
    assert error["extensions"]["cost"] == {"rows": 1_001_000, "limit": 50_000}
    assert "CYTOGATE_GRAPHQL_MAX_ROWS" in error["message"]
    small = api.post("/graphql", json={"query": nested, "variables": {"n": 50}}).json()
    image = {"id": scene["image"]["id"]}
    assert small["data"]["projects"]["nodes"] == [{"images": {"nodes": [image]}}]
    assert small["extensions"]["cost"]["rows"] == 50 + 50 * 50
    # counts are kept per document and variables: each text and value set keeps its own
    again = api.post("/graphql", json={"query": nested, "variables": {"n": 1000}}).json()
    assert again["errors"][0]["extensions"]["cost"]["rows"] == 1_001_000
    assert (
        api.post("/graphql", json={"query": nested, "variables": {"n": 2}}).json()["extensions"][
            "cost"
        ]["rows"]
        == 2 + 2 * 2
    )


def test_fragments_and_variables_count_like_inline_fields(api, scene):
    document = """
    query($image: Long!, $n: Int!) {
      a: annotations(filter: {image: $image}, first: $n) { ...rows }
      ... on Query { b: annotations(filter: {image: $image}, first: 3) { ...rows } }
    }
    fragment rows on UserAnnotationConnection { nodes { id image { id } } }
    """
    body = api.gql(document, {"image": scene["image"]["id"], "n": 7})
    assert "errors" not in body, body
    # a: 7 annotations, b: 3 (single objects, such as each one's image, count nothing)
    assert body["extensions"]["cost"]["rows"] == 10


def test_sign_ins_and_whole_list_streams_at_once_answer_on_two_connections(
    api, anonymous, scene, make_user
):
    """Fifty clients at once on two connections: sign-ins right and wrong (each takes the
    address's lock and a password check), whole lists of positions, actions and the command
    history (each stream holds its connection until its last row), and listings."""
    user = make_user()
    image, project = scene["image"]["id"], scene["project"]["id"]
    for n in range(5):
        corners = {k: float(n) for k in ("topLeftX", "topLeftY", "topRightX", "topRightY",
                                         "bottomRightX", "bottomRightY", "bottomLeftX",
                                         "bottomLeftY")}  # fmt: skip
        assert api.post(f"/api/imageinstance/{image}/position.json", json=corners).ok
    paths = [f"/api/imageinstance/{image}/positions.json?showDetails=true&max=0",
             f"/api/imageinstance/{image}/annotation_action.json?max=0",
             f"/api/project/{project}/commandhistory.json?max=0",
             f"/api/annotation.json?image={image}&max=0"]  # fmt: skip
    clients = [api.as_keys(api.public_key, api.private_key) for _ in range(CLIENTS)]

    def call(i: int) -> requests.Response:
        if i % 5 == 0:
            password = "password-123" if i % 10 == 0 else "wrong-password"
            body = {"username": user["username"], "password": password}
            return anonymous.post("/api/authenticate", json=body)
        return clients[i].get(paths[i % 4])

    answers = at_once(CLIENTS, call)
    failed = [a.text[:200] for a in answers if a.status_code not in (200, 403)]
    assert not failed, failed
    assert sum(a.status_code == 403 for a in answers) == 5, "the five wrong passwords"
    lists = [a for i, a in enumerate(answers) if i % 5]
    assert all(a.headers.get("Transfer-Encoding") == "chunked" for a in lists)
    assert all(a.json() is not None for a in lists)
