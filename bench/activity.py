"""A lab's activity added to a generated database for `make bench-lists`, and taken out after.

bench/generate.py makes annotations only; the activity lists (connections, consultations,
positions, actions), properties, tags and tracks need rows of their own to be timed at a
realistic size. `seeded` inserts them in plain SQL (about a minute at a million annotations) and
deletes them when the benchmark ends, so the database stays the generated one for the other
benchmarks. Every row it adds takes an id above the global sequence's value before it began
(one sequence for every table, as in Cytomine), which a file beside the cluster keeps until
the rows are gone: a run that was interrupted is cleaned up by the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final

import asyncpg

from bench.common import HOME

__all__ = ["Activity", "seeded"]

#: The id above which the rows of an unfinished run lie.
MARK: Final = HOME / "activity-seeded"
#: Connections to the project per member, 17 hours apart, the newest 20 minutes ago.
CONNECTIONS: Final = 1_000
UA: Final = "be.cytomine.domain.ontology.UserAnnotation"
#: A position's viewport: 1 600 × 800 px around its centre.
CORNERS: Final = "ARRAY[x - 800, y + 400, x + 800, y + 400, x + 800, y - 400, x - 800, y - 400]"

#: (table, statement) in insertion order; their values as `_arguments` gives them.
STATEMENTS: Final = (
    ("project_connection", """
INSERT INTO project_connection (user_id, project_id, os, browser, browser_version, created)
SELECT u, $1, 'Linux', 'firefox', '133.0',
       now() - interval '20 min' - ui * interval '1 min' - k * interval '17 hours'
FROM unnest($2::bigint[]) WITH ORDINALITY AS us(u, ui), generate_series(0, $3 - 1) k
ORDER BY 3 DESC"""),
    # A ping every 20 s for the 30 minutes after each connection (the newest ones: until now).
    ("persistent_connection", """
INSERT INTO persistent_connection (user_id, project_id, created)
SELECT c.user_id, c.project_id, c.created + s * interval '20 s'
FROM project_connection c, generate_series(0, 89) s
WHERE c.id > $1 AND c.created + s * interval '20 s' < now() - interval '5 s'"""),
    ("image_consultation", """
INSERT INTO image_consultation (user_id, image_id, project_id, project_connection_id, mode,
                                image_name, created)
SELECT c.user_id, $2, c.project_id, c.id, 'view', 'bench.svs', c.created + m * interval '1 min'
FROM project_connection c, unnest(ARRAY[1, 10, 20]) m
WHERE c.id > $1"""),
    # A position every 5 s for 5 minutes of each consultation, wandering over the image.
    ("user_position", f"""
INSERT INTO user_position (user_id, image_id, slice_id, project_id, corners, x, y, zoom,
                           rotation, broadcast, image_name, created)
SELECT i.user_id, i.image_id, $2, i.project_id, {CORNERS}::float8[], x, y, z, 0, false,
       'bench.svs', i.created + s * interval '5 s'
FROM image_consultation i, generate_series(1, 60) s,
     LATERAL (SELECT ((i.id * 7919 + s * 104729) % 99000 + 500)::float8 AS x,
                     ((i.id * 6007 + s * 130363) % 99000 + 500)::float8 AS y,
                     (8 + (i.id + s) % 10)::bigint AS z) v
WHERE i.id > $1 AND i.created + s * interval '5 s' < now()"""),
    # Where each member is looking now (the online lists).
    ("user_position now", """
INSERT INTO user_position (user_id, image_id, slice_id, project_id, corners, x, y, zoom,
                           rotation, broadcast, image_name, created)
SELECT u, $1, $2, $3, ARRAY[0, 800, 1600, 800, 1600, 0, 0, 0]::float8[], 800, 400, 10, 0,
       false, 'bench.svs', now() - interval '10 s'
FROM unnest($4::bigint[]) u"""),
    # Ten actions per consultation on annotations spread over the project.
    ("annotation_action", f"""
