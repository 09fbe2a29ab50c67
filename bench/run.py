"""Benchmark: listing the annotations of one image, for N = 10 000 and 100 000.

For each N, on a database made by bench/generate.py (kept in bench/.data between runs):

(a) the anchor: asyncpg fetches the rows and orjson encodes Cytomine's listing JSON — what a
    hand-written endpoint would do, with no GraphQL and no HTTP;
(b) `GET /api/annotation.json?image=…&showWKT=true&showTerm=true` end to end, from a separate
    `cytogate serve` process, over HTTP with a signed request;
(c) the equivalent GraphQL query (`annotationRows`) over HTTP;
(d) a bbox listing of a viewport holding about 1 000 annotations, over REST.

Each is the median of several runs, and is shown as a ratio to (a). No assertion: a table.

    make bench            (python -m bench.run [N ...])
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
import asyncpg
import orjson

from bench.common import HOME, bench_settings, connected, server, signed
from bench.generate import IMAGE_SIZE, generate
from db.embedded import EmbeddedCluster
from db.migrate import upgrade
from gateway.app import GC_THRESHOLD

SIZES: Final = (10_000, 100_000)
RUNS: Final = {10_000: 7, 100_000: 5}
VIEWPORT: Final = 1_000
#: (c) asks GraphQL for the whole listing in one page.
WHOLE_LISTS: Final = {
    "CYTOGATE_GRAPHQL_MAX_PAGE": "1000000",
    "CYTOGATE_GRAPHQL_MAX_ROWS": "10000000",
}

ANCHOR_SQL: Final = """
SELECT ua.id, ua.created, ua.updated, ua.image_id, ua.slice_id, ua.project_id, ua.user_id,
       ua.count_comments, ua.count_reviewed_annotations, ua.wkt_location,
       ua.geometry_compression,
       ARRAY(SELECT DISTINCT at.term_id FROM annotation_term at
             WHERE at.user_annotation_id = ua.id) AS terms,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('id', g.first, 'term', g.term_id,
                                                      'user', g.users)), '[]')
        FROM (SELECT at.term_id, min(at.id) AS first, array_agg(DISTINCT at.user_id) AS users
              FROM annotation_term at WHERE at.user_annotation_id = ua.id
              GROUP BY at.term_id) g) AS user_by_term
FROM user_annotation ua WHERE ua.image_id = $1 ORDER BY ua.id DESC
"""

GRAPHQL: Final = """
query($image: Long!, $first: Int) {
  annotationRows(filter: {image: $image}, first: $first) {
    totalCount
    nodes {
      id created updated imageId sliceId projectId userId countComments
      countReviewedAnnotations cropUrl smallCropUrl imageUrl location geometryCompression
      termIds userByTerm
    }
  }
}
"""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def anchor(dsn: str, image: int, server: str) -> bytes:
    """(a): fetch with asyncpg, shape Cytomine's listing items, encode with orjson."""
    async with connected(dsn) as conn:
        await conn.set_type_codec("jsonb", encoder=orjson.dumps, decoder=orjson.loads,
                                  schema="pg_catalog", format="text")  # fmt: skip
        rows = await conn.fetch(ANCHOR_SQL, image)
    items = []
    for r in rows:
        crop = f"{server}/api/userannotation/{r['id']}/crop.png"
        items.append({
            "class": "be.cytomine.domain.ontology.UserAnnotation", "id": r["id"],
            "created": _ms(r["created"]), "updated": _ms(r["updated"]), "image": r["image_id"],
            "slice": r["slice_id"], "project": r["project_id"], "user": r["user_id"],
            "nbComments": r["count_comments"],
            "countReviewedAnnotations": r["count_reviewed_annotations"],
            "reviewed": r["count_reviewed_annotations"] > 0, "cropURL": crop, "url": crop,
            "smallCropURL": f"{crop}?maxSize=256",
            "imageURL": f"{server}/#/project/{r['project_id']}/image/{r['image_id']}"
                        f"/annotation/{r['id']}",
            "location": r["wkt_location"], "geometryCompression": r["geometry_compression"],
            "term": r["terms"], "userByTerm": r["user_by_term"],
        })  # fmt: skip
    size = len(items)
    return orjson.dumps({"collection": items, "offset": 0, "perPage": size, "size": size,
                         "totalPages": 1 if size else 0})  # fmt: skip


