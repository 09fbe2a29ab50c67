"""From a pixel request to a render job: Cytomine's query parameters read and checked, the
sizes decided, the annotation geometry placed — all before any pixel is read, so a bad request
is a 400 at once and the job (the ETag's source) is known before rendering (PIXELS.md §1–§3,
contract images-annotations.md §2.10, §3.14).

Kinds are PixelKind names (THUMB, PREVIEW, ASSOCIATED, CROP, MASK, ALPHA_MASK, WINDOW, CAMERA,
NORMALIZED_TILE); coordinates are full-resolution pixels, top-left origin, except annotation
geometries, which come in Cytomine's bottom-left origin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from imaging.errors import BadPixelRequest
from imaging.pyramid import Box, tile_box
from imaging.render import Adjust, AssociatedJob, Format, Overlay, RegionJob, Source

__all__ = ["IMAGE_CROP_SIZE", "MAX_SIDE", "PixelQuery", "Planned", "float_param", "parse_color",
           "plan"]  # fmt: skip

#: The largest output side; above it a 400, unless the request asks to shrink instead.
MAX_SIDE: Final = 10_000
#: The size of an image's or a slice's crop without `maxSize` (core's default there; an
#: annotation's crop has none, and `zoom` then picks its level).
IMAGE_CROP_SIZE: Final = 256
_NAMED: Final = {
    "RED": (255, 0, 0), "GREEN": (0, 255, 0), "BLUE": (0, 0, 255), "WHITE": (255, 255, 255),
    "GRAY": (255, 255, 255), "GREY": (255, 255, 255), "CYAN": (0, 255, 255),
    "MAGENTA": (255, 0, 255), "YELLOW": (255, 255, 0), "BLACK": (0, 0, 0),
}  # fmt: skip
_TRUE: Final = frozenset(("true", "1", "yes", "on"))
#: The parameters `_adjust` reads, and how many of their combinations it keeps parsed.
ADJUST_PARAMETERS: Final = ("channels", "gammas", "gamma", "colormaps", "colormap", "inverse",
                            "minIntensities", "min_intensities", "maxIntensities",
                            "max_intensities")  # fmt: skip
ADJUSTS_KEPT: Final = 256


@dataclass(frozen=True, slots=True)
class PixelQuery:
    """What a pixel request says beyond its object: path parameters, the query string, the
    annotation's own geometry, and whether the client accepts a shrunk answer."""

    kind: str
    format: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    label: str | None = None
    x: int | None = None
    y: int | None = None
    width: int | None = None
    height: int | None = None
    zoom: int | None = None
    tx: int | None = None
    ty: int | None = None
    geometry: str | None = None
    safe: bool = False


@dataclass(frozen=True, slots=True)
class Planned:
    """The job and the headers its answer carries (`X-Image-Size-Limit` after a shrink)."""

    job: RegionJob | AssociatedJob
    headers: Mapping[str, str] = field(default_factory=dict)


