"""Pixel endpoints of image instances and slice instances (decision 8, contract
images-annotations.md §2.10, §9.4–§9.5): routed, 404 and 403 decided first (blind mode, the
download flag), then the built-in image server, which answers a clear JSON 4xx for an image
whose file it does not hold; a relay to an unreachable external server is a 502; never a 500
nor a redirect. tests/image/test_upload.py covers images with files."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.factories import abstract_image, add_image, make_project
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, serve

IMAGE_TAILS = (
    "thumb.png", "thumb.jpg?maxSize=256", "preview.webp", "associated.json",
    "associated/macro.png", "crop.png?location=POINT(1 1)", "window-0-0-100-100.jpg",
    "camera-10-10-20-20.png", "histogram.json", "histogram/bounds.json",
    "channelhistogram.json", "channelhistogram/bounds.json",
)  # fmt: skip
SLICE_TAILS = (
    "thumb.png", "crop.jpg", "window-0-0-10-10.png", "camera-0-0-10-10.png",
    "normalized-tile/zoom/2/tx/1/ty/0.jpg", "histogram.json", "histogram/bounds.json",
    "channelhistogram.json", "channelhistogram/bounds.json",
)  # fmt: skip
pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

POSTED = ("thumb.png", "preview.webp", "associated/macro.png", "crop.png",
          "window-0-0-100-100.jpg", "camera-10-10-20-20.png")  # fmt: skip


@pytest.fixture
def scene(api: Api, make_user: Any) -> dict[str, Any]:
    """A blind project (images not downloadable) with a manager and a contributor, an open
    downloadable project with the same contributor, one image in each, and a stranger."""
    manager, contributor, stranger = make_user(), make_user(), make_user()
    blind = make_project(api, blindMode=True, admins=(manager["id"],),
                         users=(contributor["id"],))  # fmt: skip
    open_ = make_project(api, areImagesDownloadable=True, users=(contributor["id"],))
    hidden = add_image(api, blind["id"], abstract_image(api)["id"])
    shown = add_image(api, open_["id"], abstract_image(api)["id"])
    piece = api.get(f"/api/imageinstance/{hidden['id']}/sliceinstance.json").json()
    return {"manager": manager["api"], "contributor": contributor["api"],
            "stranger": stranger["api"], "hidden": hidden, "shown": shown,
            "slice": piece["collection"][0]}  # fmt: skip


def created_user(api: Api) -> dict[str, Any]:
    """A user made on a server of this module's own; its JSON with its keys."""
    body = {"username": "pixel-viewer", "firstname": "Pix", "lastname": "El",
            "email": "pix@example.org", "password": "password-123"}  # fmt: skip
    user = api.post("/api/user.json", json=body).json()["user"]
    return {**user, **api.get(f"/api/user/{user['id']}/keys.json").json()}


def assert_no_image_server(response: Any) -> None:
    """The image has no file on the server (these tests' images are made through REST)."""
    assert response.status_code in (400, 404), response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "file" in response.json()["message"]


def test_image_pixels_need_an_image_server_after_the_checks(scene):
    image = scene["shown"]["id"]
    for tail in IMAGE_TAILS:
        assert_no_image_server(scene["contributor"].get(f"/api/imageinstance/{image}/{tail}"))
        denied = scene["stranger"].get(f"/api/imageinstance/{image}/{tail}")
        assert denied.status_code == 403, (tail, denied.text)
        unknown = scene["contributor"].get(f"/api/imageinstance/987654/{tail}")
        assert unknown.status_code == 404, (tail, unknown.text)
    for tail in POSTED:
        assert_no_image_server(scene["contributor"].post(f"/api/imageinstance/{image}/{tail}"))


def test_slice_pixels_need_an_image_server_after_the_checks(scene):
    piece = scene["slice"]["id"]
    for tail in SLICE_TAILS:
        assert_no_image_server(scene["contributor"].get(f"/api/sliceinstance/{piece}/{tail}"))
        denied = scene["stranger"].get(f"/api/sliceinstance/{piece}/{tail}")
        assert denied.status_code == 403, (tail, denied.text)
        unknown = scene["contributor"].get(f"/api/sliceinstance/987654/{tail}")
        assert unknown.status_code == 404, (tail, unknown.text)


def test_blind_image_labels_and_metadata_are_403_for_contributors_only(scene):
    image = scene["hidden"]["id"]
    for tail in ("associated/macro.png", "associated/label.jpg", "metadata.json"):
        response = scene["contributor"].get(f"/api/imageinstance/{image}/{tail}")
        assert response.status_code == 403, (tail, response.text)
        assert_no_image_server(scene["manager"].get(f"/api/imageinstance/{image}/{tail}"))
    for tail in ("associated.json", "thumb.png"):
        assert_no_image_server(scene["contributor"].get(f"/api/imageinstance/{image}/{tail}"))
    open_image = scene["shown"]["id"]
    assert_no_image_server(
        scene["contributor"].get(f"/api/imageinstance/{open_image}/metadata.json")
    )


def test_image_download_needs_the_project_flag_or_a_manager(scene):
    hidden, shown = scene["hidden"]["id"], scene["shown"]["id"]
    response = scene["contributor"].get(f"/api/imageinstance/{hidden}/download")
    assert response.status_code == 403, response.text
    assert_no_image_server(scene["manager"].get(f"/api/imageinstance/{hidden}/download"))
    assert_no_image_server(scene["contributor"].get(f"/api/imageinstance/{shown}/download"))


def test_pixel_bad_parameters_are_400_before_the_image_server(scene):
    image = scene["shown"]["id"]
    contributor = scene["contributor"]
    assert contributor.get(f"/api/imageinstance/{image}/window-0-0-0-10.png").status_code == 400
    piece = scene["slice"]["id"]
    assert contributor.get(f"/api/sliceinstance/{piece}/preview.png").status_code == 404


def test_pixels_relayed_to_an_unreachable_image_server_are_502(settings, database_url):
    configured = replace(settings, image_server_url="http://127.0.0.1:9")
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        project = make_project(api)
        image = add_image(api, project["id"], abstract_image(api)["id"])
        response = api.get(f"/api/imageinstance/{image['id']}/thumb.png")
        assert response.status_code == 502, response.text
        assert "127.0.0.1:9" in response.json()["message"]
        found = api.gql("query($id: Long!) { imageInstance(id: $id) { imageServerRequest("
                        "kind: THUMB, format: \"png\") { kind filePath accept } } }",
                        {"id": image["id"]})  # fmt: skip
        assert found["data"]["imageInstance"]["imageServerRequest"] == {
            "kind": "THUMB", "filePath": image["path"], "accept": "image/png"}  # fmt: skip


def test_blinded_viewers_get_pixels_but_never_the_file_path(settings, database_url):
    configured = replace(settings, image_server_url="http://127.0.0.1:9")
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        keys = created_user(api)
        contributor = api.as_keys(keys["publicKey"], keys["privateKey"])
        project = make_project(api, blindMode=True, users=(keys["id"],))
        image = add_image(api, project["id"], abstract_image(api)["id"])
        assert contributor.get(f"/api/imageinstance/{image['id']}/thumb.png").status_code == 502
        for query in (
            "query($id: Long!) { imageInstance(id: $id) { imageServerRequest(kind: THUMB, "
            'format: "png") { filePath } } }',
            "query($id: Long!) { imageInstance(id: $id) { slices { imageServerRequest("
            'kind: THUMB, format: "png") { filePath } } } }',
        ):
            answer = contributor.gql(query, {"id": image["id"]})
            assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", answer
