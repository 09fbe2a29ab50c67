"""Interior JPEG tiles copied straight out of a tiled TIFF, no decode nor encode (PIXELS.md §5,
§7): when a stored level is exactly a normalized tier, tiles are 256 px and JPEG-compressed,
a full interior tile of that tier is the stored tile with the file's shared JPEG tables spliced
in. Anything else (edge tiles, other sizes, processing asked) takes the rendering path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from imaging.pyramid import TILE, tiers
from imaging.readers import Slide, VipsSlide

__all__ = ["straight_tile"]

#: An Adobe APP14 segment saying "no colour transform": an RGB-coded JPEG stream (TIFF
#: photometric RGB) must not be read as YCbCr by the decoder.
_ADOBE_RGB: Final = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00"
_PHOTOMETRIC_RGB: Final = 2
_PHOTOMETRIC_YCBCR: Final = 6
_PHOTOMETRIC_GREY: Final = (0, 1)


@dataclass(frozen=True, slots=True)
class _TileTable:
    offsets: tuple[int, ...]
    counts: tuple[int, ...]
    across: int
    head: bytes  # SOI + tables (+ APP14), without EOI


def _table(slide: VipsSlide, level: int) -> _TileTable | None:
    """The level's tile table, read once per open slide (kept on the slide)."""
    known = slide.tile_tables
    if level not in known:
        known[level] = _read_table(slide, level)
    found = known[level]
    return found if isinstance(found, _TileTable) else None


def _read_table(slide: VipsSlide, level: int) -> _TileTable | None:
    import tifffile

    try:
        with tifffile.TiffFile(slide.path) as tif:
            page = tif.series[0].levels[level].keyframe
            if (
                page.compression != 7
                or page.tilewidth != TILE
                or page.tilelength != TILE
                or page.bitspersample != 8
                or page.planarconfig != 1
                or page.samplesperpixel not in (1, 3)
                or page.imagedepth != 1
            ):
                return None
            photometric = int(page.photometric)
            tables = page.jpegtables or b"\xff\xd8\xff\xd9"
            head = bytes(tables[:-2])
            if photometric == _PHOTOMETRIC_RGB and b"\xff\xeeAdobe" not in head:
                head = head[:2] + _ADOBE_RGB + head[2:]
            elif photometric not in (_PHOTOMETRIC_RGB, _PHOTOMETRIC_YCBCR, *_PHOTOMETRIC_GREY):
                return None
            across = -(-int(page.imagewidth) // TILE)
            return _TileTable(tuple(page.dataoffsets), tuple(page.databytecounts), across, head)
    except Exception:  # any surprise in the file: render instead
        return None


def straight_tile(
    slide: Slide, tile: tuple[int, int, int], width: int, height: int
) -> bytes | None:
    """The tile's JPEG bytes copied from the file, or None when it must be rendered."""
    if not isinstance(slide, VipsSlide) or slide.unrenderable is not None:
        return None
    if (slide.width, slide.height) != (width, height):
        return None
    zoom, tx, ty = tile
    sizes = tiers(width, height)
    tier_w, tier_h = sizes[len(sizes) - 1 - zoom]
    if (tx + 1) * TILE > tier_w or (ty + 1) * TILE > tier_h:
        return None  # an edge tile is smaller than the stored (padded) one
    sizes_stored = [(level.width, level.height) for level in slide.levels]
    if (tier_w, tier_h) not in sizes_stored:
        return None
    index = sizes_stored.index((tier_w, tier_h))
    table = _table(slide, index)
    if table is None:
        return None
    position = ty * table.across + tx
    if position >= len(table.offsets) or table.counts[position] < 4:
        return None
    fd = os.open(slide.path, os.O_RDONLY)
    try:
        data = os.pread(fd, table.counts[position], table.offsets[position])
    finally:
        os.close(fd)
    if not data.startswith(b"\xff\xd8"):
        return None
    return table.head + data[2:]
