"""With `CYTOGATE_IMAGE_SERVER_URL` set, pixel routes are relayed to that PIMS (contract
images-annotations.md §2.10): status, body and cache headers passed on, `If-None-Match`
forwarded, JSON camel-cased, 502 when it fails. Tested against a stand-in started here."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
import shapely
from aiohttp import BodyPartReader, web

from tests.factories import abstract_image, add_image, first_storage, make_project, upload
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, serve, stand_in_server
from tests.image.test_graphql_upload import post_upload

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")


@pytest.fixture
def stand_in() -> Iterator[dict[str, Any]]:
    """A tiny PIMS: thumbnails with an ETag, histogram bounds, a failing window."""
    seen: list[dict[str, Any]] = []

    async def thumb(request: web.Request) -> web.Response:
        seen.append({"path": request.path, "query": dict(request.query),
                     "pairs": list(request.query.items()),
                     "headers": dict(request.headers)})  # fmt: skip
        if request.headers.get("If-None-Match") == 'W/"abc"':
            return web.Response(status=304, headers={"ETag": 'W/"abc"'})
        return web.Response(body=b"PNGBYTES", content_type="image/png",
                            headers={"ETag": 'W/"abc"', "Cache-Control": "max-age=60"})  # fmt: skip

    async def associated(request: web.Request) -> web.Response:
        items = [{"name": name, "width": 10, "height": 8} for name in ("label", "macro")]
        return web.json_response({"items": items, "size": 2})

    async def bounds(request: web.Request) -> web.Response:
        return web.json_response({"type": "FAST", "minimum": 3, "maximum": 250})

    async def window(request: web.Request) -> web.Response:
        seen.append({"path": request.path, "body": await request.json()})
        return web.Response(status=500, text="boom")

    async def crop(request: web.Request) -> web.Response:
        seen.append({"path": request.path, "body": await request.json()})
        return web.Response(body=b"CROP", content_type="image/png")

    app = web.Application()
    app.router.add_get("/image/{path:.*}/thumb", thumb)
    app.router.add_get("/image/{path:.*}/resized", thumb)
    app.router.add_get("/image/{path:.*}/info/associated", associated)
    app.router.add_get("/image/{path:.*}/histogram/per-image/bounds", bounds)
    app.router.add_post("/image/{path:.*}/window", window)
    app.router.add_post("/image/{path:.*}/annotation/{operation}", crop)
    with stand_in_server(app) as url:
        yield {"url": url, "seen": seen}


def test_pixel_routes_are_relayed_to_the_configured_pims(settings, database_url, stand_in):
    configured = replace(settings, image_server_url=stand_in["url"])
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        image = add_image(api, make_project(api)["id"], abstract_image(api)["id"])
        thumb = api.get(f"/api/imageinstance/{image['id']}/thumb.png?maxSize=300")
        assert thumb.status_code == 200, thumb.text
        assert thumb.content == b"PNGBYTES" and thumb.headers["ETag"] == 'W/"abc"'
        assert thumb.headers["Cache-Control"] == "max-age=60"
        first = stand_in["seen"][0]
        assert first["path"] == f"/image/{image['path']}/thumb"
        assert first["query"]["length"] == "300" and first["headers"]["Accept"] == "image/png"
        again = api.get(f"/api/imageinstance/{image['id']}/thumb.png",
                        headers={"If-None-Match": 'W/"abc"'})  # fmt: skip
        assert again.status_code == 304
        labels = api.get(f"/api/imageinstance/{image['id']}/associated.json").json()
        assert labels["collection"] == ["label", "macro"]
        bounds = api.get(f"/api/imageinstance/{image['id']}/histogram/bounds.json")
        assert bounds.json() == {"type": "FAST", "minimum": 3, "maximum": 250}
        failed = api.get(f"/api/imageinstance/{image['id']}/window-1-2-3-4.png")
        assert failed.status_code == 502 and failed.json()["message"]
        assert stand_in["seen"][-1]["body"]["region"] == {"left": 1, "top": 2, "width": 3,
                                                          "height": 4}  # fmt: skip


def test_relayed_parameters_follow_core(settings, database_url, stand_in):
    """The slice's channel goes along when the image has several; colour maps and their
    inversion, gamma and bits as core maps them; a crop's geometry is simplified below 150
    points unless `complete=true`, and snapped to a 0.01 grid."""
    configured = replace(settings, image_server_url=stand_in["url"])
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        picture = abstract_image(api, planes=[(0, 0, 0), (1, 0, 0)])
        second = picture["slices"][1]["id"]
        thumb = api.get(f"/api/abstractslice/{second}/thumb.png?colormap=RED,!GREEN&inverse=true"
                        "&gamma=0.5&bits=max")  # fmt: skip
        assert thumb.status_code == 200, thumb.text
        asked = stand_in["seen"][-1]
        assert asked["path"].endswith("/resized")
        assert [v for k, v in asked["pairs"] if k == "colormaps"] == ["!RED", "GREEN"]
        assert (asked["query"]["channels"], asked["query"]["gammas"],
                asked["query"]["bits"]) == ("1", "0.5", "AUTO")  # fmt: skip
        api.get(f"/api/abstractslice/{second}/thumb.png?inverse=true")
        assert [v for k, v in stand_in["seen"][-1]["pairs"] if k == "colormaps"] == ["!DEFAULT"]
        rgb = abstract_image(api)
        api.get(f"/api/abstractimage/{rgb['id']}/thumb.png")
        assert "channels" not in stand_in["seen"][-1]["query"]  # an RGB image has one channel

        ring = ", ".join(f"{100 + 50 * math.cos(i / 64):.4f} {100 + 50 * math.sin(i / 64):.4f}"
                         for i in range(400))  # fmt: skip
        first = ring.split(", ")[0]
        wkt = f"POLYGON (({ring}, {first}))"
        crop = api.post(f"/api/abstractslice/{second}/crop.png?increaseArea=1.5&zoom=2",
                        params={"geometry": wkt})  # fmt: skip
        assert crop.status_code == 200 and crop.content == b"CROP", crop.text
        body = stand_in["seen"][-1]["body"]
        assert (body["channels"], body["context_factor"], body["length"]) == (1, 1.5, 256)
        assert "level" not in body  # an image's crop is 256 px unless maxSize says otherwise
        sent = shapely.from_wkt(body["annotations"][0]["geometry"])
        assert 4 <= shapely.get_num_coordinates(sent) < 150
        assert sent.symmetric_difference(shapely.from_wkt(wkt)).area < 0.05 * sent.area
        api.post(f"/api/abstractslice/{second}/crop.png?complete=true", params={"geometry": wkt})
        kept = shapely.from_wkt(stand_in["seen"][-1]["body"]["annotations"][0]["geometry"])
        assert shapely.get_num_coordinates(kept) == 401
        assert all(round(x, 2) == x for x, _ in kept.exterior.coords)
        image = add_image(api, make_project(api)["id"], picture["id"])
        drawn = api.post(
            "/api/annotation.json",
            json={"location": "POLYGON ((1 1, 9 1, 9 9, 1 9, 1 1))", "image": image["id"]},
        )
        annotation = drawn.json()["annotation"]["id"]
        api.get(f"/api/annotation/{annotation}/crop.png?zoom=2")
        body = stand_in["seen"][-1]["body"]
        assert body["level"] == 2 and "length" not in body  # an annotation's: the zoom's level
        api.get(f"/api/annotation/{annotation}/alphamask.png?alpha=0")
        assert stand_in["seen"][-1]["body"]["background_transparency"] == 0
        api.get(f"/api/annotation/{annotation}/crop.png?draw=true")
        assert stand_in["seen"][-1]["body"]["annotations"] == [
            {"geometry": "POLYGON ((1 1, 1 9, 9 9, 9 1, 1 1))"}
        ]  # no colour nor width: PIMS's
        bad = api.get(f"/api/abstractslice/{second}/crop.png?geometry=POLYGON((0 0")
        assert bad.status_code == 400 and bad.json()["message"]
        bad = api.get(f"/api/abstractslice/{second}/crop.png?geometry=POINT(1 1)&zoom=x")
        assert bad.status_code == 400 and "zoom" in bad.json()["message"]


#: PIMS's description of the stand-in's images: an RGB image of three samples in one channel.
_INFO: dict[str, Any] = {
    "image": {"width": 30720, "height": 25600, "depth": 1, "duration": 1, "n_concrete_channels": 1,
              "n_samples": 3, "physical_size_x": 0.25, "physical_size_y": 0.26,
              "physical_size_z": None, "frame_rate": None, "bits": 8},
    "instrument": {"objective": {"nominal_magnification": 40}},
    "channels": [{"index": i, "suggested_name": name, "color": color}
                 for i, (name, color) in enumerate((("R", "#f00"), ("G", "#0f0"), ("B", "#00f")))],
}  # fmt: skip
_BOUNDS: list[dict[str, Any]] = [
    {"type": "FAST", "channel": i, "concrete_channel": 0, "sample": i, "color": color,
     "minimum": 3 + i, "maximum": 250 - i}
    for i, color in enumerate(("#f00", "#0f0", "#00f"))
]  # fmt: skip


@pytest.fixture
def described() -> Iterator[dict[str, Any]]:
    """A PIMS that lists its formats, describes files and gives histograms of planes; a file
    whose name holds `broken` fails (500)."""
    seen: list[dict[str, Any]] = []

    def saw(request: web.Request) -> None:
        seen.append({"path": request.path, "query": dict(request.query)})

    async def formats(request: web.Request) -> web.Response:
        saw(request)
        return web.json_response({"items": [
            {"id": "SVS", "name": "Aperio SVS", "remarks": "", "convertible": False,
             "readable": True, "writable": False, "importable": True, "checker_only": False},
            {"name": "no id: left out"},
        ], "size": 2})  # fmt: skip

    async def info(request: web.Request) -> web.Response:
        saw(request)
        if "broken" in request.path:
            return web.Response(status=500, text="boom")
        return web.json_response(_INFO)

    async def histogram(request: web.Request) -> web.Response:
        saw(request)
        if request.path.endswith("/bounds"):
            return web.json_response({"items": _BOUNDS, "size": len(_BOUNDS)})
        items = [{**item, "histogram": [1, 2], "n_bins": 2} for item in _BOUNDS]
        return web.json_response({"items": items, "size": len(items)})

    app = web.Application()
    app.router.add_get("/formats", formats)
    app.router.add_get("/image/{path:.*}/info", info)
    app.router.add_get("/image/{path:.*}/histogram/{tail:.*}", histogram)
    with stand_in_server(app) as url:
        yield {"url": url, "seen": seen}


def test_formats_extraction_and_histograms_are_asked_of_the_configured_pims(
    settings, database_url, described
):
    configured = replace(settings, image_server_url=described["url"])
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        formats = api.get("/api/imageserver/format.json").json()
        assert formats["collection"] == [{"id": "SVS", "name": "Aperio SVS", "remarks": "",
                                          "convertible": False, "readable": True,
                                          "writable": False, "importable": True}]  # fmt: skip

        picture = abstract_image(api, magnification=20, physicalSizeX=0.5)
        extracted = api.post(f"/api/abstractimage/{picture['id']}/properties/extract.json")
        assert (extracted.status_code, extracted.json()) == (200, {})
        assert described["seen"][-1]["path"] == f"/image/{picture['uploadedFile']['filename']}/info"
        after = api.get(f"/api/abstractimage/{picture['id']}.json").json()
        assert (after["width"], after["height"], after["magnification"]) == (30720, 25600, 40)
        assert (after["physicalSizeX"], after["physicalSizeY"]) == (0.25, 0.26)
        assert (after["samplePerPixel"], after["bitPerSample"], after["channels"]) == (3, 8, 1)
        assert after["physicalSizeZ"] is None and after["fps"] is None
        piece = picture["slices"][0]
        assert api.get(f"/api/abstractslice/{piece['id']}.json").json()["channelName"] is None
        deep = api.post(f"/api/abstractimage/{picture['id']}/properties/regenerate.json?deep=true")
        assert deep.status_code == 200, deep.text
        named = api.get(f"/api/abstractslice/{piece['id']}.json").json()
        assert (named["channelName"], named["channelColor"]) == ("R|G|B", None)

        broken = abstract_image(api, name="broken.svs", width=100, height=80)
        swallowed = api.post(f"/api/abstractimage/{broken['id']}/properties/extract.json")
        assert (swallowed.status_code, swallowed.json()) == (200, {})
        kept = api.get(f"/api/abstractimage/{broken['id']}.json").json()
        assert (kept["width"], kept["height"], kept["magnification"]) == (100, 80, 20)

        image = add_image(api, make_project(api)["id"], picture["id"])
        plane = api.get(f"/api/imageinstance/{image['id']}/sliceinstance/reference.json").json()
        found = api.get(f"/api/sliceinstance/{plane['id']}/histogram.json?nBins=2").json()
        per_plane = f"/image/{image['path']}/histogram/per-plane/z/0/t/0"
        assert described["seen"][-1] == {"path": per_plane,
                                         "query": {"channels": "0", "n_bins": "2"}}  # fmt: skip
        first = found["collection"][0]
        assert (first["channel"], first["apparentChannel"], first["nBins"]) == (0, 0, 2)
        assert "concreteChannel" not in first
        bounds = api.get(f"/api/sliceinstance/{plane['id']}/channelhistogram/bounds.json").json()
        assert described["seen"][-1] == {"path": f"{per_plane}/bounds", "query": {}}
        assert [(b["channel"], b["apparentChannel"]) for b in bounds["collection"]] == [
            (0, 0), (0, 1), (0, 2)]  # fmt: skip
        api.get(f"/api/imageinstance/{image['id']}/channelhistogram/bounds.json")
        assert described["seen"][-1]["path"] == (
            f"/image/{image['path']}/histogram/per-channels/bounds"
        )

        query = """query($image: Long!, $slice: Long!) {
          imageInstance(id: $image) { histogramBounds { channel apparentChannel sample color
                                                        minimum maximum } }
          sliceInstance(id: $slice) { histogramBounds { apparentChannel maximum } } }"""
        answer = api.gql(query, {"image": image["id"], "slice": plane["id"]})
        assert "errors" not in answer, answer
        assert answer["data"]["imageInstance"]["histogramBounds"][2] == {
            "channel": 0, "apparentChannel": 2, "sample": 2, "color": "#00f", "minimum": 5,
            "maximum": 248}  # fmt: skip
        assert [b["maximum"] for b in answer["data"]["sliceInstance"]["histogramBounds"]] == [
            250, 249, 248]  # fmt: skip
        assert described["seen"][-1]["path"].endswith("/per-plane/z/0/t/0/bounds")


@pytest.fixture
def receiving() -> Iterator[dict[str, Any]]:
    """A PIMS that takes uploads: it keeps what came (query, signature, file) and answers as
    PIMS does."""
    got: dict[str, Any] = {}

    async def upload(request: web.Request) -> web.Response:
        got["query"] = request.rel_url.raw_query_string
        got["headers"] = dict(request.headers)
        reader = await request.multipart()
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        got["name"], got["data"] = part.filename, await part.read()
        return web.json_response([{"status": 200, "name": part.filename,
                                   "size": len(got["data"]), "images": []}])  # fmt: skip

    app = web.Application(client_max_size=64 * 1024**2)
    app.router.add_post("/upload", upload)
    with stand_in_server(app) as url:
        yield {"url": url, "got": got}


def test_uploads_go_to_the_configured_pims(settings, database_url, receiving, tmp_path, make_user):
    """Checked here first (storage, projects), then relayed as they came: PIMS imports the
    file, where the relayed pixel routes will read it, and checks the same signature."""
    configured = replace(settings, image_server_url=receiving["url"])
    slide = tmp_path / "slide.tif"
    slide.write_bytes(bytes(range(256)) * 4000)
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        project = make_project(api)["id"]
        made = upload(api, slide, project, sync=False)
        assert made == [{"status": 200, "name": "slide.tif", "size": 1024000, "images": []}]
        got = receiving["got"]
        assert got["data"] == slide.read_bytes() and got["name"] == "slide.tif"
        assert got["query"] == f"idStorage={first_storage(api)}&sync=false&idProject={project}"
        assert got["headers"]["Authorization"].startswith(f"CYTOMINE {ADMIN_PUBLIC_KEY}:")
        receiving["got"].clear()
        chunked = upload(api, slide, project, sync=False, chunked=True)  # no Content-Length
        assert chunked[0]["size"] == 1024000 and got["data"] == slide.read_bytes()
        receiving["got"].clear()
        keys = make_user()["keys"]
        outsider = Api(running.url, keys["publicKey"], keys["privateKey"])
        refused = upload(outsider, slide, project, storage=first_storage(api))
        assert refused.status_code == 403 and refused.json()[0]["error"]
        assert receiving["got"] == {}  # refused before PIMS hears of it
        variables = {"storage": first_storage(api), "projects": [project], "sync": True}
        answer = post_upload(api, variables, {"0": ("slide.tif", slide.read_bytes())})
        (error,) = answer.json()["errors"]
        assert error["extensions"]["code"] == "NOT_SUPPORTED" and "POST /upload" in error["message"]
    unreachable = replace(settings, image_server_url="http://127.0.0.1:9")
    with serve(unreachable, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        failed = upload(api, slide, make_project(api)["id"])
        assert failed.status_code == 502 and "127.0.0.1:9" in failed.json()[0]["error"]


def test_relayed_requests_waiting_on_pims_hold_no_database_connection(settings, database_url):
    """With a pool of two, twenty relayed thumbnails held by a slow PIMS leave the pool free:
    a listing is answered meanwhile, and every thumbnail once PIMS answers."""
    arrived = threading.Semaphore(0)
    held: dict[str, Any] = {}  # the stand-in's loop, and the event its thumbnails wait for

    async def thumb(request: web.Request) -> web.Response:
        if not held:
            held.update(loop=asyncio.get_running_loop(), event=asyncio.Event())
        arrived.release()
        await held["event"].wait()
        return web.Response(body=b"PNG", content_type="image/png")

    app = web.Application()
    app.router.add_get("/image/{path:.*}/thumb", thumb)
    with stand_in_server(app) as url:
        configured = replace(settings, image_server_url=url, pool_size=2, pool_timeout=5)
        with serve(configured, database_url) as running:
            api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
            picture = abstract_image(api)["id"]
            with ThreadPoolExecutor(20) as pool:
                thumbs = [pool.submit(api.get, f"/api/abstractimage/{picture}/thumb.png")
                          for _ in range(20)]  # fmt: skip
                try:
                    for _ in range(20):
                        assert arrived.acquire(timeout=30), "a thumbnail never reached PIMS"
                    listing = api.get("/api/project.json")
                    assert listing.status_code == 200, listing.text
                finally:
                    if held:
                        held["loop"].call_soon_threadsafe(held["event"].set)
                assert [future.result().status_code for future in thumbs] == [200] * 20
