"""When the database cannot serve (pool exhausted, a statement past the timeout, PostgreSQL
restarting) requests get 503 JSON with `Retry-After`, nothing is half-written, and the server
serves again as soon as PostgreSQL does; and `/graphql` refuses in GraphQL's own shape."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
import requests

from gateway.app import DATABASE
from settings import Settings
from tests.conftest import base_settings
from tests.factories import make_project
from tests.harness import Server, assert_error, assert_graphql_error, raw_connection

PROJECTS = "{ projects { totalCount nodes { id name } } }"


def on_server(server: Server, coroutine: Any) -> Any:
    """Run `coroutine` on the server's event loop and wait for it."""
    return asyncio.run_coroutine_threadsafe(coroutine, server.loop).result(30)


def assert_unavailable(response: requests.Response) -> dict[str, Any]:
    body = assert_error(response, 503)
    assert int(response.headers["Retry-After"]) > 0
    return body


class TestPoolExhausted:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(base_settings(), pool_size=1, pool_timeout=1)

    def test_a_request_that_gets_no_connection_answers_503_then_all_serve_again(self, server, api):
        assert api.get("/api/project.json").status_code == 200

        database = server.app[DATABASE]
        held = on_server(server, database.checkout())
        try:
            body = assert_unavailable(api.get("/api/project.json"))
            assert "no database connection was free within 1 s" in body["message"]
            graphql = api.post("/graphql", json={"query": PROJECTS})
            error = assert_graphql_error(graphql, 503, "UNAVAILABLE")
            assert error["extensions"]["retryAfter"] == int(graphql.headers["Retry-After"])
        finally:
            on_server(server, database.checkin(held))
        assert api.get("/api/project.json").status_code == 200
        assert api.gql(PROJECTS)["data"]["projects"]["totalCount"] == 0


class TestStatementTimeout:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(base_settings(), statement_timeout=1)

    def test_a_write_blocked_past_the_timeout_answers_503_and_writes_nothing(
        self, server, api, database_url
    ):
        project = make_project(api, name="before")

        async def blocked_rename() -> requests.Response:
            other = await raw_connection(database_url)
            try:
                async with other.transaction():
                    await other.execute("SELECT 1 FROM project WHERE id = $1 FOR UPDATE",
                                        project["id"])  # fmt: skip
                    return await asyncio.to_thread(
                        api.put, f"/api/project/{project['id']}.json",
                        json={**project, "name": "after"},
                    )  # fmt: skip
            finally:
                await other.close()

        answer = asyncio.run(blocked_rename())
        body = assert_unavailable(answer)
        assert "statement timeout (1 s)" in body["message"]
        assert api.get(f"/api/project/{project['id']}.json").json()["name"] == "before"
        renamed = api.put(f"/api/project/{project['id']}.json", json={**project, "name": "after"})
        assert renamed.status_code == 200, renamed.text


class TestRestart:
    @pytest.fixture
    def settings(self) -> Settings:
        return replace(base_settings(), pool_size=3, pool_timeout=2)

    def test_requests_during_a_restart_get_503_and_none_fail_once_it_is_back(
        self, cluster, server, api, anonymous
    ):
        kept = make_project(api, name="kept")["id"]
        one = f"/api/project/{kept}.json"  # read by a kept statement, straight on asyncpg
        for _ in range(6):  # every pooled connection has served, and will be found dead
            assert api.get("/api/project.json").status_code == 200
            assert api.get(one).status_code == 200
        cluster.pause()
        try:
            assert_unavailable(api.get("/api/project.json"))
            assert_unavailable(api.get(one))
            assert_unavailable(api.post("/api/project.json", json={"name": "lost"}))
            assert_graphql_error(api.post("/graphql", json={"query": PROJECTS}), 503,
                                 "UNAVAILABLE")  # fmt: skip
            for caller in (anonymous, api):  # signed: its token cannot be issued either
                ping = caller.get("/server/ping.json")
                assert ping.status_code == 503, ping.text
                assert ping.json()["database"] == "unreachable"
                assert int(ping.headers["Retry-After"]) > 0
        finally:
            cluster.resume()
        statuses = [
            api.get(path).status_code for _ in range(8) for path in (one, "/api/project.json")
        ]
        assert statuses == [200] * 16
        assert [p["name"] for p in api.get("/api/project.json").json()["collection"]] == ["kept"]
        assert api.gql(PROJECTS)["data"]["projects"]["totalCount"] == 1
        assert anonymous.get("/server/ping.json").json()["database"] == "up"


def test_graphql_bad_token_is_401_in_graphql_shape(anonymous):
    answer = anonymous.post("/graphql", json={"query": PROJECTS},
                            headers={"Authorization": "Bearer not-a-token"})  # fmt: skip
    error = assert_graphql_error(answer, 401, "UNAUTHENTICATED")
    assert "invalid or has expired" in error["message"]


def test_graphql_bad_signature_is_401_in_graphql_shape(api):
    forged = api.as_keys(api.public_key, "0" * 36)
    assert_graphql_error(forged.post("/graphql", json={"query": PROJECTS}), 401,
                         "UNAUTHENTICATED")  # fmt: skip


def test_graphql_body_that_is_not_json_is_400_in_graphql_shape(api):
    answer = api.post("/graphql", data=b"{not json", headers={"content-type": "application/json"})
    assert_graphql_error(answer, 400, "BAD_REQUEST")


def test_graphql_mutation_over_get_is_refused_in_graphql_shape(api):
    answer = api.get("/graphql", params={"query": 'mutation { tagCreate(input: {name: "x"}) '
                                                  "{ tag { id } } }"})  # fmt: skip
    assert answer.status_code in (400, 405)
    assert answer.json()["errors"][0]["extensions"]["code"]
    assert api.get("/api/tag.json").json()["collection"] == []


def test_graphql_offers_no_websocket(server, api):
    handshake = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "graphql-transport-ws",
    }
    answer = api.get("/graphql", headers=handshake)
    assert answer.status_code != 101
    assert answer.headers.get("Upgrade") is None
    assert "Sec-WebSocket-Accept" not in answer.headers
