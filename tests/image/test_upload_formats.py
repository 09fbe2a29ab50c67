"""Formats beyond the plain pyramid (PIXELS.md §3–§5): OME-TIFF written by tifffile, as a
pyramid (sub-resolutions as SubIFDs) and flat (small: served as is; large: converted), checked
pixel by pixel; and images 8-bit rendering cannot show (16-bit, several planes), which import
with their true shape and answer a clear 400 wherever pixels are asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips

from tests.factories import imported, make_project
from tests.harness import Api, assert_error
from tests.imaging.pictures import multi_plane_ome, ome_tiff, pattern_array, sixteen_bit_tiff

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")


def _decode(data: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(data, "")
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                      shape=(image.height, image.width, image.bands))  # fmt: skip


def _imported(api: Api, path: Path) -> dict[str, Any]:
    project = make_project(api)
    made, instance, piece = imported(api, path, project["id"])
    return {"file": made[0]["uploadedFile"], "image": made[0]["images"][0]["image"],
            "instance": instance, "slice": piece}  # fmt: skip


@pytest.mark.parametrize(("size", "levels", "fmt", "converted"), [
    ((1300, 900), 3, "PYROMETIFF", False),
    ((700, 500), 1, "OMETIFF", False),
    ((1300, 900), 1, "OMETIFF", True),  # flat above 1024 px: a pyramid is made
])  # fmt: skip
def test_ome_tiff_imports_and_serves_exact_pixels(api, tmp_path, size, levels, fmt, converted):
    width, height = size
    made = _imported(api, ome_tiff(tmp_path / "slide.ome.tif", width, height, levels=levels))
    assert (made["file"]["status"], made["file"]["contentType"]) == (100, fmt)
    assert (made["image"]["width"], made["image"]["height"]) == size
    assert made["image"]["physicalSizeX"] == 0.5
    children = api.get("/api/uploadedfile.json", params={"parent": made["file"]["id"]}).json()
    assert [c["contentType"] for c in children["collection"]] == (["PYRTIFF"] if converted else [])
    expected = pattern_array(width, height)
    window = api.get(f"/api/imageinstance/{made['instance']['id']}/window-300-257-200-150.png")
    assert window.status_code == 200, window.text
    assert np.array_equal(_decode(window.content), expected[257:407, 300:500])
    zoom = 3 if width > 1024 else 2  # full resolution
    tile = api.get(f"/api/sliceinstance/{made['slice']['id']}/normalized-tile/zoom/{zoom}/tx/1"
                   "/ty/1.png")  # fmt: skip
    assert np.array_equal(_decode(tile.content), expected[256:512, 256:512])
    thumb = api.get(f"/api/imageinstance/{made['instance']['id']}/thumb.png?maxSize=130")
    assert _decode(thumb.content).shape[:2] == (round(130 * height / width), 130)


def test_a_16_bit_image_imports_and_refuses_to_render(api, tmp_path):
    made = _imported(api, sixteen_bit_tiff(tmp_path / "deep.tif", 600, 400))
    assert made["file"]["status"] == 100
    assert (made["image"]["bitPerSample"], made["image"]["samplePerPixel"]) == (16, 1)
    image, piece = made["instance"]["id"], made["slice"]["id"]
    for path in (f"/api/imageinstance/{image}/thumb.png",
                 f"/api/imageinstance/{image}/window-0-0-10-10.png",
                 f"/api/sliceinstance/{piece}/normalized-tile/zoom/0/tx/0/ty/0.jpg",
                 f"/api/imageinstance/{image}/histogram.json"):  # fmt: skip
        assert "16-bit" in assert_error(api.get(path), 400)["message"], path
    assert api.get(f"/api/imageinstance/{image}/metadata.json").status_code == 200


def test_a_stack_of_planes_imports_one_slice_each_and_refuses_to_render(api, tmp_path):
    made = _imported(api, multi_plane_ome(tmp_path / "stack.ome.tif", 300, 200, planes=3))
    assert made["file"]["status"] == 100
    assert (made["image"]["depth"], made["image"]["channels"]) == (3, 1)
    slices = api.get(f"/api/imageinstance/{made['instance']['id']}/sliceinstance.json").json()
    assert sorted(s["zStack"] for s in slices["collection"]) == [0, 1, 2]
    assert made["slice"]["zStack"] == 1  # the median plane
    tile = f"/api/sliceinstance/{made['slice']['id']}/normalized-tile/zoom/0/tx/0/ty/0.png"
    assert "several planes" in assert_error(api.get(tile), 400)["message"]
