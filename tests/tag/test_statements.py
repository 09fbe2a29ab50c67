"""Tags cost a fixed number of SQL statements whatever the number of tags, projects, images and
annotations (DESIGN.md "GraphQL": every fan-out is backed by a DataLoader)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import asyncpg
import pytest

from tests.harness import Server
from tests.image.test_statements import insert_images
from tests.tag.conftest import CLASSES

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 8
#: (new tags, new projects, images per new project) of the small then the large round.
SIZES = ((3, 2, 2), (27, 10, 20))
NESTED = """{ projects(first: 100) { nodes { id tags { name creatorName }
  images(first: 100) { nodes { id tags { name } } } } } }"""
ANNOTATIONS = """query($p: Long!) { annotations(filter: {project: $p}, first: 1000) {
  nodes { id tags { name user { username } } } } }"""

_names = itertools.count()


def run(database_url: str, work: Any) -> Any:
    async def connected() -> Any:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(connected())


def insert_tags(database_url: str, count: int) -> list[int]:
    """`count` tags created by the administrator, straight into the database."""

    async def work(conn: Any) -> list[int]:
        admin = await conn.fetchval("SELECT id FROM sec_user WHERE username = 'admin'")
        rows = await conn.fetch(
            "INSERT INTO tag (name, user_id) SELECT n, $2 FROM unnest($1::text[]) n RETURNING id",
            [f"tag-{next(_names)}" for _ in range(count)], admin,
        )  # fmt: skip
        return [row["id"] for row in rows]

    return run(database_url, work)  # type: ignore[no-any-return]


def tag_everything(database_url: str, tags: list[int]) -> None:
    """Put every tag on every project, image instance and user annotation."""

    async def work(conn: Any) -> None:
        for table, name in (("project", "Project"), ("image_instance", "ImageInstance"),
                            ("user_annotation", "UserAnnotation")):  # fmt: skip
            await conn.execute(
                "INSERT INTO tag_domain_association (tag_id, domain_class_name, domain_ident)"
                f" SELECT t, $2, o.id FROM unnest($1::bigint[]) t, {table} o"
                " ON CONFLICT DO NOTHING",
                tags, CLASSES[name],
            )  # fmt: skip

    run(database_url, work)


def insert_annotations(database_url: str, project: int, count: int) -> None:
    """`count` points on the first slice of the project's first image."""

    async def work(conn: Any) -> None:
        admin = await conn.fetchval("SELECT id FROM sec_user WHERE username = 'admin'")
        image, piece = await conn.fetchrow(
            "SELECT s.image_id, s.id FROM slice_instance s WHERE s.project_id = $1"
            " ORDER BY s.id LIMIT 1", project,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO user_annotation (user_id, slice_id, image_id, project_id, location,"
            " wkt_location, geometry_compression, area, area_unit, perimeter, perimeter_unit,"
            " centroid_x, centroid_y) SELECT $1, $2, $3, $4, ST_MakePoint(n, n),"
            " 'POINT (' || n || ' ' || n || ')', 0, 0, 1, 0, 0, n, n"
            " FROM generate_series(1, $5) n",
            admin, piece, image, project, count,
        )  # fmt: skip

    run(database_url, work)


def counted(server: Server, call: Any, *args: Any, **kw: Any) -> tuple[int, Any]:
    """The statements `call(*args, **kw)` ran, and its result."""
    with server.count_statements() as counter:
        result = call(*args, **kw)
    return counter.n, result


def test_tag_listings_and_tags_of_objects_cost_the_same_whatever_the_numbers(
    server, api, database_url
):
    found = []
    projects: list[int] = []
    tags: list[int] = []
    for new_tags, new_projects, images in SIZES:
        projects += insert_images(database_url, new_projects, images, slices=1)
        insert_annotations(database_url, projects[0], images * 5)
        tags += insert_tags(database_url, new_tags)
        tag_everything(database_url, tags)
        rest, listed = counted(server, api.get, "/api/tag.json")
        assert listed.json()["size"] == len(tags)
        links, every = counted(server, api.get, "/api/tag_domain_association.json")
        assert every.status_code == 200 and every.json()["size"] > len(tags)
        graph, tree = counted(server, api.gql, NESTED)
        nodes = tree["data"]["projects"]["nodes"]
        assert len(nodes) == len(projects)
        assert all(len(node["tags"]) == len(tags) for node in nodes)
        assert all(len(image["tags"]) == len(tags)
                   for node in nodes for image in node["images"]["nodes"])  # fmt: skip
        marks, drawn = counted(server, api.gql, ANNOTATIONS, {"p": projects[0]})
        assert all(len(n["tags"]) == len(tags)
                   for n in drawn["data"]["annotations"]["nodes"])  # fmt: skip
        found.append((rest, links, graph, marks))
    print(f"statements (tags, associations, projects/images, annotations): {found}")
    assert found[0] == found[1]
    assert all(0 < n <= MAX_STATEMENTS for n in found[0]), found
