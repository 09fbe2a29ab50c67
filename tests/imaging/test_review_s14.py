"""Review of the built-in image server, uploads and downloads (PIXELS.md; contract
images-annotations.md §2.1–§2.2, §2.9–§2.10, §3.14): annotations on the image's border,
blind downloads (built-in and relayed), uploads naming a project twice, stored paths the disk
cannot look up, and a stored path registered again in another storage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from aiohttp import web

from tests.factories import abstract_image, add_image, first_storage, imported, make_project, upload
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, serve, stand_in_server
from tests.image.test_pixels import created_user
from tests.imaging.pictures import expected, pyramid_tiff

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

WIDTH, HEIGHT = 300, 200


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pyramid_tiff(tmp_path_factory.mktemp("s14") / "slide.tif", WIDTH, HEIGHT)


def _pixels(data: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(data, "")
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                      shape=(image.height, image.width, image.bands))  # fmt: skip


def _annotation(api: Api, image: int, wkt: str) -> int:
    made = api.post("/api/annotation.json", json={"location": wkt, "image": image})
    assert made.status_code == 200, made.text
    return int(made.json()["annotation"]["id"])


#: Geometries on the border of [0, width] × [0, height], and the pixel (x, y from the top)
#: a point's crop is.
ON_THE_BORDER = (
    (f"POINT ({WIDTH} {HEIGHT})", (WIDTH - 1, 0)),  # top-right corner
    (f"POINT ({WIDTH - 1} 0)", (WIDTH - 1, HEIGHT - 1)),  # on the bottom border
    (f"POINT (0 {HEIGHT // 2})", (0, HEIGHT - HEIGHT // 2)),  # on the left border
    (f"LINESTRING (0 0, {WIDTH} 0)", None),  # along the bottom border
    (f"LINESTRING ({WIDTH} 0, {WIDTH} {HEIGHT})", None),  # along the right border
)


def test_annotations_on_the_image_border_have_crops_and_masks(api, picture):
    """A point or line on the border of [0, width] × [0, height] is a valid annotation: its
    crop is the pixels it lies on (was a 400, "the geometry lies outside the image"), its
    masks white where it lies (were empty)."""
    _, instance, _ = imported(api, picture, make_project(api)["id"])
    for wkt, pixel in ON_THE_BORDER:
        annotation = _annotation(api, instance["id"], wkt)
        crop = api.get(f"/api/userannotation/{annotation}/crop.png")
        assert crop.status_code == 200, (wkt, crop.text)
        if pixel is not None:
            assert _pixels(crop.content)[0, 0, :3].tolist() == list(expected(*pixel)), wkt
        for kind in ("mask", "alphamask"):
            masked = api.get(f"/api/userannotation/{annotation}/{kind}.png")
            assert masked.status_code == 200, (wkt, kind, masked.text)
            assert _pixels(masked.content)[:, :, -1].max() == 255, (wkt, kind)


def test_a_blind_download_does_not_name_the_file(api, make_user, picture):
    """In a blind project a contributor never sees an image's name: a download (allowed by
    the project) is named after the image, not after the file (its name was the
    `Content-Disposition`)."""
    member = make_user()
    project = make_project(api, blindMode=True, areImagesDownloadable=True,
                           users=(member["id"],))  # fmt: skip
    _, instance, _ = imported(api, picture, project["id"])
    got = member["api"].get(f"/api/imageinstance/{instance['id']}/download")
    assert got.status_code == 200, got.text
    assert got.content == picture.read_bytes()
    named = got.headers["Content-Disposition"]
    assert picture.stem not in named and named.endswith(f'"image-{instance["id"]}.tif"'), named
    managed = api.get(f"/api/imageinstance/{instance['id']}/download")
    assert picture.name in managed.headers["Content-Disposition"]


@pytest.fixture
def exporting() -> Iterator[dict[str, Any]]:
    """A stand-in PIMS whose exports answer a few bytes and note the name asked for."""
    asked: list[str] = []

    async def export(request: web.Request) -> web.Response:
        asked.append(request.query.get("filename", ""))
        return web.Response(body=b"FILE", content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/{root}/{path:.*}/export", export)
    with stand_in_server(app) as url:
        yield {"url": url, "asked": asked}


def test_a_relayed_blind_download_does_not_name_the_file(settings, database_url, exporting):
    """The name a relayed export asks PIMS for is the image's too, never empty (PIMS then
    names the attachment after the file)."""
    with serve(replace(settings, image_server_url=exporting["url"]), database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        keys = created_user(api)
        member = api.as_keys(keys["publicKey"], keys["privateKey"])
        project = make_project(api, blindMode=True, areImagesDownloadable=True,
                               users=(keys["id"],))  # fmt: skip
        image = add_image(api, project["id"], abstract_image(api)["id"])
        got = member.get(f"/api/imageinstance/{image['id']}/download")
        assert got.status_code == 200, got.text
    (asked,) = exporting["asked"]
    assert asked.startswith(f"image-{image['id']}"), asked


def test_an_upload_naming_a_project_twice_adds_the_image_once(api, picture):
    """`idProject=5,5` (the web UI joins the chosen projects): one instance in the project,
    where it was a 409 that undid the whole import and left the file in error."""
    project = make_project(api)["id"]
    made = upload(api, picture, f"{project},{project}")  # type: ignore[arg-type]
    assert isinstance(made, list), made.text
    (image,) = made[0]["images"]
    assert [i["project"] for i in image["imageInstances"]] == [project]
    assert made[0]["uploadedFile"]["status"] == 100
    assert made[0]["uploadedFile"]["projects"] == [project]


@pytest.mark.parametrize("path", [
    "upload-" + "a" * 300 + "/slide.tif",  # an upload folder's name too long for the disk
    "a" * 300 + "/" + "b" * 300,
    "upload-x/" + "c" * 300 + ".tif",
])  # fmt: skip
def test_a_stored_path_the_disk_cannot_look_up_is_a_missing_file(api, path):
    """An uploaded file's `filename` is any text its storage's writers set (PIMS sets it so):
    a name the file system refuses to look up (too long) is a file missing from the disk,
    a 404, not a 500 (ENAMETOOLONG)."""
    me = api.get("/api/user/current.json").json()["id"]
    file = api.post("/api/uploadedfile.json", json={
        "originalFilename": "slide.tif", "filename": path, "storage": first_storage(api),
        "user": me, "size": 0, "contentType": "PYRTIFF", "ext": "",
    })  # fmt: skip
    assert file.status_code == 200, file.text
    file_id = file.json()["uploadedfile"]["id"]
    image = api.post("/api/abstractimage.json", json={
        "uploadedFile": file_id, "originalFilename": "slide.tif", "width": 100, "height": 100,
    })  # fmt: skip
    assert image.status_code == 200, image.text
    image_id = image.json()["abstractimage"]["id"]
    for tail in (f"uploadedfile/{file_id}/download", f"abstractimage/{image_id}/download",
                 f"abstractimage/{image_id}/thumb.png", f"abstractimage/{image_id}/metadata.json",
                 f"abstractimage/{image_id}/associated.json"):  # fmt: skip
        got = api.get(f"/api/{tail}")
        assert got.status_code == 404, (tail, got.status_code, got.text[:200])
        assert "missing" in got.json()["message"], tail


@pytest.mark.parametrize("disguise", ["{path}", "./{path}", "elsewhere/../{path}",
                                      "{folder}/other.tif", "{folder}"])  # fmt: skip
def test_a_project_member_cannot_download_by_registering_the_image_path(
    api, make_user, picture, disguise
):
    """A member of a project whose images are not downloadable sees an image's `path`; naming
    that path (or its folder, however written) as the `filename` of an uploaded file of their
    own storage must not hand them the file (nor its pixels): a stored path belongs to the
    storage it was uploaded to. Neither by a create nor by an update, and nothing changes."""
    member = make_user()
    project = make_project(api, areImagesDownloadable=False, users=(member["id"],))
    _, instance, _ = imported(api, picture, project["id"])
    own = member["api"]
    assert own.get(f"/api/imageinstance/{instance['id']}/download").status_code == 403
    path = own.get(f"/api/imageinstance/{instance['id']}.json").json()["path"]
    named = disguise.format(path=path, folder=path.split("/", 1)[0])
    body = {"originalFilename": "copy.tif", "filename": named, "storage": first_storage(own),
            "user": member["id"], "size": 0, "contentType": "PYRTIFF", "ext": ""}  # fmt: skip
    before = own.get("/api/uploadedfile.json").json()["collection"]
    refused = own.post("/api/uploadedfile.json", json=body)
    assert refused.status_code == 403, refused.text
    assert own.get("/api/uploadedfile.json").json()["collection"] == before
    mine = own.post("/api/uploadedfile.json", json={**body, "filename": "mine/copy.tif"})
    assert mine.status_code == 200, mine.text
    file_id = mine.json()["uploadedfile"]["id"]
    moved = own.put(f"/api/uploadedfile/{file_id}.json", json={**body, "id": file_id})
    assert moved.status_code == 403, moved.text
    assert own.get(f"/api/uploadedfile/{file_id}.json").json()["filename"] == "mine/copy.tif"


def test_a_folder_whose_name_starts_with_two_dots_belongs_to_its_storage(api, make_user):
    """`..x/` is a folder of the image store like any other (only `..` itself leaves it): a
    path in it that another storage's files name is refused too."""
    me = api.get("/api/user/current.json").json()
    body = {"originalFilename": "a.tif", "filename": "..x/a.tif", "size": 0,
            "contentType": "PYRTIFF", "ext": "tif"}  # fmt: skip
    mine = api.post("/api/uploadedfile.json",
                    json={**body, "storage": first_storage(api), "user": me["id"]})  # fmt: skip
    assert mine.status_code == 200, mine.text
    other = make_user()
    theirs = other["api"].post("/api/uploadedfile.json", json={
        **body, "storage": first_storage(other["api"]), "user": other["id"]})  # fmt: skip
    assert theirs.status_code == 403, theirs.text


def test_a_storage_registers_more_files_in_its_own_upload_folder(api, picture):
    """The image server registers the files it makes beside an upload (`processed/…`) in
    the upload's own storage: the folder rule leaves them be."""
    project = make_project(api)
    _, instance, _ = imported(api, picture, project["id"])
    path = api.get(f"/api/imageinstance/{instance['id']}.json").json()["path"]
    me = api.get("/api/user/current.json").json()
    child = api.post("/api/uploadedfile.json", json={
        "originalFilename": "visualisation.PYRTIFF", "storage": first_storage(api),
        "filename": f"{path.split('/', 1)[0]}/processed/visualisation.PYRTIFF",
        "user": me["id"], "size": 0, "contentType": "PYRTIFF", "ext": "tif",
    })  # fmt: skip
    assert child.status_code == 200, child.text
