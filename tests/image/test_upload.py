"""Uploads through the official client 4.3.0 and raw HTTP, and what the built-in image server
then serves (decision 8, contract images-annotations.md §2.1–§2.2, §2.10, §3.14; PIXELS.md).
Images are generated (position-encoded, lossless where the format allows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from tests.factories import first_storage, imported, make_project
from tests.harness import assert_error
from tests.imaging.pictures import expected, flat, pattern_array, pyramid_tiff, svs_like

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("uploads")
    return {
        "tiff": pyramid_tiff(root / "pyramid.tif", 1500, 1100),
        "svs": svs_like(root / "slide.svs", 2000, 1500),
        "jpeg": flat(root / "flat.jpg", 1300, 900),
        "png": flat(root / "small.png", 700, 500),
        "text": _text(root / "notes.txt"),
    }


def _text(path: Path) -> Path:
    path.write_bytes(b"not an image at all\n" * 50)
    return path


def _decode(data: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(data, "")
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                      shape=(image.height, image.width, image.bands))  # fmt: skip


@pytest.mark.parametrize(("name", "fmt", "size", "sync"), [
    ("tiff", "PYRTIFF", (1500, 1100), True), ("svs", "SVS", (2000, 1500), False),
    ("jpeg", "JPEG", (1300, 900), True), ("png", "PNG", (700, 500), False),
])  # fmt: skip
def test_client_upload_image_makes_a_viewable_image(server, client, api, pictures, tmp_path, name,
                                                    fmt, size, sync):  # fmt: skip
    from cytomine.models import ImageInstance, ImageInstanceCollection

    project = make_project(api)
    uploaded = client.upload_image(
        str(pictures[name]), first_storage(api), project["id"], sync=sync
    )
    assert uploaded, "upload_image returned False"
    assert uploaded.originalFilename == pictures[name].name
    if sync:
        (made,) = uploaded.images
        assert made["abstractImage"].width == size[0]
        assert len(made["imageInstances"]) == 1
    server.finish_imports()
    final = api.get(f"/api/uploadedfile/{uploaded.id}.json").json()
    assert (final["status"], final["contentType"]) == (100, fmt), final
    (image,) = ImageInstanceCollection().fetch_with_filter("project", project["id"])
    image = ImageInstance().fetch(image.id)
    assert (image.width, image.height) == size
    assert image.zoom == _zooms(*size)
    if name == "svs":
        assert (image.physicalSizeX, image.magnification) == (0.25, 40)
    target = tmp_path / "thumb.png"
    assert image.dump(str(target), max_size=256)
    thumb = pyvips.Image.new_from_file(str(target))
    assert max(thumb.width, thumb.height) == 256
    window = tmp_path / "window.png"
    assert image.window(300, 257, 40, 30, str(window))
    pixels = _decode(window.read_bytes())
    if name != "jpeg":
        assert np.array_equal(pixels[:, :, :3], pattern_array(340, 287)[257:, 300:])
    copy = tmp_path / "copy.bin"
    assert image.download(str(copy))
    assert copy.read_bytes() == pictures[name].read_bytes()


def _zooms(width: int, height: int) -> int:
    zooms = 0
    while width > 256 or height > 256:
        width, height, zooms = (width + 1) // 2, (height + 1) // 2, zooms + 1
    return zooms


def test_annotation_dump_crop_mask_and_alpha(client, api, pictures, tmp_path):
    from cytomine.models import Annotation, ImageInstanceCollection

    project = make_project(api)
    assert client.upload_image(str(pictures["png"]), first_storage(api), project["id"], sync=True)
    (image,) = ImageInstanceCollection().fetch_with_filter("project", project["id"])
    square = "POLYGON((100 300, 150 300, 150 250, 100 250, 100 300))"  # bottom-left origin
    annotation = Annotation(location=square, id_image=image.id).save()
    assert annotation.dump(str(tmp_path / "crop.png"))
    crop = _decode((tmp_path / "crop.png").read_bytes())
    assert crop.shape[:2] == (50, 50) and tuple(crop[0, 0, :3]) == expected(100, 200)
    assert annotation.dump(str(tmp_path / "mask.png"), mask=True)
    mask = _decode((tmp_path / "mask.png").read_bytes())
    assert mask[25, 25, 0] == 255
    assert annotation.dump(str(tmp_path / "alpha.png"), mask=True, alpha=True, increase_area=2)
    alpha = _decode((tmp_path / "alpha.png").read_bytes())
    assert alpha.shape == (100, 100, 4) and alpha[50, 50, 3] == 255 and alpha[1, 1, 3] == 0


def test_tiles_windows_etags_and_304(api, pictures):
    project = make_project(api)
    _, instance, piece = imported(api, pictures["tiff"], project["id"])
    tile = api.get(f"/api/sliceinstance/{piece['id']}/normalized-tile/zoom/3/tx/1/ty/1.png")
    assert tile.status_code == 200, tile.text
    assert tile.headers["Content-Type"] == "image/png"
    assert tile.headers["Cache-Control"].startswith("private")
    assert np.array_equal(_decode(tile.content), pattern_array(512, 512)[256:, 256:])
    etag = tile.headers["ETag"]
    again = api.get(f"/api/sliceinstance/{piece['id']}/normalized-tile/zoom/3/tx/1/ty/1.png",
                    headers={"If-None-Match": etag})  # fmt: skip
    assert again.status_code == 304 and not again.content
    head = api.request("HEAD", f"/api/imageinstance/{instance['id']}/thumb.jpg")
    assert head.status_code == 200 and not head.content
    for path in ("normalized-tile/zoom/9/tx/0/ty/0.jpg", "normalized-tile/zoom/3/tx/99/ty/0.jpg"):
        assert api.get(f"/api/sliceinstance/{piece['id']}/{path}").status_code == 400
    window = f"/api/imageinstance/{instance['id']}/window-0-0-20000-20000.png"
    assert "at most 10000 px" in assert_error(api.get(window), 400)["message"]
    shrunk = api.get(window + "?safe=true")  # allowed to shrink: clamped to the image
    assert shrunk.status_code == 200, shrunk.text
    assert _decode(shrunk.content).shape[:2] == (1100, 1500)
    assert api.get(f"/api/imageinstance/{instance['id']}/thumb.png?maxSize=20000").status_code \
        == 400  # fmt: skip
    bounds = api.get(f"/api/imageinstance/{instance['id']}/channelhistogram/bounds.json")
    assert bounds.status_code == 200 and bounds.json()["size"] == 3
    box = "POLYGON((0 0,600 0,600 400,0 400,0 0))"
    crop = f"/api/imageinstance/{instance['id']}/crop.png?geometry={box}"
    for query, side in (("", 256), ("&zoom=1", 256), ("&maxSize=100", 100)):  # as core: 256
        cropped = api.get(crop + query)  # unless maxSize says otherwise, whatever the zoom
        assert cropped.status_code == 200, cropped.text
        assert max(_decode(cropped.content).shape[:2]) == side
    formats = api.get("/api/imageserver/format.json").json()["collection"]
    assert {"PYRTIFF", "SVS", "JPEG", "PNG"} <= {f["id"] for f in formats}


def test_upload_keys_and_values_become_properties(client, api, pictures):
    uploaded = client.upload_image(str(pictures["png"]), first_storage(api),
                                   properties={"stain": "HE"}, sync=True)  # fmt: skip
    image = uploaded.images[0]["abstractImage"]
    found = api.get(f"/api/domain/be.cytomine.domain.image.AbstractImage/{image.id}/"
                    "property.json").json()  # fmt: skip
    assert {"key": "stain", "value": "HE"} in [
        {"key": p["key"], "value": p["value"]} for p in found["collection"]]  # fmt: skip