INSERT INTO annotation_action (user_id, image_id, slice_id, project_id, action,
                               annotation_ident, annotation_class_name, annotation_creator_id,
                               created)
SELECT i.user_id, i.image_id, $2, i.project_id,
       CASE WHEN s % 5 = 0 THEN 'update' ELSE 'select' END, a.id, '{UA}', a.user_id,
       i.created + s * interval '30 s'
FROM image_consultation i, generate_series(1, 10) s,
     LATERAL (SELECT id, user_id FROM user_annotation
              WHERE project_id = i.project_id AND id >= $3 + (i.id * 977 + s * 7) % $4
              ORDER BY project_id, id LIMIT 1) a
WHERE i.id > $1"""),
    # Two properties on every fifth annotation.
    ("property", f"""
INSERT INTO property (domain_class_name, domain_ident, key, value)
SELECT '{UA}', a.id, k, (a.id % 1000)::text
FROM user_annotation a, unnest(ARRAY['score', 'class']) k
WHERE a.project_id = $1 AND a.id % 5 = 0"""),
    ("tag", """
INSERT INTO tag (name, user_id) SELECT 'bench-tag-' || g, $1 FROM generate_series(1, 10) g"""),
    # One of the ten tags on every hundredth annotation.
    ("tag_domain_association", f"""
INSERT INTO tag_domain_association (tag_id, domain_class_name, domain_ident)
SELECT (SELECT array_agg(id ORDER BY id) FROM tag WHERE id > $1)[1 + a.id % 10], '{UA}', a.id
FROM user_annotation a WHERE a.project_id = $2 AND a.id % 100 = 0"""),
    ("track", """
INSERT INTO track (name, color, image_id, project_id)
SELECT 'bench-track-' || g, '#00FF00', $1, $2 FROM generate_series(1, 10) g"""),
    ("description", """
