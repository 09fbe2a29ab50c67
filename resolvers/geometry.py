"""The annotation geometry pipeline (contract images-annotations.md §3.3), as pure functions.

Coordinates are full-resolution pixels with the origin at the bottom-left corner. A create
parses and refuses invalid WKT, clips what leaves the image, refuses slivers thinner than a
pixel, simplifies big geometries, repairs what clipping or simplification broke, and writes WKT
the way Cytomine's JTS writer does, so a valid, small, in-bounds geometry round-trips byte for
byte. An edit re-applies the compression chosen at creation instead of searching for one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
import shapely
from shapely.errors import GEOSException, ShapelyError
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from resolvers.errors import InvalidInput

__all__ = [
    "ACCEPTED_TYPES",
    "MAX_POINTS",
    "Measures",
    "Shaped",
    "fill",
    "measure",
    "parse",
    "prepare_edit",
    "prepare_many",
    "prepare_new",
    "simplify",
    "to_wkt",
]

#: What may be stored (MULTILINESTRING and GEOMETRYCOLLECTION are refused even when valid).
ACCEPTED_TYPES: Final = frozenset(("Point", "MultiPoint", "LineString", "Polygon", "MultiPolygon"))
#: Cytomine's default ANNOTATION_MAX_POINTS.
MAX_POINTS: Final = 200
#: Longest WKT accepted (a 100 000-vertex polygon is about 2 MB of text).
MAX_WKT_LENGTH: Final = 8 * 1024 * 1024
_MULTIPOINT: Final = re.compile(r"^MULTIPOINT \((?!\()(.*)\)$")


@dataclass(frozen=True, slots=True)
class Shaped:
    """A geometry ready to store: the geometry, its WKT and the simplification tolerance."""

    geometry: BaseGeometry
    wkt: str
    compression: float


class Measures(NamedTuple):
    """Area, perimeter (with Cytomine's unit codes) and centroid of a stored geometry.

    Units: area 1 = pixels², 3 = micron²; perimeter 0 = pixels, 2 = mm. A named tuple: a
    batch makes one per element, and a frozen dataclass's construction (a `__setattr__`
    call per field) cost three times as much.
    """

    area: float
    area_unit: int
    perimeter: float
    perimeter_unit: int
    centroid_x: float
    centroid_y: float


def to_wkt(geometry: BaseGeometry) -> str:
    """WKT as JTS writes it: integral values without decimals, shortest round-trip form
    otherwise, `MULTIPOINT ((x y), (x y))` whatever the GEOS version."""
    text: str = shapely.to_wkt(geometry, rounding_precision=-1, trim=True, output_dimension=2)
    found = _MULTIPOINT.match(text)
    if found:
        text = "MULTIPOINT (" + ", ".join(f"({point})" for point in found[1].split(", ")) + ")"
    return text


def parse(text: str | None) -> BaseGeometry:
    """A WKT geometry; unreadable, empty or invalid input is the caller's 400."""
    if text is None or not text.strip():
        raise InvalidInput("Property location must be set: a WKT geometry is required")
    if len(text) > MAX_WKT_LENGTH:
        raise InvalidInput(f"The geometry is longer than {MAX_WKT_LENGTH} characters")
    try:
        geometry = shapely.from_wkt(text)
    except (ShapelyError, GEOSException, ValueError) as error:
        raise InvalidInput(f"Invalid WKT geometry: {str(error).splitlines()[0]}") from None
    if geometry is None or geometry.is_empty:
        raise InvalidInput("The geometry is empty")
    if _has_empty_member(geometry):
        raise InvalidInput("The geometry has an empty member (EMPTY inside it)")
    if geometry.has_z:  # M reads as Z: the stored geometry keeps the two dimensions of its WKT
        geometry = shapely.force_2d(geometry)
    if not all(map(math.isfinite, shapely.get_coordinates(geometry).ravel())):
        raise InvalidInput("The geometry has coordinates that are not finite numbers")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise InvalidInput(f"The geometry is not valid: {reason}")
    return geometry


def _has_empty_member(geometry: BaseGeometry) -> bool:
    """A multi-geometry's EMPTY member or a polygon's EMPTY ring: GEOS reads them, but its
    operations fail on them (or keep them in the stored WKT)."""
    if isinstance(geometry, Polygon):
        return any(ring.is_empty for ring in geometry.interiors)
    members = getattr(geometry, "geoms", ())
    return any(member.is_empty or _has_empty_member(member) for member in members)


