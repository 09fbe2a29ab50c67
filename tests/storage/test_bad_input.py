"""Bad input on the storage side gets a clear 4xx JSON error, changes nothing, and is never a
500 nor a redirect (DESIGN.md "Security", contract core.md §1, §4.2, §5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Api, assert_error
from tests.storage.conftest import image, me, plane, slide, upload

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

HUGE = "99999999999999999999"


def state(api: Api) -> list[Any]:
    """Everything a storage-side change could touch, as REST lists it."""
    return [
        api.get("/api/storage.json", params={"all": "true"}).json()["collection"],
        api.get("/api/uploadedfile.json", params={"all": "true"}).json()["collection"],
        api.get("/api/abstractimage.json").json()["collection"],
    ]


@pytest.fixture
def picture(api: Api, storage_id: int) -> dict[str, Any]:
    return slide(api, storage_id, planes=2)


# --- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/storage.json", "/api/uploadedfile.json", "/api/abstractimage.json",
     "/api/abstractslice.json", "/api/companionfile.json"],
)  # fmt: skip
@pytest.mark.parametrize("body", ['{"name": ', "", '"text"', "42", "null"])
def test_create_malformed_bodies_are_400(api, picture, path, body):
    before = state(api)
    assert_error(api.post(path, data=body), 400)
    assert state(api) == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": {"a": 1}},
        {"name": ["x"]},
        {"name": "x" * 256},
        {"name": "a\u0000b"},
        {"name": "x", "userId": HUGE},
        {"name": "x", "user": 987654},
    ],
)
def test_storage_create_bad_fields_are_400(api, body):
    before = state(api)
    assert_error(api.post("/api/storage.json", json=body), 400)
    assert state(api) == before


def test_storage_update_bad_fields_are_400(api, storage_id):
    before = state(api)
    path = f"/api/storage/{storage_id}.json"
    for body in ({"name": ""}, {"name": {"x": 1}}, {"id": storage_id + 1, "name": "x"}):
        assert_error(api.put(path, json=body), 400)
    assert state(api) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"size": -1},
        {"size": 1e30},
        {"status": 2**40},
        {"projects": ["abc"]},
        {"storage": 987654},
        {"storage": None},
        {"user": 987654},
        {"parent": 987654},
        {"filename": ""},
        {"originalFilename": "a\u0000b"},
        {"contentType": "x" * 300},
        {"originalFilename": {"a": 1}},
    ],
)
def test_uploaded_file_bad_fields_are_400(api, storage_id, fields):
    before = state(api)
    body = {"originalFilename": "a.svs", "filename": "a.svs", "storage": storage_id,
            "user": me(api)["id"], **fields}  # fmt: skip
    assert_error(api.post("/api/uploadedfile.json", json=body), 400)
    assert state(api) == before


def test_uploaded_file_update_bad_fields_are_400(api, picture):
    file = picture["file"]
    before = state(api)
    path = f"/api/uploadedfile/{file['id']}.json"
    for change in ({"parent": file["id"]}, {"size": -5}, {"storage": HUGE}, {"user": None}):
        assert_error(api.put(path, json={**file, **change}), 400)
    assert state(api) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"width": 0},
        {"width": 2**40},
        {"depth": -1},
        {"physicalSizeX": -0.5},
        {"physicalSizeX": "Infinity"},
        {"resolution": 0},
        {"magnification": 0},
        {"originalFilename": ""},
        {"uploadedFile": 987654},
        {"uploadedFile": None},
        {"colorspace": "x" * 100},
    ],
)
def test_abstract_image_bad_fields_are_400(api, picture, fields):
    before = state(api)
    body = {"originalFilename": "a.svs", "uploadedFile": picture["file"]["id"], **fields}
    assert_error(api.post("/api/abstractimage.json", json=body), 400)
    assert_error(api.put(f"/api/abstractimage/{picture['id']}.json",
                         json={**picture, **fields}), 400)  # fmt: skip
    assert state(api) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"channel": -1},
        {"zStack": 2**40},
        {"mime": "text/plain"},
        {"image": 987654},
        {"image": None},
        {"channelName": "x" * 300},
    ],
)
def test_abstract_slice_bad_fields_are_400(api, picture, fields):
    before = api.get(f"/api/abstractimage/{picture['id']}/abstractslice.json").json()
    body = {"image": picture["id"], "zStack": 9, **fields}
    assert_error(api.post("/api/abstractslice.json", json=body), 400)
    piece = picture["slices"][0]
    assert_error(api.put(f"/api/abstractslice/{piece['id']}.json", json={**piece, **fields}), 400)
    assert api.get(f"/api/abstractimage/{picture['id']}/abstractslice.json").json() == before


@pytest.mark.parametrize(
    "fields", [{"progress": 101}, {"progress": -1}, {"type": "x" * 100}, {"filename": "  "}]
)
def test_companion_file_bad_fields_are_400(api, picture, fields):
    body = {"image": picture["id"], "filename": "p.h5", "type": "HDF5", **fields}
    assert_error(api.post("/api/companionfile.json", json=body), 400)
    listed = api.get(f"/api/abstractimage/{picture['id']}/companionfile.json").json()
    assert listed["size"] == 0


# --- paths and parameters --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/api/storage/{HUGE}.json",
        f"/api/storage/{HUGE}/user.json",
        f"/api/uploadedfile/{HUGE}.json",
        f"/api/uploadedfile/{HUGE}/download",
        f"/api/abstractimage/{HUGE}.json",
        f"/api/abstractimage/{HUGE}/thumb.png",
        f"/api/abstractslice/{HUGE}.json",
        f"/api/companionfile/{HUGE}.json",
        f"/api/imageserver/{HUGE}.json",
        "/api/uploadedfile.json?root=abc",
        "/api/uploadedfile.json?parent=abc",
        "/api/uploadedfile.json?max=-1",
        "/api/uploadedfile.json?offset=many",
        "/api/uploadedfile.json?sort=nothing",
        "/api/uploadedfile.json?order=sideways",
        "/api/uploadedfile.json?onlyRootsWithDetails=true&order=sideways",
        "/api/uploadedfile.json?onlyRootsWithDetails=true&created[gte]=yesterday",
        "/api/abstractimage.json?project=abc",
        "/api/abstractimage.json?width[gte]=wide",
        "/api/abstractimage.json?max=1&max=2",
        "/api/storage.json?max=-5",
    ],
)
def test_bad_paths_and_parameters_are_400(api, path):
    assert_error(api.get(path), 400)


def test_storage_member_huge_user_is_400(api, storage_id):
    before = api.get(f"/api/storage/{storage_id}/user.json").json()
    assert_error(api.post(f"/api/storage/{storage_id}/user/{HUGE}.json"), 400)
    assert_error(api.delete(f"/api/storage/{storage_id}/user/{HUGE}.json"), 400)
    assert api.get(f"/api/storage/{storage_id}/user.json").json() == before


@pytest.mark.parametrize(
    "tail",
    [
        "window-0-0-0-10.png",
        "window-0-0-10-0.png",
        f"window-0-0-{HUGE}-10.png",
        f"camera-{HUGE}-0-10-10.jpg",
    ],
)
def test_pixel_parameters_out_of_range_are_400(api, picture, tail):
    assert_error(api.get(f"/api/abstractimage/{picture['id']}/{tail}"), 400)


def test_tile_coordinates_out_of_range_are_400(api, picture):
    piece = picture["slices"][0]["id"]
    tail = f"normalized-tile/zoom/{HUGE}/tx/0/ty/0.jpg"
    assert_error(api.get(f"/api/abstractslice/{piece}/{tail}"), 400)


def test_graphql_bad_pixel_arguments_are_bad_input(api, picture):
    answer = api.gql(
        "query($id: Long!) { abstractImage(id: $id) {"
        ' imageServerRequest(kind: WINDOW, format: "png", x: -1, y: 0, width: 5, height: 5)'
        " { filePath } } }",
        {"id": picture["id"]},
    )
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_array_body_with_bad_elements_creates_the_good_ones(api, storage_id):
    file = upload(api, storage_id)
    picture = image(api, file)
    plane(api, picture)
    elements = [{"image": picture["id"], "zStack": 1}, {"image": picture["id"], "zStack": -1},
                "not an object", {"image": picture["id"], "zStack": 1}]  # fmt: skip
    response = api.post("/api/abstractslice.json", json=elements)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 206 and len(body["data"]["errors"]) == 3
    listed = api.get(f"/api/abstractimage/{picture['id']}/abstractslice.json").json()
    assert [s["zStack"] for s in listed["collection"]] == [0, 1]
