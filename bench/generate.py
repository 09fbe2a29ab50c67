"""Fill a database with a realistic annotated project, fast.

One project with an ontology of 10 terms, 5 users, one image of 100 000 × 100 000 pixels, and
N polygons of 10–200 vertices spread over it, each with 1–2 terms. Rows go in with PostgreSQL's
COPY (asyncpg), not row by row; areas, perimeters and centroids are computed with vectorised
shapely; the counter triggers run once per COPY.

    python -m bench.generate DATABASE_URL N
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
import numpy as np
import shapely
from tqdm import tqdm

from db.engine import Database
from resolvers.bootstrap import bootstrap
from resolvers.geometry import to_wkt
from settings import Settings

__all__ = ["IMAGE_SIZE", "Scene", "generate"]

IMAGE_SIZE: Final = 100_000
CHUNK: Final = 5_000
SEED: Final = 20261129


@dataclass(frozen=True, slots=True)
class Scene:
    """What the generator made: the ids a benchmark needs."""

    project: int
    image: int
    slice: int
    terms: list[int]
    users: list[int]
    annotations: int


def _polygon(rng: random.Random) -> list[tuple[float, float]]:
    """A simple (star-shaped) polygon of 10–200 vertices, 20–200 px across."""
    vertices = rng.randint(10, 200)
    radius = rng.uniform(10, 100)
    cx = rng.uniform(radius, IMAGE_SIZE - radius)
    cy = rng.uniform(radius, IMAGE_SIZE - radius)
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(vertices))
    points = [
        (round(cx + radius * rng.uniform(0.6, 1) * math.cos(a), 2),
         round(cy + radius * rng.uniform(0.6, 1) * math.sin(a), 2))
        for a in angles
    ]  # fmt: skip
    return [*points, points[0]]


def _batches(n: int, rng: random.Random) -> Iterator[list[list[tuple[float, float]]]]:
    done = 0
    while done < n:
        size = min(CHUNK, n - done)
        yield [_polygon(rng) for _ in range(size)]
        done += size


async def _scene(
    conn: asyncpg.Connection, admin: int
) -> tuple[int, int, int, list[int], list[int]]:
    """The project, its ontology, users, and the image (uploaded file, abstract image, slice,
    instance), inserted with plain SQL."""
    storage = await conn.fetchval("SELECT id FROM storage WHERE user_id = $1", admin)
    ontology = await conn.fetchval(
        "INSERT INTO ontology (name, user_id) VALUES ('bench', $1) RETURNING id", admin
    )
    terms = [
        await conn.fetchval(
            "INSERT INTO term (ontology_id, name, color) VALUES ($1, $2, '#AA0000') RETURNING id",
            ontology, f"term-{i}",
        )
        for i in range(10)
    ]  # fmt: skip
    users = [admin] + [
        await conn.fetchval(
            "INSERT INTO sec_user (username, firstname, lastname, email, public_key, private_key)"
            " VALUES ($1, 'Bench', $1, $2, $3, $4) RETURNING id",
            f"bench{i}",
            f"bench{i}@example.org",
            f"bench{i}-pub",
            f"bench{i}-priv",
        )
        for i in range(4)
    ]
    project = await conn.fetchval(
        "INSERT INTO project (name, ontology_id, creator_id) VALUES ('bench', $1, $2) RETURNING id",
        ontology, admin,
    )  # fmt: skip
    await conn.executemany(
        "INSERT INTO acl_entry (object_id, user_id, mask) VALUES ($1, $2, $3)",
        [(project, user, 17 if user == admin else 1) for user in users],
    )
    upload = await conn.fetchval(
        "INSERT INTO uploaded_file (user_id, storage_id, original_filename, filename,"
        " content_type, status) VALUES ($1, $2, 'bench.svs', 'bench/bench.svs', 'SVS', 100)"
        " RETURNING id",
        admin, storage,
    )  # fmt: skip
    base = await conn.fetchval(
        "INSERT INTO abstract_image (uploaded_file_id, user_id, original_filename, width, height,"
        " physical_size_x, magnification) VALUES ($1, $2, 'bench.svs', $3, $3, 0.25, 40)"
        " RETURNING id",
        upload, admin, IMAGE_SIZE,
    )  # fmt: skip
    base_slice = await conn.fetchval(
        "INSERT INTO abstract_slice (image_id, uploaded_file_id, mime) VALUES ($1, $2,"
        " 'openslide/svs') RETURNING id",
        base, upload,
    )  # fmt: skip
    image = await conn.fetchval(
        "INSERT INTO image_instance (base_image_id, project_id, user_id) VALUES ($1, $2, $3)"
        " RETURNING id",
        base, project, admin,
    )  # fmt: skip
    slice_id = await conn.fetchval(
        "INSERT INTO slice_instance (base_slice_id, image_id, project_id) VALUES ($1, $2, $3)"
        " RETURNING id",
        base_slice, image, project,
    )  # fmt: skip
    return project, image, slice_id, terms, users


ANNOTATION_COLUMNS: Final = (
    "id", "slice_id", "image_id", "project_id", "user_id", "location", "wkt_location",
    "geometry_compression", "area", "area_unit", "perimeter", "perimeter_unit", "centroid_x",
    "centroid_y",
)  # fmt: skip


def _rows(
    ids: Sequence[int], polygons: list[list[tuple[float, float]]], scene: dict[str, Any],
    rng: random.Random,
) -> list[tuple[Any, ...]]:  # fmt: skip
    geometries = np.array([shapely.Polygon(points) for points in polygons], dtype=object)
    areas = shapely.area(geometries) * 0.25**2
    perimeters = shapely.length(geometries) * 0.25 / 1000
    centroids = shapely.get_coordinates(shapely.centroid(geometries))
    binary = shapely.to_wkb(geometries)
    rows = []
    for index, geometry in enumerate(geometries):
        rows.append((ids[index], scene["slice"], scene["image"], scene["project"],
                     rng.choice(scene["users"]), binary[index], to_wkt(geometry), 0.0,
                     float(areas[index]), 3,
                     float(perimeters[index]), 2, float(centroids[index][0]),
                     float(centroids[index][1])))  # fmt: skip
    return rows


async def generate(url: str, n: int, settings: Settings) -> Scene:
    """Create the scene and N annotations in the (migrated) database at `url`."""
    db = Database(url, pool_size=1)
    try:
        async with db.lease() as lease:
            await bootstrap(lease, settings)
    finally:
        await db.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.set_type_codec("geometry", encoder=bytes, decoder=bytes, format="binary")
        admin = await conn.fetchval(
            "SELECT id FROM sec_user WHERE username = $1", settings.admin_username
        )
        project, image, slice_id, terms, users = await _scene(conn, admin)
        scene = {"project": project, "image": image, "slice": slice_id, "users": users}
        rng = random.Random(SEED)
        with tqdm(total=n, unit="annotation", desc="annotations", file=sys.stderr) as bar:
            for polygons in _batches(n, rng):
                ids = [r[0] for r in await conn.fetch(
                    "SELECT nextval('cytomine_id_seq') FROM generate_series(1, $1)", len(polygons)
                )]  # fmt: skip
                rows = _rows(ids, polygons, scene, rng)
                links = [
                    (annotation, term, rng.choice(users))
                    for annotation in ids
                    for term in rng.sample(terms, rng.randint(1, 2))
                ]
                async with conn.transaction():
                    await conn.copy_records_to_table(
                        "user_annotation", records=rows, columns=ANNOTATION_COLUMNS
                    )
                    await conn.copy_records_to_table(
                        "annotation_term", records=links,
                        columns=("user_annotation_id", "term_id", "user_id"),
                    )  # fmt: skip
                bar.update(len(polygons))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return Scene(project, image, slice_id, terms, users, n)


if __name__ == "__main__":
    asyncio.run(generate(sys.argv[1], int(sys.argv[2]), Settings.from_env()))
