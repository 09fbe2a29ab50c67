"""The pixel gate (rest_compat/pixel_gate.py, `CYTOGATE_PIXEL_CONCURRENCY`): at most N pixel
requests of images and slices are handled on the event loop at once, the others wait parked
and are all answered in turn, and a render in the pool holds no turn; other requests (an
annotation listing) pass while tiles wait, and tiles yield to them (`CYTOGATE_PIXEL_YIELD_MS`)
within their bound; a turn comes back whatever the answer (an error too, a cancel while
yielding), and a relayed request gives its turn back before it waits on the external image
server."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gateway.state import PIXEL_GATE
from imaging.service import PixelService
from rest_compat.pixel_gate import PixelGate
from settings import ConfigError, Settings
from tests.factories import abstract_image, add_image, imported, make_project
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, Server, serve, stand_in_server
from tests.imaging.pictures import pyramid_tiff

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

#: The tiles of the slide's full-resolution zoom (1200 × 900 px: 5 × 4 tiles of 256 px).
FULL = [(tx, ty) for ty in range(4) for tx in range(5)]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests' settings with a gate of one: every pixel request waits for the one before."""
    return replace(settings, pixel_concurrency=1)


@pytest.fixture(scope="module")
def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pyramid_tiff(tmp_path_factory.mktemp("gate") / "slide.tif", 1200, 900)


