"""The geometry pipeline on its own (contract images-annotations.md §3.3, §3.8): exact WKT,
areas, perimeters and refusals, without a server."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import Point

from resolvers.errors import InvalidInput
from resolvers.geometry import fill, measure, parse, prepare_edit, prepare_new, simplify, to_wkt

SQUARE = "POLYGON ((0 0, 0 20, 20 20, 20 0, 0 0))"


def new(text: str, width: int | None = 1000, height: int | None = 1000, **kw):  # type: ignore[no-untyped-def]
    return prepare_new(text, width, height, **kw)


@pytest.mark.parametrize(
    "text",
    [
        SQUARE,
        "POINT (10 20)",
        "POINT (10.25 20.125)",
        "LINESTRING (1.5 2.25, 30 40)",
        "MULTIPOINT ((1 2), (3 4))",
        "MULTIPOLYGON (((0 0, 0 10, 10 10, 10 0, 0 0)), ((20 20, 20 30, 30 30, 30 20, 20 20)))",
        "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))",
        "POLYGON ((0.5 0.25, 0.5 19.75, 19.5 19.75, 0.5 0.25))",
    ],
)
def test_valid_small_in_bounds_geometry_round_trips_byte_for_byte(text):
    shaped = new(text)
    assert shaped.wkt == text
    assert shaped.compression == 0.0


def test_wkt_is_normalised_like_jts():
    assert new("polygon((0 0,0 20,20 20,20 0,0 0))").wkt == SQUARE
    assert new("MULTIPOINT (1 2, 3 4)").wkt == "MULTIPOINT ((1 2), (3 4))"
    assert to_wkt(Point(1e-7, 3)) == "POINT (0.0000001 3)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "must be set"),
        ("", "must be set"),
        ("POLYGON ((0 0, 10 10", "Invalid WKT"),
        ("CIRCLE (1 2 3)", "Invalid WKT"),
        ("POLYGON EMPTY", "empty"),
        ("POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", "not valid"),
        ("MULTILINESTRING ((0 0, 5 5), (6 6, 9 9))", "not accepted"),
        ("GEOMETRYCOLLECTION (POINT (1 1), POINT (2 2))", "not accepted"),
        ("POLYGON ((0 0, 0.5 0, 0.5 10, 0 10, 0 0))", "smaller than a pixel"),
        ("POLYGON ((2000 2000, 2000 2100, 2100 2100, 2100 2000, 2000 2000))", "outside"),
        ("POINT (nan 1)", "not finite"),
    ],
)
def test_bad_geometries_are_refused_with_a_reason(text, reason):
    with pytest.raises(InvalidInput, match=reason):
        new(text)


def test_geometry_leaving_the_image_is_clipped_to_it():
    shaped = new("POLYGON ((-10 -10, -10 50, 50 50, 50 -10, -10 -10))", 40, 30)
    assert shapely.equals(shaped.geometry, shapely.box(0, 0, 40, 30))
    assert shaped.geometry.bounds == (0.0, 0.0, 40.0, 30.0)


def test_clipping_keeps_only_the_highest_dimension():
    # touches the image only along its left edge plus an inside square: the edge line goes
    shaped = new("MULTIPOLYGON (((-10 0, -10 10, 0 10, 0 0, -10 0)), ((5 5, 5 9, 9 9, 9 5, 5 5)))",
                 100, 100)  # fmt: skip
    assert shaped.geometry.geom_type == "Polygon"
    assert shaped.geometry.area == 16


def test_geometry_without_image_size_is_not_clipped():
    assert new("POINT (5000 -3)", None, None).wkt == "POINT (5000 -3)"


def test_single_point_and_line_pass_the_size_check():
    assert new("POINT (0 0)").wkt == "POINT (0 0)"
    assert new("LINESTRING (0 0, 0 100)").wkt == "LINESTRING (0 0, 0 100)"


def _circle(vertices: int, radius: float = 400, center: float = 500) -> str:
    points = [
        (center + radius * math.cos(2 * math.pi * i / vertices),
         center + radius * math.sin(2 * math.pi * i / vertices))
        for i in range(vertices)
    ]  # fmt: skip
    return to_wkt(shapely.Polygon(points))


def test_big_polygon_is_simplified_within_the_point_budget():
    shaped = new(_circle(1000))
    points = shapely.get_num_coordinates(shaped.geometry)
    assert points <= 1000 / 1.3
    assert points >= 10
    assert shaped.compression > 0
    assert shaped.geometry.is_valid
    assert abs(shaped.geometry.area - math.pi * 400**2) / (math.pi * 400**2) < 0.01


def test_min_and_max_point_bound_the_simplification():
    shaped = new(_circle(1000), min_point=10, max_point=50)
    assert 10 <= shapely.get_num_coordinates(shaped.geometry) <= 50
    # the default lower bound (100 points for one part) stops the search first
    assert shapely.get_num_coordinates(new(_circle(1000), max_point=50).geometry) < 100


def test_simplify_leaves_small_geometries_alone():
    geometry = parse(_circle(99))
    assert simplify(geometry) == (geometry, 0.0)


def test_edit_reapplies_stored_compression_and_skips_it_at_zero():
    assert prepare_edit(SQUARE, 1000, 1000, 0.0).wkt == SQUARE
    assert prepare_edit("POINT (1 2)", 1000, 1000, None).wkt == "POINT (1 2)"
    edited = prepare_edit(_circle(1000), 1000, 1000, 5.0)
    assert edited.compression == 5.0
    assert shapely.get_num_coordinates(edited.geometry) < 1000
    with pytest.raises(InvalidInput):
        prepare_edit(SQUARE, 1000, 1000, -1.0)


def test_measures_calibrated_in_microns_and_millimetres():
    rectangle = parse("POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))")
    measured = measure(rectangle, 0.499)
    assert measured.area == pytest.approx(14940.06)
    assert measured.area_unit == 3
    assert measured.perimeter == pytest.approx(0.499)
    assert measured.perimeter_unit == 2
    assert (measured.centroid_x, measured.centroid_y) == (250.0, 200.0)
    square = measure(parse(SQUARE), 0.499)
    assert (square.area, square.perimeter) == (pytest.approx(99.6004), pytest.approx(0.03992))


def test_measures_uncalibrated_in_rounded_pixels():
    measured = measure(parse("POLYGON ((100 100, 100 300, 400 300, 400 100, 100 100))"), None)
    assert (measured.area, measured.area_unit) == (60000.0, 1)
    assert (measured.perimeter, measured.perimeter_unit) == (1000.0, 0)
    half = measure(parse("POLYGON ((0 0, 0 1, 2.5 1, 0 0))"), None)
    assert half.area == 1.0  # 1.25 rounds half-up like Java's Math.round
    assert measure(parse("LINESTRING (0 0, 3 4)"), None).perimeter == 5.0
    assert measure(parse("MULTIPOINT ((0 0), (4 2))"), None).perimeter == 0.0
    holed = measure(parse("POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))"),
                    None)  # fmt: skip
    assert (holed.area, holed.perimeter) == (96.0, 48.0)


def test_fill_removes_holes():
    holed = parse("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))")
    assert to_wkt(fill(holed)) == "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"
    with pytest.raises(InvalidInput):
        fill(parse("POINT (1 1)"))
