"""The listing filters that read tags: projects (`tag[...]`, core.md §4.4), image instances
(`tag[in]`, images-annotations.md §2.6) and annotations (`tag`, `tags`, `noTag`, §3.6 — the
intent, not Java's broken SQL for `tag` alone), through REST and GraphQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")  # sort=tag: 501


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["collection"]]


@pytest.fixture
def tagged_projects(api: Api, make_tag: Any, put_tag: Any) -> dict[str, Any]:
    """Three projects: `red` tagged red, `both` tagged red and blue, `bare` untagged."""
    red, blue = make_tag(api, "red"), make_tag(api, "blue")
    projects = {name: make_project(api) for name in ("red", "both", "bare")}
    put_tag(api, "Project", projects["red"]["id"], red["id"])
    put_tag(api, "Project", projects["both"]["id"], red["id"])
    put_tag(api, "Project", projects["both"]["id"], blue["id"])
    return {"tags": {"red": red["id"], "blue": blue["id"]},
            "projects": {name: p["id"] for name, p in projects.items()}}  # fmt: skip


def test_project_listing_filters_on_tags(api, tagged_projects):
    tags, projects = tagged_projects["tags"], tagged_projects["projects"]

    def listed(**params: Any) -> set[int]:
        return set(ids(api.get("/api/project.json", params=params)))

    red, blue = tags["red"], tags["blue"]
    assert listed(**{"tag[in]": f"{red}"}) == {projects["red"], projects["both"]}
    assert listed(**{"tag[equals]": blue}) == {projects["both"]}
    assert listed(**{"tag[in]": f"{blue},null"}) == {projects["both"], projects["bare"]}
    assert listed(**{"tag[in]": "null"}) == {projects["bare"]}
    assert listed(**{"tag[in]": f"{red}", "tag[nequals]": "null"}) == {
        projects["red"], projects["both"]}  # fmt: skip
    paged = api.get("/api/project.json", params={"tag[in]": f"{red},{blue}", "max": 1}).json()
    assert paged["size"] == 2 and len(paged["collection"]) == 1
    assert_error(api.get("/api/project.json", params={"tag[in]": "x"}), 400)
    assert_error(api.get("/api/project.json", params={"sort": "tag"}), 400)

    answer = api.gql("query($f: [FilterInput!]) { projects(filters: $f) { nodes { id } } }",
                     {"f": [{"field": "tag", "op": "in", "value": str(blue)}]})  # fmt: skip
    assert [node["id"] for node in answer["data"]["projects"]["nodes"]] == [projects["both"]]


def test_image_listing_filters_on_tags(api, scene, make_tag, put_tag):
    project = scene["project"]["id"]
    first, second = scene["image"]["id"], add_image(api, project, abstract_image(api)["id"])["id"]
    third = add_image(api, project, abstract_image(api)["id"])["id"]
    tag, other = make_tag(api), make_tag(api)
    put_tag(api, "ImageInstance", first, tag["id"])
    put_tag(api, "ImageInstance", second, other["id"])
    put_tag(api, "Project", project, tag["id"])  # the project's tag is not its images'
    path = f"/api/project/{project}/imageinstance.json"

    assert ids(api.get(path, params={"tag[in]": tag["id"]})) == [first]
    assert ids(api.get(path, params={"tag[in]": f"{tag['id']},{other['id']}"})) == [second, first]
    assert ids(api.get(path, params={"tag[in]": "null"})) == [third]
    assert ids(api.get(path, params={"tag[in]": tag["id"], "width[gte]": 1})) == [first]
    assert_error(api.get(path, params={"sort": "tag"}), 501)

    mine = api.get(f"/api/user/{api.get('/api/user/current.json').json()['id']}/imageinstance.json",
                   params={"tag[in]": other["id"]})  # fmt: skip
    assert [row["id"] for row in mine.json()["collection"]] == [second]

    query = """query($p: Long!, $f: [FilterInput!]) { project(id: $p) {
        images(filters: $f) { totalCount nodes { id tags { id } } } } }"""
    answer = api.gql(query, {"p": project, "f": [{"field": "tag", "op": "in",
                                                  "value": str(other["id"])}]})  # fmt: skip
    assert answer["data"]["project"]["images"] == {
        "totalCount": 1, "nodes": [{"id": second, "tags": [{"id": other["id"]}]}]}  # fmt: skip


@pytest.fixture
def tagged_annotations(api: Api, scene: dict[str, Any], make_tag: Any, put_tag: Any,
                       annotate: Any) -> dict[str, Any]:  # fmt: skip
    """Four annotations on the scene: `red` tagged red, `both` red and blue, `blue` blue,
    `bare` untagged; and the tags."""
    red, blue = make_tag(api, "red"), make_tag(api, "blue")
    drawn = {name: annotate(api, location=f"POINT ({10 * n} {10 * n})")
             for n, name in enumerate(("red", "both", "blue", "bare"), start=1)}  # fmt: skip
    for name, tags in (("red", (red,)), ("both", (red, blue)), ("blue", (blue,))):
        for tag in tags:
            put_tag(api, "UserAnnotation", drawn[name]["id"], tag["id"])
    return {"tags": {"red": red["id"], "blue": blue["id"]},
            "annotations": {name: a["id"] for name, a in drawn.items()}}  # fmt: skip


def test_annotation_listing_filters_on_tags_and_untagged(api, scene, tagged_annotations):
    tags, drawn = tagged_annotations["tags"], tagged_annotations["annotations"]
    project = scene["project"]["id"]

    def listed(**params: Any) -> set[str]:
        found = ids(api.get("/api/annotation.json", params={"project": project, **params}))
        return {name for name, ident in drawn.items() if ident in found}

    assert listed(tag=tags["red"]) == {"red", "both"}
    assert listed(tags=f"{tags['red']},{tags['blue']}") == {"red", "both", "blue"}
    assert listed(tag=f"{tags['blue']}", tags=f"{tags['red']}") == {"red", "both", "blue"}
    assert listed(tags=f"{tags['blue']}", noTag="true") == {"both", "blue", "bare"}
    assert listed(noTag="true") == {"bare"}
    assert listed(noTag="false") == set(drawn)
    assert_error(api.get("/api/annotation.json", params={"project": project, "tag": 999999999}),
                 404)  # fmt: skip
    assert_error(api.get("/api/annotation.json", params={"project": project, "tag": "x"}), 400)

    searched = api.post(
        "/api/annotation/search.json",
        json={"project": project, "tags": [tags["blue"]], "noTag": True},
    )
    assert set(ids(searched)) == {drawn["both"], drawn["blue"], drawn["bare"]}

    query = """query($filter: AnnotationFilter!) { annotations(filter: $filter) {
        nodes { id tags { name } } } }"""
    answer = api.gql(query, {"filter": {"project": project, "tags": [tags["red"]]}})
    nodes = {node["id"]: [t["name"] for t in node["tags"]]
             for node in answer["data"]["annotations"]["nodes"]}  # fmt: skip
    assert nodes == {drawn["red"]: ["red"], drawn["both"]: ["blue", "red"]}


def test_kmeans_and_reviewed_listings_take_the_tag_filters(api, scene, tagged_annotations,
                                                           put_tag):  # fmt: skip
    tags, drawn = tagged_annotations["tags"], tagged_annotations["annotations"]
    image, project = scene["image"]["id"], scene["project"]["id"]
    clusters = api.get("/api/annotation.json", params={
        "image": image, "kmeans": "true", "kmeansValue": 3, "tag": tags["red"]})  # fmt: skip
    assert clusters.status_code == 200, clusters.text
    assert {item["id"] for item in clusters.json()["collection"]} == {drawn["red"], drawn["both"]}

    assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200
    copies = {}
    for name in ("red", "bare"):
        accepted = api.post(f"/api/annotation/{drawn[name]}/review.json")
        copies[name] = accepted.json()["reviewedannotation"]["id"]
    put_tag(api, "ReviewedAnnotation", copies["red"], tags["blue"])

    def reviewed(**params: Any) -> list[int]:
        return ids(
            api.get(
                "/api/annotation.json", params={"project": project, "reviewed": "true", **params}
            )
        )

    assert reviewed(tag=tags["blue"]) == [copies["red"]]
    assert reviewed(tag=tags["red"]) == []  # the original's tags are not its copy's
    assert reviewed(noTag="true") == [copies["bare"]]
