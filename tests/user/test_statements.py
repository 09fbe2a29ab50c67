"""Listing users with their roles costs a fixed number of SQL statements, whatever the number
of users (DESIGN.md "GraphQL": every fan-out is backed by a DataLoader)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.harness import Api, Server

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 5

USERS_WITH_ROLES = "{ users(first: 1000) { totalCount nodes { username roles isAdmin } } }"


def insert_users(database_url: str, start: int, count: int) -> None:
    """Rows straight into the database (REST would hash a password per user: slow)."""

    async def insert() -> None:
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn)
        try:
            roles = dict(await conn.fetch("SELECT authority, id FROM sec_role"))
            rows = [
                (
                    f"bulk{i:04d}",
                    "Bulk",
                    f"User{i}",
                    f"bulk{i}@example.org",
                    f"pub-{i}",
                    f"priv-{i}",
                )
                for i in range(start, start + count)
            ]
            ids = [
                record["id"]
                for record in await conn.fetch(
                    "INSERT INTO sec_user (username, firstname, lastname, email, public_key,"
                    " private_key) SELECT * FROM unnest($1::text[], $2::text[], $3::text[],"
                    " $4::text[], $5::text[], $6::text[]) RETURNING id",
                    *map(list, zip(*rows, strict=True)),
                )
            ]
            links = [(user_id, roles["ROLE_GUEST"]) for user_id in ids]
            links += [(user_id, roles["ROLE_USER"]) for user_id in ids]
            links += [(user_id, roles["ROLE_ADMIN"]) for user_id in ids[::3]]
            await conn.executemany(
                "INSERT INTO sec_user_sec_role (sec_user_id, sec_role_id) VALUES ($1, $2)", links
            )
        finally:
            await conn.close()

    asyncio.run(insert())


def count_listing(server: Server, api: Api, users: int) -> tuple[int, int]:
    """Statements of the REST listing and of the GraphQL listing, each checked for `users`."""
    with server.count_statements() as counter:
        response = api.get("/api/user.json", params={"withRoles": "true", "max": "0"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["size"] == users and len(body["collection"]) == users
    assert all(user["role"] for user in body["collection"])
    rest = counter.n

    with server.count_statements() as counter:
        answer = api.gql(USERS_WITH_ROLES)
    assert "errors" not in answer, answer
    nodes = answer["data"]["users"]["nodes"]
    assert len(nodes) == users
    assert all(node["roles"] for node in nodes)
    assert any(node["isAdmin"] for node in nodes)
    return rest, counter.n


def test_users_with_roles_listing_3_and_300_users_same_statement_count(server, api, database_url):
    insert_users(database_url, 0, 3)
    small = count_listing(server, api, 1 + 3)
    insert_users(database_url, 3, 297)
    large = count_listing(server, api, 1 + 300)
    print(f"statements (REST, GraphQL): 3 users {small}, 300 users {large}")
    assert small == large
    assert all(0 < n <= MAX_STATEMENTS for n in small), small
