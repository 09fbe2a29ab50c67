"""Opening image files: one `Slide` interface over libvips (TIFF pyramids, OME-TIFF, flat
images) and OpenSlide (vendor slides), and a small cache of open slides.

A slide gives its size, its stored levels (exact downsample factors: a file's own pyramid
rarely equals the normalized one), its pixel type, calibration, associated images and raw
metadata, and reads a region of a level as a libvips image. Regions come back as 8-bit images
of 1 (grey) or 3 (RGB) bands, alpha flattened on white; a file of another pixel type opens
(for its metadata) but refuses to render with `UnreadableImage`, never wrong pixels.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyvips

from imaging.errors import FileMissing, UnreadableImage
from imaging.formats import OPENSLIDE_VENDORS
from imaging.pyramid import Level

__all__ = ["MetaItem", "OpenSlideSlide", "Slide", "SlideCache", "VipsSlide", "open_slide"]

#: The largest resolution one might believe in, µm per pixel (a default "72 dpi" is not one).
MAX_MPP: Final = 100.0
#: OpenSlide formats, read with OpenSlide rather than libvips.
_OPENSLIDE_IDS: Final = frozenset((*OPENSLIDE_VENDORS.values(), "VMS"))


@dataclass(frozen=True, slots=True)
class MetaItem:
    """One raw metadata entry, as PIMS lists them (`{key, value, type, namespace}`)."""

    key: str
    value: str
    type: str = "STRING"
    namespace: str = ""


@dataclass
class Slide:
    """What every reader gives (see the module docstring)."""

    path: Path
    format_id: str
    width: int
    height: int
    levels: tuple[Level, ...]
    bands: int
    bits: int
    mpp_x: float | None = None
    mpp_y: float | None = None
    magnification: int | None = None
    #: Why the pixels cannot be rendered (None: they can).
    unrenderable: str | None = None
    items: list[MetaItem] = field(default_factory=list)
    #: How many channels (stored as planes, not samples), focal planes and time points.
    planes: tuple[int, int, int] = (1, 1, 1)

    def read(self, level: int, left: int, top: int, width: int, height: int) -> pyvips.Image:
        """The region of `level` (level pixels, clamped by the caller) as 8-bit 1 or 3 bands."""
        raise NotImplementedError

    def associated_names(self) -> list[str]:
        return []

    def associated(self, name: str) -> pyvips.Image:
        raise FileMissing(f"This image has no associated image {name!r}")

    def check_renderable(self) -> None:
        if self.unrenderable is not None:
            raise UnreadableImage(self.unrenderable)

    def close(self) -> None:
        """Release what the reader holds open."""


def _eight_bit(image: pyvips.Image) -> pyvips.Image:
    """1 or 3 uchar bands, alpha flattened on white."""
    if image.bands in (2, 4):
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _mpp_from_resolution(resolution: float | None, unit: str | None) -> float | None:
    """µm per pixel from a TIFF resolution (pixels per unit); None for a default."""
    if not resolution or resolution <= 0:
        return None
    per = {"inch": 25_400.0, "cm": 10_000.0, "centimeter": 10_000.0}.get(unit or "")
    if per is None:
        return None
    mpp = per / resolution
    return round(mpp, 6) if mpp < MAX_MPP else None


class VipsSlide(Slide):
    """TIFF pyramids (levels as pages or SubIFDs), OME-TIFF and flat images via libvips."""

    def __init__(self, path: Path, format_id: str) -> None:
        self._open_args: list[dict[str, Any]] = []
        self._images: dict[int, pyvips.Image] = {}
        #: Per level, what `imaging.jpegtiles` needs to copy tiles (None: it cannot).
        self.tile_tables: dict[int, object] = {}
        self._lock = threading.Lock()
        levels, unrenderable, extra = self._structure(path, format_id)
        try:
            base = pyvips.Image.new_from_file(str(path), access="random", **self._open_args[0])
        except pyvips.Error as error:
            raise UnreadableImage(f"The file cannot be read as an image: {_first(error)}") from None
        self._images[0] = base
        width, height = base.width, base.height
        bands = base.bands - (1 if base.hasalpha() else 0)
        bits = {"uchar": 8, "char": 8, "ushort": 16, "short": 16, "uint": 32, "int": 32,
                "float": 32, "double": 64}.get(base.format, 8)  # fmt: skip
        if unrenderable is None and base.format != "uchar":
            unrenderable = f"Images of {bits}-bit {base.format} pixels cannot be rendered yet"
        if unrenderable is None and bands not in (1, 3):
            unrenderable = f"Images of {bands} channels cannot be rendered yet"
        if not levels:
            levels = [Level(width, height, 1.0, 1.0)]
        mpp_x = _mpp_from_resolution(base.xres * 10, "cm")
        mpp_y = _mpp_from_resolution(base.yres * 10, "cm")
        super().__init__(
            path, format_id, width, height, tuple(levels), bands, bits,
            mpp_x=extra.get("mpp_x", mpp_x), mpp_y=extra.get("mpp_y", mpp_y),
            magnification=extra.get("magnification"), unrenderable=unrenderable,
            items=_vips_items(base), planes=extra.get("planes", (1, 1, 1)),
        )  # fmt: skip

    def _structure(
        self, path: Path, format_id: str
    ) -> tuple[list[Level], str | None, dict[str, Any]]:
        """The stored levels of a TIFF (and how libvips opens each), from tifffile."""
        if format_id not in ("PYRTIFF", "OMETIFF", "PYROMETIFF", "TIFF"):
            self._open_args = [{}]
            return [], None, {}
        import tifffile

        try:
            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                extra = _ome_calibration(tif) if tif.is_ome else {}
                unrenderable = None
                sizes = dict(zip(series.axes, series.shape, strict=False))
                channels, times = sizes.get("C", 1), sizes.get("T", 1)
                depth = sizes.get("Z", 1) * sizes.get("Q", 1) * sizes.get("I", 1)
                extra["planes"] = (channels, depth, times)
                if channels * depth * times > 1:
                    unrenderable = "Images of several planes cannot be rendered yet"
                full_w, full_h = _xy(series.levels[0])
                levels = []
                for level in series.levels:
                    self._open_args.append(_open_args(tif, level.keyframe))
                    w, h = _xy(level)
                    levels.append(Level(w, h, full_w / w, full_h / h))
                return levels, unrenderable, extra
        except (IndexError, ValueError, OSError, tifffile.TiffFileError) as error:
            raise UnreadableImage(f"The TIFF file cannot be read: {error}") from None

    def _level(self, level: int) -> pyvips.Image:
        with self._lock:
            image = self._images.get(level)
            if image is None:
                image = pyvips.Image.new_from_file(
                    str(self.path), access="random", **self._open_args[level]
                )
                self._images[level] = image
            return image

    def read(self, level: int, left: int, top: int, width: int, height: int) -> pyvips.Image:
        self.check_renderable()
        return _eight_bit(self._level(level).crop(left, top, width, height))

    def raw_level(self, level: int) -> pyvips.Image:
        """The level as libvips opened it (for whole-level operations: shrink-on-load)."""
        return self._level(level)


def _open_args(tif: Any, keyframe: Any) -> dict[str, int]:
    """How libvips opens a level: its page, and for a SubIFD its index among the page's
    SubIFDs (found by offset: tifffile numbers them from 0 or from 1 depending on the
    series kind)."""
    tree = keyframe.treeindex
    if len(tree) == 1:
        return {"page": tree[0]}
    return {"page": tree[0], "subifd": list(tif.pages[tree[0]].subifds).index(keyframe.offset)}


def _first(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _xy(series: Any) -> tuple[int, int]:
    axes, shape = series.axes, series.shape
    return int(shape[axes.index("X")]), int(shape[axes.index("Y")])


def _ome_calibration(tif: Any) -> dict[str, Any]:
    """PhysicalSizeX/Y (µm) and the objective's nominal magnification from OME-XML."""
    import re

    xml = tif.ome_metadata or ""
    found: dict[str, Any] = {}
    for key, name in (("mpp_x", "PhysicalSizeX"), ("mpp_y", "PhysicalSizeY")):
        match = re.search(rf'{name}="([0-9.eE+-]+)"', xml)
        if match:
            found[key] = round(float(match[1]), 6)
    match = re.search(r'NominalMagnification="([0-9.]+)"', xml)
    if match:
        found["magnification"] = round(float(match[1]))
    return found


