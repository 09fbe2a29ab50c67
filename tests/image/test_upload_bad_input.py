"""The image server's bad input (DESIGN.md "Security", PIXELS.md §1–§4): each case of issue 12's
list gets a clear 4xx (a refused import: a 400 and its error status on the uploaded file),
leaves nothing half-imported (no image, no instance, no file being received), is never a 500
nor a redirect, and the server goes on answering."""

from __future__ import annotations

import importlib
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import IMAGES
from tests.factories import first_storage, imported, make_project, upload
from tests.harness import Api, assert_error, http_date, signature
from tests.imaging.pictures import flat, pyramid_tiff

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

#: Uploaded-file statuses (contract images-annotations.md §2.1).
ERROR_FORMAT, ERROR_DEPLOYMENT, ERROR_INTEGRITY = 11, 41, 61


def _png_claiming(path: Path, width: int, height: int) -> Path:
    """A PNG of a few hundred bytes whose header claims `width` × `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))  # fmt: skip
    return path


#: TIFF tags a hostile file may lie in.
IMAGE_WIDTH = 256


def _tiff_claiming(path: Path, tag: int, value: int) -> Path:
    """A tiled 512 × 512 RGB TIFF whose tag `tag` (a SHORT or a LONG) says `value`."""
    import tifffile

    from tests.imaging.pictures import pattern_array

    tifffile.imwrite(path, pattern_array(512, 512), tile=(256, 256), photometric="rgb")
    with tifffile.TiffFile(path) as tif:
        found = tif.pages[0].tags[tag]
        offset, kind = found.valueoffset, {3: "<H", 4: "<I"}[int(found.dtype)]
    data = bytearray(path.read_bytes())
    data[offset : offset + struct.calcsize(kind)] = struct.pack(kind, value)
    path.write_bytes(bytes(data))
    return path


def _zip_of_a_huge_file(path: Path) -> Path:
    """A few MB of zip holding one 1 GiB member (zeros), posing as a slide."""
    zeros = b"\0" * (16 * 1024**2)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("slide.tif", "w", force_zip64=True) as member,
    ):
        for _ in range(64):
            member.write(zeros)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    slide = pyramid_tiff(root / "slide.tif", 1500, 1100)
    truncated = root / "cut.tif"
    truncated.write_bytes(slide.read_bytes()[: slide.stat().st_size // 3])
    notes = root / "notes.txt"
    notes.write_bytes(b"not an image at all\n" * 50)
    return {
        "slide": slide,
        "png": flat(root / "small.png", 600, 400),
        "truncated": truncated,
        "text": notes,
        "zip bomb": _zip_of_a_huge_file(root / "slide.zip"),
        "pixel bomb": _png_claiming(root / "bomb.png", 10**6, 10**6),
        "zero width": _tiff_claiming(root / "flat.tif", IMAGE_WIDTH, 0),
        "lying png": _png_claiming(root / "liar.png", 800, 600),
        "cut png": _cut(flat(root / "whole.png", 600, 400), root / "cut.png"),
    }


def _cut(path: Path, target: Path) -> Path:
    """The first half of the file at `path`, at `target`."""
    data = path.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def _nothing_half_imported(api: Api, name: str, status: int) -> None:
    """The upload of `name` ended in `status` with no image, and no file is being received."""
    everything = api.get("/api/uploadedfile.json", params={"all": "true"}).json()["collection"]
    (refused,) = [row for row in everything if row["originalFilename"] == name]
    assert refused["status"] == status, refused
    assert api.get(f"/api/uploadedfile/{refused['id']}/abstractimage.json").status_code == 404
    assert not list((IMAGES / ".incoming").iterdir())


@pytest.mark.parametrize(("case", "status", "reason"), [
    ("text", ERROR_FORMAT, "not an image"),
    ("truncated", ERROR_INTEGRITY, "damaged or truncated"),
    ("zip bomb", ERROR_FORMAT, "not an image"),  # archives are never unpacked
    ("pixel bomb", ERROR_INTEGRITY, "decompression bomb"),
    ("zero width", ERROR_INTEGRITY, "damaged or truncated"),  # was a 500, stuck in status 60
    # small flat files are kept as they are: they were imported, their missing rows black
    ("lying png", ERROR_INTEGRITY, "damaged or truncated"),
    ("cut png", ERROR_INTEGRITY, "damaged or truncated"),
])  # fmt: skip
def test_refused_files_end_in_their_error_status_with_nothing_made(api, files, case, status,
                                                                    reason):  # fmt: skip
    project = make_project(api)
    refused = upload(api, files[case], project["id"], sync=True)
    assert refused.status_code == 400, refused.text
    (answer,) = refused.json()
    assert reason in answer["error"] and answer["files"][0]["error"] == answer["error"]
    _nothing_half_imported(api, files[case].name, status)
    assert api.get(f"/api/project/{project['id']}/imageinstance.json").json()["size"] == 0
    assert api.get("/api/abstractimage.json").json()["size"] == 0
    assert api.get("/api/project.json").status_code == 200


def test_a_file_name_with_dot_dots_stays_in_its_upload_folder(api, files):
    answer = upload(api, files["png"], name="../../etc/evil.png")
    stored = answer[0]["uploadedFile"]["filename"]
    assert stored.startswith("upload-") and stored.endswith("/evil.png") and ".." not in stored
    assert (IMAGES / stored).is_file() and not (IMAGES.parent / "etc" / "evil.png").exists()


def test_uploads_to_what_the_caller_cannot_write_store_nothing(api, make_user, files):
    stranger = make_user()
    denied = upload(stranger["api"], files["png"], storage=first_storage(api))
    assert denied.status_code == 403, denied.text
    missing = upload(api, files["png"], project=987654321)
    assert missing.status_code == 404 and "987654321" in missing.json()[0]["error"]
    assert upload(api, files["png"], storage=987654321).status_code == 404
    closed = make_project(api, isReadOnly=True, users=(stranger["id"],))
    own_storage = first_storage(stranger["api"])
    assert upload(stranger["api"], files["png"], closed["id"], storage=own_storage)\
        .status_code == 403  # fmt: skip
    assert api.get("/api/uploadedfile.json", params={"all": "true"}).json()["size"] == 0
    assert not list((IMAGES / ".incoming").iterdir())


@pytest.fixture
def slide(api: Api, files: dict[str, Path]) -> dict[str, Any]:
    project = make_project(api)
    _, instance, piece = imported(api, files["slide"], project["id"])
    return {"project": project, "image": f"/api/imageinstance/{instance['id']}",
            "slice": f"/api/sliceinstance/{piece['id']}", "instance": instance}  # fmt: skip


OUT_OF_RANGE = (
    "{slice}/normalized-tile/zoom/4/tx/0/ty/0.jpg",  # zooms 0–3
    "{slice}/normalized-tile/zoom/3/tx/6/ty/0.jpg",  # 6 columns at full resolution: 0–5
    "{slice}/normalized-tile/zoom/3/tx/0/ty/5.jpg",  # 5 rows: 0–4
    "{slice}/normalized-tile/zoom/0/tx/1/ty/0.jpg",
    "{image}/window-0-0-20000-20000.jpg",  # a 20 000 px window on a 1500 px image
    "{image}/window-0-0-20000-10.png",
    "{image}/window-1500-0-10-10.png",  # starts outside
    "{image}/window-0-0-0-10.png",  # no pixel
    "{slice}/camera-0-0-10001-10.png",
    "{image}/thumb.png?maxSize=20000",
    "{image}/thumb.png?maxSize=-3",
    "{image}/crop.png?location=POINT(5000 5000)",  # outside the image
    "{image}/crop.png?location=POLYGON((0 0, 10",  # not WKT
    "{image}/crop.png?location=POINT(10 10)&increaseArea=0",
    "{image}/crop.png?location=POINT(inf 0)",  # no pixel box (was a 500)
    "{image}/crop.png?location=POINT(10 10)&draw=true&thickness=1e300",  # was a 500
    "{slice}/normalized-tile/zoom/3/tx/0/ty/0.jpg?gammas=-1",
    "{slice}/normalized-tile/zoom/3/tx/0/ty/0.jpg?colormaps=%23zzz",
    "{slice}/normalized-tile/zoom/3/tx/0/ty/0.jpg?channels=7",
    "{image}/histogram.json?nBins=3",
)


def test_pixel_requests_out_of_range_are_400(api, slide):
    for tail in OUT_OF_RANGE:
        path = tail.format(**slide)
        assert_error(api.get(path), 400)
        assert_error(api.get(path), 400)  # the same with the checks reused
    assert api.get(f"{slide['slice']}/normalized-tile/zoom/3/tx/5/ty/4.jpg").status_code == 200


def test_a_crop_of_an_annotation_of_another_project_is_403(api, make_user, slide):
    member = make_user()
    make_project(api, users=(member["id"],))  # a project of their own, not the slide's
    annotation = api.post("/api/userannotation.json", json={
        "location": "POLYGON((10 10, 50 10, 50 50, 10 50, 10 10))",
        "image": slide["instance"]["id"]}).json()["annotation"]  # fmt: skip
    for path in (f"/api/userannotation/{annotation['id']}/crop.png",
                 f"/api/annotation/{annotation['id']}/crop.jpg",
                 f"/api/userannotation/{annotation['id']}/mask.png"):  # fmt: skip
        assert_error(member["api"].get(path), 403)
    assert api.get(f"/api/userannotation/{annotation['id']}/crop.png").status_code == 200


def test_a_crop_of_an_image_whose_file_is_missing_is_404(api, files):
    project = make_project(api)
    made = upload(api, files["png"], project["id"], sync=True)
    instance = made[0]["images"][0]["imageInstances"][0]
    folder = IMAGES / made[0]["uploadedFile"]["filename"].split("/")[0]
    for child in sorted(folder.rglob("*"), reverse=True):
        child.unlink() if not child.is_dir() else child.rmdir()
    for tail in ("crop.png?location=POINT(10 10)", "thumb.jpg", "window-0-0-10-10.png",
                 "download"):  # fmt: skip
        gone = api.get(f"/api/imageinstance/{instance['id']}/{tail}")
        assert "missing" in assert_error(gone, 404)["message"], tail
    assert api.get("/api/project.json").status_code == 200


def _post(api: Api, body: bytes, query: str) -> requests.Response:
    """POST /upload of a multipart body written by hand (boundary `b0undary`), signed."""
    content_type = "multipart/form-data; boundary=b0undary"
    date = http_date()
    auth = signature(api.private_key or "", f"POST\n\n{content_type}\n{date}")
    headers = {"content-type": content_type, "date": date,
               "authorization": f"CYTOMINE {api.public_key}:{auth}"}  # fmt: skip
    return requests.post(api.base + "/upload" + query, data=body, headers=headers, timeout=120)


def _part(disposition: bytes, data: bytes) -> bytes:
    return (b"--b0undary\r\nContent-Disposition: form-data; " + disposition
            + b"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n")  # fmt: skip


END = b"--b0undary--\r\n"


@pytest.mark.parametrize(("disposition", "kept"), [
    (b'name="files[]"; filename="caf\xe9.png"', "caf\ufffd.png"),  # Latin-1: was a 500
    (b"name=\"files[]\"; filename*=UTF-8''a%00b.png", "ab.png"),  # a NUL: was a 500
    (b'name="files[]"; filename="..."', "..."),
    (b'name="files[]"; filename=""', "image"),
])  # fmt: skip
def test_odd_file_names_are_kept_storable(api, files, disposition, kept):
    made = _post(api, _part(disposition, files["png"].read_bytes()) + END,
                 f"?idStorage={first_storage(api)}&sync=true")  # fmt: skip
    assert made.status_code == 200, made.text
    uploaded = made.json()[0]["uploadedFile"]
    assert uploaded["originalFilename"] == kept and uploaded["status"] == 100
    folder, name = uploaded["filename"].split("/")
    assert folder.startswith("upload-") and (IMAGES / folder / name).is_file()
    assert "." not in name[:1] and "\x00" not in name


def test_odd_multipart_bodies(api, files):
    query = f"?idStorage={first_storage(api)}&sync=true"
    png = files["png"].read_bytes()
    no_file = _post(api, _part(b'name="note"', b"text") + END, query)
    assert "no file" in assert_error_list(no_file, 400)
    assert _post(api, b"not multipart at all", query).status_code == 400
    two = _post(api, _part(b'name="files[]"; filename="one.png"', png)
                + _part(b'name="files[]"; filename="two.png"', png) + END, query)  # fmt: skip
    assert two.status_code == 200 and two.json()[0]["name"] == "one.png"
    empty = _post(api, _part(b'name="files[]"; filename="empty.png"', b"") + END, query)
    assert "not an image" in assert_error_list(empty, 400)
    everything = api.get("/api/uploadedfile.json", params={"all": "true"}).json()["collection"]
    assert sorted(row["originalFilename"] for row in everything) == ["empty.png", "one.png"]
    _nothing_half_imported(api, "empty.png", ERROR_FORMAT)


def assert_error_list(response: requests.Response, status: int) -> str:
    """PIMS's error answer of `POST /upload` with `status`; its message."""
    assert response.status_code == status, response.text
    (answer,) = response.json()
    assert answer["status"] == status and answer["files"][0]["error"] == answer["error"]
    return str(answer["error"])