def _highest_dimension(geometry: BaseGeometry) -> BaseGeometry:
    """A collection reduced to its parts of the highest dimension (clipping a polygon along
    the image's edge can leave stray lines or points)."""
    if geometry.geom_type != "GeometryCollection":
        return geometry
    parts = list(geometry.geoms)
    dimensions = [int(shapely.get_dimensions(part)) for part in parts]
    top = max(dimensions, default=0)
    return shapely.union_all([p for p, d in zip(parts, dimensions, strict=True) if d == top])


def _clip(geometry: BaseGeometry, width: int | None, height: int | None) -> BaseGeometry:
    """Intersect with the image when the geometry leaves it (a geometry inside is untouched,
    so its vertex order and WKT survive)."""
    if not width or not height:
        return geometry
    min_x, min_y, max_x, max_y = geometry.bounds
    if min_x >= 0 and min_y >= 0 and max_x <= width and max_y <= height:
        return geometry
    frame = box(0, 0, min(max_x, width), min(max_y, height))
    return _highest_dimension(geometry.intersection(frame))


def _check_size(geometry: BaseGeometry) -> None:
    """Refuse nothing, and slivers thinner than one pixel (lines and single points pass)."""
    if geometry.is_empty:
        raise InvalidInput("The geometry lies outside the image")
    if geometry.geom_type in ("LineString", "Point"):
        return
    min_x, min_y, max_x, max_y = geometry.bounds
    if int(max_x - min_x) == 0 or int(max_y - min_y) == 0:
        raise InvalidInput("The geometry is smaller than a pixel in width or height")


def _parts(geometry: BaseGeometry) -> int:
    """Cytomine's "number of parts" that scales the point budget (§3.3, kept for parity)."""
    if isinstance(geometry, MultiPolygon):
        parts = sum(len(member.interiors) for member in geometry.geoms)
    elif isinstance(geometry, Polygon):
        parts = len(geometry.interiors)
    else:
        parts = 1
    parts = max(1, parts)
    if parts > 10:
        parts //= 2
    return min(10, parts)


def _simplified(geometry: BaseGeometry, tolerance: float, topology: bool) -> BaseGeometry:
    return geometry.simplify(tolerance, preserve_topology=topology)


def _needs_topology(geometry: BaseGeometry) -> bool:
    return isinstance(geometry, MultiPolygon) or (
        isinstance(geometry, Polygon) and not geometry.is_valid
    )


def simplify(
    geometry: BaseGeometry,
    min_point: int | None = None,
    max_point: int | None = None,
    max_points: int = MAX_POINTS,
) -> tuple[BaseGeometry, float]:
    """Simplify a big geometry by growing tolerance until it has few enough points; returns
    the result and the tolerance used (`geometryCompression`)."""
    count = shapely.get_num_coordinates(geometry)
    if count < 100:
        return geometry, 0.0
    parts = _parts(geometry)
    upper = max_point * parts if max_point else max(count / 1.3, parts * max_points)
    lower = min_point * parts if min_point else min(max(count / 1.7, 10), parts * 100)
    topology = _needs_topology(geometry)
    result, used, tolerance = geometry, 0.0, 0.0
    for _ in range(1000):
        if count <= upper:
            break
        result, used = _simplified(geometry, tolerance, topology), tolerance
        count = shapely.get_num_coordinates(result)
        if count < lower:
            break
        tolerance += 0.25
    return result, used


def _make_valid(geometry: BaseGeometry) -> BaseGeometry:
    """Repair what clipping or simplification broke: buffer(0), else GEOS MakeValid (first
    member of a collection), as Cytomine does with PostGIS's ST_MakeValid."""
    if geometry.is_valid and not geometry.is_empty:
        return geometry
    repaired = geometry.buffer(0)
    if not repaired.is_valid or repaired.is_empty:
        repaired = shapely.make_valid(geometry)
        if isinstance(repaired, GeometryCollection) and not repaired.is_empty:
            repaired = repaired.geoms[0]
    if repaired.is_empty:
        raise InvalidInput("The geometry is empty once repaired")
    return repaired


