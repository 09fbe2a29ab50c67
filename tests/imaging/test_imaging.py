"""The image server's parts without HTTP: pyramid maths, format detection, readers, renders
(exact where lossless), straight JPEG tiles, crops and masks, histograms, import steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from imaging import importer
from imaging.errors import BadPixelRequest, FileMissing
from imaging.formats import detect_format
from imaging.histogram import compute, shaped
from imaging.operations import PixelQuery, plan
from imaging.pyramid import tiers, tile_box, zoom_levels
from imaging.readers import SlideCache, open_slide
from imaging.render import Source, run
from imaging.store import ImageStore, sanitise
from tests.imaging.pictures import expected, flat, pattern_array, pyramid_tiff, svs_like


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pictures")
    return {
        "pyr": pyramid_tiff(root / "p.tif", 1500, 1100),
        "pyrjpeg": pyramid_tiff(root / "pj.tif", 2048, 1024, compression="jpeg"),
        "svs": svs_like(root / "s.svs", 2000, 1500),
        "png": flat(root / "f.png", 700, 500),
        "jpg": flat(root / "f.jpg", 1300, 900),
        "webp": flat(root / "f.webp", 300, 200),
        "text": _write(root / "notes.txt", b"hello, not an image\n" * 10),
        "truncated": _truncated(root / "p.tif", root / "t.tif"),
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 3])
    return target


def _decode(data: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(data, "")
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                      shape=(image.height, image.width, image.bands))  # fmt: skip


def _source(path: Path, fmt: str, width: int, height: int) -> Source:
    return Source(str(path), fmt, width, height)


# --- pyramid maths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "zooms"),
    [
        ((256, 256), 0),
        ((257, 10), 1),
        ((513, 513), 2),
        ((512, 100), 1),
        ((30000, 20000), 7),
        ((1, 1), 0),
    ],
)
def test_zoom_levels_halve_rounding_up(size, zooms):
    assert zoom_levels(*size) == zooms
    assert len(tiers(*size)) == zooms + 1


def test_edge_tiles_are_smaller_and_out_of_range_is_400():
    box, w, h = tile_box(1500, 1100, 3, 5, 4)
    assert (w, h) == (1500 - 5 * 256, 1100 - 4 * 256)
    assert (box.left, box.top) == (1280, 1024)
    box, w, h = tile_box(1500, 1100, 0, 0, 0)  # 1500 → 750 → 375 → 188
    assert (w, h) == (188, 138) and box.width == 1500
    for zoom, tx, ty in ((4, 0, 0), (3, 6, 0), (3, 0, 5), (-1, 0, 0)):
        with pytest.raises(BadPixelRequest):
            tile_box(1500, 1100, zoom, tx, ty)


# --- formats and readers ---------------------------------------------------------------------


def test_formats_are_detected_from_the_bytes(files):
    found = {name: detect_format(path) for name, path in files.items()}
    assert found == {
        "pyr": "PYRTIFF",
        "pyrjpeg": "PYRTIFF",
        "svs": "SVS",
        "png": "PNG",
        "jpg": "JPEG",
        "webp": "WEBP",
        "text": None,
        "truncated": found["truncated"],
    }


def test_readers_describe_levels_calibration_and_associated_images(files):
    pyr = open_slide(files["pyr"], "PYRTIFF")
    assert (pyr.width, pyr.height, pyr.bands, pyr.bits) == (1500, 1100, 3, 8)
    assert [(lv.width, lv.height) for lv in pyr.levels] == [
        (1500, 1100),
        (750, 550),
        (375, 275),
        (187, 137),
    ]
    assert pyr.mpp_x is None
    svs = open_slide(files["svs"], "SVS")
    assert (svs.width, svs.height, svs.mpp_x, svs.magnification) == (2000, 1500, 0.25, 40)
    assert svs.associated_names() == ["label", "macro", "thumbnail"]
    with pytest.raises(FileMissing):
        open_slide(files["pyr"].with_name("gone.tif"), "PYRTIFF")


# --- renders ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pyr", "svs", "png"])
def test_windows_are_exact_at_known_positions(files, name):
    fmt = {"pyr": "PYRTIFF", "svs": "SVS", "png": "PNG"}[name]
    slide = open_slide(files[name], fmt)
    source = _source(files[name], fmt, slide.width, slide.height)
    job = plan(source, PixelQuery("WINDOW", "png", x=300, y=257, width=40, height=30)).job
    pixels = _decode(run(job, SlideCache()))
    assert pixels.shape == (30, 40, 3)
    assert np.array_equal(pixels, pattern_array(340, 287)[257:, 300:])


def test_tiles_of_zooms_0_to_3_stitched_equal_the_thumbnail(files):
    source = _source(files["pyr"], "PYRTIFF", 1500, 1100)
    slides = SlideCache()
    for zoom in range(4):
        tier_w, tier_h = tiers(1500, 1100)[3 - zoom]
        canvas = np.zeros((tier_h, tier_w, 3), np.int16)
        for ty in range(-(-tier_h // 256)):
            for tx in range(-(-tier_w // 256)):
                job = plan(source, PixelQuery("NORMALIZED_TILE", "jpg", zoom=zoom, tx=tx,
                                              ty=ty)).job  # fmt: skip
                tile = _decode(run(job, slides))
                canvas[ty * 256 : ty * 256 + tile.shape[0], tx * 256 : tx * 256 + tile.shape[1]] = (
                    tile
                )
        length = max(tier_w, tier_h)
        thumb = _decode(
            run(
                plan(source, PixelQuery("THUMB", "png", query={"maxSize": str(length)})).job, slides
            )
        )
        assert thumb.shape == canvas.shape
        assert np.abs(canvas - thumb).mean() < 6, zoom


def test_interior_jpeg_tiles_are_copied_straight_from_the_file(files):
    source = _source(files["pyrjpeg"], "PYRTIFF", 2048, 1024)
    job = plan(source, PixelQuery("NORMALIZED_TILE", "jpg", zoom=3, tx=2, ty=1)).job
    data = run(job, SlideCache())
    stored = pyvips.Image.new_from_file(str(files["pyrjpeg"])).crop(512, 256, 256, 256)
    assert np.array_equal(
        _decode(data),
        np.ndarray(buffer=stored.write_to_memory(), dtype=np.uint8, shape=(256, 256, 3)),
    )
    assert b"JFIF" not in data[:40]  # not re-encoded by libvips
    viewer = {"channels": "0,1,2", "minIntensities": "0,0,0", "maxIntensities": "255,255,255",
              "gammas": "1,1,1", "colormaps": "#f00,#0f0,#00f"}  # fmt: skip
    same = plan(source, PixelQuery("NORMALIZED_TILE", "jpg", viewer, zoom=3, tx=2, ty=1)).job
    assert run(same, SlideCache()) == data
    inverted = plan(source, PixelQuery("NORMALIZED_TILE", "jpg", {"inverse": "true"}, zoom=3,
                                       tx=2, ty=1)).job  # fmt: skip
    assert run(inverted, SlideCache()) != data


def test_thumbnails_keep_the_aspect_and_sizes_are_bounded(files):
    source = _source(files["svs"], "SVS", 2000, 1500)
    thumb = _decode(run(plan(source, PixelQuery("THUMB", "jpg")).job, SlideCache()))
    assert thumb.shape == (384, 512, 3)
    preview = plan(source, PixelQuery("PREVIEW", "png")).job
    assert (preview.out_width, preview.out_height) == (1024, 768)
    with pytest.raises(BadPixelRequest):
        plan(
            source,
            PixelQuery("WINDOW", "png", x=0, y=0, width=20000, height=20000).__class__(
                "THUMB", "png", {"maxSize": "20000"}
            ),
        )
    shrunk = plan(source, PixelQuery("THUMB", "png", {"maxSize": "20000"}, safe=True))
    assert shrunk.headers == {"X-Image-Size-Limit": "10000"}


def test_annotation_crops_masks_and_alpha_masks_cover_the_geometry(files):
    height = 1100
    source = _source(files["pyr"], "PYRTIFF", 1500, height)
    square = f"POLYGON((100 {height - 200}, 150 {height - 200}, 150 {height - 250}, " \
             f"100 {height - 250}, 100 {height - 200}))"  # fmt: skip
    crop = _decode(run(plan(source, PixelQuery("CROP", "png", geometry=square)).job,
                       SlideCache()))  # fmt: skip
    assert crop.shape == (50, 50, 3)
    assert tuple(crop[0, 0]) == expected(100, 200)
    mask = _decode(run(plan(source, PixelQuery("MASK", "png", geometry=square)).job, SlideCache()))
    assert mask.shape[:2] == (50, 50) and mask[25, 25, 0] == 255
    grown = plan(source, PixelQuery("ALPHA_MASK", "png", {"increaseArea": "2"},
                                    geometry=square)).job  # fmt: skip
    alpha = _decode(run(grown, SlideCache()))
    assert alpha.shape == (100, 100, 4)
    assert alpha[50, 50, 3] == 255 and alpha[2, 2, 3] == 0
    assert tuple(alpha[50, 50, :3]) == expected(125, 225)
    drawn = _decode(run(plan(source, PixelQuery("CROP", "png", {"draw": "true"},
                                                geometry=square)).job, SlideCache()))  # fmt: skip
    assert tuple(drawn[0, 0]) == (255, 0, 0)
    point = plan(source, PixelQuery("CROP", "png", geometry=f"POINT(10 {height - 10})")).job
    assert (point.out_width, point.out_height) == (1, 1)
    with pytest.raises(BadPixelRequest):
        plan(source, PixelQuery("CROP", "png", geometry="POLYGON((0 0, 1"))
    with pytest.raises(BadPixelRequest):
        plan(source, PixelQuery("CROP", "png", geometry="POINT(99999 99999)"))


def test_histograms_count_the_whole_image(files):
    slide = open_slide(files["png"], "PNG")
    data = compute(slide)
    assert sum(data["bands"][0]) == 700 * 500
    bounds = shaped(data, "channels-bounds", None, (0, 0, 0))
    assert [(b["apparentChannel"], b["minimum"], b["maximum"]) for b in bounds] == [
        (0, 0, 255),
        (1, 0, 255),
        (2, 0, 3),
    ]
    image = shaped(data, "image", "16", (0, 0, 0))
    assert image["nBins"] == 16 and sum(image["histogram"]) == 3 * 700 * 500
    with pytest.raises(BadPixelRequest):
        shaped(data, "image", "3", (0, 0, 0))


# --- import steps ----------------------------------------------------------------------------


def test_import_steps_refuse_what_is_not_an_image_or_damaged(files, tmp_path):
    assert importer.detect(str(files["text"])) == importer.ImportRefused(
        11, "The file is not an image this server reads"
    )
    truncated = importer.detect(str(files["truncated"]))
    if isinstance(truncated, str):
        refused = importer.check(str(files["truncated"]), truncated)
        assert isinstance(refused, importer.ImportRefused) and refused.status == 61
    bomb = tmp_path / "bomb.png"
    pyvips.Image.black(1, 1).pngsave(str(bomb))
    data = bytearray(bomb.read_bytes())
    data[16:24] = (1_000_000).to_bytes(4, "big") * 2  # IHDR width and height
    bomb.write_bytes(bytes(data))
    refused = importer.check(str(bomb), "PNG")
    assert isinstance(refused, importer.ImportRefused), refused


def test_flat_images_above_1024_px_convert_to_a_tiled_pyramid(files, tmp_path):
    described = importer.check(str(files["jpg"]), "JPEG")
    assert isinstance(described, importer.Described) and importer.needs_conversion(described)
    target = tmp_path / "visualisation.PYRTIFF"
    assert importer.convert(str(files["jpg"]), "JPEG", str(target)) == "PYRTIFF"
    converted = open_slide(target, "PYRTIFF")
    assert (converted.width, converted.height) == (1300, 900) and len(converted.levels) > 1
    small = importer.check(str(files["png"]), "PNG")
    assert isinstance(small, importer.Described) and not importer.needs_conversion(small)


def test_store_names_stay_inside_the_root(tmp_path):
    assert sanitise("../../etc/passwd") == "passwd"
    assert sanitise("..") == "image"
    assert sanitise("a b/c d.svs") == "c d.svs"
    store = ImageStore(tmp_path)
    path, relative = store.new_upload("../x.svs")
    assert relative.startswith("upload-") and relative.endswith("/x.svs")
    assert path.parent.parent == tmp_path
    with pytest.raises(FileMissing):
        store.resolve("../outside")
