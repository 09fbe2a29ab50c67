"""Every pixel route, given bad values of the query parameters the image server reads (sizes,
zooms, colour maps, gammas, geometries…), never answers a 5xx: each bad value is a 4xx with a
JSON error body, whether the built-in image server renders the request or it is relayed to an
external one. `tests/gateway/test_route_sweep.py` sweeps the variables of every route's
operation; these parameters are read by the pixel answer itself, so they are swept here, on
real objects whose file is on disk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Final

import pytest
from aiohttp import web

from rest_compat.pixels import answer
from rest_compat.routes import PARAM
from rest_compat.table import ROUTES
from tests.factories import imported, make_project
from tests.gateway.test_route_sweep import VALUES, refusals
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, serve, stand_in_server
from tests.imaging.pictures import pyramid_tiff

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

#: What the pixel answer reads of the query string, beyond the route's operation.
PIXEL_PARAMS: Final = (
    "maxSize", "length", "maxWidth", "zoom", "level", "increaseArea", "gamma", "gammas", "bits",
    "colormap", "colormaps", "inverse", "geometry", "location", "alpha", "alphaMask", "mask",
    "thickness", "complete", "draw", "square", "color", "channels", "zSlices", "timepoints",
    "nBins", "minIntensities", "maxIntensities", "filters", "safe",
)  # fmt: skip


@pytest.fixture(scope="module")
def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pyramid_tiff(tmp_path_factory.mktemp("sweep") / "slide.tif", 700, 500)


@pytest.fixture
def objects(api: Api, slide_file: Path) -> dict[str, str]:
    """A real id for each resource with pixel routes: an imported slide, its slices, an
    annotation on it."""
    made, instance, piece = imported(api, slide_file, make_project(api)["id"])
    image = made[0]["images"][0]["image"]
    annotation = api.post("/api/annotation.json", json={
        "location": "POLYGON ((10 10, 200 10, 200 150, 10 150, 10 10))", "image": instance["id"],
    }).json()["annotation"]  # fmt: skip
    ids = {"imageinstance": instance["id"], "sliceinstance": piece["id"],
           "abstractimage": image["id"], "abstractslice": piece["baseSlice"],
           "uploadedfile": made[0]["uploadedFile"]["id"], "annotation": annotation["id"],
           "userannotation": annotation["id"]}  # fmt: skip
    return {resource: str(id_) for resource, id_ in ids.items()}


def _paths(ids: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Each pixel route's method and path, on the real object of its resource, with numbers
    that name something (a tile of zoom 0, a small window) so the parameters are what fails."""
    named = {"zoom": "0", "tx": "0", "ty": "0", "x": "0", "y": "0", "width": "64",
             "height": "64", "format": "png", "label": "macro"}  # fmt: skip
    for route in ROUTES:
        resource = route.path.split("/")[2]
        if route.envelope is not answer or resource not in ids or route.method != "GET":
            continue
        path = route.path
        for name, _ in route.params:
            path = PARAM.sub(ids[resource] if name == "id" else named[name], path, count=1)
        yield route.method, path


#: The sweep in parts, each a test of its own, so that the suite's workers share it.
PARTS: Final = 2


def _sweep(api: Api, ids: dict[str, str], part: int) -> list[str]:
    wrong: list[str] = []
    for method, path in list(_paths(ids))[part::PARTS]:
        for name in PIXEL_PARAMS:
            for value in VALUES:
                wrong += refusals(api, method, path, params={name: value})
    return wrong


@pytest.mark.parametrize("part", range(PARTS))
def test_built_in_pixels_refuse_bad_parameters_without_a_server_error(api, objects, part):
    wrong = _sweep(api, objects, part)
    assert not wrong, "\n".join(wrong)


@pytest.fixture
def anything() -> Iterator[str]:
    """A PIMS that answers every call with a small PNG, or JSON for what is JSON."""

    async def answered(request: web.Request) -> web.Response:
        if "histogram" in request.path or request.path.endswith(("/metadata", "/associated")):
            return web.json_response({"items": [], "size": 0})
        return web.Response(body=b"PNG", content_type="image/png")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answered)
    with stand_in_server(app) as url:
        yield url


@pytest.mark.parametrize("part", range(PARTS))
def test_relayed_pixels_refuse_bad_parameters_without_a_server_error(
    settings, database_url, objects, anything, part
):
    with serve(replace(settings, image_server_url=anything), database_url) as running:
        wrong = _sweep(Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY), objects, part)
    assert not wrong, "\n".join(wrong)
