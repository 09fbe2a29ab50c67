"""Benchmark: one image of 1 000 000 annotations (`make bench-scale`), each figure beside its
target or the floor measured in the same run:

- `GET /api/annotation.json?image=…&max=1` at offsets 0 and 500 000 (target ≤ 50 ms);
- viewports (`bbox`) holding about 100, 1 000 and 5 000 annotations, with `showTerm` and
  `showWKT` (target for 1 000 rows: ≤ 50 ms);
- the whole listing (`max=0`, streamed, read by a client that keeps none of it): time, and the
  server's peak memory above what it held before, beside the floor (asyncpg + orjson in this
  process, bench/run.py's anchor) and its own peak (target: within 1.2× of the floor's time,
  under 300 MB extra);
- bulk creation of 1 000 and 10 000 polygons with a term each, as one REST array and as one
  GraphQL `annotationCreateEach`, beside PostgreSQL's `COPY` of the same rows (target:
  ≥ 10 000 annotations a second). What they create is deleted afterwards, so the database
  stays the generated one.

The database comes from bench/generate.py and is kept in bench/.data (a few minutes to make).

    make bench-scale      (python -m bench.scale [N])
"""

from __future__ import annotations

import asyncio
import gc
import io
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

import aiohttp
import asyncpg
import orjson
from shapely import wkt as shapely_wkt
from shapely.geometry import Point

from bench.common import HOME, connected, server_process, signed
from bench.generate import IMAGE_SIZE
from bench.run import WHOLE_LISTS, _database, _fetch, anchor, median_ms
from db.embedded import EmbeddedCluster
from gateway.app import GC_THRESHOLD

SIZE: Final = 1_000_000
RUNS: Final = 7
VIEWPORTS: Final = (100, 1_000, 5_000)
BULKS: Final = (1_000, 10_000)
#: Batches timed per size and kind at least (their median is reported)...
BULK_RUNS: Final = 3
#: ... and as many as make about this many annotations: a 1 000-element batch lasts 0.1 s,
#: which this machine's noise moves by a third from one batch to the next.
BULK_ELEMENTS: Final = 20_000
BULK_KINDS: Final = ("REST array", "GraphQL annotationCreateEach")
SHOW: Final = {"showWKT": "true", "showTerm": "true"}
CREATE_EACH: Final = """
mutation($inputs: [AnnotationInput!]!) {
  annotationCreateEach(inputs: $inputs) { annotationId error }
}
"""


def _memory(pid: int | str, field: str) -> int:
    """A `/proc/<pid>/status` memory figure (VmRSS, VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid}")


def _peak_extra(pid: int | str, work: Callable[[], Any]) -> tuple[float, int, Any]:
    """Seconds `work` took, and the peak resident memory of process `pid` meanwhile above what
    it held before (Linux: writing 5 to clear_refs resets the peak)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _memory(pid, "VmRSS")
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    return seconds, _memory(pid, "VmHWM") - before, result


def _get(base: str, params: dict[str, str]) -> bytes:
    return asyncio.run(
        _fetch("GET", base + "/api/annotation.json", params=params, headers=signed("GET"))
    )


def _bbox(count: int, n: int) -> str:
    """A centred square holding about `count` of the image's `n` annotations."""
    side = IMAGE_SIZE * math.sqrt(count / n)
    low = (IMAGE_SIZE - side) / 2
    return f"{low:.0f},{low:.0f},{low + side:.0f},{low + side:.0f}"


def _polygons(count: int, seed: int) -> list[str]:
    """`count` polygons of 16–32 vertices, spread over the image (the same for every seed)."""
    chance = random.Random(seed)
    shapes = []
    for _ in range(count):
        centre = Point(chance.uniform(200, IMAGE_SIZE - 200), chance.uniform(200, IMAGE_SIZE - 200))
        circle = centre.buffer(chance.uniform(10, 100), quad_segs=chance.randint(4, 8))
        shapes.append(shapely_wkt.dumps(circle, rounding_precision=2))
    return shapes


async def _scene(dsn: str, image: int) -> tuple[int, int, int, int]:
    """The image's slice, project, one user and one term of the project's ontology."""
    async with connected(dsn) as conn:
        row = await conn.fetchrow(
            "SELECT ua.slice_id, ua.project_id, ua.user_id, t.id AS term FROM user_annotation ua"
            " JOIN project p ON p.id = ua.project_id JOIN term t ON t.ontology_id = p.ontology_id"
            " WHERE ua.image_id = $1 LIMIT 1",
            image,
        )
    return row["slice_id"], row["project_id"], row["user_id"], row["term"]


