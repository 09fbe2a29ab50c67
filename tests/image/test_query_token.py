"""A bearer token in the query string on pixel routes (contract images-annotations.md §2.10,
§3.14; core.md §2): `Authorization=Bearer …` everywhere, `auth=…` only where browsers embed
the URL in `<img>` tags (thumbnails and downloads of images, user-annotation crops), an HMAC
signature never from the query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.factories import imported, make_project
from tests.harness import Server
from tests.imaging.pictures import flat

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return flat(tmp_path_factory.mktemp("token") / "small.png", 600, 400)


@pytest.fixture
def browser(api: Any, make_user: Any, anonymous: Any, picture: Path) -> dict[str, Any]:
    """A member's login token, the image they uploaded to their project (downloadable), an
    annotation on it."""
    member = make_user()
    project = make_project(api, users=(member["id"],), areImagesDownloadable=True)
    _, instance, piece = imported(member["api"], picture, project["id"])  # their own storage
    annotation = member["api"].post(
        "/api/userannotation.json",
        json={"location": "POLYGON((10 10, 50 10, 50 50, 10 50, 10 10))", "image": instance["id"]},
    )
    assert annotation.status_code == 200, annotation.text  # fmt: skip
    login = anonymous.post(
        "/api/authenticate", json={"username": member["username"], "password": "password-123"}
    )
    assert login.status_code == 200, login.text  # fmt: skip
    return {"token": login.json()["token"], "instance": instance, "slice": piece,
            "abstract": instance["baseImage"],
            "annotation": annotation.json()["annotation"]}  # fmt: skip


def _get(server: Server, path: str, **params: str) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=30)


def test_auth_parameter_opens_img_sources(server, browser):
    token, instance = browser["token"], browser["instance"]["id"]
    for path in (f"/api/imageinstance/{instance}/thumb.png",
                 f"/api/abstractimage/{browser['abstract']}/thumb.jpg",
                 f"/api/imageinstance/{instance}/download",
                 f"/api/userannotation/{browser['annotation']['id']}/crop.png"):  # fmt: skip
        for params in ({"auth": token}, {"auth": f"Bearer {token}"},
                       {"Authorization": f"Bearer {token}"}):  # fmt: skip
            answer = _get(server, path, **params)
            assert answer.status_code == 200, (path, params, answer.text)
            assert not answer.headers["Content-Type"].startswith("application/json"), path


def test_auth_parameter_is_refused_where_the_contract_does_not_read_it(server, browser):
    token = browser["token"]
    tile = f"/api/sliceinstance/{browser['slice']['id']}/normalized-tile/zoom/1/tx/0/ty/0.jpg"
    for path in (tile, f"/api/imageinstance/{browser['instance']['id']}/window-0-0-10-10.png",
                 "/api/project.json", "/api/user/current.json"):  # fmt: skip
        assert _get(server, path, auth=token).status_code == 401, path
    # the Authorization parameter is read on every route (core.md §2)
    assert _get(server, tile, Authorization=f"Bearer {token}").status_code == 200


def test_query_token_must_be_a_live_bearer_token(server, api, browser):
    thumb = f"/api/imageinstance/{browser['instance']['id']}/thumb.png"
    assert _get(server, thumb, auth="not-a-token").status_code == 401
    assert _get(server, thumb, Authorization="Bearer not-a-token").status_code == 401
    signed = api.get(thumb).request.headers["authorization"]  # a valid signature, in the query
    assert _get(server, thumb, Authorization=signed).status_code == 401
    assert _get(server, thumb).status_code == 401
