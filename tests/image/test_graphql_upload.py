"""`imageUpload`: an image uploaded through GraphQL (the GraphQL multipart request spec), checked
and imported as `POST /upload` does, the file streamed to disk (larger than the request body
limit here, which reading it whole would refuse)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from settings import Settings
from tests.conftest import IMAGES, base_settings
from tests.factories import first_storage, make_project
from tests.harness import Api, http_date, signature
from tests.imaging.pictures import flat

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

UPLOAD = """
mutation Upload($file: Upload!, $storage: Long!, $projects: [Long!]!, $sync: Boolean!) {
  imageUpload(input: {file: $file, storage: $storage, projects: $projects, sync: $sync,
                      properties: [{key: "stain", value: "HE"}]}) {
    uploadedFile { id status contentType originalFilename }
    images { abstractImage { id width height } imageInstances { id projectId } }
  }
}"""


@pytest.fixture
def settings() -> Settings:
    """Request bodies of at most 64 KiB (the files below are larger), uploads up to 4 MiB."""
    return replace(base_settings(), max_body_bytes=64 * 1024, upload_max_bytes=4 * 1024**2)


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = flat(tmp_path_factory.mktemp("gqlupload") / "slide.png", 900, 700)
    assert made.stat().st_size > 64 * 1024
    return made


def post_upload(
    api: Api, variables: dict[str, Any], files: dict[str, tuple[str, bytes]]
) -> requests.Response:
    """The multipart request of the spec: `operations`, `map`, then the files (`variables.file`
    ← the part named 0), signed as client 4.x signs (the content type carries the boundary)."""
    operations = json.dumps({"query": UPLOAD, "variables": {**variables, "file": None}})
    parts = {"map": (None, json.dumps({name: ["variables.file"] for name in files}))}
    prepared = requests.Request(
        "POST", api.base + "/graphql", files={"operations": (None, operations), **parts, **files}
    ).prepare()
    content_type = prepared.headers["Content-Type"]
    date = http_date()
    prepared.headers["Date"] = date
    auth = signature(api.private_key or "", f"POST\n\n{content_type}\n{date}")
    prepared.headers["Authorization"] = f"CYTOMINE {api.public_key}:{auth}"
    return requests.Session().send(prepared, timeout=120)


def _incoming() -> list[Path]:
    return list((IMAGES / ".incoming").iterdir())


def test_image_upload_imports_and_answers_the_images(api, picture):
    project = make_project(api)
    variables = {"storage": first_storage(api), "projects": [project["id"]], "sync": True}
    answer = post_upload(api, variables, {"0": (picture.name, picture.read_bytes())})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    made = body["data"]["imageUpload"]
    assert made["uploadedFile"]["status"] == 100
    assert made["uploadedFile"]["contentType"] == "PNG"
    assert made["uploadedFile"]["originalFilename"] == "slide.png"
    (image,) = made["images"]
    assert (image["abstractImage"]["width"], image["abstractImage"]["height"]) == (900, 700)
    (instance,) = image["imageInstances"]
    assert instance["projectId"] == project["id"]
    thumb = api.get(f"/api/imageinstance/{instance['id']}/thumb.png?maxSize=64")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/png"
    assert not _incoming()


def test_image_upload_in_the_background_answers_the_file_at_once(server, api, picture):
    answer = post_upload(api, {"storage": first_storage(api), "projects": [], "sync": False},
                         {"0": (picture.name, picture.read_bytes())})  # fmt: skip
    made = answer.json()["data"]["imageUpload"]
    assert made["images"] == []
    server.finish_imports()
    found = api.get(f"/api/uploadedfile/{made['uploadedFile']['id']}.json").json()
    assert found["status"] == 100, found


def test_image_upload_checks_the_storage_and_keeps_no_byte(api, make_user, picture):
    stranger = make_user()["api"]
    variables = {"storage": first_storage(api), "projects": [], "sync": True}
    answer = post_upload(stranger, variables, {"0": ("x.png", picture.read_bytes())})
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN", answer.text
    assert not _incoming()
    files = api.get("/api/uploadedfile.json", params={"all": "true"}).json()["collection"]
    assert files == []


def test_image_upload_of_a_file_that_is_not_an_image(api, tmp_path):
    answer = post_upload(api, {"storage": first_storage(api), "projects": [], "sync": True},
                         {"0": ("notes.txt", b"no pixels here\n" * 100)})  # fmt: skip
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", answer.text
    (made,) = api.get("/api/uploadedfile.json", params={"all": "true"}).json()["collection"]
    assert made["status"] == 11  # ERROR_FORMAT, and no image
    assert api.get(f"/api/uploadedfile/{made['id']}/abstractimage.json").status_code == 404


def test_image_upload_above_the_limit_is_413_and_keeps_nothing(api):
    big = b"\0" * (5 * 1024**2)
    answer = post_upload(api, {"storage": first_storage(api), "projects": [], "sync": True},
                         {"0": ("big.png", big)})  # fmt: skip
    assert answer.status_code == 413, answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert not _incoming()


def test_image_upload_file_must_be_a_multipart_part(api):
    answer = api.gql(UPLOAD, {"file": "not a file", "storage": first_storage(api),
                              "projects": [], "sync": True})  # fmt: skip
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", answer


def test_image_upload_by_cookie_needs_a_preflight_header(api, make_user, picture):
    user = make_user()
    browser = requests.Session()
    login = browser.post(
        api.base + "/api/authenticate?session=true",
        json={"username": user["username"], "password": "password-123"},
    )
    assert login.status_code == 200, login.text  # fmt: skip
    variables = {"storage": first_storage(user["api"]), "projects": [], "sync": True}
    files = {"0": (picture.name, picture.read_bytes())}

    def send(headers: dict[str, str]) -> requests.Response:
        operations = json.dumps({"query": UPLOAD, "variables": {**variables, "file": None}})
        return browser.post(api.base + "/graphql", headers=headers, timeout=60, files={
            "operations": (None, operations), "map": (None, '{"0": ["variables.file"]}'),
            **files})  # fmt: skip

    refused = send({})
    assert refused.status_code == 403, refused.text
    allowed = send({"Apollo-Require-Preflight": "true"})
    assert allowed.json()["data"]["imageUpload"]["uploadedFile"]["status"] == 100, allowed.text
