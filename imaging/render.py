"""Rendering: a job describes one answer completely (which file, which box of it, at which
size, with which adjustments and overlay, in which format), so it is also the cache key and
the ETag's source; `run` turns it into bytes. Jobs are built on the event loop (cheap, no
pixel read) and run in the render pool (libvips releases the GIL).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pyvips

from imaging.errors import BadPixelRequest, UnreadableImage
from imaging.pyramid import Box, best_level
from imaging.readers import Slide, SlideCache

__all__ = [
    "MEDIA_TYPES",
    "Adjust",
    "AssociatedJob",
    "Overlay",
    "RegionJob",
    "Source",
    "encode",
    "read_box",
    "run",
]

Format = Literal["jpg", "png", "webp"]
MEDIA_TYPES: Final = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
#: Encoder settings (PIXELS.md §1): JPEG and WebP quality 75, PNG compression 6, no metadata.
JPEG_Q: Final = 75
WEBP_Q: Final = 75
PNG_COMPRESSION: Final = 6

RGB = tuple[int, int, int]
_PRIMARIES: Final[tuple[RGB, ...]] = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


@dataclass(frozen=True, slots=True)
class Source:
    """The file a job reads (absolute path, format id), its size as the database knows it, and
    its identity on disk (mtime, size): a replaced file gives new ETags."""

    path: str
    format_id: str
    width: int
    height: int
    mtime_ns: int = 0
    size: int = 0


@dataclass(frozen=True, slots=True)
class Adjust:
    """Per-channel intensity window, gamma and colour, then inversion (the viewer's and the
    thumbnails' processing). Empty tuples mean "as stored"."""

    channels: tuple[int, ...] = ()
    min_intensities: tuple[float, ...] = ()
    max_intensities: tuple[float, ...] = ()
    gammas: tuple[float, ...] = ()
    colormaps: tuple[RGB | None, ...] = ()
    inverse: bool = False

    def is_identity(self, bands: int) -> bool:
        """True when applying it would change no pixel of an image of `bands` bands (the web
        viewer's RGB query is one: recognising it keeps every tile on the fast path)."""
        if self.inverse:
            return False
        channels = self.channels or tuple(range(bands))
        if channels != tuple(range(bands)):
            return False
        for index in range(bands):
            if _at(self.min_intensities, index, 0.0) != 0.0:
                return False
            if _at(self.max_intensities, index, 255.0) != 255.0:
                return False
            if _at(self.gammas, index, 1.0) != 1.0:
                return False
            color = _at(self.colormaps, index, None)
            expected = _PRIMARIES[index] if bands == 3 else (255, 255, 255)
            if color is not None and color != expected:
                return False
        return True


def _at(values: Sequence[object], index: int, default: object) -> object:
    if not values:
        return default
    value = values[index] if index < len(values) else values[-1]
    return default if value is None else value


def apply_adjust(image: pyvips.Image, adjust: Adjust) -> pyvips.Image:
    """The adjusted image (8-bit, 1 band when grey in and no colour asked, else 3)."""
    if adjust.is_identity(image.bands):
        return image
    channels = adjust.channels or tuple(range(image.bands))
    if any(c >= image.bands for c in channels):
        raise BadPixelRequest(f"This image has {image.bands} channel(s): no channel "
                              f"{max(channels)}")  # fmt: skip
    grey = image.bands == 1 and not any(adjust.colormaps)
    out: pyvips.Image | None = None
    for index, channel in enumerate(channels):
        low = float(_at(adjust.min_intensities, index, 0.0))  # type: ignore[arg-type]
        high = float(_at(adjust.max_intensities, index, 255.0))  # type: ignore[arg-type]
        gamma = float(_at(adjust.gammas, index, 1.0))  # type: ignore[arg-type]
        value = (image[channel].cast("float") - low) / max(high - low, 1e-9)
        value = (value < 0).ifthenelse(0, (value > 1).ifthenelse(1, value))
        if gamma != 1.0:
            value = value**gamma
        if grey:
            part = value * 255
        else:
            default = _PRIMARIES[channel] if image.bands == 3 else (255, 255, 255)
            color: RGB = _at(adjust.colormaps, index, None) or default  # type: ignore[assignment]
            part = value.bandjoin([value, value]) * [float(c) for c in color]
        out = part if out is None else out + part
    assert out is not None
    if adjust.inverse:
        out = 255 - out
    return (out > 255).ifthenelse(255, out).cast("uchar")


@dataclass(frozen=True, slots=True)
class Overlay:
    """What an annotation adds to its crop: a mask (one band, fill inside), an alpha mask
    (alpha `outside_alpha` outside) or a drawing (contours). Geometries are WKT already in the
    output image's pixel coordinates."""

    mode: Literal["mask", "alpha", "draw"]
    geometries: tuple[str, ...]
    color: RGB = (255, 0, 0)
    stroke_width: float = 1.0
    outside_alpha: int = 0


@dataclass(frozen=True, slots=True)
class RegionJob:
    """A box of the image at an output size (thumbnails, windows, tiles, crops).

    Args:
        tile: (zoom, tx, ty) when the box is a normalized tile, which may then be copied
            straight out of the file.
    """

    source: Source
    box: Box
    out_width: int
    out_height: int
    format: Format
    adjust: Adjust = Adjust()
    overlay: Overlay | None = None
    tile: tuple[int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class AssociatedJob:
    """A label, macro or thumbnail image stored in the file, longest side `length`."""

    source: Source
    name: str
    length: int
    format: Format


def _fit(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Exactly width × height (resizing rounds; the last pixel is copied or cut)."""
    if image.width != width or image.height != height:
        image = image.resize(width / image.width, vscale=height / image.height)
    if image.width != width or image.height != height:
        image = image.crop(0, 0, min(image.width, width), min(image.height, height))
        image = image.embed(0, 0, width, height, extend="copy")
    return image


def read_box(slide: Slide, box: Box, out_width: int, out_height: int) -> pyvips.Image:
    """The box (full-resolution pixels, inside the image) at the output size, read from the
    stored level with the largest downsample not above the output's."""
    slide.check_renderable()
    factor = min(box.width / out_width, box.height / out_height)
    index = best_level(slide.levels, factor)
    level = slide.levels[index]
    fx = slide.width / level.width if slide.width else level.downsample_x
    fy = slide.height / level.height if slide.height else level.downsample_y
    left = max(0, math.floor(box.left / fx + 1e-9))
    top = max(0, math.floor(box.top / fy + 1e-9))
    right = min(level.width, math.ceil(box.right / fx - 1e-9))
    bottom = min(level.height, math.ceil(box.bottom / fy - 1e-9))
    if right <= left or bottom <= top:
        raise BadPixelRequest("The region lies outside the image")
    region = slide.read(index, left, top, right - left, bottom - top)
    return _fit(region, out_width, out_height)


def encode(image: pyvips.Image, fmt: str) -> bytes:
    """The image in `fmt` with PIMS's settings, no metadata (JPEG flattens alpha on white)."""
    if fmt == "png":
        return bytes(image.pngsave_buffer(compression=PNG_COMPRESSION, keep="none"))
    if fmt == "webp":
        return bytes(image.webpsave_buffer(Q=WEBP_Q, keep="none"))
    if image.bands in (2, 4):
        image = image.flatten(background=[255] * (image.bands - 1))
    return bytes(image.jpegsave_buffer(Q=JPEG_Q, keep="none"))


def _overlay(image: pyvips.Image, overlay: Overlay) -> pyvips.Image:
    """The crop with its mask, alpha or drawing (rasterised with Pillow)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw
    from shapely import wkt

    size = (image.width, image.height)
    shapes = [_on_canvas(wkt.loads(text), size) for text in overlay.geometries]
    if overlay.mode == "draw":
        canvas = PILImage.new("L", size, 0)
        draw = ImageDraw.Draw(canvas)
        width = max(1, round(overlay.stroke_width))
        for shape in shapes:
            for line in _lines(shape):
                draw.line(line, fill=255, width=width, joint="curve")
        mask = pyvips.Image.new_from_memory(canvas.tobytes(), size[0], size[1], 1, "uchar")
        base = image if image.bands == 3 else image.bandjoin([image, image])
        color = pyvips.Image.black(size[0], size[1]).new_from_image(list(overlay.color))
        return (mask > 0).ifthenelse(color, base).cast("uchar")
    canvas = PILImage.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    for shape in shapes:
        _fill(draw, shape)
    mask = pyvips.Image.new_from_memory(canvas.tobytes(), size[0], size[1], 1, "uchar")
    if overlay.mode == "mask":
        return mask
    alpha = (mask > 0).ifthenelse(255, overlay.outside_alpha).cast("uchar")
    return image.bandjoin(alpha)


def _on_canvas(shape: object, size: tuple[int, int]) -> object:
    """`shape` with its coordinates on the canvas's right or bottom edge moved just inside:
    Pillow draws a coordinate in the pixel it falls in, so an annotation on the image's
    right or bottom border would otherwise leave its mask empty."""
    import numpy as np
    import shapely

    edge = np.array(size, dtype=float)
    return shapely.transform(shape, lambda xy: np.where(np.isclose(xy, edge), edge - 1e-6, xy))


def _lines(shape: object) -> list[list[tuple[float, float]]]:
    geom_type = getattr(shape, "geom_type", "")
    if geom_type == "Polygon":
        rings = [shape.exterior, *shape.interiors]  # type: ignore[attr-defined]
        return [list(ring.coords) for ring in rings]
    if geom_type in ("LineString", "LinearRing"):
        return [list(shape.coords)]  # type: ignore[attr-defined]
    if geom_type == "Point":
        x, y = shape.x, shape.y  # type: ignore[attr-defined]
        return [[(x, y), (x, y)]]
    lines: list[list[tuple[float, float]]] = []
    for part in getattr(shape, "geoms", ()):
        lines.extend(_lines(part))
    return lines


def _fill(draw: object, shape: object) -> None:
    geom_type = getattr(shape, "geom_type", "")
    if geom_type == "Polygon":
        draw.polygon(list(shape.exterior.coords), fill=255)  # type: ignore[attr-defined]
        for ring in shape.interiors:  # type: ignore[attr-defined]
            draw.polygon(list(ring.coords), fill=0)  # type: ignore[attr-defined]
    elif geom_type in ("LineString", "LinearRing"):
        draw.line(list(shape.coords), fill=255, width=1)  # type: ignore[attr-defined]
    elif geom_type == "Point":
        draw.point([(shape.x, shape.y)], fill=255)  # type: ignore[attr-defined]
    else:
        for part in getattr(shape, "geoms", ()):
            _fill(draw, part)


def run(job: RegionJob | AssociatedJob, slides: SlideCache) -> bytes:
    """The job's bytes (in the render pool). The import checks a few regions of a file, not
    every tile: a tile damaged elsewhere fails here, when it is decoded, and is the file's
    fault, not the server's (it was a 500)."""
    try:
        return _render(job, slides)
    except pyvips.Error as error:
        detail = " ".join(str(error).split()) or type(error).__name__
        raise UnreadableImage(f"The image's file is damaged in this region: {detail}") from None


def _render(job: RegionJob | AssociatedJob, slides: SlideCache) -> bytes:
    from pathlib import Path

    slide = slides.get(Path(job.source.path), job.source.format_id)
    if isinstance(job, AssociatedJob):
        picture = slide.associated(job.name)
        scale = job.length / max(picture.width, picture.height)
        width = max(1, round(picture.width * scale))
        height = max(1, round(picture.height * scale))
        return encode(_fit(picture, width, height), job.format)
    if job.tile is not None and job.overlay is None and job.format == "jpg":
        from imaging.jpegtiles import straight_tile

        if job.adjust.is_identity(slide.bands):
            copied = straight_tile(slide, job.tile, job.source.width, job.source.height)
            if copied is not None:
                return copied
    image = read_box(slide, job.box, job.out_width, job.out_height)
    image = apply_adjust(image, job.adjust)
    if job.overlay is not None:
        image = _overlay(image, job.overlay)
    return encode(image, job.format)
