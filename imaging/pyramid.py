"""The normalized pyramid the viewer's tiles address (PIXELS.md §2), and the choice of a stored
level to read a region from.

Tier 0 is the full image; each next tier halves both sides rounding up, until both fit one
tile. Zoom 0 is the smallest tier, the largest zoom the full resolution: a zoom z is tier
`zooms − z`. Core's `AbstractImage.zoom` counts the same halvings (a 513-px image: 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from imaging.errors import BadPixelRequest

__all__ = ["TILE", "Box", "Level", "best_level", "tiers", "tile_box", "zoom_levels"]

#: The normalized tile size (PIMS's and core's `tileSize`).
TILE: Final = 256


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in full-resolution pixels, top-left origin; floats allowed."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True, slots=True)
class Level:
    """A stored resolution level of a file: its size and its exact downsample factors."""

    width: int
    height: int
    downsample_x: float
    downsample_y: float


def _halved(value: int) -> int:
    return (value + 1) // 2


def zoom_levels(width: int | None, height: int | None, tile: int = TILE) -> int:
    """How many times the image halves, rounding up, until both sides fit one tile (§2.3
    `zoom`); 1 when a size is unknown, as core says."""
    if width is None or height is None:
        return 1
    halvings = 0
    while width > tile or height > tile:
        width, height, halvings = _halved(width), _halved(height), halvings + 1
    return halvings


def tiers(width: int, height: int, tile: int = TILE) -> list[tuple[int, int]]:
    """The sizes of the normalized tiers, full resolution first."""
    sizes = [(width, height)]
    while width > tile or height > tile:
        width, height = _halved(width), _halved(height)
        sizes.append((width, height))
    return sizes


def tile_box(
    width: int, height: int, zoom: int, tx: int, ty: int, tile: int = TILE
) -> tuple[Box, int, int]:
    """The full-resolution box tile (zoom, tx, ty) covers, and the tile's own size (edge tiles
    are smaller, never padded); `BadPixelRequest` out of range."""
    sizes = tiers(width, height, tile)
    if not 0 <= zoom < len(sizes):
        raise BadPixelRequest(f"Zoom {zoom} is out of range: this image has zooms 0 to "
                              f"{len(sizes) - 1}")  # fmt: skip
    tier_w, tier_h = sizes[len(sizes) - 1 - zoom]
    columns, rows = -(-tier_w // tile), -(-tier_h // tile)
    if not (0 <= tx < columns and 0 <= ty < rows):
        raise BadPixelRequest(f"Tile ({tx}, {ty}) is out of range at zoom {zoom}: tx < "
                              f"{columns} and ty < {rows}")  # fmt: skip
    x, y = tx * tile, ty * tile
    out_w, out_h = min(tile, tier_w - x), min(tile, tier_h - y)
    fx, fy = width / tier_w, height / tier_h
    return Box(x * fx, y * fy, out_w * fx, out_h * fy), out_w, out_h


def best_level(levels: Sequence[Level], factor: float) -> int:
    """The stored level with the largest downsample not above `factor` (read it, then resize
    down): never upsample from a coarser level."""
    chosen = 0
    for index, level in enumerate(levels):
        downsample = min(level.downsample_x, level.downsample_y)
        if downsample <= factor * (1 + 1e-6) and downsample >= min(
            levels[chosen].downsample_x, levels[chosen].downsample_y
        ):
            chosen = index
    return chosen
