"""What bounds an upload (PIXELS.md §4): the size limit (413) and the free space kept on the
images disk (507), checked on the declared length and again while the bytes stream in; and
imports a restart cut short, which the next start sets to their error status."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.upload import RESERVE
from imaging.store import ImageStore
from settings import Settings
from tests.conftest import IMAGES, base_settings
from tests.factories import first_storage, upload
from tests.harness import Api, serve

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

LIMIT = 256 * 1024


@pytest.fixture
def settings() -> Settings:
    return replace(base_settings(), upload_max_bytes=LIMIT)


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.png"
    path.write_bytes(os.urandom(LIMIT + 1024))
    return path


def _stored_nothing(api: Api) -> None:
    assert api.get("/api/uploadedfile.json", params={"all": "true"}).json()["size"] == 0
    assert not list((IMAGES / ".incoming").iterdir())


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "streamed"])
def test_an_upload_above_the_limit_is_413_and_stores_nothing(api, big, chunked):
    refused = upload(api, big, chunked=chunked)
    assert refused.status_code == 413, refused.text
    assert "upload limit" in refused.json()[0]["error"]
    _stored_nothing(api)


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "streamed"])
def test_an_upload_the_disk_cannot_hold_is_507_and_stores_nothing(api, monkeypatch, tmp_path,
                                                                   chunked):  # fmt: skip
    monkeypatch.setattr(ImageStore, "free_bytes", lambda self: RESERVE + 64 * 1024)
    path = tmp_path / "fits-the-limit.png"
    path.write_bytes(os.urandom(128 * 1024))
    refused = upload(api, path, chunked=chunked)
    assert refused.status_code == 507, refused.text
    assert "free space" in refused.json()[0]["error"]
    _stored_nothing(api)


def test_imports_a_restart_interrupted_end_in_their_error_status(api, settings, database_url):
    me = api.get("/api/user/current.json").json()["id"]
    made = {}
    for status in (0, 10, 20, 30, 60, 100, 104, 11):
        body = {"originalFilename": f"s{status}.tif", "filename": f"upload-x/s{status}.tif",
                "size": 1, "contentType": "", "storage": first_storage(api), "user": me,
                "status": status}  # fmt: skip
        answer = api.post("/api/uploadedfile.json", json=body)
        assert answer.status_code == 200, answer.text
        made[status] = answer.json()["uploadedfile"]["id"]
    with serve(settings, database_url) as restarted:  # the next start, on the same database
        again = api.as_keys(api.public_key, api.private_key)
        again.base = restarted.url
        after = {status: again.get(f"/api/uploadedfile/{file_id}.json").json()["status"]
                 for status, file_id in made.items()}  # fmt: skip
    # in progress → its error; uploaded (PIMS's own 0), done and failed ones are left alone
    assert after == {0: 0, 10: 11, 20: 21, 30: 31, 60: 61, 100: 100, 104: 104, 11: 11}