@pytest.mark.parametrize("query", [
    "idStorage=99999999999999999999",  # beyond the 64-bit ids: was a 500
    "idStorage={storage}&idProject=99999999999999999999",
    "idStorage={storage}&keys=a%00b&values=x",  # PostgreSQL holds no NUL: was a 500 after
    "idStorage={storage}&keys=ab&values=x%00y",  # the image was made
])  # fmt: skip
def test_parameters_the_database_cannot_hold_are_400_and_store_nothing(api, files, query):
    project = make_project(api)
    body = _part(b'name="files[]"; filename="p.png"', files["png"].read_bytes()) + END
    tail = query.format(storage=first_storage(api))
    refused = _post(api, body, f"?{tail}&sync=true&idProject={project['id']}")
    assert_error_list(refused, 400)
    assert api.get("/api/uploadedfile.json", params={"all": "true"}).json()["size"] == 0
    assert api.get("/api/abstractimage.json").json()["size"] == 0
    assert not list((IMAGES / ".incoming").iterdir())


def test_a_refused_background_import_ends_in_its_error_status(api, server, files):
    project = make_project(api)
    started = upload(api, files["zero width"], project["id"], sync=False)
    assert started[0]["uploadedFile"]["status"] == 20 and started[0]["images"] == []
    server.finish_imports()
    _nothing_half_imported(api, files["zero width"].name, ERROR_INTEGRITY)  # was stuck at 60
    assert api.get(f"/api/project/{project['id']}/imageinstance.json").json()["size"] == 0


