"""Annotations through GraphQL: the geometry pipeline's results, the listing's filters, the
project modes, counters under concurrent writers, undo (contract images-annotations.md §3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.factories import abstract_image, add_image, make_project
from tests.harness import Api

SQUARE = "POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))"

CREATE = """
mutation($input: AnnotationInput!) {
  annotationCreate(input: $input) {
    command { message }
    annotation {
      id location area areaUnit perimeter perimeterUnit centroid { x y } geometryCompression
      termIds sliceId imageId projectId userId reviewed cropUrl
      terms { term { name } user { username } }
    }
  }
}
"""
ROWS = """
query($filter: AnnotationFilter!, $first: Int, $offset: Int) {
  annotationRows(filter: $filter, first: $first, offset: $offset) {
    totalCount nodes { id location termIds userByTerm trackIds creator channel }
  }
}
"""


def create(api: Api, scene: dict[str, Any], location: str = SQUARE, **fields: Any) -> Any:
    body = {"location": location, "image": scene["image"]["id"], **fields}
    answer = api.gql(CREATE, {"input": body})
    assert "errors" not in answer, answer
    return answer["data"]["annotationCreate"]["annotation"]


def rows(api: Api, **filter: Any) -> list[dict[str, Any]]:
    answer = api.gql(ROWS, {"filter": filter})
    assert "errors" not in answer, answer
    return answer["data"]["annotationRows"]["nodes"]  # type: ignore[no-any-return]


def code(answer: dict[str, Any]) -> str:
    return answer["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def test_create_runs_the_pipeline_and_measures_with_calibration(api, scene):
    made = create(api, scene, terms=[scene["terms"]["Tumour"]])
    assert made["location"] == SQUARE
    assert (made["area"], made["areaUnit"]) == (15000.0, "MICRON2")  # 60 000 px² × 0.5²
    assert (made["perimeter"], made["perimeterUnit"]) == (0.5, "MM")  # 1 000 px × 0.5 / 1000
    assert made["centroid"] == {"x": 250.0, "y": 200.0}
    assert made["geometryCompression"] == 0.0
    assert made["termIds"] == [scene["terms"]["Tumour"]]
    assert made["terms"] == [{"term": {"name": "Tumour"}, "user": {"username": "admin"}}]
    assert made["sliceId"] == scene["slices"][1]  # the reference slice: median of two planes
    assert made["reviewed"] is False
    assert made["cropUrl"].endswith(f"/api/userannotation/{made['id']}/crop.png")


def test_create_clips_to_the_image_and_refuses_bad_geometry(api, scene):
    clipped = create(api, scene, "POLYGON ((900 700, 900 900, 1100 900, 1100 700, 900 700))")
    assert clipped["location"] == "POLYGON ((900 800, 1000 800, 1000 700, 900 700, 900 800))"
    for bad in ("POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", "nonsense", "LINESTRING EMPTY",
                "POLYGON ((2000 2000, 2000 2100, 2100 2100, 2000 2000))"):  # fmt: skip
        answer = api.gql(CREATE, {"input": {"location": bad, "image": scene["image"]["id"]}})
        assert code(answer) == "BAD_USER_INPUT", (bad, answer)
    assert len(rows(api, project=scene["project"]["id"])) == 1


def test_create_refuses_foreign_terms_unknown_places_and_missing_location(api, scene):
    other = make_project(api)
    foreign = api.post("/api/term.json", json={"name": "X", "color": "#000",
                                               "ontology": scene["ontology"]["id"]})  # fmt: skip
    assert foreign.status_code == 200
    stranger_ontology = api.post("/api/ontology.json", json={"name": "elsewhere"}).json()
    alien_body = {"name": "Y", "color": "#000", "ontology": stranger_ontology["ontology"]["id"]}
    alien = api.post("/api/term.json", json=alien_body)
    cases = [
        ({"location": SQUARE, "image": scene["image"]["id"],
          "terms": [alien.json()["term"]["id"]]}, "BAD_USER_INPUT"),
        ({"location": SQUARE, "image": 999999999}, "NOT_FOUND"),
        ({"location": SQUARE, "slice": 999999999}, "NOT_FOUND"),
        ({"location": SQUARE}, "BAD_USER_INPUT"),
        ({"image": scene["image"]["id"]}, "BAD_USER_INPUT"),
    ]  # fmt: skip
    for body, expected in cases:
        assert code(api.gql(CREATE, {"input": body})) == expected, body
    assert rows(api, project=scene["project"]["id"]) == []
    assert other["numberOfAnnotations"] == 0


def test_update_reapplies_compression_and_keeps_terms(api, scene):
    made = create(api, scene, terms=[scene["terms"]["Stroma"]])
    answer = api.gql(
        "mutation($id: Long!, $l: String!) { annotationUpdate(id: $id, input: {location: $l})"
        " { annotation { location area perimeter termIds } } }",
        {"id": made["id"], "l": "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))"},
    )
    updated = answer["data"]["annotationUpdate"]["annotation"]
    assert updated == {"location": "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0))", "area": 25.0,
                       "perimeter": 0.02, "termIds": [scene["terms"]["Stroma"]]}  # fmt: skip


def test_listing_filters(api, scene):
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    a = create(api, scene, terms=[tumour])
    b = create(api, scene, "POLYGON ((600 600, 600 700, 700 700, 700 600, 600 600))",
               terms=[tumour, stroma])  # fmt: skip
    c = create(api, scene, "POINT (50 50)", slice=scene["slices"][0])
    project = scene["project"]["id"]
    assert [r["id"] for r in rows(api, project=project)] == [c["id"], b["id"], a["id"]]
    assert {r["id"] for r in rows(api, project=project, term=[tumour])} == {a["id"], b["id"]}
    assert [r["id"] for r in rows(api, project=project, terms=[stroma])] == [b["id"]]
    assert [r["id"] for r in rows(api, project=project, noTerm=True)] == [c["id"]]
    assert {r["id"] for r in rows(api, project=project, terms=[stroma], noTerm=True)} == {
        b["id"], c["id"]}  # fmt: skip
    assert [r["id"] for r in rows(api, project=project, multipleTerm=True)] == [b["id"]]
    assert [r["id"] for r in rows(api, slice=scene["slices"][0])] == [c["id"]]
    assert [r["id"] for r in rows(api, project=project, bbox="0,0,450,450")] == [c["id"], a["id"]]
    inside = "POLYGON ((550 550, 550 750, 750 750, 750 550, 550 550))"
    assert [r["id"] for r in rows(api, project=project, bbox=inside)] == [b["id"]]
    near = rows(api, project=project, baseAnnotation=str(c["id"]), maxDistanceBaseAnnotation=75)
    assert {r["id"] for r in near} == {c["id"], a["id"]}  # 70.7 px from (50, 50) to (100, 100)
    far = rows(api, project=project, baseAnnotation=str(c["id"]), maxDistanceBaseAnnotation=70)
    assert [r["id"] for r in far] == [c["id"]]
    assert [r["id"] for r in rows(api, project=project, excludedAnnotation=c["id"],
                                  bboxAnnotation=a["id"])] == [a["id"]]  # fmt: skip
    page = api.gql(ROWS, {"filter": {"project": project}, "first": 1, "offset": 1})
    assert page["data"]["annotationRows"]["totalCount"] == 3
    assert [n["id"] for n in page["data"]["annotationRows"]["nodes"]] == [b["id"]]
    [row] = rows(api, image=scene["image"]["id"], terms=[stroma])
    assert row["creator"] == "admin" and row["channel"] == 0 and row["trackIds"] == []
    admin = api.get("/api/user/current.json").json()["id"]
    assert sorted((item["term"], item["user"]) for item in row["userByTerm"]) == sorted(
        [(tumour, [admin]), (stroma, [admin])]
    )


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({}, "BAD_USER_INPUT"),
        ({"image": 999999999}, "NOT_FOUND"),
        ({"images": []}, "NOT_FOUND"),
        ({"project": 999999999}, "NOT_FOUND"),
        ({"bbox": "1,2,three,4"}, "BAD_USER_INPUT"),
        ({"bbox": "POLYGON ((0 0"}, "BAD_USER_INPUT"),
        ({"maxDistanceBaseAnnotation": 5}, "NOT_FOUND"),
        ({"baseAnnotation": "POINT (1 1)"}, "BAD_USER_INPUT"),
        ({"baseAnnotation": "\u00b2", "maxDistanceBaseAnnotation": 5}, "BAD_USER_INPUT"),
        ({"terms": [999999999]}, "NOT_FOUND"),
        ({"users": [999999999]}, "NOT_FOUND"),
    ],
)
def test_listing_bad_filters_are_4xx(api, scene, filter, expected):
    if filter and "image" not in filter and "images" not in filter and "project" not in filter:
        filter = {**filter, "project": scene["project"]["id"]}
    assert code(api.gql(ROWS, {"filter": filter})) == expected


def test_filters_never_name_an_annotation_of_another_project(api, scene, make_user):
    owner = make_user()
    elsewhere = make_project(owner["api"])
    image = add_image(owner["api"], elsewhere["id"], abstract_image(owner["api"])["id"])
    hidden = create(owner["api"], {"image": image})
    create(api, scene)
    project = scene["project"]["id"]
    for filter in (
        {"bboxAnnotation": hidden["id"]},
        {"baseAnnotation": str(hidden["id"]), "maxDistanceBaseAnnotation": 1e9},
    ):
        assert code(api.gql(ROWS, {"filter": {"project": project, **filter}})) == "NOT_FOUND"


def test_listing_needs_read_on_the_project(api, scene, make_user):
    stranger = make_user()
    create(api, scene)
    answer = stranger["api"].gql(ROWS, {"filter": {"project": scene["project"]["id"]}})
    assert code(answer) == "FORBIDDEN"


def test_hide_layer_flags_hide_other_contributors(api, scene, make_user):
    alice, bob = make_user(), make_user()
    project = scene["project"]
    for user in (alice, bob):
        assert api.post(f"/api/project/{project['id']}/user/{user['id']}.json").status_code == 200
    mine = create(alice["api"], scene)
    theirs = create(bob["api"], scene, "POINT (5 5)")
    managers = create(api, scene, "POINT (6 6)")
    assert len(rows(alice["api"], project=project["id"])) == 3
    hide = api.put(f"/api/project/{project['id']}.json", json={**project, "hideUsersLayers": True})
    assert hide.status_code == 200
    assert {r["id"] for r in rows(alice["api"], project=project["id"])} == {
        mine["id"], managers["id"]}  # fmt: skip
    assert len(rows(api, project=project["id"])) == 3  # managers see every layer
    hidden = {"project": project["id"], "bboxAnnotation": theirs["id"]}
    assert code(alice["api"].gql(ROWS, {"filter": hidden})) == "NOT_FOUND"  # not even named
    assert rows(api, **hidden)  # a manager may name it
    both = {**project, "hideUsersLayers": True, "hideAdminsLayers": True}
    api.put(f"/api/project/{project['id']}.json", json=both)
    assert [r["id"] for r in rows(bob["api"], project=project["id"])] == [theirs["id"]]


def test_project_modes_restrict_who_edits(api, scene, make_user):
    alice, bob = make_user(), make_user()
    project = scene["project"]
    for user in (alice, bob):
        api.post(f"/api/project/{project['id']}/user/{user['id']}.json")
    theirs = create(alice["api"], scene)
    delete = "mutation($id: Long!) { annotationDelete(id: $id) { annotation { id } } }"
    api.put(f"/api/project/{project['id']}.json", json={**project, "isRestricted": True})
    assert code(bob["api"].gql(delete, {"id": theirs["id"]})) == "FORBIDDEN"
    api.put(f"/api/project/{project['id']}.json", json={**project, "isReadOnly": True})
    answer = alice["api"].gql(CREATE, {"input": {"location": SQUARE,
                                                 "image": scene["image"]["id"]}})  # fmt: skip
    assert code(answer) == "FORBIDDEN"
    assert code(alice["api"].gql(delete, {"id": theirs["id"]})) == "FORBIDDEN"
    assert "errors" not in api.gql(delete, {"id": theirs["id"]})  # the manager still may


def counters(api: Api, scene: dict[str, Any]) -> tuple[int, int]:
    project = api.get(f"/api/project/{scene['project']['id']}.json").json()
    image = api.get(f"/api/imageinstance/{scene['image']['id']}.json").json()
    return project["numberOfAnnotations"], image["numberOfAnnotations"]


def test_counters_stay_exact_under_20_concurrent_writers(api, scene, make_user):
    writers = [make_user() for _ in range(20)]
    for writer in writers:
        api.post(f"/api/project/{scene['project']['id']}/user/{writer['id']}.json")

    def write(writer: dict[str, Any]) -> int:
        done = 0
        for i in range(50):
            location = f"POINT ({10 + i} {10 + writers.index(writer)})"
            body = {"location": location, "slice": scene["slices"][i % 2]}
            answer = writer["api"].gql(CREATE, {"input": body})
            done += "errors" not in answer
        return done

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert sum(pool.map(write, writers)) == 1000
    assert counters(api, scene) == (1000, 1000)
    for slice_id in scene["slices"]:
        index = api.get(f"/api/sliceinstance/{slice_id}/annotationindex.json")
        assert index.status_code == 200, index.text
        counts = [row["countAnnotation"] for row in index.json()["collection"]]
        assert counts == [25] * 20
    deleted = api.gql("query($p: Long!) { annotationRows(filter: {project: $p}, first: 100)"
                      " { nodes { id } } }", {"p": scene["project"]["id"]})  # fmt: skip
    delete = "mutation($id: Long!) { annotationDelete(id: $id) { annotation { id } } }"
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda node: api.gql(delete, {"id": node["id"]}),
                      deleted["data"]["annotationRows"]["nodes"]))  # fmt: skip
    assert counters(api, scene) == (900, 900)


def test_deleting_the_image_resets_project_counter(api, scene):
    create(api, scene)
    create(api, scene, "POINT (1 1)")
    assert counters(api, scene) == (2, 2)
    other = add_image(api, scene["project"]["id"], abstract_image(api, width=100, height=100)["id"])
    create(api, {**scene, "image": other}, "POINT (1 1)")
    assert api.delete(f"/api/imageinstance/{scene['image']['id']}.json").status_code == 200
    project = api.get(f"/api/project/{scene['project']['id']}.json").json()
    assert project["numberOfAnnotations"] == 1


def test_undo_and_redo_of_annotation_delete_restore_geometry_and_terms(api, scene):
    made = create(api, scene, terms=[scene["terms"]["Tumour"]])
    api.gql("mutation($id: Long!) { annotationDelete(id: $id) { annotation { id } } }",
            {"id": made["id"]})  # fmt: skip
    assert counters(api, scene) == (0, 0)
    assert [r["action"] for r in api.gql("mutation { undo { action } }")["data"]["undo"]] == [
        "ADD"]  # fmt: skip
    [row] = rows(api, project=scene["project"]["id"], bbox="0,0,500,500")  # geometry is back
    assert (row["id"], row["location"], row["termIds"]) == (made["id"], SQUARE,
                                                            [scene["terms"]["Tumour"]])  # fmt: skip
    assert counters(api, scene) == (1, 1)
    api.gql("mutation { redo { action } }")
    assert counters(api, scene) == (0, 0)