INSERT INTO description (domain_class_name, domain_ident, data)
VALUES ('be.cytomine.domain.project.Project', $1, '<p>bench project</p>'),
       ('be.cytomine.domain.image.ImageInstance', $2, '<p>bench image</p>')"""),
)  # fmt: skip
TABLES: Final = tuple(dict.fromkeys(name.split()[0] for name, _ in STATEMENTS))


@dataclass(frozen=True, slots=True)
class Activity:
    """What the lists are timed on: the generated scene and the ids of seeded rows."""

    project: int
    ontology: int
    image: int
    slice: int
    admin: int
    #: The members with annotations, in id order; `member` (the last) is the one timed.
    members: list[int]
    terms: list[int]
    #: An annotation of `member` with properties and a tag.
    annotation: int
    tag: int
    track: int
    #: `member`'s newest and second newest connections to the project.
    connections: tuple[int, int]
    #: Epoch milliseconds between the first and the last annotation's creation.
    halfway: int
    counts: dict[str, int]

    @property
    def member(self) -> int:
        return self.members[-1]


async def _scene(conn: asyncpg.Connection, public_key: str) -> dict[str, int]:
    row = await conn.fetchrow(
        "SELECT ua.project_id AS project, p.ontology_id AS ontology, ua.image_id AS image,"
        " ua.slice_id AS slice, (SELECT id FROM sec_user WHERE public_key = $1) AS admin"
        " FROM user_annotation ua JOIN project p ON p.id = ua.project_id LIMIT 1",
        public_key,
    )
    if row is None:
        raise RuntimeError("the database holds no annotation: generate it first")
    return dict(row)


def _arguments(name: str, mark: int, scene: dict[str, int], members: list[int],
               span: tuple[int, int]) -> tuple[object, ...]:  # fmt: skip
    """The values of the statement `name` of STATEMENTS."""
    project, image, slice_id = scene["project"], scene["image"], scene["slice"]
    return {
        "project_connection": (project, members, CONNECTIONS),
        "persistent_connection": (mark,),
        "image_consultation": (mark, image),
        "user_position": (mark, slice_id),
        "user_position now": (image, slice_id, project, members),
        "annotation_action": (mark, slice_id, span[0], span[1] - span[0]),
        "property": (project,),
        "tag": (scene["admin"],),
        "tag_domain_association": (mark, project),
        "track": (image, project),
        "description": (project, image),
    }[name]


async def _seed(conn: asyncpg.Connection, public_key: str) -> Activity:
    scene = await _scene(conn, public_key)
    members = [row[0] for row in await conn.fetch(
        "SELECT DISTINCT user_id FROM acl_entry WHERE object_id = $1 ORDER BY 1",
        scene["project"])]  # fmt: skip
    span = await conn.fetchrow(
        "SELECT min(id), max(id), (extract(epoch FROM min(created)) * 1000)::bigint,"
        " (extract(epoch FROM max(created)) * 1000)::bigint"
        " FROM user_annotation WHERE project_id = $1",
        scene["project"],
    )
    mark = int(await conn.fetchval("SELECT last_value FROM cytomine_id_seq"))
    MARK.write_text(str(mark))
    counts: dict[str, int] = dict.fromkeys(TABLES, 0)
    async with conn.transaction():
        for name, statement in STATEMENTS:
            arguments = _arguments(name, mark, scene, members, (span[0], span[1]))
            status = await conn.execute(statement, *arguments)
            counts[name.split()[0]] += int(status.rsplit(" ", 1)[1])
    await _analysed(conn)
    member = members[-1]
    annotation = await conn.fetchval(
        "SELECT min(id) FROM user_annotation WHERE project_id = $1 AND user_id = $2"
        " AND id % 100 = 0",
        scene["project"], member,
    )  # fmt: skip
    newest = await conn.fetch(
        "SELECT id FROM project_connection WHERE project_id = $1 AND user_id = $2"
        " ORDER BY created DESC LIMIT 2",
        scene["project"], member,
    )  # fmt: skip
    terms = await conn.fetch("SELECT id FROM term WHERE ontology_id = $1 ORDER BY id",
                             scene["ontology"])  # fmt: skip
    return Activity(
        project=scene["project"], ontology=scene["ontology"], image=scene["image"],
        slice=scene["slice"], admin=scene["admin"],
        members=[m for m in members if m != scene["admin"]], terms=[row[0] for row in terms],
        annotation=annotation,
        tag=await conn.fetchval("SELECT min(id) FROM tag WHERE id > $1", mark),
        track=await conn.fetchval("SELECT min(id) FROM track WHERE id > $1", mark),
        connections=(newest[0][0], newest[1][0]), halfway=(span[2] + span[3]) // 2,
        counts=counts,
    )  # fmt: skip


async def remove(conn: asyncpg.Connection) -> None:
    """Delete what a run seeded (after the mark), newest tables first, and forget the mark."""
    if not MARK.exists():
        return
    mark = int(MARK.read_text())
    async with conn.transaction():
        for table in reversed(TABLES):
            await conn.execute(f"DELETE FROM {table} WHERE id > $1", mark)
    await _analysed(conn)
    MARK.unlink()


async def _analysed(conn: asyncpg.Connection) -> None:
    """Vacuum and analyse the seeded tables, so the lists are timed on fresh statistics and
    all-visible pages (index-only scans), whether rows were just added or removed."""
    for table in TABLES:
        await conn.execute(f"VACUUM ANALYZE {table}")


@asynccontextmanager
async def seeded(dsn: str, public_key: str) -> AsyncIterator[Activity]:
    """The database at `dsn` with activity added for the time of the block."""
    conn = await asyncpg.connect(dsn)
    try:
        await remove(conn)
        try:
            yield await _seed(conn, public_key)
        finally:
            await remove(conn)
    finally:
        await conn.close()