def median_ms(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The median wall time of `runs` calls (after one warm-up), and the last result."""
    result = work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


async def _fetch(method: str, url: str, **kw: Any) -> bytes:
    timeout = aiohttp.ClientTimeout(total=600)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, url, **kw) as response,
    ):
        body = await response.read()
        if response.status != 200 or b'"errors"' in body[:200]:
            raise RuntimeError(f"{method} {url}: {response.status} {body[:500]!r}")
        return body


def _get(base: str, path: str, params: dict[str, str]) -> bytes:
    return asyncio.run(_fetch("GET", base + path, params=params, headers=signed("GET")))


def _graphql(base: str, image: int, first: int) -> bytes:
    body = orjson.dumps({"query": GRAPHQL, "variables": {"image": image, "first": first}})
    headers = signed("POST", "application/json")
    return asyncio.run(_fetch("POST", f"{base}/graphql", data=body, headers=headers))


async def _database(cluster: EmbeddedCluster, n: int) -> tuple[str, int]:
    """The URL and image id of the database of N annotations, generated when missing (under a
    temporary name, renamed once complete, so an interrupted run leaves nothing half made) and
    migrated to the code's schema when kept from an earlier run."""
    name, draft = f"annotations_{n}", f"annotations_{n}_draft"
    admin = await asyncpg.connect(host=str(cluster._socket_dir), user="cytogate",
                                  database="postgres")  # fmt: skip
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'DROP DATABASE IF EXISTS "{draft}"')
            url = await cluster.ensure_database(draft)
            await asyncio.to_thread(upgrade, url)
            print(f"generating {n:,} annotations", file=sys.stderr)
            await generate(url, n, bench_settings())
            await admin.execute(f'ALTER DATABASE "{draft}" RENAME TO "{name}"')
    finally:
        await admin.close()
    url = cluster.url(name)
    await asyncio.to_thread(upgrade, url)
    async with connected(url.replace("postgresql+asyncpg://", "postgresql://")) as check:
        # An earlier run's bulk creates and deletes leave dead rows and pages the visibility
        # map no longer marks all-visible, until autovacuum comes by: a listing's index-only
        # scan then visits the heap for them. Measure the steady state, not the previous
        # run's leftovers.
        await check.execute("VACUUM (ANALYZE) user_annotation, annotation_term")
        image = await check.fetchval("SELECT image_id FROM user_annotation LIMIT 1")
    return url, int(image)


def measure(cluster: EmbeddedCluster, n: int) -> dict[str, tuple[float, int]]:
    url, image = asyncio.run(_database(cluster, n))
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    runs = RUNS.get(n, 5)
    side = IMAGE_SIZE * math.sqrt(VIEWPORT / n)
    low = (IMAGE_SIZE - side) / 2
    bbox = f"{low:.0f},{low:.0f},{low + side:.0f},{low + side:.0f}"
    listing = {"image": str(image), "showWKT": "true", "showTerm": "true", "max": "0"}
    results: dict[str, tuple[float, int]] = {}
    with server(url, WHOLE_LISTS) as base:
        a, body = median_ms(runs, lambda: asyncio.run(anchor(dsn, image, base)))
        results["a"] = (a, len(orjson.loads(body)["collection"]))
        b, body = median_ms(runs, lambda: _get(base, "/api/annotation.json", listing))
        results["b"] = (b, len(orjson.loads(body)["collection"]))
        c, body = median_ms(runs, lambda: _graphql(base, image, n))
        results["c"] = (c, len(orjson.loads(body)["data"]["annotationRows"]["nodes"]))
        d, body = median_ms(runs, lambda: _get(base, "/api/annotation.json",
                                               {**listing, "bbox": bbox}))  # fmt: skip
        results["d"] = (d, len(orjson.loads(body)["collection"]))
    return results


def table(all_results: dict[int, dict[str, tuple[float, int]]]) -> str:
    labels = {
        "a": "(a) asyncpg + orjson (anchor)",
        "b": "(b) REST `annotation.json` showWKT+showTerm",
        "c": "(c) GraphQL `annotationRows`",
        "d": "(d) REST bbox viewport",
    }
    lines = ["| N | measure | rows | median ms | × (a) |", "|---:|---|---:|---:|---:|"]
    for n, results in all_results.items():
        anchor_ms = results["a"][0]
        for key, label in labels.items():
            ms, rows = results[key]
            lines.append(f"| {n:,} | {label} | {rows:,} | {ms:,.1f} | {ms / anchor_ms:.2f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    sizes = [int(arg) for arg in argv] or list(SIZES)
    gc.set_threshold(*GC_THRESHOLD)  # the anchor gets the collector setting a server runs with
    cluster = EmbeddedCluster(HOME, durable=False)
    cluster.start()
    try:
        results = {n: measure(cluster, n) for n in sizes}
    finally:
        cluster.stop()
    cpu = os.cpu_count()
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {cpu} cores, "
          f"Python {platform.python_version()}\n")  # fmt: skip
    print(table(results))


if __name__ == "__main__":
    main(sys.argv[1:])
