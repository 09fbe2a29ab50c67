"""Annotation crops, masks and alpha masks (decision 8, contract images-annotations.md §3.14,
§2.10): 404 and 403 first, then the built-in server (a JSON 4xx for an image without its file),
or a 502 from a relay to an unreachable external server; never a 500 nor a redirect. GET and
POST alike. tests/image/test_upload.py crops images that have files."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, assert_error, serve

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

SQUARE = "POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))"
TAILS = ("crop.png", "crop.jpg?maxSize=256&increaseArea=1.5", "crop.tif", "mask.png",
         "mask.jpg?complete=true", "alphamask.png?alpha=50", "alphamask.jpg")  # fmt: skip
REQUEST = """
query($id: Long!, $kind: PixelKind!, $format: String!) {
  annotationImageServerRequest(id: $id, kind: $kind, format: $format) {
    kind filePath format accept server { url }
  }
}
"""


def annotate(api: Api, image: int) -> dict[str, Any]:
    body = {"location": SQUARE, "image": image}
    return created(api.post("/api/annotation.json", json=body), "annotation")


def assert_no_image_server(response: Any) -> None:
    """The image has no file on the server (these tests' images are made through REST)."""
    assert response.status_code in (400, 404), response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "file" in response.json()["message"]


def test_crops_need_an_image_server_after_the_checks(api, scene, make_user):
    made = annotate(api, scene["image"]["id"])
    stranger = make_user()
    for tail in TAILS:
        for call in (api.get, api.post):
            assert_no_image_server(call(f"/api/userannotation/{made['id']}/{tail}"))
        assert_error(api.get(f"/api/userannotation/987654321/{tail}"), 404)
        assert_error(stranger["api"].get(f"/api/userannotation/{made['id']}/{tail}"), 403)
    # the client's dump() turns cropURL into the mask and alpha-mask URLs
    assert made["cropURL"].endswith(f"/api/userannotation/{made['id']}/crop.png")
    for call in (api.get, api.post):
        assert_no_image_server(call(f"/api/annotation/{made['id']}/crop.png"))
    assert_error(api.get("/api/annotation/987654321/crop.jpg"), 404)
    assert_error(stranger["api"].get(f"/api/annotation/{made['id']}/crop.png"), 403)
    assert_error(api.get(f"/api/annotation/{made['id']}/mask.png"), 404)  # not a route


def test_graphql_crop_request_checks_first(api, scene):
    made = annotate(api, scene["image"]["id"])
    answer = api.gql(REQUEST, {"id": made["id"], "kind": "CROP", "format": "png"})
    assert answer["data"]["annotationImageServerRequest"]["kind"] == "CROP", answer
    wrong = api.gql(REQUEST, {"id": made["id"], "kind": "THUMB", "format": "png"})
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", wrong
    missing = api.gql(REQUEST, {"id": 987654321, "kind": "CROP", "format": "png"})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND", missing


def test_with_an_unreachable_image_server_crops_are_described_and_502(settings, database_url):
    configured = replace(settings, image_server_url="http://127.0.0.1:9")
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        project = make_project(api)
        image = add_image(api, project["id"], abstract_image(api)["id"])
        made = annotate(api, image["id"])
        response = api.get(f"/api/userannotation/{made['id']}/alphamask.png")
        assert response.status_code == 502, response.text
        assert "127.0.0.1:9" in response.json()["message"]
        path = api.gql(
            'query($id: Long!) { sliceInstance(id: $id) { imageServerRequest(kind: THUMB, '
            'format: "png") { filePath } } }', {"id": made["slice"]},
        )["data"]["sliceInstance"]["imageServerRequest"]["filePath"]  # fmt: skip
        for kind, asked, fmt, accept in (("ALPHA_MASK", "jpg", "png", "image/png"),
                                         ("ALPHA_MASK", "webp", "webp", "image/webp"),
                                         ("MASK", "tif", "jpg", "image/jpeg"),
                                         ("CROP", "PNG", "png", "image/png")):  # fmt: skip
            found = api.gql(REQUEST, {"id": made["id"], "kind": kind, "format": asked})
            assert found["data"]["annotationImageServerRequest"] == {
                "kind": kind, "filePath": path, "format": fmt, "accept": accept,
                "server": {"url": "http://127.0.0.1:9"}}  # fmt: skip


def test_blinded_viewers_get_crops_but_never_the_file_path(settings, database_url):
    configured = replace(settings, image_server_url="http://127.0.0.1:9")
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        body = {"username": "crop-viewer", "firstname": "Crop", "lastname": "Viewer",
                "email": "crop@example.org", "password": "password-123"}  # fmt: skip
        user = created(api.post("/api/user.json", json=body), "user")
        keys = api.get(f"/api/user/{user['id']}/keys.json").json()
        contributor = api.as_keys(keys["publicKey"], keys["privateKey"])
        project = make_project(api, blindMode=True, users=(user["id"],))
        image = add_image(api, project["id"], abstract_image(api)["id"])
        made = annotate(contributor, image["id"])
        assert contributor.get(f"/api/userannotation/{made['id']}/crop.png").status_code == 502
        answer = contributor.gql(REQUEST, {"id": made["id"], "kind": "CROP", "format": "png"})
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", answer
        assert "errors" not in api.gql(REQUEST, {"id": made["id"], "kind": "CROP",
                                                 "format": "png"})  # fmt: skip


def test_reviewed_crops_and_the_generic_route_serve_either_kind(api, scene, make_user):
    made = annotate(api, scene["image"]["id"])
    started = api.put(f"/api/imageinstance/{scene['image']['id']}/review.json")
    assert started.status_code == 200, started.text
    accepted = api.post(f"/api/annotation/{made['id']}/review.json", json={})
    assert accepted.status_code == 200, accepted.text
    reviewed = accepted.json()["reviewedannotation"]["id"]
    for tail in ("crop.png", "mask.jpg", "alphamask.png"):
        assert_no_image_server(api.get(f"/api/reviewedannotation/{reviewed}/{tail}"))
        assert_error(api.get(f"/api/reviewedannotation/{made['id']}/{tail}"), 404)
        assert_error(api.get(f"/api/userannotation/{reviewed}/{tail}"), 404)
    assert_no_image_server(api.post(f"/api/annotation/{reviewed}/crop.png"))
    assert_no_image_server(api.get(f"/api/annotation/{made['id']}/crop.png"))
    assert_error(make_user()["api"].get(f"/api/reviewedannotation/{reviewed}/crop.png"), 403)
    kinds = "query($id: Long!, $r: Boolean) { annotationImageServerRequest(id: $id, kind: MASK," \
            ' format: "png", reviewed: $r) { kind } }'  # fmt: skip
    answer = api.gql(kinds, {"id": reviewed, "r": True})
    assert answer["data"]["annotationImageServerRequest"] == {"kind": "MASK"}, answer
    assert api.gql(kinds, {"id": reviewed, "r": False})["errors"][0]["extensions"][
        "code"] == "NOT_FOUND"  # fmt: skip