@pytest.fixture
def slide(api: Api, make_user: Any, slide_file: Path) -> dict[str, Any]:
    """A project with a contributor, a pyramid in it with one annotation, its tile URL."""
    member = make_user()
    project = make_project(api, users=(member["id"],))
    _, instance, piece = imported(api, slide_file, project["id"])
    drawn = member["api"].post(
        "/api/annotation.json",
        json={"image": instance["id"], "location": "POLYGON((10 10, 90 10, 90 60, 10 60, 10 10))"},
    )
    assert drawn.status_code == 200, drawn.text  # fmt: skip
    tile = f"/api/sliceinstance/{piece['id']}/normalized-tile/zoom/3/tx/{{}}/ty/{{}}.jpg"
    return {"member": member, "instance": instance, "tile": tile,
            "annotation": drawn.json()["annotation"]["id"]}  # fmt: skip


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Renders that wait until `release` is set (set from the start unless cleared), counting
    how many run at once: `entered` is set by the first."""
    state: dict[str, Any] = {"active": 0, "most": 0, "entered": threading.Event(),
                             "release": threading.Event()}  # fmt: skip
    state["release"].set()
    original = PixelService.render

    async def render(self: PixelService, job: Any, key: str) -> bytes:
        state["active"] += 1
        state["most"] = max(state["most"], state["active"])
        state["entered"].set()
        try:
            await asyncio.to_thread(state["release"].wait, 60)
            return await original(self, job, key)
        finally:
            state["active"] -= 1

    monkeypatch.setattr(PixelService, "render", render)
    yield state
    state["release"].set()  # never leave the server's renders waiting


def _until(condition: Callable[[], bool]) -> None:
    """Wait for `condition` (set by the server's thread), failing after 30 s."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.02)


def _synchronous(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """An async test, run to its end on a loop of its own (the suite has no async plugin)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


def test_pixel_concurrency_is_read_from_the_environment():
    assert Settings.from_env({"CYTOGATE_PIXEL_CONCURRENCY": "1"}).pixel_concurrency == 1
    default = Settings.from_env({"CYTOGATE_RENDER_THREADS": "6"})
    assert default.pixel_concurrency == 1
    assert default.render_threads == 6
    with pytest.raises(ConfigError, match="CYTOGATE_PIXEL_CONCURRENCY"):
        Settings.from_env({"CYTOGATE_PIXEL_CONCURRENCY": "0"})
    with pytest.raises(ValueError):
        PixelGate(0)


def test_pixel_yield_is_read_from_the_environment():
    assert Settings.from_env({}).pixel_yield_ms == 50
    assert Settings.from_env({"CYTOGATE_PIXEL_YIELD_MS": "0"}).pixel_yield_ms == 0
    with pytest.raises(ConfigError, match="CYTOGATE_PIXEL_YIELD_MS"):
        Settings.from_env({"CYTOGATE_PIXEL_YIELD_MS": "-1"})
    with pytest.raises(ValueError):
        PixelGate(1, -0.5)


@_synchronous
async def test_a_turn_waits_for_other_requests_then_goes() -> None:
    gate = PixelGate(2, yield_seconds=60)
    with gate.other():
        entering = asyncio.ensure_future(gate.turn().__aenter__())
        await asyncio.sleep(0.1)
        assert not entering.done() and (gate.inside, gate.others) == (1, 1)
    turn = await asyncio.wait_for(entering, 10)
    assert gate.others == 0
    turn.leave()
    async with gate.turn():  # nothing else in flight: straight in
        assert gate.inside == 1
    assert gate.inside == 0


@_synchronous
async def test_a_turn_inside_pauses_for_a_request_that_came_after_it() -> None:
    """A tile that got in before a listing arrived waits for it before rendering."""
    gate = PixelGate(1, yield_seconds=60)
    async with gate.turn() as turn:
        await asyncio.wait_for(turn.pause(), 10)  # nothing else in flight: no wait
        with gate.other():
            pausing = asyncio.ensure_future(turn.pause())
            await asyncio.sleep(0.1)
            assert not pausing.done()
        await asyncio.wait_for(pausing, 10)
    assert (gate.inside, gate.others) == (0, 0)


@_synchronous
async def test_a_turn_goes_on_once_its_bound_has_passed() -> None:
    """A stream of other requests delays pixel requests, never stops them."""
    gate = PixelGate(1, yield_seconds=0.05)
    with gate.other():
        for _ in range(3):
            async with asyncio.timeout(10):
                async with gate.turn():
                    assert (gate.inside, gate.others) == (1, 1)
    assert (gate.inside, gate.waiting, gate.others) == (0, 0, 0)


@_synchronous
async def test_a_turn_cancelled_while_yielding_is_given_back() -> None:
    gate = PixelGate(1, yield_seconds=60)
    with gate.other():
        entering = asyncio.ensure_future(gate.turn().__aenter__())
        await asyncio.sleep(0.05)
        assert gate.inside == 1
        entering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await entering
        assert gate.inside == 0
        async with asyncio.timeout(10):
            await gate._turns.acquire()  # the slot is free again
        gate._turns.release()


def test_a_tile_waits_for_a_listing_in_flight(server: Server, slide, monkeypatch, renders):
    """Through the middleware: a listing being handled keeps a tile from starting; the tile
    goes on as soon as the listing ends."""
    import resolvers.annotation.listing as listing

    viewer, gate = slide["member"]["api"], server.app[PIXEL_GATE]
    monkeypatch.setattr(gate, "yield_seconds", 60)
    held, original = threading.Event(), listing.list_annotations

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.to_thread(held.wait, 60)
        return await original(*args, **kwargs)

    monkeypatch.setattr(listing, "list_annotations", slow)
    with ThreadPoolExecutor(2) as pool:
        answer = pool.submit(viewer.get, f"/api/annotation.json?image={slide['instance']['id']}")
        _until(lambda: gate.others == 1)
        tile = pool.submit(viewer.get, slide["tile"].format(0, 0))
        try:
            _until(lambda: gate.inside == 1)
            time.sleep(0.2)
            assert not tile.done() and not renders["entered"].is_set()
        finally:
            held.set()
        assert answer.result(60).status_code == 200
        assert tile.result(60).status_code == 200
    assert (gate.inside, gate.waiting, gate.others) == (0, 0, 0)


def test_concurrent_tiles_all_answer_through_a_gate_of_one(server: Server, slide, make_user,
                                                           renders):  # fmt: skip
    viewer, stranger = slide["member"]["api"], make_user()["api"]
    asked = [(viewer, slide["tile"].format(tx, ty), 200) for tx, ty in FULL]
    asked += [
        (viewer, slide["tile"].format(9, 0), 400),
        (stranger, slide["tile"].format(0, 0), 403),
        (viewer.as_keys(None, None), slide["tile"].format(1, 0), 401),
    ]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda one: one[0].get(one[1]), asked))
    for (_, path, status), answer in zip(asked, answers, strict=True):
        assert answer.status_code == status, (path, answer.text)
        if status == 200:
            assert answer.headers["Content-Type"] == "image/jpeg" and answer.content, path
    gate = server.app[PIXEL_GATE]
    assert (gate.inside, gate.waiting) == (0, 0)  # errors gave their turns back too
    assert viewer.get(slide["tile"].format(0, 1)).status_code == 200


def test_a_render_in_the_pool_holds_no_turn(server: Server, slide, renders):
    """With a gate of one, tiles whose renders are all held still get through their checks
    one after the other, and a listing is answered meanwhile; the renders then end."""
    viewer, gate = slide["member"]["api"], server.app[PIXEL_GATE]
    renders["release"].clear()
    with ThreadPoolExecutor(4) as pool:
        tiles = [pool.submit(viewer.get, slide["tile"].format(tx, 1)) for tx in range(4)]
        _until(lambda: renders["active"] == 4)
        try:
            assert (gate.inside, gate.waiting) == (0, 0)
            listing = viewer.get(f"/api/annotation.json?image={slide['instance']['id']}")
            assert listing.status_code == 200, listing.text
            assert [row["id"] for row in listing.json()["collection"]] == [slide["annotation"]]
            assert not any(tile.done() for tile in tiles)
        finally:
            renders["release"].set()
        for answer in (tile.result(60) for tile in tiles):
            assert answer.status_code == 200 and answer.content, answer.text
    assert renders["most"] == 4
    assert (gate.inside, gate.waiting) == (0, 0)


@pytest.fixture
def slow_pims() -> Iterator[dict[str, Any]]:
    """A PIMS stand-in whose thumbnails answer once two are asked at once (or after 20 s),
    counting how many it held at once."""
    state = {"inside": 0, "most": 0}
    both = asyncio.Event()  # waited on by the stand-in's loop only

    async def thumb(request: web.Request) -> web.Response:
        state["inside"] += 1
        state["most"] = max(state["most"], state["inside"])
        if state["inside"] == 2:
            both.set()
        try:
            await asyncio.wait_for(both.wait(), 20)
        except TimeoutError:
            pass
        finally:
            state["inside"] -= 1
        return web.Response(body=b"PNGBYTES", content_type="image/png")

    app = web.Application()
    app.router.add_get("/image/{path:.*}/thumb", thumb)
    with stand_in_server(app) as url:
        yield {"url": url, "state": state}


def test_a_relayed_request_gives_its_turn_back(settings, database_url, slow_pims):
    """With a gate of one, two relayed thumbnails still reach the external server together."""
    configured = replace(settings, image_server_url=slow_pims["url"])
    with serve(configured, database_url) as running:
        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        image = add_image(api, make_project(api)["id"], abstract_image(api)["id"])
        path = f"/api/imageinstance/{image['id']}/thumb.png"
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda size: api.get(f"{path}?maxSize={size}"), (200, 300)))
        for answer in answers:
            assert answer.status_code == 200 and answer.content == b"PNGBYTES", answer.text
        assert slow_pims["state"]["most"] == 2
        gate = running.app[PIXEL_GATE]
        assert (gate.inside, gate.waiting) == (0, 0)
