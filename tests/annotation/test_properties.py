"""Properties sent with a new annotation (images-annotations.md §3.4): core reads `property`
as a map, PIMS's import sends `properties` as a list of {key, value}; both are stored on the
annotation, in the same command as its creation, so undo and redo take them with it."""

from __future__ import annotations

from typing import Any

from tests.harness import Api, assert_error

ANNOTATION = "be.cytomine.domain.ontology.UserAnnotation"


def properties(api: Api, annotation: int) -> list[tuple[str, str]]:
    response = api.get(f"/api/domain/{ANNOTATION}/{annotation}/property.json")
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return sorted((p["key"], p["value"]) for p in response.json()["collection"])


def draw(api: Api, scene: dict[str, Any], **extra: Any) -> Any:
    return api.post(
        "/api/annotation.json",
        json={"location": "POINT (10 10)", "image": scene["image"]["id"], **extra},
    )


def test_a_map_or_a_list_of_pairs_become_the_annotation_s_properties(api, scene):
    made = draw(api, scene, property={"stain": "HE", "score": 3, "ok": True})
    assert made.status_code == 200, made.text
    first = made.json()["annotation"]["id"]
    assert properties(api, first) == [("ok", "true"), ("score", "3"), ("stain", "HE")]
    listed = draw(api, scene, properties=[{"key": "source", "value": "pims"}])
    assert properties(api, listed.json()["annotation"]["id"]) == [("source", "pims")]

    undone = api.get("/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert api.get(f"/api/annotation/{listed.json()['annotation']['id']}.json").status_code == 404
    redone = api.get("/command/redo.json")
    assert redone.status_code == 200, redone.text
    assert properties(api, listed.json()["annotation"]["id"]) == [("source", "pims")]


def test_bad_properties_are_400_and_create_nothing(api, scene):
    before = api.get(f"/api/imageinstance/{scene['image']['id']}.json").json()
    for bad in ("x", [1], [{"key": "", "value": "v"}], {"k": None}, {"k": {"a": 1}},
                [{"key": "k"}]):  # fmt: skip
        assert_error(draw(api, scene, properties=bad), 400)
    after = api.get(f"/api/imageinstance/{scene['image']['id']}.json").json()
    assert after["numberOfAnnotations"] == before["numberOfAnnotations"]


def test_an_array_element_s_properties_are_its_own(api, scene):
    image = scene["image"]["id"]
    body = [{"location": "POINT (1 1)", "image": image},
            {"location": "POINT (2 2)", "image": image, "properties": {"cell": "T"}},
            {"location": "POINT (3 3)", "image": image, "properties": "bad"},
            {"location": "POINT (4 4)", "image": image}]  # fmt: skip
    answer = api.post("/api/annotation.json", json=body).json()
    assert answer["status"] == 206, answer
    assert [error["data"] for error in answer["data"]["errors"]] == [body[2]]
    drawn = api.get(f"/api/annotation.json?image={image}&max=0&showWKT=true").json()["collection"]
    found = {row["location"]: properties(api, row["id"]) for row in drawn}
    assert found == {"POINT (1 1)": [], "POINT (2 2)": [("cell", "T")], "POINT (4 4)": []}


def test_graphql_create_takes_properties(api, scene):
    answer = api.gql(
        """mutation($input: AnnotationInput!) {
             annotationCreate(input: $input) { annotation { id } } }""",
        {"input": {"location": "POINT (5 5)", "image": scene["image"]["id"],
                   "properties": [{"key": "grade", "value": "2"}]}},
    )  # fmt: skip
    assert "errors" not in answer, answer
    made = answer["data"]["annotationCreate"]["annotation"]["id"]
    assert properties(api, int(made)) == [("grade", "2")]