def _vips_items(image: pyvips.Image) -> list[MetaItem]:
    items = []
    for name in image.get_fields():
        if name.endswith("-data") or name in ("icc-profile-data", "xmp-data", "exif-data"):
            continue
        try:
            value = image.get(name)
        except pyvips.Error:
            continue
        if isinstance(value, bytes | pyvips.Image) or value is None:
            continue
        text = str(value)
        if len(text) > 4096:
            continue
        kind = "INTEGER" if isinstance(value, int) else "DECIMAL" if isinstance(value, float) \
            else "STRING"  # fmt: skip
        namespace, _, key = name.rpartition("-") if name.startswith("tiff-") else ("", "", name)
        items.append(MetaItem(key if namespace else name, text, kind, namespace.upper()))
    return items


class OpenSlideSlide(Slide):
    """Vendor slides (SVS, NDPI, MRXS, SCN, BIF, Philips, VMS) via OpenSlide."""

    def __init__(self, path: Path, format_id: str) -> None:
        import openslide

        try:
            self._slide = openslide.OpenSlide(str(path))
        except Exception as error:  # OpenSlideError, OpenSlideUnsupportedFormatError…
            raise UnreadableImage(f"The slide cannot be read: {_first(error)}") from None
        width, height = self._slide.dimensions
        levels = tuple(Level(w, h, width / w, height / h) for w, h in self._slide.level_dimensions)
        props = dict(self._slide.properties)

        def number(key: str) -> float | None:
            try:
                return float(props[key])
            except (KeyError, ValueError):
                return None

        power = number(openslide.PROPERTY_NAME_OBJECTIVE_POWER)
        mpp_x, mpp_y = number(openslide.PROPERTY_NAME_MPP_X), number(openslide.PROPERTY_NAME_MPP_Y)
        items = []
        for key, value in props.items():
            namespace, _, name = key.partition(".")
            items.append(MetaItem(name or key, value, "STRING", namespace.upper() if name else ""))
        super().__init__(
            path, format_id, width, height, levels, 3, 8,
            mpp_x=None if mpp_x is None else round(mpp_x, 6),
            mpp_y=None if mpp_y is None else round(mpp_y, 6),
            magnification=None if power is None else round(power), items=items,
        )  # fmt: skip

    def read(self, level: int, left: int, top: int, width: int, height: int) -> pyvips.Image:
        import numpy as np

        downsample = self._slide.level_downsamples[level]
        x0, y0 = round(left * downsample), round(top * downsample)
        region = self._slide.read_region((x0, y0), level, (width, height))
        array = np.asarray(region)
        image = pyvips.Image.new_from_memory(array.tobytes(), width, height, 4, "uchar")
        return _eight_bit(image)

    def associated_names(self) -> list[str]:
        return sorted(self._slide.associated_images)

    def associated(self, name: str) -> pyvips.Image:
        import numpy as np

        found = self._slide.associated_images.get(name)
        if found is None:
            raise FileMissing(f"This image has no associated image {name!r}")
        array = np.asarray(found.convert("RGBA"))
        height, width = array.shape[:2]
        return _eight_bit(pyvips.Image.new_from_memory(array.tobytes(), width, height, 4, "uchar"))

    def close(self) -> None:
        self._slide.close()


