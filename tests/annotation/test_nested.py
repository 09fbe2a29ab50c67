"""`annotations` under images, slices, projects, users, terms and tracks: each parent's own page,
newest first, the rows its caller may see, and one statement per level whatever the number of
parents."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types import info as strawberry_info

from resolvers.annotation import nested
from resolvers.annotation.nested import _kept_rows
from tests.factories import abstract_image, add_image, make_ontology, make_project
from tests.harness import Api, Server

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

NESTED = """
query($project: Long!, $first: Int) {
  project(id: $project) {
    images(first: 100) { nodes {
      id
      annotations(first: $first) {
        totalCount
        nodes { id imageId termIds terms { term { name } } user { username } }
        pageInfo { hasNextPage }
      }
    } }
  }
}
"""


def annotate_many(api: Api, image: int, terms: list[int], n: int) -> list[int]:
    """`n` annotations on the image, the i-th with the term i % len(terms); newest first."""
    body = [{"location": f"POINT ({i + 1} {i + 1})", "image": image,
             "term": [terms[i % len(terms)]]} for i in range(n)]  # fmt: skip
    response = api.post("/api/annotation.json", json=body)
    assert response.status_code == 200, response.text
    listed = api.get(f"/api/annotation.json?image={image}&max=0").json()["collection"]
    return [row["id"] for row in listed]


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """A project with two terms and three images holding 5, 3 and 0 annotations."""
    ontology = make_ontology(api, terms=("Tumour", "Stroma"))
    project = make_project(api, ontology=ontology["id"])
    terms = [ontology["terms"]["Tumour"]["id"], ontology["terms"]["Stroma"]["id"]]
    images = [add_image(api, project["id"], abstract_image(api)["id"])["id"] for _ in range(3)]
    listed = {
        image: annotate_many(api, image, terms, n)
        for image, n in zip(images, (5, 3, 0), strict=True)
    }
    return {"ontology": ontology, "project": project, "terms": terms, "images": images,
            "annotations": listed}  # fmt: skip


def test_each_image_gets_its_own_page_newest_first_with_its_total(api, world):
    body = api.gql(NESTED, {"project": world["project"]["id"], "first": 2})
    assert "errors" not in body, body
    by_image = {node["id"]: node["annotations"] for node in body["data"]["project"]["images"]
                ["nodes"]}  # fmt: skip
    for image in world["images"]:
        expected = world["annotations"][image]
        page = by_image[image]
        assert [n["id"] for n in page["nodes"]] == expected[:2]
        assert page["totalCount"] == len(expected)
        assert page["pageInfo"]["hasNextPage"] == (len(expected) > 2)
        assert {n["imageId"] for n in page["nodes"]} <= {image}
        assert all(n["user"]["username"] == "admin" for n in page["nodes"])
        assert all(len(n["terms"]) == 1 for n in page["nodes"])


def test_offset_first_zero_and_no_count(api, world):
    image = world["images"][0]
    expected = world["annotations"][image]
    query = """query($id: Long!, $first: Int, $offset: Int!) { imageInstance(id: $id) {
      annotations(first: $first, offset: $offset) { nodes { id } pageInfo { hasNextPage } } } }"""
    for offset in range(7):
        page = api.gql(query, {"id": image, "first": 2, "offset": offset})
        page = page["data"]["imageInstance"]["annotations"]
        assert [n["id"] for n in page["nodes"]] == expected[offset : offset + 2]
        assert page["pageInfo"]["hasNextPage"] == (offset + 2 < len(expected))
    empty = api.gql("query($id: Long!) { imageInstance(id: $id) { annotations(first: 0) "
                    "{ totalCount nodes { id } } } }", {"id": image})  # fmt: skip
    assert empty["data"]["imageInstance"]["annotations"] == {"totalCount": 5, "nodes": []}


def test_pages_without_a_filter_run_one_statement_built_once(api, world):
    """Every offset of an unfiltered nested page runs the SELECT built for the first."""
    image = world["images"][0]
    query = """query($id: Long!, $offset: Int!) { imageInstance(id: $id) {
      annotations(first: 2, offset: $offset) { nodes { id } } } }"""
    _kept_rows.cache_clear()
    for offset in range(4):
        page = api.gql(query, {"id": image, "offset": offset})
        ids = [n["id"] for n in page["data"]["imageInstance"]["annotations"]["nodes"]]
        assert ids == world["annotations"][image][offset : offset + 2]
    assert (_kept_rows.cache_info().misses, _kept_rows.cache_info().hits) == (1, 3)


def test_slices_projects_terms_users_and_tracks_list_their_annotations(api, world):
    image = world["images"][0]
    stroma = world["terms"][1]
    everyone = [*world["annotations"][world["images"][1]], *world["annotations"][image]]
    slices = api.get(f"/api/imageinstance/{image}/sliceinstance.json").json()["collection"]
    track = api.post("/api/track.json", json={"name": "t", "color": "#fff", "image": image})
    track_id = track.json()["track"]["id"]
    tracked = world["annotations"][image][1]
    linked = api.post("/api/annotationtrack.json", json={"annotationIdent": tracked,
                                                          "track": track_id})  # fmt: skip
    assert linked.status_code == 200, linked.text
    admin = api.get("/api/user/current.json").json()["id"]
    query = """query($slice: Long!, $project: Long!, $term: Long!, $user: Long!, $track: Long!) {
      sliceInstance(id: $slice) { annotations { totalCount nodes { id } } }
      project(id: $project) { annotations(first: 100) { totalCount nodes { id } } }
      term(id: $term) { annotations(first: 100) { totalCount nodes { id termIds } } }
      user(id: $user) { annotations(first: 100) { totalCount nodes { id } } }
      track(id: $track) { annotationsPage { totalCount nodes { id } } }
    }"""
    data = api.gql(query, {"slice": slices[0]["id"], "project": world["project"]["id"],
                           "term": stroma, "user": admin, "track": track_id})["data"]  # fmt: skip
    assert [n["id"] for n in data["sliceInstance"]["annotations"]["nodes"]] == \
        world["annotations"][image]  # fmt: skip
    assert sorted(n["id"] for n in data["project"]["annotations"]["nodes"]) == sorted(everyone)
    assert data["project"]["annotations"]["totalCount"] == 8
    with_stroma = data["term"]["annotations"]["nodes"]
    assert with_stroma and all(n["termIds"] == [stroma] for n in with_stroma)
    assert data["term"]["annotations"]["totalCount"] == len(with_stroma) == 3
    assert data["user"]["annotations"]["totalCount"] == 8
    assert data["track"]["annotationsPage"] == {"totalCount": 1, "nodes": [{"id": tracked}]}


def test_a_contributor_sees_only_what_hide_layers_lets_them(api, world, make_user):
    """Under hideUsersLayers a contributor sees their own and the managers' layers; a user
    outside the project sees none of its annotations, even through their own user object."""
    contributor, stranger = make_user(), make_user()
    project = make_project(api, ontology=world["ontology"]["id"], users=(contributor["id"],),
                           hideUsersLayers=True)  # fmt: skip
    image = add_image(api, project["id"], abstract_image(api)["id"])["id"]
    other = make_user()
    api.post(f"/api/project/{project['id']}/user/{other['id']}.json")
    mine = annotate_many(contributor["api"], image, world["terms"], 2)
    theirs = annotate_many(other["api"], image, world["terms"], 1)[0]
    managers = annotate_many(api, image, world["terms"], 1)[0]
    query = """query($id: Long!, $user: Long!) {
      imageInstance(id: $id) { annotations { totalCount nodes { id } } }
      user(id: $user) { annotations { totalCount nodes { id } } } }"""
    seen = contributor["api"].gql(query, {"id": image, "user": other["id"]})["data"]
    shown = {n["id"] for n in seen["imageInstance"]["annotations"]["nodes"]}
    assert managers in shown and theirs not in shown
    assert set(mine) <= shown and seen["imageInstance"]["annotations"]["totalCount"] == 4 - 1
    assert seen["user"]["annotations"] == {"totalCount": 0, "nodes": []}
    query = "query($u: Long!) { user(id: $u) { annotations { totalCount nodes { id } } } }"
    outside = stranger["api"].gql(query, {"u": other["id"]})
    assert outside["data"]["user"]["annotations"] == {"totalCount": 0, "nodes": []}


def test_nested_filters_narrow_each_parents_page(api, world):
    tumour, _ = world["terms"]
    body = api.gql("""query($project: Long!, $term: Long!) { project(id: $project) {
        images(first: 10) { nodes { id annotations(filter: {terms: [$term]}) {
          totalCount nodes { termIds } } } } } }""",
                   {"project": world["project"]["id"], "term": tumour})  # fmt: skip
    for node in body["data"]["project"]["images"]["nodes"]:
        page = node["annotations"]
        assert all(n["termIds"] == [tumour] for n in page["nodes"])
        assert page["totalCount"] == len(page["nodes"])
    bad = api.gql("""query($project: Long!) { project(id: $project) { images { nodes {
        annotations(filter: {terms: [999999999]}) { nodes { id } } } } } }""",
                  {"project": world["project"]["id"]})  # fmt: skip
    assert {e["extensions"]["code"] for e in bad["errors"]} == {"NOT_FOUND"}


def test_a_users_annotations_narrow_to_a_project_and_refuse_slice_bounds(api, world):
    """A user's annotations span their projects: `project` keeps one (a filter no parent
    level implies); `beforeSlice`/`afterSlice`, which order the root listing by plane, are
    refused rather than ignored."""
    other = make_project(api, ontology=world["ontology"]["id"])
    image = add_image(api, other["id"], abstract_image(api)["id"])["id"]
    elsewhere = annotate_many(api, image, world["terms"], 2)
    admin = api.get("/api/user/current.json").json()["id"]
    query = """query($user: Long!, $project: Long!) { user(id: $user) {
      annotations(first: 100, filter: {project: $project}) { totalCount nodes { id } } } }"""
    for project, expected in (
        (other["id"], elsewhere),
        (
            world["project"]["id"],
            [*world["annotations"][world["images"][1]], *world["annotations"][world["images"][0]]],
        ),
    ):
        page = api.gql(query, {"user": admin, "project": project})["data"]["user"]["annotations"]
        assert sorted(n["id"] for n in page["nodes"]) == sorted(expected)
        assert page["totalCount"] == len(expected)
    slices = api.get(f"/api/imageinstance/{image}/sliceinstance.json").json()["collection"]
    bounded = api.gql("""query($image: Long!, $slice: Long!) { imageInstance(id: $image) {
        annotations(filter: {beforeSlice: $slice}) { nodes { id } } } }""",
                      {"image": image, "slice": slices[0]["id"]})  # fmt: skip
    assert [e["extensions"]["code"] for e in bounded["errors"]] == ["BAD_USER_INPUT"]
    assert "beforeSlice" in bounded["errors"][0]["message"]


def _count(server: Server, api: Api, project: int) -> int:
    with server.count_statements() as counter:
        body = api.gql(NESTED, {"project": project, "first": 50})
    assert "errors" not in body, body
    return counter.n


@pytest.mark.identity_read_every_request
def test_statements_stay_flat_as_images_and_annotations_grow(server, api, world):
    small = _count(server, api, world["project"]["id"])
    project = make_project(api, ontology=world["ontology"]["id"])
    for _ in range(8):
        image = add_image(api, project["id"], abstract_image(api)["id"])["id"]
        annotate_many(api, image, world["terms"], 12)
    large = _count(server, api, project["id"])
    assert small == large, (small, large)
    assert large <= 10, large


def test_term_links_are_read_without_their_dates_unless_the_query_shows_them(
    server: Server, api: Api, world: dict[str, Any]
) -> None:
    """The list executor loads a page's term links without `created` and `updated` when the
    query reads neither, and with them when it does; the answers agree."""
    query = """query($project: Long!) { project(id: $project) { images(first: 10) { nodes {
      annotations(first: 10) { nodes { id terms { %s termId userId term { name } } } } } } } }"""
    variables = {"project": world["project"]["id"]}
    with server.captured("FROM annotation_term", "annotation_term.term_id") as lean_reads:
        lean = api.gql(query % "", variables)
    with server.captured("FROM annotation_term", "annotation_term.term_id") as dated_reads:
        dated = api.gql(query % "created updated", variables)
    assert lean_reads and all("annotation_term.created" not in s for s in lean_reads)
    assert dated_reads and all("annotation_term.created" in s for s in dated_reads)

    def links(answer: dict[str, Any]) -> list[Any]:
        return [[(link["termId"], link["userId"], link["term"]["name"]) for link in node["terms"]]
                for image in answer["data"]["project"]["images"]["nodes"]
                for node in image["annotations"]["nodes"]]  # fmt: skip

    assert links(lean) == links(dated) and any(links(lean))
    dates = [link["created"] for image in dated["data"]["project"]["images"]["nodes"]
             for node in image["annotations"]["nodes"] for link in node["terms"]]  # fmt: skip
    assert dates and all(isinstance(date, str) and date for date in dates)


def test_listings_read_only_the_columns_their_fields_use(
    server: Server, api: Api, world: dict[str, Any]
) -> None:
    """A page whose fields are plain reads only their columns (and the row's ids); a field with
    a resolver of its own (`reviewed`) reads them all; the answers agree, nested and at the
    root."""
    image = world["images"][0]
    root = """query($image: Long!) { annotations(filter: {image: $image}, first: 10) {
      nodes { id area %s } } }"""
    nested = """query($image: Long!) { imageInstance(id: $image) { annotations(first: 10) {
      nodes { id area %s } } } }"""
    for query, path in ((root, ("annotations",)), (nested, ("imageInstance", "annotations"))):
        with server.captured("FROM user_annotation", "user_annotation.area") as lean_reads:
            lean = api.gql(query % "", {"image": image})
        with server.captured("FROM user_annotation", "user_annotation.area") as full_reads:
            full = api.gql(query % "reviewed", {"image": image})
        assert lean_reads and all("user_annotation.perimeter" not in s for s in lean_reads)
        assert full_reads and all("user_annotation.perimeter" in s for s in full_reads)

        lean_nodes, full_nodes = nodes_of(lean, path), nodes_of(full, path)
        assert [node["id"] for node in lean_nodes] == world["annotations"][image][:10]
        assert [(n["id"], n["area"]) for n in lean_nodes] == [
            (n["id"], n["area"]) for n in full_nodes
        ]
        assert all(node["reviewed"] is False for node in full_nodes)


def nodes_of(answer: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    """The `nodes` of the connection at `path` in a query's data."""
    found: Any = answer["data"]
    for key in path:
        found = found[key]
    return list(found["nodes"])


def test_a_field_under_many_parents_reads_its_selection_once_a_request(api, world, monkeypatch):
    """The columns a nested page reads follow its selection, which is the same for every
    parent of one request: it is worked out once, not once per image."""
    converted: list[str] = []
    original = strawberry_info.convert_selections

    def counting(info: Any, field_nodes: Any) -> Any:
        converted.extend(node.name.value for node in field_nodes)
        return original(info, field_nodes)

    monkeypatch.setattr(strawberry_info, "convert_selections", counting)
    body = api.gql(NESTED, {"project": world["project"]["id"], "first": 50})
    assert "errors" not in body, body
    assert len(body["data"]["project"]["images"]["nodes"]) == 3
    assert converted.count("annotations") == 1, converted


def test_the_images_of_a_page_ask_for_their_annotations_in_one_call(api, world, monkeypatch):
    """The list executor resolves an image list's `annotations` for every image at once
    (`BATCHED`): one call with all the images, not one resolver per image."""
    calls: list[list[int]] = []
    original = nested.annotations_of

    async def counting(ctx: Any, parent: str, parent_ids: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(list(parent_ids))
        return await original(ctx, parent, parent_ids, *args, **kwargs)

    monkeypatch.setattr(nested, "annotations_of", counting)
    body = api.gql(NESTED, {"project": world["project"]["id"], "first": 2})
    assert "errors" not in body, body
    assert [sorted(ids) for ids in calls] == [sorted(world["images"])], calls
