"""The storage side costs a fixed number of SQL statements whatever the amount of data: every
fan-out (storages → files → images → slices, and the computed fields) is batched
(DESIGN.md "GraphQL": every list field that can fan out is backed by a DataLoader)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request

NESTED = """
{
  storages(all: true, first: 50) {
    totalCount
    nodes {
      name user { username } members { username }
      uploadedFiles(first: 20) {
        totalCount
        nodes {
          originalFilename statusText storage { name } thumbUrl
          children(first: 5) { totalCount nodes { id } }
          abstractImages {
            path contentType isVirtual macroUrl dimensions storage { id } uploader { id }
            companionFiles { id }
            slices { rank path image { id } uploadedFile { id } }
          }
        }
      }
    }
  }
}
"""
MAX_GRAPHQL = 16
MAX_REST = 8


def insert_storages(database_url: str, storages: int, files: int, planes: int) -> None:
    """Storages of the admin, each with `files` deployed files of one image of `planes`
    slices; rows straight into the database (REST would take minutes for the large set)."""

    async def insert() -> None:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            admin = await conn.fetchval("SELECT id FROM sec_user WHERE username = 'admin'")
            for s in range(storages):
                storage = await conn.fetchval(
                    "INSERT INTO storage (name, user_id) VALUES ($1, $2) RETURNING id",
                    f"bulk {s}", admin,
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO acl_entry (object_id, user_id, mask) VALUES ($1, $2, 19)",
                    storage, admin,
                )  # fmt: skip
                for f in range(files):
                    name = f"s{s}-f{f}.svs"
                    file = await conn.fetchval(
                        "INSERT INTO uploaded_file (user_id, storage_id, original_filename,"
                        " filename, content_type, status, size) VALUES ($1, $2, $3, $4, 'SVS',"
                        " 100, 10) RETURNING id",
                        admin, storage, name, f"bulk/{name}",
                    )  # fmt: skip
                    await conn.execute(
                        "UPDATE uploaded_file SET l_tree = id::text WHERE id = $1", file
                    )
                    image = await conn.fetchval(
                        "INSERT INTO abstract_image (uploaded_file_id, user_id, original_filename,"
                        " width, height, depth) VALUES ($1, $2, $3, 1000, 800, $4) RETURNING id",
                        file, admin, name, planes,
                    )  # fmt: skip
                    await conn.executemany(
                        "INSERT INTO abstract_slice (image_id, uploaded_file_id, z_stack)"
                        " VALUES ($1, $2, $3)",
                        [(image, file, z) for z in range(planes)],
                    )
        finally:
            await conn.close()

    asyncio.run(insert())


def count(server: Server, call: Any) -> tuple[int, Any]:
    with server.count_statements() as counter:
        result = call()
    return counter.n, result


def measure(server: Server, api: Api, files: int) -> dict[str, int]:
    """Statements of the nested query and of the REST listings, each checked for `files`."""
    counts: dict[str, int] = {}
    counts["graphql"], answer = count(server, lambda: api.gql(NESTED))
    assert "errors" not in answer, answer
    nodes = [f for s in answer["data"]["storages"]["nodes"] for f in s["uploadedFiles"]["nodes"]]
    assert len(nodes) == files
    assert all(len(f["abstractImages"][0]["slices"]) == 2 for f in nodes)

    rest = {
        "images": ("/api/abstractimage.json", {"max": 0}),
        "roots": ("/api/uploadedfile.json", {"onlyRootsWithDetails": "true"}),
        "all files": ("/api/uploadedfile.json", {"all": "true"}),
        "storages": ("/api/storage.json", {"all": "true"}),
    }
    for name, (path, params) in rest.items():
        counts[name], response = count(server, lambda p=path, q=params: api.get(p, params=q))
        assert response.status_code == 200, response.text
    first = nodes[0]["abstractImages"][0]
    assert first["path"].startswith("bulk/") and first["slices"][1]["rank"] == 1
    return counts


def test_storage_graph_statement_count_is_flat(server, api, database_url):
    insert_storages(database_url, 2, 3, 2)
    small = measure(server, api, 2 * 3)
    insert_storages(database_url, 18, 3, 2)
    large = measure(server, api, 20 * 3)
    print(f"statements, 6 files {small}, 60 files {large}")
    assert small == large
    assert 0 < small["graphql"] <= MAX_GRAPHQL, small
    assert all(0 < n <= MAX_REST for name, n in small.items() if name != "graphql"), small
