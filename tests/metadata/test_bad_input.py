"""Bad input to the property, description and attached-file routes: a clear 4xx JSON error,
nothing stored (no row, no file), never a 5xx (DESIGN.md "Security")."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from settings import Settings
from tests.conftest import DATA_DIR, base_settings
from tests.harness import assert_error
from tests.metadata.conftest import CLASSES, upload

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

HUGE = 99999999999999999999999
PROJECT = CLASSES["Project"]


def cases(scene: dict[str, Any], prop: dict[str, Any]) -> list[Any]:
    """(method, path, request keywords, status) for each bad request."""
    pid, x = scene["project"]["id"], prop["id"]
    of_project = f"/api/domain/{PROJECT}/{pid}/property.json"
    one = f"/api/domain/{PROJECT}/{pid}/property/{x}.json"
    described = f"/api/domain/{PROJECT}/{pid}/description.json"
    return [
        ("POST", of_project, {"data": "{not json"}, 400),
        ("POST", of_project, {"data": ""}, 400),
        ("POST", of_project, {"json": {}}, 400),
        ("POST", of_project, {"json": {"key": " ", "value": "v"}}, 400),
        ("POST", of_project, {"json": {"key": "k"}}, 400),
        ("POST", of_project, {"json": {"key": "k", "value": ""}}, 400),
        ("POST", of_project, {"json": {"key": "k" * 300, "value": "v"}}, 400),
        ("POST", of_project, {"json": {"key": {"x": 1}, "value": "v"}}, 400),
        ("POST", of_project, {"json": {"key": "k", "value": "a\u0000b"}}, 400),
        ("POST", "/api/property.json", {"json": {"key": "k", "value": "v"}}, 400),
        ("POST", "/api/property.json", {"json": {"domainClassName": "be.cytomine.domain.meta.Tag",
                                                 "domainIdent": pid, "key": "k", "value": "v"}},
         400),
        ("POST", "/api/property.json", {"json": {"domainClassName": PROJECT,
                                                 "domainIdent": 999999999, "key": "k",
                                                 "value": "v"}}, 404),
        ("POST", f"/api/domain/Nonsense/{pid}/property.json", {"json": {"key": "k", "value": "v"}},
         400),
        ("POST", f"/api/domain/{PROJECT}/999999999/property.json",
         {"json": {"key": "k", "value": "v"}}, 404),
        ("POST", f"/api/domain/{PROJECT}/{HUGE}/property.json",
         {"json": {"key": "k", "value": "v"}}, 400),
        ("GET", f"/api/domain/{CLASSES['ImageInstance']}/{pid}/property.json", {}, 404),
        ("GET", f"/api/domain/{PROJECT}/{pid}/property/999999999.json", {}, 404),
        ("GET", f"/api/domain/{PROJECT}/{pid}/key/nokey/property.json", {}, 404),
        ("GET", f"/api/project/{pid}/property.json", {"params": {"max": -1}}, 400),
        ("PUT", one, {"json": {"key": "k"}}, 400),
        ("PUT", one, {"json": {"id": x + 1, "key": "k", "value": "v"}}, 400),
        ("PUT", one, {"json": {"key": "k", "value": "v", "domainIdent": pid + 1}}, 400),
        ("PUT", f"/api/domain/{PROJECT}/{pid}/property/999999999.json",
         {"json": {"key": "k", "value": "v"}}, 404),
        ("DELETE", f"/api/domain/{PROJECT}/{pid}/property/999999999.json", {}, 404),
        ("GET", "/api/annotation/property/key.json", {}, 400),
        ("GET", "/api/annotation/property/key.json", {"params": {"idProject": "x"}}, 400),
        ("GET", "/api/imageinstance/property/key.json", {}, 400),
        ("GET", f"/api/user/1/imageinstance/{scene['image']['id']}/annotationposition.json",
         {}, 400),
        ("GET", f"/api/user/1/imageinstance/{scene['image']['id']}/annotationposition.json",
         {"params": {"key": "k", "bbox": "1,2,x,4"}}, 400),
        ("GET", f"/api/user/1/imageinstance/{scene['image']['id']}/annotationposition.json",
         {"params": {"key": "k", "bbox": "1,2,inf,4"}}, 400),
        ("POST", described, {"json": {}}, 400),
        ("POST", described, {"json": {"data": "  "}}, 400),
        ("POST", described, {"json": {"data": "first"}}, 200),
        ("POST", described, {"json": {"data": "second"}}, 409),
        ("PUT", described, {"json": {"data": ""}}, 400),
        ("PUT", f"/api/domain/{PROJECT}/999999999/description.json", {"json": {"data": "x"}},
         404),
        ("GET", "/api/attachedfile/999999999.json", {}, 404),
        ("GET", "/api/attachedfile/999999999/download", {}, 404),
        ("GET", f"/api/attachedfile/{HUGE}.json", {}, 400),
        ("DELETE", "/api/attachedfile/999999999.json", {}, 404),
        ("POST", "/api/attachedfile.json", {"json": {"x": 1}}, 400),
    ]  # fmt: skip


def test_bad_input_is_a_4xx_and_changes_nothing(api, scene):
    pid = scene["project"]["id"]
    prop = api.post(f"/api/domain/{PROJECT}/{pid}/property.json", json={"key": "k", "value": "v"})
    prop = prop.json()["property"]
    for method, path, kw, status in cases(scene, prop):
        response = api.request(method, path, **kw)
        if status == 200:
            assert response.status_code == 200, response.text
        else:
            assert_error(response, status)
    props = api.get(f"/api/project/{pid}/property.json").json()["collection"]
    assert [(p["key"], p["value"]) for p in props] == [("k", "v")]
    assert api.get("/api/attachedfile.json").json()["size"] == 0


def stored_files() -> set[str]:
    return {str(p) for p in DATA_DIR.rglob("*") if p.is_file()}


def test_bad_uploads_are_a_4xx_and_leave_no_file_nor_row(api, scene):
    pid = scene["project"]["id"]
    on = {"domainClassName": PROJECT, "domainIdent": pid}
    before = stored_files()
    bad = [
        (b"", {"name": "empty.txt", "params": on}, 400),
        (b"x", {"name": "a.txt", "params": {**on, "filename": "../../etc/passwd"}}, 400),
        (b"x", {"name": "a.txt", "params": {**on, "filename": "..\\evil"}}, 400),
        (b"x", {"name": "..", "params": on}, 400),
        (b"x", {"name": "bad\x07name.txt", "params": on}, 400),
        (b"x", {"name": "a.txt", "params": {**on, "filename": "line\nbreak.txt"}}, 400),
        (b"x", {"name": "a.txt", "params": {**on, "filename": "nul\u0000.txt"}}, 400),
        (b"x", {"name": "n" * 300, "params": on}, 400),
        (b"x", {"name": "a.txt", "params": {**on, "key": "k" * 300}}, 400),
        (b"x", {"name": "a.txt", "params": {"domainClassName": "Nonsense", "domainIdent": pid}},
         400),
        (b"x", {"name": "a.txt", "params": {"domainClassName": PROJECT,
                                             "domainIdent": 999999999}}, 404),
        (b"x", {"name": "a.txt", "params": {"domainClassName": PROJECT}}, 400),
        (b"x", {"name": "a.txt", "params": {**on, "domainIdent": "abc"}}, 400),
    ]  # fmt: skip
    for content, kw, status in bad:
        assert_error(upload(api, content, **kw), status)
    # a path in the part's name is cut to its last element, never followed
    cut = upload(api, b"x", name="../../../tmp/escape.txt", params=on)
    assert cut.status_code == 200 and cut.json()["filename"] == "escape.txt"
    assert len(stored_files() - before) == 1
    assert api.get("/api/attachedfile.json").json()["size"] == 1


@pytest.fixture
def settings() -> Settings:
    """A server taking uploads of at most 1 KiB."""
    from dataclasses import replace

    return replace(base_settings(), attached_max_bytes=1024)


def test_an_oversize_upload_is_413_and_leaves_nothing(api, scene):
    on = {"domainClassName": PROJECT, "domainIdent": scene["project"]["id"]}
    before = stored_files()
    assert_error(upload(api, b"x" * 1025, params=on), 413)
    assert upload(api, b"x" * 1024, params=on).status_code == 200
    assert len(stored_files() - before) == 1
    assert not [p for p in DATA_DIR.rglob(".upload-*")], "no staged file stays"


def test_an_upload_the_disk_cannot_hold_is_503_and_leaves_nothing(api, scene, monkeypatch):
    """The store keeps 64 MiB free: with less, an attached file is refused before a byte is
    written, with the wait the client should take."""
    on = {"domainClassName": PROJECT, "domainIdent": scene["project"]["id"]}
    before = stored_files()
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=1024))
    refused = upload(api, b"x" * 100, params=on)
    assert_error(refused, 503)
    assert int(refused.headers["Retry-After"]) > 0
    assert stored_files() == before
    assert api.get("/api/attachedfile.json").json()["size"] == 0


def _signed_post(api: Any, path: str, body: bytes, content_type: str, params: Any = None) -> Any:
    """A POST of raw `body` as `content_type`, signed as `api`'s user."""
    import requests

    from tests.harness import http_date, signature

    date = http_date()
    canonical = f"POST\n\n{content_type}\n{date}"
    signed = signature(api.private_key, canonical)
    headers = {"content-type": content_type, "date": date,
               "authorization": f"CYTOMINE {api.public_key}:{signed}"}  # fmt: skip
    return requests.post(api.base + path, params=params, data=body, headers=headers, timeout=60)


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; b=1",
                                          "multipart/"])  # fmt: skip
def test_a_multipart_upload_without_boundary_is_400_and_leaves_nothing(api, scene, content_type):
    """aiohttp refuses a multipart body without a boundary before any part is read: that is
    the client's mistake, not the server's."""
    on = {"domainClassName": PROJECT, "domainIdent": scene["project"]["id"]}
    before = stored_files()
    body = (b'--x\r\nContent-Disposition: form-data; name="files[]"; filename="a.txt"\r\n\r\n'
            b"hi\r\n--x--\r\n")  # fmt: skip
    assert_error(_signed_post(api, "/api/attachedfile.json", body, content_type, on), 400)
    # GraphQL's multipart requests are read by the same stager
    refused = _signed_post(api, "/graphql", body, content_type)
    assert refused.status_code == 400 and refused.json()["errors"], refused.text
    assert stored_files() == before
    assert api.get("/api/attachedfile.json").json()["size"] == 0
