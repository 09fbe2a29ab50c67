"""Listing projects with their ontology, members and managers costs a fixed number of SQL
statements, whatever the number of projects and members (DESIGN.md "GraphQL": every fan-out
is backed by a DataLoader, and paging per project is one windowed SELECT)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import asyncpg
import pytest

from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 12
_numbers = itertools.count()

PROJECTS_GRAPH = """{
  projects(first: 50) {
    totalCount
    nodes {
      name ontologyName membersCount currentUserRoles { admin representative }
      members(first: 50) { totalCount nodes { role user { username } } }
      managers { totalCount nodes { username } }
      representatives { user { username } }
      creator { username }
    }
  }
}"""


async def _users(conn: Any, count: int) -> list[int]:
    names = [f"bulk{next(_numbers)}" for _ in range(count)]
    rows = await conn.fetch(
        "INSERT INTO sec_user (username, firstname, lastname, email, public_key, private_key)"
        " SELECT u, u, 'Bulk', u || '@example.org', 'pub-' || u, 'priv-' || u"
        " FROM unnest($1::text[]) AS u RETURNING id",
        names,
    )
    return [row["id"] for row in rows]


def _run(database_url: str, work: Any) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def insert_projects(database_url: str, projects: int, members: int) -> list[int]:
    """Projects, each with an ontology and `members` users of its own, the first of whom
    created, manages and represents it; rows straight into the database (REST would hash a
    password per user: slow)."""

    async def work(conn: Any) -> list[int]:
        ids = []
        for _ in range(projects):
            n = next(_numbers)
            ontology = await conn.fetchval(
                "INSERT INTO ontology (name) VALUES ($1) RETURNING id", f"ontology {n}"
            )
            users = await _users(conn, members)
            project = await conn.fetchval(
                "INSERT INTO project (name, ontology_id, creator_id) VALUES ($1, $2, $3)"
                " RETURNING id", f"project {n}", ontology, users[0],
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO acl_entry (object_id, user_id, mask) VALUES ($1, $2, $3)",
                [(project, user, 17 if i == 0 else 1) for i, user in enumerate(users)],
            )
            await conn.execute(
                "INSERT INTO project_representative_user (project_id, user_id) VALUES ($1, $2)",
                project, users[0],
            )  # fmt: skip
            ids.append(project)
        return ids

    return _run(database_url, work)  # type: ignore[no-any-return]


def add_contributors(database_url: str, project_ids: list[int], count: int) -> None:
    async def work(conn: Any) -> None:
        for project in project_ids:
            users = await _users(conn, count)
            await conn.executemany(
                "INSERT INTO acl_entry (object_id, user_id, mask) VALUES ($1, $2, 1)",
                [(project, user) for user in users],
            )

    _run(database_url, work)


def count(server: Server, api: Api, projects: int, members: int) -> tuple[int, int, int]:
    """Statements of the GraphQL listing, of REST `project.json` with every flag and of REST
    `project/{id}/user.json`, each answer checked."""
    with server.count_statements() as counter:
        answer = api.gql(PROJECTS_GRAPH)
    assert "errors" not in answer, answer
    nodes = answer["data"]["projects"]["nodes"]
    assert len(nodes) == projects
    for node in nodes:
        assert node["ontologyName"].startswith("ontology ")
        assert node["membersCount"] == members == node["members"]["totalCount"]
        assert len(node["members"]["nodes"]) == members
        roles = sorted(member["role"] for member in node["members"]["nodes"])
        assert roles == ["CONTRIBUTOR"] * (members - 1) + ["REPRESENTATIVE"]
        assert node["managers"]["totalCount"] == 1
        assert node["representatives"][0]["user"] == node["creator"]
    graphql = counter.n

    flags = {"withMembersCount": "true", "withLastActivity": "true",
             "withCurrentUserRoles": "true", "max": "0"}  # fmt: skip
    with server.count_statements() as counter:
        response = api.get("/api/project.json", params=flags)
    assert response.status_code == 200, response.text
    assert [p["membersCount"] for p in response.json()["collection"]] == [members] * projects
    listing = counter.n

    first = response.json()["collection"][0]["id"]
    with server.count_statements() as counter:
        response = api.get(f"/api/project/{first}/user.json")
    assert response.status_code == 200, response.text
    assert response.json()["size"] == members
    return graphql, listing, counter.n


def test_project_listing_2x3_and_20x30_same_statement_count(server, api, database_url):
    first_two = insert_projects(database_url, 2, 3)
    small = count(server, api, 2, 3)
    add_contributors(database_url, first_two, 27)
    insert_projects(database_url, 18, 30)
    large = count(server, api, 20, 30)
    print(f"statements (GraphQL, project.json, user.json): 2x3 {small}, 20x30 {large}")
    assert small == large
    assert all(0 < n <= MAX_STATEMENTS for n in small), small
