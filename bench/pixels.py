"""The built-in image server under load (`make bench-pixels`), each figure beside its floor
measured in the same run:

- upload + import of a 1.4 GB slide (a 30 000 × 20 000 JPEG pyramid of a noisy field, which
  compresses poorly; generated once and kept in bench/.data), beside copying the same bytes to
  a file of the same disk;
- tiles per second over HTTP with 8 and 32 concurrent clients asking with the web viewer's
  query string, cold then warm, beside the same tiles read and encoded by libvips directly in
  as many threads (no HTTP);
- `GET /api/annotation.json?image=…&max=100` latency alone, then while 32 clients load tiles
  from another process: listings must not slow down while tiles are served. The clients share
  the machine, so a second floor: the same listings on a second server process over the same
  database during the same load (what the machine's contention alone costs them). The three
  are taken in turn over five rounds, each figure the median of its rounds. And the listing's
  handling inside the server (the `Server-Timing` of each answer) alone and during the load:
  what the tiles cost a listing on the server's own event loop, apart from the machine;
- thumbnail and full-resolution window latency.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp

from bench.common import HOME, server, signed
from db.embedded import EmbeddedCluster
from db.migrate import upgrade

WIDTH: Final = 30_000
HEIGHT: Final = 20_000
PYRAMID: Final = HOME / f"noisy-pyramid-{WIDTH}x{HEIGHT}.tif"
#: Gaussian noise on a smooth colour field, JPEG quality 90 (no chroma subsampling): about
#: 1.45 bytes a pixel at full resolution, 1.4 GB for the whole pyramid.
NOISE: Final = 42
QUALITY: Final = 90
VIEWER: Final = ("channels=0,1,2&minIntensities=0,0,0&maxIntensities=255,255,255&gammas=1,1,1"
                 "&colormaps=%23f00,%230f0,%2300f")  # fmt: skip
DATABASE: Final = "bench_pixels"
ANNOTATIONS: Final = 1000
LISTINGS: Final = 100
#: Rounds of the listing measures (alone, beside a second process, under load), taken in turn.
ROUNDS: Final = 5
#: Seconds left after a tile load before listings are timed alone.
SETTLE: Final = 2.0
Tile = tuple[int, int, int]


def make_pyramid() -> Path:
    """The bench slide (see the module docstring), made once."""
    import pyvips

    if PYRAMID.exists():
        return PYRAMID
    HOME.mkdir(parents=True, exist_ok=True)
    xyz = pyvips.Image.xyz(WIDTH, HEIGHT)
    red = (xyz[0] * 0.05).sin() * 60 + 150
    green = (xyz[1] * 0.03).cos() * 60 + 140
    blue = ((xyz[0] + xyz[1]) * 0.01).sin() * 50 + 160

    def noise() -> Any:
        return pyvips.Image.gaussnoise(WIDTH, HEIGHT, sigma=NOISE, mean=0)

    field = red.bandjoin([green, blue]) + noise().bandjoin([noise(), noise()])
    image = field.cast("uchar").copy(interpretation="srgb")
    partial = PYRAMID.with_suffix(".partial")
    image.tiffsave(str(partial), tile=True, tile_width=256, tile_height=256, pyramid=True,
                   compression="jpeg", Q=QUALITY, bigtiff=True)  # fmt: skip
    partial.rename(PYRAMID)
    return PYRAMID


def tiles(zoom: int) -> list[Tile]:
    from imaging.pyramid import tiers

    sizes = tiers(WIDTH, HEIGHT)
    tier_w, tier_h = sizes[len(sizes) - 1 - zoom]
    return [(zoom, tx, ty) for ty in range(-(-tier_h // 256)) for tx in range(-(-tier_w // 256))]


def floor(work: list[Tile], threads: int) -> float:
    """Tiles per second read and encoded by libvips directly (the same boxes, no HTTP)."""
    from imaging.operations import PixelQuery, plan
    from imaging.readers import SlideCache
    from imaging.render import RegionJob, Source, encode, read_box

    slides = SlideCache()
    source = Source(str(PYRAMID), "PYRTIFF", WIDTH, HEIGHT)

    def one(tile: Tile) -> int:
        job = plan(source, PixelQuery("NORMALIZED_TILE", "jpg", zoom=tile[0], tx=tile[1],
                                      ty=tile[2])).job  # fmt: skip
        slide = slides.get(Path(source.path), "PYRTIFF")
        assert isinstance(job, RegionJob)
        return len(encode(read_box(slide, job.box, job.out_width, job.out_height), "jpg"))

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, work))
    return len(work) / (time.perf_counter() - started)


def copy_floor() -> float:
    """Seconds to copy the slide to another file of the same disk (no HTTP, no import)."""
    target = HOME / "copy.partial"
    started = time.perf_counter()
    shutil.copyfile(PYRAMID, target)
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


async def _timed(session: aiohttp.ClientSession, url: str) -> tuple[float, float]:
    """Seconds the client waited for `url`, and seconds the server says it took to handle it
    (its `Server-Timing`): the rest was queueing, the network and the client."""
    started = time.perf_counter()
    async with session.get(url, headers=signed("GET")) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
        handled = float(response.headers["Server-Timing"].partition(";dur=")[2]) / 1000
    return time.perf_counter() - started, handled


async def _get(session: aiohttp.ClientSession, url: str) -> float:
    return (await _timed(session, url))[0]


def _tile_url(base: str, slice_id: int, tile: Tile) -> str:
    zoom, tx, ty = tile
    return (f"{base}/api/sliceinstance/{slice_id}/normalized-tile/zoom/{zoom}/tx/{tx}/ty/{ty}"
            f".jpg?{VIEWER}")  # fmt: skip


async def http_rate(base: str, slice_id: int, work: Iterable[Tile], clients: int) -> float:
    """Tiles per second `clients` concurrent clients get through `work`."""
    queue = list(work)
    count = len(queue)
    async with aiohttp.ClientSession() as session:

        async def client() -> None:
            while queue:
                await _get(session, _tile_url(base, slice_id, queue.pop()))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
    return count / (time.perf_counter() - started)


def _tile_load(base: str, slice_id: int, clients: int, stop: Any, served: Any) -> None:
    """In a process of its own: `clients` clients ask tiles of zooms 5–7 round and round until
    `stop` is set; `served` counts them."""

    async def run() -> None:
        work = tiles(5) + tiles(6) + tiles(7)
        async with aiohttp.ClientSession() as session:

            async def client(offset: int) -> None:
                index = offset
                while not stop.is_set():
                    await _get(session, _tile_url(base, slice_id, work[index % len(work)]))
                    index += clients
                    with served.get_lock():
                        served.value += 1

            await asyncio.gather(*(client(i) for i in range(clients)))

    asyncio.run(run())


async def latencies(urls: list[str]) -> tuple[float, float, float]:
    """p50 and p99 in ms of asking `urls` one after the other, and the p50 of the server's
    own handling of them."""
    async with aiohttp.ClientSession() as session:
        timed = [await _timed(session, url) for url in urls]
    times = sorted(waited for waited, _ in timed)
    handled = statistics.median(took for _, took in timed)
    return (statistics.median(times) * 1000, times[max(0, int(len(times) * 0.99) - 1)] * 1000,
            handled * 1000)  # fmt: skip


def listings_under_load(base: str, slice_id: int, urls: list[str], clients: int
                        ) -> tuple[float, float, float, float]:  # fmt: skip
    """Listing latency (p50, p99 ms, and the server's handling p50) while `clients` clients
    load tiles from another process, and the tiles per second they got meanwhile."""
    context = multiprocessing.get_context("spawn")
    stop, served = context.Event(), context.Value("l", 0)
    loader = context.Process(target=_tile_load, args=(base, slice_id, clients, stop, served))
    loader.start()
    try:
        while served.value < 200:  # the load is on before measuring
            if not loader.is_alive():
                raise RuntimeError("the tile load stopped before it started")
            time.sleep(0.05)
        before, started = served.value, time.perf_counter()
        p50, p99, handled = asyncio.run(latencies(urls))
        rate = (served.value - before) / (time.perf_counter() - started)
    finally:
        stop.set()
        loader.join(60)
    return p50, p99, handled, rate


async def upload(base: str, storage: int, project: int) -> tuple[float, dict[str, Any]]:
    """The slide posted as client 4.x does (sync=false): seconds until the answer, and it."""
    started = time.perf_counter()
    form = aiohttp.FormData()
    with PYRAMID.open("rb") as file:
        form.add_field("files[]", file, filename="bench.tif")
        body = form()
        headers = signed("POST", body.content_type)
        async with aiohttp.ClientSession() as session, session.post(
            f"{base}/upload?idStorage={storage}&idProject={project}&sync=false", data=body,
            headers=headers, timeout=aiohttp.ClientTimeout(total=3600),
        ) as response:  # fmt: skip
            answer = await response.json()
    return time.perf_counter() - started, answer[0]


async def imported(base: str, file_id: int, project: int) -> int:
    """Wait until the uploaded file is DEPLOYED (100) and its image is in the project (the
    instances come last, PIXELS.md §4): the instance's id. Fails on an error status."""
    while True:
        found = await _json(base, "GET", f"/api/uploadedfile/{file_id}.json")
        if found["status"] % 2 == 1:
            raise RuntimeError(f"the import failed: {found}")
        placed = await _json(base, "GET", f"/api/project/{project}/imageinstance.json")
        if found["status"] == 100 and placed["collection"]:
            return int(placed["collection"][0]["id"])
        await asyncio.sleep(0.05)


async def _json(base: str, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as session, session.request(
        method, base + path, json=body, headers=signed(method, "application/json")
    ) as response:  # fmt: skip
        return await response.json()


async def annotate(base: str, image: int) -> None:
    """`ANNOTATIONS` small polygons on the image, posted in batches as the client does."""
    for batch in range(ANNOTATIONS // 100):
        shapes = []
        for i in range(batch * 100, batch * 100 + 100):
            x, y = 500 + i * 29 % 29_000, 500 + i * 17 % 19_000
            square = f"POLYGON(({x} {y}, {x + 80} {y}, {x + 80} {y + 60}, {x} {y}))"
            shapes.append({"image": image, "location": square})
        answer = await _json(base, "POST", "/api/annotation.json", shapes)
        if answer.get("status") != 200:
            raise RuntimeError(f"annotations refused: {answer}")


async def _database(cluster: EmbeddedCluster) -> str:
    import asyncpg

    admin = await asyncpg.connect(host=str(cluster._socket_dir), user="cytogate",
                                  database="postgres")  # fmt: skip
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
    finally:
        await admin.close()
    url = await cluster.ensure_database(DATABASE)
    await asyncio.to_thread(upgrade, url)
    return url


def listing_rows(url: str, images: Path, base: str, instance: int, piece: int) -> list[str]:
    """Annotation listings alone, then during a 32-client tile load on the same server and,
    as the floor of what the shared machine alone costs them, on a second server process
    over the same database during the same load. The three are taken in turn for `ROUNDS`
    rounds and each figure is the median of its rounds: this machine's speed drifts by more
    than the effect measured within a minute."""
    path = f"/api/annotation.json?image={instance}&max=100"
    listing = [base + path] * LISTINGS
    asyncio.run(latencies(listing[:20]))  # warm
    rounds: list[tuple[float, ...]] = []
    with server(url, {"CYTOGATE_IMAGES_DIR": str(images)}) as other:
        elsewhere = [other + path] * LISTINGS
        asyncio.run(latencies(elsewhere[:20]))
        for _ in range(ROUNDS):
            time.sleep(SETTLE)  # the last round's tiles are done with before "alone"
            alone = asyncio.run(latencies(listing))
            floor_ = listings_under_load(base, piece, elsewhere, 32)
            loaded = listings_under_load(base, piece, listing, 32)
            rounds.append((*alone, *floor_, *loaded))
    (alone_50, alone_99, alone_handled, floor_50, floor_99, _, floor_rate, p50, p99, handled,
     rate) = (statistics.median(column) for column in zip(*rounds, strict=True))  # fmt: skip
    measure = (f"`annotation.json?image=…&max=100` ({ANNOTATIONS} on the image), p50 / p99 ms, "
               f"during a 32-client tile load ({rate:.0f} tiles/s)")  # fmt: skip
    return [
        _row(measure, f"{p50:.1f} / {p99:.1f}", f"{alone_50:.1f} / {alone_99:.1f} (alone)",
             f"{p50 / alone_50:.2f}× / {p99 / alone_99:.2f}×"),
        _row(f"… the same, beside a second server process's listings during the same load "
             f"({floor_rate:.0f} tiles/s)", f"{p50:.1f} / {p99:.1f}",
             f"{floor_50:.1f} / {floor_99:.1f} (second process)",
             f"{p50 / floor_50:.2f}× / {p99 / floor_99:.2f}×"),
        _row("… the same listings' handling inside the server (its `Server-Timing`), p50 ms, "
             "during the load", f"{handled:.2f}", f"{alone_handled:.2f} (alone)",
             f"{handled / alone_handled:.2f}×"),
    ]  # fmt: skip


def _row(measure: str, ours: str, floor_: str = "—", ratio: str = "—") -> str:
    return f"| {measure} | {ours} | {floor_} | {ratio} |"


def main() -> None:
    make_pyramid()
    size_gb = PYRAMID.stat().st_size / 1e9
    cluster = EmbeddedCluster(HOME, durable=False)
    cluster.start()
    rows = []
    images = HOME / "images"
    shutil.rmtree(images, ignore_errors=True)
    try:
        url = asyncio.run(_database(cluster))
        with server(url, {"CYTOGATE_IMAGES_DIR": str(images)}) as base:
            storage = asyncio.run(_json(base, "GET", "/api/storage.json"))["collection"][0]["id"]
            project = asyncio.run(_json(base, "POST", "/api/project.json",
                                        {"name": "bench"}))["project"]["id"]  # fmt: skip
            copied = copy_floor()
            started = time.perf_counter()
            answered, answer = asyncio.run(upload(base, storage, project))
            instance = asyncio.run(imported(base, answer["uploadedFile"]["id"], project))
            total = time.perf_counter() - started
            rows.append(_row(f"upload of the {size_gb:.2f} GB slide, answered (sync=false)",
                             f"{answered:.1f} s", f"{copied:.1f} s (copy to disk)",
                             f"{answered / copied:.2f}×"))  # fmt: skip
            rows.append(_row("… and imported (DEPLOYED, in the project)", f"{total:.1f} s",
                             f"{copied:.1f} s (copy)", f"{total / copied:.2f}×"))  # fmt: skip
            piece = asyncio.run(_json(base, "GET", f"/api/imageinstance/{instance}/sliceinstance/"
                                      "reference.json"))["id"]  # fmt: skip
            work = tiles(6) + tiles(5)
            for clients in (8, 32):
                cold = asyncio.run(http_rate(base, piece, work, clients))
                warm = asyncio.run(http_rate(base, piece, work, clients))
                low = floor(work, clients)
                rows.append(
                    _row(
                        f"tiles/s, {clients} clients, viewer query, cold",
                        f"{cold:.0f}",
                        f"{low:.0f}",
                        f"{cold / low:.2f}×",
                    )
                )
                rows.append(
                    _row(
                        f"tiles/s, {clients} clients, viewer query, warm",
                        f"{warm:.0f}",
                        f"{low:.0f}",
                        f"{warm / low:.2f}×",
                    )
                )
                work = tiles(7)[: len(work)]  # other tiles for the next cold pass
            asyncio.run(annotate(base, instance))
            rows += listing_rows(url, images, base, instance, piece)
            thumbs = [f"{base}/api/imageinstance/{instance}/thumb.jpg?maxSize={256 + i}"
                      for i in range(40)]  # fmt: skip
            p50, p99, _ = asyncio.run(latencies(thumbs))
            rows.append(_row("thumbnail (uncached), p50 / p99 ms", f"{p50:.0f} / {p99:.0f}"))
            crops = [f"{base}/api/imageinstance/{instance}/window-{1000 + 97 * i}-{2000 + 31 * i}"
                     "-512-512.jpg" for i in range(40)]  # fmt: skip
            p50, p99, _ = asyncio.run(latencies(crops))
            rows.append(
                _row("512 px window at full resolution, p50 / p99 ms", f"{p50:.0f} / {p99:.0f}")
            )
    finally:
        cluster.stop()
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; one `cytogate serve` process, the clients on the same "
          "machine\n")  # fmt: skip
    print("| measure | cytogate | floor, same run | × floor |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main() if len(sys.argv) < 2 else make_pyramid()