@pytest.mark.parametrize("step", ["imaging.importer.needs_conversion",
                                  "resolvers.image_import.save_properties"])  # fmt: skip
@pytest.mark.parametrize("sync", [True, False])
def test_an_import_failing_on_our_side_ends_in_an_error_status(api, server, files, monkeypatch,
                                                               step, sync):  # fmt: skip
    """A fault of the server's own (before, or while the image is being made) still ends the
    upload in an error status, with nothing made, and a 4xx."""
    module, name = step.rsplit(".", 1)

    def fault(*_: Any) -> Any:
        raise RuntimeError("a fault of the server's own")

    monkeypatch.setattr(importlib.import_module(module), name, fault)
    project = make_project(api)
    made = upload(api, files["png"], project["id"], sync=sync)
    if sync:
        assert "import failed" in assert_error_list(made, 400)
    server.finish_imports()
    _nothing_half_imported(api, files["png"].name, ERROR_DEPLOYMENT)
    assert api.get(f"/api/project/{project['id']}/imageinstance.json").json()["size"] == 0
    assert api.get("/api/abstractimage.json").json()["size"] == 0


def test_concurrent_identical_uploads_each_get_their_own_image(api, files):
    from concurrent.futures import ThreadPoolExecutor

    project = make_project(api)
    with ThreadPoolExecutor(3) as pool:
        made = list(pool.map(lambda _: upload(api, files["png"], project["id"]), range(3)))
    assert all(isinstance(answer, list) for answer in made), made
    stored = {answer[0]["uploadedFile"]["filename"] for answer in made}
    assert len(stored) == 3 and all((IMAGES / path).is_file() for path in stored)
    assert api.get(f"/api/project/{project['id']}/imageinstance.json").json()["size"] == 3


