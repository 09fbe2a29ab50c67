"""The built-in image server under load (`make bench-pixels`): tiles per second over HTTP with
8 and 32 concurrent clients for the web viewer's query (cold, then warm), thumbnail and crop
latency, and the upload + import of the bench pyramid; each beside its floor measured in the
same run (the same tiles read and encoded by libvips directly, no HTTP).

The 30 000 × 20 000 JPEG pyramid is generated once and kept in bench/.data.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
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
PYRAMID: Final = HOME / f"pyramid-{WIDTH}x{HEIGHT}.tif"
VIEWER: Final = ("channels=0,1,2&minIntensities=0,0,0&maxIntensities=255,255,255&gammas=1,1,1"
                 "&colormaps=%23f00,%230f0,%2300f")  # fmt: skip
DATABASE: Final = "bench_pixels"


def make_pyramid() -> Path:
    """The bench slide: a smooth colour field with structure, JPEG Q85 tiles, 256 px."""
    import pyvips

    if PYRAMID.exists():
        return PYRAMID
    HOME.mkdir(parents=True, exist_ok=True)
    xyz = pyvips.Image.xyz(WIDTH, HEIGHT)
    red = (xyz[0] * 0.05).sin() * 60 + 150
    green = (xyz[1] * 0.03).cos() * 60 + 140
    blue = ((xyz[0] + xyz[1]) * 0.01).sin() * 50 + 160
    image = red.bandjoin([green, blue]).cast("uchar").copy(interpretation="srgb")
    partial = PYRAMID.with_suffix(".partial")
    image.tiffsave(str(partial), tile=True, tile_width=256, tile_height=256, pyramid=True,
                   compression="jpeg", Q=85, bigtiff=True)  # fmt: skip
    partial.rename(PYRAMID)
    return PYRAMID


def tiles(zoom: int) -> list[tuple[int, int, int]]:
    from imaging.pyramid import tiers

    sizes = tiers(WIDTH, HEIGHT)
    tier_w, tier_h = sizes[len(sizes) - 1 - zoom]
    return [(zoom, tx, ty) for ty in range(-(-tier_h // 256)) for tx in range(-(-tier_w // 256))]


def floor(work: list[tuple[int, int, int]], threads: int) -> float:
    """Tiles per second read and encoded by libvips directly (the same boxes, no HTTP)."""
    from imaging.operations import PixelQuery, plan
    from imaging.readers import SlideCache
    from imaging.render import RegionJob, Source, encode, read_box

    slides = SlideCache()
    source = Source(str(PYRAMID), "PYRTIFF", WIDTH, HEIGHT)

    def one(tile: tuple[int, int, int]) -> int:
        job = plan(source, PixelQuery("NORMALIZED_TILE", "jpg", zoom=tile[0], tx=tile[1],
                                      ty=tile[2])).job  # fmt: skip
        slide = slides.get(Path(source.path), "PYRTIFF")
        assert isinstance(job, RegionJob)
        return len(encode(read_box(slide, job.box, job.out_width, job.out_height), "jpg"))

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, work))
    return len(work) / (time.perf_counter() - started)


async def _get(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url, headers=signed("GET")) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
    return time.perf_counter() - started


async def http_rate(base: str, slice_id: int, work: list[tuple[int, int, int]], clients: int
                    ) -> float:  # fmt: skip
    queue = list(work)
    async with aiohttp.ClientSession() as session:

        async def client() -> None:
            while queue:
                zoom, tx, ty = queue.pop()
                url = (f"{base}/api/sliceinstance/{slice_id}/normalized-tile/zoom/{zoom}/tx/{tx}"
                       f"/ty/{ty}.jpg?{VIEWER}")  # fmt: skip
                await _get(session, url)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
    return len(work) / (time.perf_counter() - started)


async def latencies(urls: list[str]) -> tuple[float, float]:
    async with aiohttp.ClientSession() as session:
        times = [await _get(session, url) for url in urls]
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


async def upload(base: str, storage: int, project: int) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    form = aiohttp.FormData()
    with PYRAMID.open("rb") as file:
        form.add_field("files[]", file, filename="bench.tif")
        body = form()
        headers = signed("POST", body.content_type)
        async with aiohttp.ClientSession() as session, session.post(
            f"{base}/upload?idStorage={storage}&idProject={project}&sync=true", data=body,
            headers=headers, timeout=aiohttp.ClientTimeout(total=3600),
        ) as response:  # fmt: skip
            answer = await response.json()
    return time.perf_counter() - started, answer[0]


async def _json(base: str, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as session, session.request(
        method, base + path, json=body, headers=signed(method, "application/json")
    ) as response:  # fmt: skip
        return await response.json()


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


def main() -> None:
    make_pyramid()
    size_mb = PYRAMID.stat().st_size / 1e6
    cluster = EmbeddedCluster(HOME, durable=False)
    cluster.start()
    rows = []
    images = HOME / "images"
    try:
        url = asyncio.run(_database(cluster))
        with server(url, {"CYTOGATE_IMAGES_DIR": str(images)}) as base:
            storage = asyncio.run(_json(base, "GET", "/api/storage.json"))["collection"][0]["id"]
            project = asyncio.run(_json(base, "POST", "/api/project.json",
                                        {"name": "bench"}))["project"]["id"]  # fmt: skip
            seconds, answer = asyncio.run(upload(base, storage, project))
            rows.append(f"| upload + import of {size_mb:.0f} MB pyramid (sync) | {seconds:.1f} s "
                        f"| — |")  # fmt: skip
            instance = answer["images"][0]["imageInstances"][0]["id"]
            piece = asyncio.run(_json(base, "GET", f"/api/imageinstance/{instance}/sliceinstance/"
                                      "reference.json"))["id"]  # fmt: skip
            work = tiles(6) + tiles(5)
            for clients in (8, 32):
                cold = asyncio.run(http_rate(base, piece, work, clients))
                warm = asyncio.run(http_rate(base, piece, work, clients))
                low = floor(work, clients)
                rows.append(f"| tiles/s, {clients} clients, viewer query, cold | {cold:.0f} | "
                            f"{low:.0f} |")  # fmt: skip
                rows.append(f"| tiles/s, {clients} clients, viewer query, warm | {warm:.0f} | "
                            f"{low:.0f} ({warm / low:.2f}×) |")  # fmt: skip
                work = tiles(7)[: len(work)]  # other tiles for the next cold pass
            thumbs = [f"{base}/api/imageinstance/{instance}/thumb.jpg?maxSize={256 + i}"
                      for i in range(40)]  # fmt: skip
            p50, p99 = asyncio.run(latencies(thumbs))
            rows.append(f"| thumbnail (512 px class, uncached), p50 / p99 ms | {p50:.0f} / "
                        f"{p99:.0f} | — |")  # fmt: skip
            crops = [f"{base}/api/imageinstance/{instance}/window-{1000 + 97 * i}-{2000 + 31 * i}"
                     "-512-512.jpg" for i in range(40)]  # fmt: skip
            p50, p99 = asyncio.run(latencies(crops))
            rows.append(f"| 512 px window at full resolution, p50 / p99 ms | {p50:.0f} / "
                        f"{p99:.0f} | — |")  # fmt: skip
    finally:
        cluster.stop()
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; one `cytogate serve` process, the clients on the same "
          "machine\n")  # fmt: skip
    print("| measure | cytogate over HTTP | floor (libvips, no HTTP) |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main() if len(sys.argv) < 2 else make_pyramid()
