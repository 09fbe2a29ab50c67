"""The file side of an import, run in a worker process (a conversion may take a minute and
must never slow tiles): detect the format, check the file's integrity, convert flat images to a
tiled pyramid, compute histograms and describe the image (PIXELS.md §4).

Each step is a top-level function of picklable arguments returning a picklable result, so a
`ProcessPoolExecutor` runs it; a refusal comes back as `ImportRefused` (status to write, and
why), never as a crash of the worker.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from imaging.formats import CONVERTIBLE, detect_format
from imaging.pyramid import TILE, Box
from imaging.readers import Slide, open_slide

__all__ = [
    "MAX_FLAT_PIXELS",
    "Described",
    "ImportRefused",
    "check",
    "convert",
    "describe",
    "detect",
    "needs_conversion",
]  # fmt: skip

#: Largest flat (single-level) image accepted, in pixels: above it a file claiming to be one
#: is treated as a decompression bomb.
MAX_FLAT_PIXELS: Final = 1_000_000_000
#: Largest side of any image (the biggest slides are ~200 000 px).
MAX_SIDE: Final = 1_000_000
#: Flat images larger than this on a side are converted to a tiled pyramid.
CONVERT_ABOVE: Final = 1024
#: Status codes (contract images-annotations.md §2.1).
ERROR_FORMAT: Final = 11
ERROR_CONVERSION: Final = 31
ERROR_INTEGRITY: Final = 61


@dataclass(frozen=True, slots=True)
class ImportRefused:
    """The file cannot be imported: the error status to write and why."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Described:
    """What the abstract image and its slices are made from."""

    format_id: str
    width: int
    height: int
    samples: int
    bits: int
    mpp_x: float | None
    mpp_y: float | None
    magnification: int | None
    properties: list[tuple[str, str]] = field(default_factory=list)
    #: Channels stored as planes, focal planes, time points (one abstract slice each).
    planes: tuple[int, int, int] = (1, 1, 1)


def detect(path: str) -> str | ImportRefused:
    try:
        found = detect_format(Path(path))
    except OSError as error:
        return ImportRefused(ERROR_FORMAT, f"The file cannot be read: {error}")
    if found is None:
        return ImportRefused(ERROR_FORMAT, "The file is not an image this server reads")
    return found


def _bomb(slide: Slide) -> str | None:
    if slide.width > MAX_SIDE or slide.height > MAX_SIDE:
        return f"The image claims {slide.width} × {slide.height} px: too large to be real"
    smallest = slide.levels[-1]
    if smallest.width * smallest.height > MAX_FLAT_PIXELS:
        return (f"The image claims {slide.width} × {slide.height} px with no smaller level: "
                "refused as a decompression bomb")  # fmt: skip
    return None


def check(path: str, format_id: str) -> Described | ImportRefused:
    """Open the file, refuse bombs, read a tile and a thumbnail; describe the image. Any
    failure reading it is the file's: a hostile file makes the readers fail in ways of their
    own (a TIFF of width 0 divides by zero), and the upload must end in its error status."""
    try:
        slide = open_slide(Path(path), format_id)
        bomb = _bomb(slide)
        if bomb is not None:
            return ImportRefused(ERROR_INTEGRITY, bomb)
        if format_id in CONVERTIBLE and max(slide.width, slide.height) <= CONVERT_ABOVE:
            _decode_whole(path)
        if slide.unrenderable is None:
            from imaging.render import read_box

            x, y = max(0, slide.width // 2 - TILE // 2), max(0, slide.height // 2 - TILE // 2)
            w, h = min(TILE, slide.width - x), min(TILE, slide.height - y)
            read_box(slide, Box(x, y, w, h), w, h).copy_memory()
            last_x, last_y = max(0, slide.width - w), max(0, slide.height - h)
            read_box(slide, Box(last_x, last_y, w, h), w, h).copy_memory()
            if len(slide.levels) > 1 or slide.width * slide.height <= 64_000_000:
                scale = min(1.0, 256 / max(slide.width, slide.height))
                read_box(slide, Box(0, 0, slide.width, slide.height),
                         max(1, round(slide.width * scale)),
                         max(1, round(slide.height * scale))).copy_memory()  # fmt: skip
    except Exception as error:
        message = getattr(error, "message", None) or (str(error).strip().splitlines() or
                                                      [type(error).__name__])[0]  # fmt: skip
        return ImportRefused(ERROR_INTEGRITY, f"The file is damaged or truncated: {message}")
    properties = [(f"{item.namespace}.{item.key}" if item.namespace else item.key, item.value)
                  for item in slide.items][:500]  # fmt: skip
    return Described(format_id, slide.width, slide.height, slide.bands, slide.bits,
                     slide.mpp_x, slide.mpp_y, slide.magnification, properties,
                     slide.planes)  # fmt: skip


def _decode_whole(path: str) -> None:
    """Decode every pixel of a small flat file kept as it is, refusing missing data: random
    access reads what is there and fills the rest with black, so a PNG whose header claims
    more rows than its data holds imported and showed black tiles. (Larger flat files are
    decoded whole by their conversion, which refuses them too.)"""
    import pyvips

    pyvips.Image.new_from_file(path, access="sequential", fail_on="truncated").copy_memory()


def needs_conversion(described: Described) -> bool:
    return described.format_id in CONVERTIBLE and max(described.width, described.height) > (
        CONVERT_ABOVE
    )


def convert(path: str, format_id: str, target: str) -> str | ImportRefused:
    """A tiled 256-px pyramidal BigTIFF of the flat image at `path`: JPEG tiles from a JPEG,
    lossless (deflate) otherwise. Returns the target's format id."""
    import pyvips

    partial = target + ".partial"
    try:
        image = pyvips.Image.new_from_file(path, access="sequential", fail_on="error")
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        lossy = format_id == "JPEG"
        image.tiffsave(
            partial, tile=True, tile_width=TILE, tile_height=TILE, pyramid=True, bigtiff=True,
            compression="jpeg" if lossy else "deflate", Q=90, predictor="horizontal",
        )  # fmt: skip
        os.replace(partial, target)
    except (pyvips.Error, OSError) as error:
        Path(partial).unlink(missing_ok=True)
        return ImportRefused(ERROR_CONVERSION, f"The conversion failed: {error}")
    return "PYRTIFF"


def describe(path: str, format_id: str, histogram_path: str) -> str | None:
    """Compute and store the histograms of the file tiles are read from; an error message
    when they cannot be (the image stays usable without)."""
    try:
        from imaging.histogram import compute

        slide = open_slide(Path(path), format_id)
        if slide.unrenderable is not None:
            return slide.unrenderable
        Path(histogram_path).write_text(json.dumps(compute(slide)))
    except Exception as error:  # a histogram is optional: say why, import the image anyway
        return str(error)
    return None