def open_slide(path: Path, format_id: str) -> Slide:
    """The reader for a file of format `format_id`; `FileMissing` when it is not on disk."""
    if not path.is_file():
        raise FileMissing("The image's file is missing on the server's disk")
    if format_id in _OPENSLIDE_IDS:
        return OpenSlideSlide(path, format_id)
    return VipsSlide(path, format_id)


class SlideCache:
    """Open slides kept for the next request, by path, file identity and format; at most
    `size`, least recently used out first. Thread-safe: renders run in a pool."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._slides: OrderedDict[tuple[str, int, int, str], Slide] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, format_id: str) -> Slide:
        try:
            stat = path.stat()
        except OSError:
            raise FileMissing("The image's file is missing on the server's disk") from None
        key = (str(path), stat.st_mtime_ns, stat.st_size, format_id)
        with self._lock:
            found = self._slides.get(key)
            if found is not None:
                self._slides.move_to_end(key)
                return found
        slide = open_slide(path, format_id)
        with self._lock:
            self._slides[key] = slide
            while len(self._slides) > self.size:
                # not closed: a render of another thread may still read it; freed with it
                self._slides.popitem(last=False)
        return slide

    def clear(self) -> None:
        with self._lock:
            for slide in self._slides.values():
                slide.close()
            self._slides.clear()

    def __iter__(self) -> Iterator[Slide]:
        with self._lock:
            return iter(list(self._slides.values()))