def _finish(geometry: BaseGeometry, compression: float) -> Shaped:
    if geometry.geom_type not in ACCEPTED_TYPES:
        raise InvalidInput(
            f"{geometry.geom_type.upper()} geometries are not accepted: use a point, line, "
            "polygon or their multi- forms (lines excepted)"
        )
    return Shaped(geometry, to_wkt(geometry), compression)


def prepare_new(
    text: str | None,
    width: int | None,
    height: int | None,
    *,
    min_point: int | None = None,
    max_point: int | None = None,
    max_points: int = MAX_POINTS,
) -> Shaped:
    """The create pipeline: parse, clip, size check, simplify, repair (§3.3 steps 2–6)."""
    geometry = _clip(parse(text), width, height)
    _check_size(geometry)
    try:
        simplified, compression = simplify(geometry, min_point, max_point, max_points)
    except (ShapelyError, GEOSException):
        simplified, compression = geometry, 0.0
    return _finish(_make_valid(simplified), compression)


def prepare_edit(
    text: str | None, width: int | None, height: int | None, compression: float | None
) -> Shaped:
    """The update pipeline: parse, clip, re-apply the stored compression, repair."""
    tolerance = compression or 0.0
    if tolerance < 0 or not math.isfinite(tolerance):
        raise InvalidInput("geometryCompression must be a positive number")
    geometry = _clip(parse(text), width, height)
    if geometry.is_empty:
        raise InvalidInput("The geometry lies outside the image")
    if tolerance > 0:
        geometry = _simplified(geometry, tolerance, _needs_topology(geometry))
    return _finish(_make_valid(geometry), tolerance)


def _round_half_up(value: float) -> float:
    return float(math.floor(value + 0.5))


def measure(geometry: BaseGeometry, physical_size_x: float | None) -> Measures:
    """Area and perimeter in µm² and mm with a calibration, else rounded pixels (§3.3)."""
    area = geometry.area
    length = 0.0 if geometry.geom_type in ("Point", "MultiPoint") else geometry.length
    centroid = geometry.centroid
    if physical_size_x:
        return Measures(area * physical_size_x**2, 3, length * physical_size_x / 1000, 2,
                        centroid.x, centroid.y)  # fmt: skip
    return Measures(_round_half_up(area), 1, _round_half_up(length), 0, centroid.x, centroid.y)


#: Shapely's type ids of what may be stored (`ACCEPTED_TYPES`).
_ACCEPTED_IDS: Final = frozenset((0, 1, 3, 4, 6))  # point, linestring, polygon, multi-…
#: Type ids the size check lets pass (lines and single points).
_THIN_IDS: Final = frozenset((0, 1))
_MULTIPOINT_ID: Final = 4
#: At or above this many coordinates a geometry may be simplified: `simplify`'s threshold.
_SIMPLIFIED_FROM: Final = 100