async def _copy(dsn: str, image: int, shapes: list[str]) -> float:
    """Seconds PostgreSQL takes to `COPY` the annotations and their term links (ids, metrics and
    WKT prepared beforehand, as the server prepares them), then the rows are deleted."""
    slice_id, project, user, term = await _scene(dsn, image)
    async with connected(dsn) as conn:
        ids = await conn.fetch(
            "SELECT nextval('cytomine_id_seq') FROM generate_series(1, $1)", 2 * len(shapes)
        )
        annotations, links = io.StringIO(), io.StringIO()
        for position, shape in enumerate(shapes):
            geometry = shapely_wkt.loads(shape)
            centre = geometry.centroid
            key, link = ids[2 * position][0], ids[2 * position + 1][0]
            annotations.write(
                f"{key}\t{slice_id}\t{image}\t{project}\t{user}\t{shape}\t{shape}\t0.0\t"
                f"{geometry.area * 0.0625}\t3\t{geometry.length * 0.00025}\t2\t"
                f"{centre.x}\t{centre.y}\n"
            )
            links.write(f"{link}\t{key}\t{term}\t{user}\n")
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_to_table(
                "user_annotation", source=io.BytesIO(annotations.getvalue().encode()),
                columns=["id", "slice_id", "image_id", "project_id", "user_id", "location",
                         "wkt_location", "geometry_compression", "area", "area_unit",
                         "perimeter", "perimeter_unit", "centroid_x", "centroid_y"],
            )  # fmt: skip
            await conn.copy_to_table(
                "annotation_term", source=io.BytesIO(links.getvalue().encode()),
                columns=["id", "user_annotation_id", "term_id", "user_id"],
            )  # fmt: skip
        seconds = time.perf_counter() - started
        await _delete(conn, [ids[2 * p][0] for p in range(len(shapes))])
    return seconds


async def _delete(conn: asyncpg.Connection, ids: list[int]) -> None:
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM annotation_term WHERE user_annotation_id = ANY($1::bigint[])", ids
        )
        await conn.execute("DELETE FROM user_annotation WHERE id = ANY($1::bigint[])", ids)


async def _last_id(dsn: str) -> int:
    async with connected(dsn) as conn:
        return int(await conn.fetchval("SELECT last_value FROM cytomine_id_seq"))


async def _delete_created(dsn: str, image: int, first_id: int) -> int:
    """Delete the image's annotations made after `first_id` was drawn; how many there were."""
    async with connected(dsn) as conn:
        rows = await conn.fetch(
            "SELECT id FROM user_annotation WHERE image_id = $1 AND id > $2", image, first_id
        )
        await _delete(conn, [row[0] for row in rows])
    return len(rows)


def _request(how: str, image: int, term: int, shapes: list[str]) -> tuple[str, bytes]:
    """The path and body that create the shapes as one REST array or one GraphQL
    `annotationCreateEach`."""
    inputs = [{"image": image, "location": shape, "term": [term]} for shape in shapes]
    if how == "REST array":
        return "/api/annotation.json", orjson.dumps(inputs)
    return "/graphql", orjson.dumps({"query": CREATE_EACH, "variables": {"inputs": inputs}})


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


Row = tuple[str, str, str, str]


def _under(value: float, limit: float, unit: str) -> str:
    return "met" if value <= limit else f"missed by {value - limit:,.1f} {unit}"


def _listings(base: str, image: int, n: int) -> list[Row]:
    """`max=1` at offsets 0 and n/2, then the viewports."""
    rows: list[Row] = []
    for offset in (0, n // 2):
        params = {"image": str(image), "max": "1", "offset": str(offset), **SHOW}
        ms, body = median_ms(RUNS, partial(_get, base, params))
        found = len(orjson.loads(body)["collection"])
        label = f"`max=1` at offset {offset:,} ({found} row)"
        rows.append((label, f"{ms:,.1f} ms", "≤ 50 ms", _under(ms, 50, "ms")))
    for count in VIEWPORTS:
        params = {"image": str(image), "bbox": _bbox(count, n), "max": "0", **SHOW}
        ms, body = median_ms(RUNS, partial(_get, base, params))
        found = len(orjson.loads(body)["collection"])
        label = f"viewport of {found:,} annotations, showTerm+showWKT"
        aimed = count == 1_000
        target, verdict = ("≤ 50 ms", _under(ms, 50, "ms")) if aimed else ("—", "—")
        rows.append((label, f"{ms:,.1f} ms", target, verdict))
    return rows


async def _streamed_rows(base: str, params: dict[str, str]) -> int:
    """The listing read as it comes and kept nowhere (a streaming client: the server's time,
    not the client's buffering, is what is measured); its number of rows."""
    timeout = aiohttp.ClientTimeout(total=3600)
    marker, rows, tail = b'"class":', 0, b""
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(base + "/api/annotation.json", params=params,
                    headers=signed("GET")) as response,
    ):  # fmt: skip
        if response.status != 200:
            raise RuntimeError(f"max=0: {response.status} {await response.text()}")
        async for chunk in response.content.iter_chunked(1 << 20):
            joined = tail + chunk
            rows += joined.count(marker)
            tail = joined[-(len(marker) - 1) :]  # a marker cut by a chunk boundary
    return rows


