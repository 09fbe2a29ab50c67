"""The typed `/api/userannotation` routes (contract images-annotations.md §9.9) serve user
annotations as the generic `/api/annotation` ones do."""

from __future__ import annotations

import pytest

from tests.harness import assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SQUARE = "POLYGON ((0 0, 0 100, 100 100, 100 0, 0 0))"


def test_create_show_update_delete_through_the_typed_routes(api, scene):
    tumour = scene["terms"]["Tumour"]
    body = {"location": SQUARE, "image": scene["image"]["id"], "term": [tumour]}
    made = api.post("/api/userannotation.json", json=body)
    assert made.status_code == 200, made.text
    annotation = made.json()["annotation"]
    assert made.json()["callback"]["userannotationID"] == str(annotation["id"])
    assert (annotation["location"], annotation["term"]) == (SQUARE, [tumour])
    assert annotation["area"] == 2500.0  # 10 000 px² at 0.5 µm/px
    path = f"/api/userannotation/{annotation['id']}.json"
    assert api.get(path).json() == api.get(f"/api/annotation/{annotation['id']}.json").json()
    moved = api.put(path, json={**annotation, "location": "POINT (10 20)"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["annotation"]["location"] == "POINT (10 20)"
    assert api.get(path).json()["location"] == "POINT (10 20)"
    assert_error(api.put(path, json={**annotation, "location": "POINT (nope)"}), 400)
    assert api.get(path).json()["location"] == "POINT (10 20)"
    assert api.delete(path).status_code == 200
    assert_error(api.get(path), 404)