def prepare_many(
    texts: Sequence[str | None],
    width: int | None,
    height: int | None,
    physical_size_x: float | None,
    *,
    min_point: int | None = None,
    max_point: int | None = None,
) -> list[tuple[Shaped, Measures] | InvalidInput]:
    """`prepare_new` and `measure` over many geometries of one image at once, each with its
    result or its error, as one by one.

    The common geometry (valid WKT of an accepted type, finite, inside the image, wider and
    taller than a pixel, too small to simplify) goes through array operations of shapely,
    where the pipeline would leave it untouched; any other through `prepare_new` itself, so
    clipping, simplification, repair and every error message stay the same: a batch of ten
    thousand rectangles costs about a twentieth of their one-by-one pipeline.
    """
    count = len(texts)
    results: list[tuple[Shaped, Measures] | InvalidInput | None] = [None] * count
    readable = np.array([isinstance(t, str) and t.strip() != "" and len(t) <= MAX_WKT_LENGTH
                         for t in texts])  # fmt: skip
    geometries = np.full(count, None, dtype=object)
    if readable.any():
        chosen = np.array(texts, dtype=object)[readable]
        # overflowing numbers (`parse` refuses them below); numpy's error state, unlike the
        # warnings filters, is the thread's own: the pixel threads' warnings stay untouched
        with np.errstate(over="ignore"):
            geometries[readable] = shapely.from_wkt(chosen, on_invalid="ignore")
    # an EMPTY member, or a third dimension, takes the one-by-one way (`parse` refuses the
    # first and drops the second): both are rare, and `parse` knows them
    plain = np.array([isinstance(t, str) and "EMPTY" not in t.upper() for t in texts])
    fast = readable & plain & ~shapely.is_missing(geometries)
    fast[fast] &= ~shapely.is_empty(geometries[fast]) & ~shapely.has_z(geometries[fast])
    fast[fast] &= np.isin(shapely.get_type_id(geometries[fast]), list(_ACCEPTED_IDS))
    fast[fast] &= shapely.get_num_coordinates(geometries[fast]) < _SIMPLIFIED_FROM
    if fast.any():
        coordinates, owner = shapely.get_coordinates(geometries[fast], return_index=True)
        finite = np.ones(int(fast.sum()), dtype=bool)
        np.logical_and.at(finite, owner, np.isfinite(coordinates).all(axis=1))
        fast[fast] &= finite
    fast[fast] &= shapely.is_valid(geometries[fast])
    if fast.any():
        bounds = shapely.bounds(geometries[fast])
        kinds = shapely.get_type_id(geometries[fast])
        inside = np.ones(len(bounds), dtype=bool)
        if width and height:
            inside = ((bounds[:, 0] >= 0) & (bounds[:, 1] >= 0) & (bounds[:, 2] <= width)
                      & (bounds[:, 3] <= height))  # fmt: skip
        thin = np.isin(kinds, list(_THIN_IDS))
        sized = thin | ((np.trunc(bounds[:, 2] - bounds[:, 0]) != 0)
                        & (np.trunc(bounds[:, 3] - bounds[:, 1]) != 0))  # fmt: skip
        fast[fast] &= inside & sized
    for index in np.flatnonzero(fast == False):  # noqa: E712 (an array, not a bool)
        try:
            shaped = prepare_new(texts[int(index)], width, height, min_point=min_point,
                                 max_point=max_point)  # fmt: skip
            results[index] = (shaped, measure(shaped.geometry, physical_size_x))
        except InvalidInput as error:
            results[index] = error
    if fast.any():
        chosen = geometries[fast]
        for index, geometry, shaped_measures in zip(
            np.flatnonzero(fast), chosen, _measured(chosen, physical_size_x), strict=True
        ):
            results[index] = (Shaped(geometry, shaped_measures[0], 0.0), shaped_measures[1])
    return [result for result in results if result is not None]


def _measured(geometries: np.ndarray, physical_size_x: float | None) -> list[tuple[str, Measures]]:
    """The WKT and measures of geometries the pipeline leaves as they are (`measure` over an
    array)."""
    texts = shapely.to_wkt(geometries, rounding_precision=-1, trim=True, output_dimension=2)
    kinds = shapely.get_type_id(geometries)
    for index in np.flatnonzero(kinds == _MULTIPOINT_ID):
        texts[index] = to_wkt(geometries[index])
    areas = shapely.area(geometries)
    lengths = np.where(np.isin(kinds, [0, _MULTIPOINT_ID]), 0.0, shapely.length(geometries))
    centroids = shapely.get_coordinates(shapely.centroid(geometries))
    if physical_size_x:
        areas, area_unit = areas * physical_size_x**2, 3
        lengths, length_unit = lengths * physical_size_x / 1000, 2
    else:
        areas, area_unit = np.floor(areas + 0.5), 1
        lengths, length_unit = np.floor(lengths + 0.5), 0
    return [
        (text, Measures(area, area_unit, length, length_unit, x, y))
        for text, area, length, (x, y) in zip(texts.tolist(), areas.tolist(), lengths.tolist(),
                                              centroids.tolist(), strict=True)
    ]  # fmt: skip


def fill(geometry: BaseGeometry) -> BaseGeometry:
    """Remove the holes of a polygon or of each member of a multipolygon (§3.8)."""
    if isinstance(geometry, Polygon):
        return Polygon(geometry.exterior)
    if isinstance(geometry, MultiPolygon):
        return MultiPolygon([Polygon(member.exterior) for member in geometry.geoms])
    raise InvalidInput(f"Only polygons can be filled, not a {geometry.geom_type}")
