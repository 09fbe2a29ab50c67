"""Bad input on image instances and slice instances gets a clear 4xx with a JSON error body,
changes nothing, and is never a 500 nor a redirect (DESIGN.md "Security", contract core.md
§1, §4, §5; images-annotations.md §2.6–§2.7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


@pytest.fixture
def scene(api: Api) -> dict[str, Any]:
    project = make_project(api)
    image = add_image(api, project["id"], abstract_image(api, slices=2)["id"])
    return {"project": project, "image": image}


def state(api: Api, scene: dict[str, Any]) -> Any:
    """Everything a write could touch: the project's images and the image's slices."""
    images = api.get(f"/api/project/{scene['project']['id']}/imageinstance.json").json()
    slices = api.get(f"/api/imageinstance/{scene['image']['id']}/sliceinstance.json").json()
    return images, slices


UNKNOWN = (
    ("GET", "/api/imageinstance/987654.json"), ("PUT", "/api/imageinstance/987654.json"),
    ("DELETE", "/api/imageinstance/987654.json"),
    ("GET", "/api/imageinstance/987654/next.json"),
    ("GET", "/api/imageinstance/987654/previous.json"),
    ("GET", "/api/imageinstance/987654/sliceinstance.json"),
    ("GET", "/api/imageinstance/987654/sliceinstance/reference.json"),
    ("GET", "/api/imageinstance/987654/0/0/0/sliceinstance.json"),
    ("GET", "/api/sliceinstance/987654.json"), ("PUT", "/api/sliceinstance/987654.json"),
    ("DELETE", "/api/sliceinstance/987654.json"),
    ("GET", "/api/project/987654/imageinstance.json"),
    ("GET", "/api/project/987654/bounds/imageinstance.json"),
    ("GET", "/api/abstractimage/987654/imageinstance.json"),
)  # fmt: skip


def test_unknown_ids_are_404_and_change_nothing(api, scene):
    before = state(api, scene)
    for method, path in UNKNOWN:
        body = {"project": scene["project"]["id"]} if method == "PUT" else None
        response = api.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert_error(response, 404)
    assert state(api, scene) == before


BAD_VALUES = (
    ("physicalSizeX", -0.1), ("physicalSizeY", "-1"), ("fps", -1), ("magnification", -5),
    ("physicalSizeZ", "Infinity"), ("physicalSizeX", "NaN"), ("instanceFilename", ["x"]),
    ("instanceFilename", {"a": 1}), ("instanceFilename", "n" * 300),
    ("instanceFilename", "nul\u0000char"), ("project", 10**30), ("reviewStart", "soon"),
    ("reviewStart", "99999999999999999999"), ("reviewUser", "me"), ("baseImage", 987654),
)  # fmt: skip


def test_image_update_bad_values_are_400_and_change_nothing(api, scene):
    before = state(api, scene)
    me = api.get("/api/user/current.json").json()["id"]
    for field, value in BAD_VALUES:
        body = {**scene["image"], field: me if value == "me" else value}
        response = api.put(f"/api/imageinstance/{scene['image']['id']}.json", json=body)
        assert response.status_code == 400, (field, value, response.text)
        assert_error(response, 400)
    assert state(api, scene) == before


@pytest.mark.parametrize(
    "body",
    [{}, {"baseImage": "abc", "project": "x"}, {"baseImage": None, "project": None},
     {"baseImage": [1], "project": 1}, {"project": "PROJECT", "baseImage": "BASE",
                                         "physicalSizeX": -1}],
)  # fmt: skip
def test_image_create_bad_bodies_are_400_and_change_nothing(api, scene, body):
    before = state(api, scene)
    base = abstract_image(api)
    body = {k: {"PROJECT": scene["project"]["id"], "BASE": base["id"]}.get(v, v)
            if isinstance(v, str) else v for k, v in body.items()}  # fmt: skip
    assert_error(api.post("/api/imageinstance.json", json=body), 400)
    assert state(api, scene) == before


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null", "", '{"project": '])
def test_image_update_non_object_body_is_400(api, scene, body):
    before = state(api, scene)
    assert_error(api.put(f"/api/imageinstance/{scene['image']['id']}.json", data=body), 400)
    assert state(api, scene) == before


def test_image_create_array_with_bad_elements_reports_each(api, scene):
    base = abstract_image(api)
    body = [{"baseImage": base["id"], "project": scene["project"]["id"]},
            {"baseImage": base["id"], "project": scene["project"]["id"]}, "junk"]  # fmt: skip
    response = api.post("/api/imageinstance.json", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == 206 and len(answer["data"]["errors"]) == 2


BAD_QUERIES = (
    "max=-1", "offset=-2", "max=abc", "sort=width&order=sideways", "width[lte]=abc",
    "created[gte]=notadate", "numberOfAnnotations[gte]=1.5", "id[in]=1,x",
    "baseImage[equals]=99999999999999999999999", "name[ilike]=a%00b", "max=1&max=2",
)  # fmt: skip


def test_image_listing_bad_parameters_are_400(api, scene):
    for query in BAD_QUERIES:
        response = api.get(f"/api/project/{scene['project']['id']}/imageinstance.json?{query}")
        assert response.status_code == 400, (query, response.text)
        assert_error(response, 400)


@pytest.mark.parametrize(
    "body",
    [{}, {"baseSlice": "x", "image": 1, "project": 1}, {"baseSlice": 987654, "image": "IMAGE",
                                                         "project": "PROJECT"},
     {"baseSlice": "SLICE", "image": 987654, "project": "PROJECT"},
     {"baseSlice": "SLICE", "image": "IMAGE", "project": 987654}],
)  # fmt: skip
def test_slice_create_bad_bodies_are_400_and_change_nothing(api, scene, body):
    before = state(api, scene)
    piece = before[1]["collection"][0]
    values = {"IMAGE": scene["image"]["id"], "PROJECT": scene["project"]["id"],
              "SLICE": piece["baseSlice"]}  # fmt: skip
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    assert_error(api.post("/api/sliceinstance.json", json=body), 400)
    assert state(api, scene) == before


def test_graphql_bad_arguments_are_errors_not_crashes(api, scene):
    project = scene["project"]["id"]
    for query in (
        f"{{ imageInstances(projectId: {project}, first: -5) {{ totalCount }} }}",
        f'{{ imageInstances(projectId: {project}, filters: [{{field: "width", op: "lte", '
        f'value: "wide"}}]) {{ totalCount }} }}',
        "{ imageInstance(id: 99999999999999999999999) { id } }",
        '{ sliceInstanceAt(imageInstanceId: 1, channel: "a", zStack: 0, time: 0) { id } }',
        "{ lastOpenedImageInstances(first: -1) { date } }",
    ):
        answer = api.gql(query)
        assert answer.get("errors"), (query, answer)
        code = answer["errors"][0]["extensions"]["code"]
        assert code in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), (query, answer)