def test_garbage_if_none_match_is_a_full_answer(api, slide):
    tile = f"{slide['slice']}/normalized-tile/zoom/3/tx/0/ty/0.jpg"
    etag = api.get(tile).headers["ETag"]
    for sent in ("garbage", '"', ",,", "W/" + "x" * 4000, etag[:-2] + '"'):
        answer = api.get(tile, headers={"If-None-Match": sent})
        assert answer.status_code == 200 and answer.content, sent
    assert api.get(tile, headers={"If-None-Match": f"garbage, {etag}"}).status_code == 304


def _damage_second_tile(path: Path) -> Path:
    """The file at `path` with the data of the second tile of its full resolution replaced by
    garbage (the import's checks read other regions)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        offset, count = page.dataoffsets[1], page.databytecounts[1]
    data = bytearray(path.read_bytes())
    data[offset + 10 : offset + count] = (b"\xff\x00garbage" * count)[: count - 10]
    path.write_bytes(bytes(data))
    return path


def test_a_region_over_a_damaged_tile_is_400(api, tmp_path):
    damaged = _damage_second_tile(pyramid_tiff(tmp_path / "damaged.tif", 1500, 1100, "jpeg"))
    project = make_project(api)
    _, image, _ = imported(api, damaged, project["id"])
    for kind in ("png", "jpg"):
        answer = api.get(f"/api/imageinstance/{image['id']}/window-256-0-256-256.{kind}")
        assert_error(answer, 400)
        assert "damaged" in answer.json()["message"]
    # the rest of the image is served
    assert api.get(f"/api/imageinstance/{image['id']}/window-0-512-256-256.png").status_code == 200
