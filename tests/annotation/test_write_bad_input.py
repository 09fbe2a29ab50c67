"""Annotation writes given bad input: a clear 4xx and nothing written, the same answer through
REST and GraphQL, element by element in arrays, and track links that stay on their track's
image (contract images-annotations.md §3.3, §3.4, §4.2)."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.errors import InvalidInput
from resolvers.geometry import prepare_edit, prepare_many, prepare_new
from tests.factories import abstract_image, add_image, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SQUARE = "POLYGON ((10 10, 40 10, 40 40, 10 40, 10 10))"
#: Geometries with an empty member: GEOS reads them, and they broke the pipeline (a 500 from
#: shapely on a polygon, a MULTIPOLYGON stored with its EMPTY member).
EMPTY_PARTS = [
    "POLYGON ((0 0, 0 20, 20 20, 20 0, 0 0), EMPTY)",
    "MULTIPOLYGON (((0 0, 0 20, 20 20, 20 0, 0 0)), EMPTY)",
    "MULTIPOINT ((1 1), EMPTY)",
]
CREATE_EACH = """
mutation($inputs: [AnnotationInput!]!) {
  annotationCreateEach(inputs: $inputs) { annotationId error code }
}
"""


def count(api: Api, image: int) -> int:
    return api.get(f"/api/annotation.json?image={image}&max=0").json()["size"]  # type: ignore[no-any-return]


def counters(api: Api, scene: dict[str, Any]) -> tuple[int, int]:
    project = api.get(f"/api/project/{scene['project']['id']}.json").json()
    image = api.get(f"/api/imageinstance/{scene['image']['id']}.json").json()
    return project["numberOfAnnotations"], image["numberOfAnnotations"]


@pytest.mark.parametrize("text", EMPTY_PARTS)
def test_the_pipeline_refuses_a_geometry_with_an_empty_member(text):
    for shape in (lambda: prepare_new(text, 1000, 800), lambda: prepare_edit(text, 1000, 800, 0)):
        with pytest.raises(InvalidInput, match="empty"):
            shape()
    (outcome,) = prepare_many([text], 1000, 800, None)
    assert isinstance(outcome, InvalidInput) and "empty" in outcome.message


@pytest.mark.parametrize(
    "text",
    ["POINT Z (1 2 3)", "POINT M (1 2 3)", "POLYGON Z ((0 0 1, 0 20 1, 20 20 1, 20 0 1, 0 0 1))"],
)
def test_the_pipeline_keeps_two_dimensions_as_its_wkt_does(text):
    for shaped in (prepare_new(text, 1000, 800), prepare_edit(text, 1000, 800, 0)):
        assert not shaped.geometry.has_z
    (outcome,) = prepare_many([text], 1000, 800, None)
    assert not isinstance(outcome, InvalidInput)
    assert not outcome[0].geometry.has_z


@pytest.mark.parametrize("text", EMPTY_PARTS)
def test_an_empty_member_is_a_400_on_create_update_and_in_arrays(api, scene, text):
    image = scene["image"]["id"]
    before = counters(api, scene)
    assert_error(api.post("/api/annotation.json", json={"location": text, "image": image}), 400)
    answer = api.post(
        "/api/annotation.json",
        json=[{"location": text, "image": image}, {"location": SQUARE, "image": image}],
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == 206, answer.text
    assert counters(api, scene) == (before[0] + 1, before[1] + 1)
    made = api.post("/api/annotation.json", json={"location": SQUARE, "image": image}).json()
    path = f"/api/userannotation/{made['annotation']['id']}.json"
    assert_error(api.put(path, json={"location": text}), 400)
    assert api.get(path).json()["location"] == SQUARE


def test_z_coordinates_are_dropped_alone_and_in_arrays(api, scene):
    image = scene["image"]["id"]
    made = api.post("/api/annotation.json", json={"location": "POINT Z (1 2 3)", "image": image})
    assert made.status_code == 200, made.text
    assert made.json()["annotation"]["location"] == "POINT (1 2)"
    answer = api.post("/api/annotation.json", json=[
        {"location": "POLYGON Z ((0 0 1, 0 20 1, 20 20 1, 20 0 1, 0 0 1))", "image": image},
        {"location": SQUARE, "image": image},
    ])  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == 200, answer.text
    path = f"/api/userannotation/{made.json()['annotation']['id']}.json"
    edited = api.put(path, json={"location": "LINESTRING Z (1 1 5, 9 9 5)"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["annotation"]["location"] == "LINESTRING (1 1, 9 9)"
    assert count(api, image) == 3


def test_a_value_the_database_refuses_is_that_elements_error_in_an_array(api, scene):
    """An element carrying properties is created on its own after the batch: its refusal is
    its answer (206), not a 400 for an array whose other elements were written."""
    image = scene["image"]["id"]
    before = counters(api, scene)
    elements = [
        {"location": SQUARE, "image": image},
        {"location": SQUARE, "image": image, "properties": {"key\x00": "value"}},
    ]
    answer = api.post("/api/annotation.json", json=elements)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == 206, body
    (failed,) = body["data"]["errors"]
    assert failed["message"].startswith("Invalid value"), failed
    assert counters(api, scene) == (before[0] + 1, before[1] + 1)
    each = api.gql(CREATE_EACH, {"inputs": elements})
    assert "errors" not in each, each
    made, refused = each["data"]["annotationCreateEach"]
    assert made["annotationId"] is not None and made["error"] is None
    assert refused["annotationId"] is None and refused["code"] == "BAD_USER_INPUT"
    assert counters(api, scene) == (before[0] + 2, before[1] + 2)


@pytest.mark.parametrize("terms", [["x"], [None], "1,x", [{"id": 1}]])
def test_an_unreadable_term_is_that_elements_error_in_an_array(api, scene, terms):
    """`"term": ["x"]` reads as no id: alone a 400, in an array that element's answer (206)
    while the others are made (the whole array used to fail GraphQL's coercion)."""
    image = scene["image"]["id"]
    before = counters(api, scene)
    alone = api.post("/api/annotation.json", json={"location": SQUARE, "image": image,
                                                   "term": terms})  # fmt: skip
    assert "term" in assert_error(alone, 400)["message"]
    elements = [{"location": SQUARE, "image": image},
                {"location": SQUARE, "image": image, "term": terms}]  # fmt: skip
    answer = api.post("/api/annotation.json", json=elements)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == 206, body
    (failed,) = body["data"]["errors"]
    assert "cannot be read" in failed["message"], failed
    assert counters(api, scene) == (before[0] + 1, before[1] + 1)


def test_an_annotation_in_a_track_does_not_move_to_another_image(api, scene):
    """A track holds annotations of its own image: moving one of them elsewhere would leave a
    link from the track to a slice of another image."""
    image = scene["image"]["id"]
    other = add_image(
        api, scene["project"]["id"], abstract_image(api, width=1000, height=800)["id"]
    )
    track = api.post("/api/track.json", json={"name": "t", "color": "#000000", "image": image})
    track_id = track.json()["track"]["id"]
    made = api.post(
        "/api/annotation.json", json={"location": SQUARE, "image": image, "track": [track_id]}
    ).json()
    path = f"/api/userannotation/{made['annotation']['id']}.json"
    assert_error(api.put(path, json={"location": SQUARE, "image": other["id"]}), 400)
    assert api.get(path).json()["image"] == image
    links = api.get(f"/api/track/{track_id}/annotationtrack.json").json()["collection"]
    assert [link["slice"] for link in links] == [made["annotation"]["slice"]]
    # within its image it moves, and its link follows it to the new slice
    moved = api.put(path, json={"location": SQUARE, "slice": scene["slices"][1]})
    assert moved.status_code == 200, moved.text
    links = api.get(f"/api/track/{track_id}/annotationtrack.json").json()["collection"]
    assert [link["slice"] for link in links] == [scene["slices"][1]]


def test_moving_an_annotation_into_a_project_takes_the_owner_or_mode_check_there(
    api, scene, make_user
):
    """A contributor may edit another's annotation in a classic project, but not carry it into
    a restricted project where only its creator (or a manager) may change it."""
    alice, bob = make_user(), make_user()
    project = scene["project"]
    for user in (alice, bob):
        api.post(f"/api/project/{project['id']}/user/{user['id']}.json")
    restricted = make_project(api, users=(alice["id"], bob["id"]), isRestricted=True)
    there = add_image(api, restricted["id"], abstract_image(api, width=1000, height=800)["id"])
    theirs = alice["api"].post(
        "/api/annotation.json", json={"location": SQUARE, "image": scene["image"]["id"]}
    )
    path = f"/api/userannotation/{theirs.json()['annotation']['id']}.json"
    assert_error(bob["api"].put(path, json={"location": SQUARE, "image": there["id"]}), 403)
    assert api.get(path).json()["project"] == project["id"]
    moved = alice["api"].put(path, json={"location": SQUARE, "image": there["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["annotation"]["project"] == restricted["id"]


def test_deleting_an_annotation_carrying_a_term_its_deleter_may_not_take_off_is_403(
    api, scene, make_user
):
    """In a restricted project a contributor takes off only their own term links: deleting
    their annotation that carries a manager's term is refused, naming the term and its author,
    alone or by filter, and nothing is deleted (§3.4 Delete)."""
    alice = make_user()
    project = scene["project"]
    api.post(f"/api/project/{project['id']}/user/{alice['id']}.json")
    image = scene["image"]["id"]
    made = alice["api"].post("/api/annotation.json", json={"location": SQUARE, "image": image})
    annotation = made.json()["annotation"]["id"]
    tumour = scene["terms"]["Tumour"]
    assert api.post(f"/api/annotation/{annotation}/term/{tumour}.json").status_code == 200
    fields = api.get(f"/api/project/{project['id']}.json").json()
    assert api.put(f"/api/project/{project['id']}.json",
                   json={**fields, "isRestricted": True}).status_code == 200  # fmt: skip
    refused = assert_error(alice["api"].delete(f"/api/userannotation/{annotation}.json"), 403)
    assert str(tumour) in refused["message"]
    assert_error(alice["api"].delete(f"/api/annotation.json?image={image}"), 403)
    assert api.get(f"/api/userannotation/{annotation}.json").json()["term"] == [tumour]
    # once the manager's term is off, the creator deletes it
    assert api.delete(f"/api/annotation/{annotation}/term/{tumour}.json").status_code == 200
    assert alice["api"].delete(f"/api/userannotation/{annotation}.json").status_code == 200
