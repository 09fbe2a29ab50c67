"""Images in the graph cost a fixed number of SQL statements, whatever the number of projects
and images (DESIGN.md "GraphQL": every fan-out is backed by a DataLoader)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.harness import Api, Server, raw_connection

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 8

NESTED = """{ projects(first: 100) { totalCount nodes { id images(first: 100) { totalCount nodes {
  id instanceFilename width calibration { physicalSizeX } reviewState
  slices { id rank path }
  abstractImage { id originalFilename uploadedFile { id filename storage { id name } } }
} } } } }"""

_names = itertools.count()


def insert_images(
    database_url: str, projects: int | list[int], images: int, slices: int = 2
) -> list[int]:
    """`images` images of `slices` planes each in each of `projects` (new projects when a
    number), straight into the database (REST would take minutes for the large set); the
    projects' ids."""

    async def insert() -> list[int]:
        conn = await raw_connection(database_url)
        try:
            admin, storage = await conn.fetchrow(
                "SELECT s.user_id, s.id FROM storage s JOIN sec_user u ON u.id = s.user_id "
                "WHERE u.username = 'admin'"
            )
            project_ids = projects if isinstance(projects, list) else [
                (await conn.fetchrow("INSERT INTO project (name) VALUES ($1) RETURNING id",
                                     f"bulk-{next(_names)}"))["id"]
                for _ in range(projects)
            ]  # fmt: skip
            count = len(project_ids) * images
            names = [f"img-{next(_names)}.svs" for _ in range(count)]
            files = await conn.fetch(
                "INSERT INTO uploaded_file (user_id, storage_id, original_filename, filename,"
                " content_type) SELECT $1, $2, n, 'up/' || n, 'SVS' FROM unnest($3::text[]) n"
                " RETURNING id, original_filename",
                admin, storage, names,
            )  # fmt: skip
            bases = await conn.fetch(
                "INSERT INTO abstract_image (uploaded_file_id, original_filename, width, height,"
                " depth) SELECT f, n, 1000, 800, $3 FROM unnest($1::bigint[], $2::text[]) AS"
                " t(f, n) RETURNING id, uploaded_file_id",
                [f["id"] for f in files], [f["original_filename"] for f in files], slices,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO abstract_slice (image_id, uploaded_file_id, z_stack)"
                " SELECT b, f, z FROM unnest($1::bigint[], $2::bigint[]) AS t(b, f),"
                " generate_series(0, $3 - 1) z",
                [b["id"] for b in bases], [b["uploaded_file_id"] for b in bases], slices,
            )  # fmt: skip
            placed = [p for p in project_ids for _ in range(images)]
            instances = await conn.fetch(
                "INSERT INTO image_instance (base_image_id, project_id, user_id)"
                " SELECT b, p, $3 FROM unnest($1::bigint[], $2::bigint[]) AS t(b, p)"
                " RETURNING id, base_image_id, project_id",
                [b["id"] for b in bases], placed, admin,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO slice_instance (base_slice_id, image_id, project_id)"
                " SELECT s.id, i, p FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])"
                " AS t(i, b, p) JOIN abstract_slice s ON s.image_id = b",
                [i["id"] for i in instances], [i["base_image_id"] for i in instances],
                [i["project_id"] for i in instances],
            )  # fmt: skip
            return project_ids
        finally:
            await conn.close()

    return asyncio.run(insert())


def count_nested(server: Server, api: Api, projects: int, images: int) -> int:
    with server.count_statements() as counter:
        answer = api.gql(NESTED)
    assert "errors" not in answer, answer
    nodes = answer["data"]["projects"]["nodes"]
    assert len(nodes) == projects
    assert all(len(node["images"]["nodes"]) == images for node in nodes)
    first = nodes[0]["images"]["nodes"][0]
    assert [s["rank"] for s in first["slices"]] == [0, 1]
    assert first["abstractImage"]["uploadedFile"]["storage"]["name"] == "admin storage"
    return counter.n


def count_listing(server: Server, api: Api, project: int, images: int) -> int:
    with server.count_statements() as counter:
        response = api.get(f"/api/project/{project}/imageinstance.json", params={"max": 0})
    assert response.status_code == 200, response.text
    assert response.json()["size"] == images
    return counter.n


def test_projects_images_slices_storage_2x5_and_20x50_same_statement_count(
    server, api, database_url
):
    small_projects = insert_images(database_url, 2, 5)
    small = count_nested(server, api, 2, 5), count_listing(server, api, small_projects[0], 5)
    insert_images(database_url, small_projects, 45)
    large_projects = insert_images(database_url, 18, 50)
    large = count_nested(server, api, 20, 50), count_listing(server, api, large_projects[0], 50)
    print(f"statements (GraphQL nested, REST listing): 2×5 {small}, 20×50 {large}")
    assert small == large
    assert all(0 < n <= MAX_STATEMENTS for n in small), small