def _get(query: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = query.get(name)
        if value is not None and value != "" and value != "null":
            return value
    return None


def _int(query: Mapping[str, str], *names: str, minimum: int = 0) -> int | None:
    number = float_param(query, *names)
    if number is None:
        return None
    value = int(number)
    if value < minimum:
        raise BadPixelRequest(f"Parameter {names[0]} must be at least {minimum}")
    return value


def float_param(query: Mapping[str, str], *names: str) -> float | None:
    """The first of `names` given (not empty nor "null") as a finite number; else a 400."""
    text = _get(query, *names)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadPixelRequest(f"Parameter {names[0]} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise BadPixelRequest(f"Parameter {names[0]} must be a finite number")
    return value


def _flag(query: Mapping[str, str], name: str) -> bool:
    return (query.get(name) or "").lower() in _TRUE


def _list(query: Mapping[str, str], *names: str) -> list[str]:
    text = _get(query, *names)
    return [] if text is None else [part.strip() for part in text.split(",")]


def _numbers(query: Mapping[str, str], *names: str) -> tuple[float, ...]:
    values = []
    for part in _list(query, *names):
        try:
            value = float(part)
        except ValueError:
            raise BadPixelRequest(f"Parameter {names[0]} takes numbers, not {part!r}") from None
        if not math.isfinite(value) or value < 0:
            raise BadPixelRequest(f"Parameter {names[0]} takes finite numbers ≥ 0")
        values.append(value)
    return tuple(values)


def parse_color(text: str) -> tuple[int, int, int] | None:
    """A colour: `#rgb`, `#rrggbb`, `0xrrggbb`, a name; None for DEFAULT; 400 otherwise."""
    value = text.strip().upper().removeprefix("0X")
    if value in ("DEFAULT", ""):
        return None
    if value in _NAMED:
        return _NAMED[value]
    value = value.removeprefix("#")
    try:
        if len(value) == 3:
            return (int(value[0] * 2, 16), int(value[1] * 2, 16), int(value[2] * 2, 16))
        if len(value) == 6:
            return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except ValueError:
        pass
    raise BadPixelRequest(f"Unknown colour {text!r}: give #rrggbb, #rgb or a colour name")


def _adjust(query: Mapping[str, str]) -> Adjust:
    """The viewer's per-channel processing and the thumbnails' `gamma`/`colormap`/`inverse`.

    Read from the parameters' raw values through `_adjust_of`, which keeps the few a viewer
    sends with every tile: parsing them cost more than the rest of a warm tile's plan."""
    return _adjust_of(tuple(query.get(name) for name in ADJUST_PARAMETERS))


@lru_cache(maxsize=ADJUSTS_KEPT)
def _adjust_of(values: tuple[str | None, ...]) -> Adjust:
    query = {name: value for name, value in zip(ADJUST_PARAMETERS, values, strict=True)
             if value is not None}  # fmt: skip
    channels = tuple(int(v) for v in _numbers(query, "channels"))
    gammas = _numbers(query, "gammas") or _numbers(query, "gamma")
    maps = _list(query, "colormaps") or _list(query, "colormap")
    inverse = _flag(query, "inverse")
    colors = []
    for name in maps:
        if name.startswith("!"):
            inverse, name = True, name[1:]
        colors.append(parse_color(name))
    if any(g <= 0 for g in gammas):
        raise BadPixelRequest("Gammas must be above 0")
    return Adjust(
        channels=channels,
        min_intensities=_numbers(query, "minIntensities", "min_intensities"),
        max_intensities=_numbers(query, "maxIntensities", "max_intensities"),
        gammas=gammas,
        colormaps=tuple(colors),
        inverse=inverse,
    )


def _check_bits(query: Mapping[str, str]) -> None:
    bits = (_get(query, "bits") or "8").upper()
    if bits not in ("8", "16", "32", "MAX", "AUTO"):
        raise BadPixelRequest(f"Parameter bits must be 8, 16, 32 or max, not {bits!r}")


def _sized(
    width: float, height: float, length: int | None, safe: bool
) -> tuple[int, int, dict[str, str]]:
    """Output size: longest side `length` (other side rounded, at least 1) or the given one;
    above MAX_SIDE a 400 unless `safe`, which shrinks and says so."""
    if length is not None:
        scale = length / max(width, height)
        out_w, out_h = max(1, round(width * scale)), max(1, round(height * scale))
    else:
        out_w, out_h = max(1, round(width)), max(1, round(height))
    if max(out_w, out_h) <= MAX_SIDE:
        return out_w, out_h, {}
    if not safe:
        raise BadPixelRequest(
            f"The image asked for is {out_w} × {out_h} px: at most {MAX_SIDE} px a side "
            "(ask a smaller size, or send X-Image-Size-Safety: SAFE_RESIZE)"
        )
    scale = MAX_SIDE / max(out_w, out_h)
    out_w, out_h = max(1, round(out_w * scale)), max(1, round(out_h * scale))
    return out_w, out_h, {"X-Image-Size-Limit": str(MAX_SIDE)}


def _format(request: PixelQuery) -> Format:
    fmt = (request.format or "jpg").lower()
    if fmt in ("png", "webp"):
        return fmt  # type: ignore[return-value]
    return "jpg"


def plan(source: Source, request: PixelQuery) -> Planned:
    """The job answering `request` on `source` (400 for what no render can honour)."""
    query, kind = request.query, request.kind
    fmt = _format(request)
    _check_bits(query)
    if kind in ("THUMB", "PREVIEW"):
        default = 1024 if kind == "PREVIEW" else 512
        length = _int(query, "maxSize", "length", minimum=1) or default
        w, h, headers = _sized(source.width, source.height, length, request.safe)
        box = Box(0, 0, source.width, source.height)
        return Planned(RegionJob(source, box, w, h, fmt, _adjust(query)), headers)
    if kind == "ASSOCIATED":
        length = _int(query, "maxSize", "maxWidth", "length", minimum=1) or 256
        if length > MAX_SIDE:
            raise BadPixelRequest(f"At most {MAX_SIDE} px a side")
        name = (request.label or "").strip().lower()
        return Planned(AssociatedJob(source, name, length, fmt))
    if kind == "NORMALIZED_TILE":
        assert request.zoom is not None and request.tx is not None and request.ty is not None
        box, w, h = tile_box(source.width, source.height, request.zoom, request.tx, request.ty)
        tile = (request.zoom, request.tx, request.ty)
        return Planned(RegionJob(source, box, w, h, fmt, _adjust(query), tile=tile))
    if kind in ("WINDOW", "CAMERA"):
        return _window(source, request, fmt)
    if kind in ("CROP", "MASK", "ALPHA_MASK"):
        return _crop(source, request, fmt)
    raise BadPixelRequest(f"No image is rendered for {kind.lower()}")


def _window(source: Source, request: PixelQuery, fmt: Format) -> Planned:
    """A region at full resolution. The size asked for is checked before clamping to the
    image: a 20 000 px window is a 400 (unless shrinking is allowed) even on a smaller image,
    as its answer would be above `MAX_SIDE` wherever the image is larger."""
    x, y = request.x or 0, request.y or 0
    width, height = request.width or 0, request.height or 0
    if width < 1 or height < 1:
        raise BadPixelRequest("The window must be at least one pixel wide and high")
    if max(width, height) > MAX_SIDE and not request.safe:
        raise BadPixelRequest(
            f"The window asked for is {width} × {height} px: at most {MAX_SIDE} px a side "
            "(ask a smaller window, or send X-Image-Size-Safety: SAFE_RESIZE)"
        )
    if x >= source.width or y >= source.height:
        raise BadPixelRequest(
            f"The window starts outside the image ({source.width} × {source.height} px)"
        )
    width, height = min(width, source.width - x), min(height, source.height - y)
    w, h, headers = _sized(width, height, None, request.safe)
    box = Box(x, y, width, height)
    return Planned(RegionJob(source, box, w, h, fmt, _adjust(request.query)), headers)


def _geometry(source: Source, request: PixelQuery) -> object:
    """The geometry in top-left pixel coordinates, valid."""
    from shapely import affinity, make_valid, wkt
    from shapely.errors import ShapelyError

    text = _get(request.query, "geometry", "location") or request.geometry
    if not text:
        raise BadPixelRequest("A crop needs a geometry (the geometry or location parameter)")
    try:
        shape = wkt.loads(text)
    except (ShapelyError, ValueError, TypeError):
        raise BadPixelRequest(f"The geometry is not valid WKT: {text[:80]!r}") from None
    if shape.is_empty:
        raise BadPixelRequest("The geometry is empty")
    if not all(math.isfinite(bound) for bound in shape.bounds):  # no pixel box: a 400, not 500
        raise BadPixelRequest("The geometry's coordinates must be finite numbers")
    flipped = affinity.affine_transform(shape, [1, 0, 0, -1, 0, source.height])
    return make_valid(flipped)


def _pixel_at(coordinate: float, size: int) -> int:
    """The pixel a coordinate lies in. Annotations live in [0, width] × [0, height]
    (contract §3.2): one on the image's right or bottom border (x = width, or y = 0 in
    Cytomine's bottom-left frame) lies in the last pixel, not in the one past the image."""
    pixel = math.floor(coordinate)
    return size - 1 if pixel == size else pixel


def _crop(source: Source, request: PixelQuery, fmt: Format) -> Planned:
    """An annotation's (or a geometry's) crop, mask, alpha mask or drawing (§3.14)."""
    from shapely import affinity

    query = request.query
    shape = _geometry(source, request)
    left, top, right, bottom = shape.bounds  # type: ignore[attr-defined]
    if right - left < 1:  # a point or a vertical line: the pixel it lies in
        left = _pixel_at((left + right) / 2, source.width)
        right = left + 1
    if bottom - top < 1:
        top = _pixel_at((top + bottom) / 2, source.height)
        bottom = top + 1
    factor = float_param(query, "increaseArea", "context_factor")
    factor = 1.0 if factor is None else factor
    if factor <= 0 or factor > 100:
        raise BadPixelRequest("Parameter increaseArea must be above 0 and at most 100")
    width, height = (right - left) * factor, (bottom - top) * factor
    if _flag(query, "square"):
        width = height = max(width, height)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    left, top = max(0.0, cx - width / 2), max(0.0, cy - height / 2)
    right, bottom = min(float(source.width), cx + width / 2), min(float(source.height),
                                                                  cy + height / 2)  # fmt: skip
    left, top = math.floor(left), math.floor(top)
    right, bottom = math.ceil(right), math.ceil(bottom)
    if right <= left or bottom <= top:
        raise BadPixelRequest("The geometry lies outside the image")
    box = Box(left, top, right - left, bottom - top)
    length = _int(query, "maxSize", "length", minimum=1)
    if length is None and request.geometry is None:
        length = IMAGE_CROP_SIZE  # an image's or a slice's crop, not an annotation's
    level = _int(query, "zoom", "level") if length is None else None
    if level:
        scale = 2.0**-level
        w, h, headers = _sized(box.width * scale, box.height * scale, None, request.safe)
    else:
        w, h, headers = _sized(box.width, box.height, length, request.safe)
    overlay = _overlay_of(request, shape, box, w, h)
    if overlay is not None and overlay.mode == "alpha" and fmt == "jpg":
        fmt = "png"
    moved = affinity.affine_transform(
        shape, [w / box.width, 0, 0, h / box.height, -box.left * w / box.width,
                -box.top * h / box.height]
    ) if overlay is not None else None  # fmt: skip
    if overlay is not None and moved is not None:
        overlay = Overlay(overlay.mode, (moved.wkt,), overlay.color, overlay.stroke_width,
                          overlay.outside_alpha)  # fmt: skip
    return Planned(RegionJob(source, box, w, h, fmt, _adjust(query), overlay), headers)


def _overlay_of(
    request: PixelQuery, shape: object, box: Box, width: int, height: int
) -> Overlay | None:
    query, kind = request.query, request.kind
    if _flag(query, "draw"):
        color = parse_color(_get(query, "color", "stroke_color") or "#f00") or (255, 0, 0)
        thickness = float_param(query, "thickness", "stroke_width") or 1.0
        if thickness > MAX_SIDE:  # wider than any answer, and past what the drawing takes
            raise BadPixelRequest(f"Parameter thickness must be at most {MAX_SIDE}")
        stroke = thickness * (0.75 + max(width, height) / 1000)
        return Overlay("draw", (), color, stroke)
    if kind == "MASK" or (kind == "CROP" and _flag(query, "mask")):
        return Overlay("mask", ())
    if kind == "ALPHA_MASK" or (kind == "CROP" and _flag(query, "alphaMask")):
        transparency = float_param(query, "alpha", "background_transparency")
        transparency = 100.0 if transparency is None else min(100.0, max(0.0, transparency))
        return Overlay("alpha", (), outside_alpha=round((1 - transparency / 100) * 255))
    return None
