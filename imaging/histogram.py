"""Histograms: computed once at import from a thumbnail of at most 1024 px (counts scaled to
the full image, PIXELS.md §3), stored beside the file, shaped as PIMS answers them (core
camel-cases the keys; in channel histograms PIMS's concrete channel is `channel` and its
channel is `apparentChannel`, contract §2.10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from imaging.errors import BadPixelRequest
from imaging.pyramid import Box
from imaging.readers import Slide
from imaging.render import read_box

__all__ = ["compute", "load", "shaped"]

#: The thumbnail histograms are computed from.
SAMPLE: Final = 1024
_COLORS: Final = ("#f00", "#0f0", "#00f")


def compute(slide: Slide) -> dict[str, Any]:
    """Per-band 256-bin histograms of the image, counts scaled to its full size."""
    import numpy as np

    scale = min(1.0, SAMPLE / max(slide.width, slide.height))
    width, height = max(1, round(slide.width * scale)), max(1, round(slide.height * scale))
    image = read_box(slide, Box(0, 0, slide.width, slide.height), width, height)
    array = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                       shape=(height, width, image.bands))  # fmt: skip
    factor = (slide.width * slide.height) / (width * height)
    bands = []
    for band in range(image.bands):
        counts = np.bincount(array[:, :, band].ravel(), minlength=256)
        bands.append([round(int(c) * factor) for c in counts])
    return {"type": "FAST", "bits": 8, "bands": bands}


def load(path: Path) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found


def _bounds(counts: list[int]) -> tuple[int, int]:
    nonzero = [i for i, c in enumerate(counts) if c]
    return (nonzero[0], nonzero[-1]) if nonzero else (0, 0)


def _formatted(counts: list[int], n_bins: int) -> dict[str, Any]:
    minimum, maximum = _bounds(counts)
    step = len(counts) // n_bins
    binned = [sum(counts[i : i + step]) for i in range(0, len(counts), step)]
    first, last = _bounds(binned)
    return {"minimum": minimum, "maximum": maximum, "firstBin": first, "lastBin": last,
            "nBins": n_bins, "histogram": binned[first : last + 1]}  # fmt: skip


def _n_bins(text: str | None) -> int:
    try:
        n = int(text) if text else 256
    except ValueError:
        raise BadPixelRequest(f"nBins must be a power of 2, not {text!r}") from None
    if n <= 0 or n & (n - 1):
        raise BadPixelRequest(f"nBins must be a power of 2, not {n}")
    return min(n, 256)


def shaped(data: dict[str, Any], what: str, n_bins: str | None, plane: tuple[int, int, int]
           ) -> Any:  # fmt: skip
    """The answer of one histogram route: `image`, `image-bounds`, `channels`,
    `channels-bounds`, `plane`, `plane-bounds` (the last two for a slice's plane)."""
    bands: list[list[int]] = data["bands"]
    bins = _n_bins(n_bins)
    kind = data.get("type", "FAST")
    if what.startswith("image"):
        merged = [sum(column) for column in zip(*bands, strict=True)]
        full = _formatted(merged, bins)
        if what == "image-bounds":
            return {"type": kind, "minimum": full["minimum"], "maximum": full["maximum"]}
        return {"type": kind, **full}
    items = []
    for sample, counts in enumerate(bands):
        full = _formatted(counts, bins)
        item: dict[str, Any] = {
            "type": kind, "channel": 0, "apparentChannel": sample, "sample": sample,
            "color": _COLORS[sample] if len(bands) == 3 else None,
        }  # fmt: skip
        if what.startswith("plane"):
            item["zSlice"], item["timepoint"] = plane[1], plane[2]
        if what.endswith("bounds"):
            item.update(minimum=full["minimum"], maximum=full["maximum"])
        else:
            item.update(full)
        items.append(item)
    return items