def _whole(base: str, pid: int, dsn: str, image: int) -> list[Row]:
    """`max=0` beside the floor: time and peak memory of each."""
    whole = {"image": str(image), "max": "0", **SHOW}
    _get(base, {**whole, "max": "1000"})  # warm the plan and the connection
    ours, ours_extra, served = _peak_extra(pid, lambda: asyncio.run(_streamed_rows(base, whole)))
    floor, floor_extra, made = _peak_extra("self", lambda: asyncio.run(anchor(dsn, image, base)))
    del made
    gc.collect()
    return [
        (f"`max=0`, whole listing ({served:,} rows), time", f"{ours:,.1f} s",
         f"{floor:,.1f} s (asyncpg + orjson)", f"{ours / floor:.2f}× floor (target ≤ 1.2×)"),
        ("`max=0`, peak memory above idle", f"{ours_extra / 2**20:,.0f} MB",
         f"{floor_extra / 2**20:,.0f} MB (the floor's own)",
         _under(ours_extra / 2**20, 300, "MB")),
    ]  # fmt: skip


async def _bulks(base: str, dsn: str, image: int) -> list[Row]:
    """Bulk creation by REST and GraphQL beside COPY: after a small batch of each (the first
    call's preparations), rounds of one COPY and one batch of each kind (each kind first in
    every other round), each deleted after, so that the machine's noise falls on the floor as
    on the server; the medians of the rounds. The client keeps one connection, as a client's
    session does, and encodes each body before the clock starts, as COPY's rows are made
    before it."""
    rows: list[Row] = []
    _, _, _, term = await _scene(dsn, image)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        create = partial(_timed_create, session, base, dsn, image, term)
        for how in BULK_KINDS:
            await create(how, _polygons(10, 10))
        for count in BULKS:
            shapes = _polygons(count, count)
            copies: list[float] = []
            timed: dict[str, list[float]] = {how: [] for how in BULK_KINDS}
            for round_ in range(max(BULK_RUNS, BULK_ELEMENTS // count)):
                copies.append(await _copy(dsn, image, shapes))
                for how in BULK_KINDS[:: 1 if round_ % 2 else -1]:  # each kind first in turn
                    timed[how].append(await create(how, shapes))
            copy = statistics.median(copies)
            for how in BULK_KINDS:
                seconds = statistics.median(timed[how])
                rate = count / seconds
                verdict = "met" if rate >= 10_000 else f"missed ({rate / 10_000:.2f}× the target)"
                rows.append((f"bulk create {count:,} ({how})", f"{_ms(seconds)}, {rate:,.0f}/s",
                             f"COPY {_ms(copy)}, {count / copy:,.0f}/s",
                             f"{seconds / copy:.1f}× COPY; ≥ 10 000/s {verdict}"))  # fmt: skip
    return rows


async def _timed_create(session: aiohttp.ClientSession, base: str, dsn: str, image: int,
                        term: int, how: str, shapes: list[str]) -> float:  # fmt: skip
    """Seconds to create `shapes` in one call, from sending the request to reading the whole
    answer; the batch is deleted after."""
    path, body = _request(how, image, term, shapes)
    first = await _last_id(dsn)
    started = time.perf_counter()
    headers = signed("POST", "application/json")
    async with session.post(base + path, data=body, headers=headers) as response:
        answer = await response.read()
    seconds = time.perf_counter() - started
    if response.status != 200 or b'"errors"' in answer[:200]:
        raise RuntimeError(f"{how}: {response.status} {answer[:500]!r}")
    made = await _delete_created(dsn, image, first)
    if made != len(shapes):
        raise RuntimeError(f"{how} created {made} of {len(shapes)} annotations")
    return seconds


def measure(cluster: EmbeddedCluster, n: int) -> list[Row]:
    """The table's rows: measure, cytogate, floor or target, verdict."""
    url, image = asyncio.run(_database(cluster, n))
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    with server_process(url, WHOLE_LISTS) as (base, process):
        rows = _listings(base, image, n)
        rows += _whole(base, process.pid, dsn, image)
        rows += asyncio.run(_bulks(base, dsn, image))
    return rows


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else SIZE
    gc.set_threshold(*GC_THRESHOLD)
    cluster = EmbeddedCluster(HOME, durable=False)
    cluster.start()
    try:
        rows = measure(cluster, n)
    finally:
        cluster.stop()
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; N = {n:,} annotations on one image\n")  # fmt: skip
    print("| measure | cytogate | floor or target | verdict |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
