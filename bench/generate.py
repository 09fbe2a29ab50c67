"""Fill a database with a realistic annotated project, fast, in SQL.

One project with an ontology of 10 terms, 5 users, one image of 100 000 × 100 000 pixels, and
N polygons of 9–33 vertices (circles of 10–100 px radius, rounded to the hundredth of a pixel)
spread over it, each with 1–2 terms by one of the users. PostgreSQL builds the rows itself
(`INSERT … SELECT` over `generate_series`, geometry, WKT, area, perimeter and centroid computed
by PostGIS), 100 000 per statement, so the statement-level counter triggers run once per
statement: a million annotations take about two minutes here.

    python -m bench.generate DATABASE_URL N
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Final

import asyncpg
from tqdm import tqdm

from db.engine import Database
from resolvers.bootstrap import bootstrap
from settings import Settings

__all__ = ["IMAGE_SIZE", "Scene", "generate"]

IMAGE_SIZE: Final = 100_000
CHUNK: Final = 100_000
SEED: Final = 0.20261129


@dataclass(frozen=True, slots=True)
class Scene:
    """What the generator made: the ids a benchmark needs."""

    project: int
    image: int
    slice: int
    terms: list[int]
    users: list[int]
    annotations: int


#: One chunk of annotations: $1 rows, on image $2 / slice $3 / project $4, by the users $5,
#: calibrated at 0.25 µm/px (area in µm², perimeter in mm, as the server computes them).
ANNOTATIONS: Final = f"""
INSERT INTO user_annotation (id, slice_id, image_id, project_id, user_id, location, wkt_location,
    geometry_compression, area, area_unit, perimeter, perimeter_unit, centroid_x, centroid_y)
SELECT id, $3, $2, $4, ($5::bigint[])[1 + floor(random() * cardinality($5))::int], g,
       ST_AsText(g), 0.0, ST_Area(g) * 0.0625, 3, ST_Perimeter(g) * 0.25 / 1000, 2,
       ST_X(ST_Centroid(g)), ST_Y(ST_Centroid(g))
FROM (
    SELECT nextval('cytomine_id_seq') AS id,
           ST_SnapToGrid(ST_Buffer(ST_MakePoint(100 + random() * {IMAGE_SIZE - 200},
                                                100 + random() * {IMAGE_SIZE - 200}),
                                   10 + random() * 90, 2 + floor(random() * 7)::int), 0.01) AS g
    FROM generate_series(1, $1)
) AS made
RETURNING id
"""
#: The term links of the annotations $1: one term each, and a second one for half of them,
#: put by the annotation's author.
TERM_LINKS: Final = """
INSERT INTO annotation_term (user_annotation_id, term_id, user_id)
SELECT DISTINCT a.id, ($2::bigint[])[1 + floor(random() * cardinality($2))::int], a.user_id
FROM user_annotation a
CROSS JOIN generate_series(1, 2) AS k
WHERE a.id = ANY($1::bigint[]) AND (k = 1 OR random() < 0.5)
"""


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
        admin = await conn.fetchval(
            "SELECT id FROM sec_user WHERE username = $1", settings.admin_username
        )
        project, image, slice_id, terms, users = await _scene(conn, admin)
        await conn.execute("SELECT setseed($1)", SEED)
        with tqdm(total=n, unit="annotation", desc="annotations", file=sys.stderr) as bar:
            for done in range(0, n, CHUNK):
                size = min(CHUNK, n - done)
                async with conn.transaction():
                    ids = [r["id"] for r in await conn.fetch(
                        ANNOTATIONS, size, image, slice_id, project, users)]  # fmt: skip
                    await conn.execute(TERM_LINKS, ids, terms)
                bar.update(size)
        await conn.execute("VACUUM ANALYZE user_annotation")
        await conn.execute("VACUUM ANALYZE annotation_term")
    finally:
        await conn.close()
    return Scene(project, image, slice_id, terms, users, n)


if __name__ == "__main__":
    asyncio.run(generate(sys.argv[1], int(sys.argv[2]), Settings.from_env()))
