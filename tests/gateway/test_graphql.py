"""The GraphQL endpoint: transport, viewer, lists, errors with codes, limits, and mutations that
REST sees (DESIGN.md "GraphQL", contract core.md §11)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import strawberry

from schema.errors import INTERNAL, DomainErrors
from settings import Settings
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, serve


def codes(answer: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in answer.get("errors") or []]


def role_ids(api: Api) -> dict[str, int]:
    roles = api.gql("{ roles { id authority } }")["data"]["roles"]
    return {role["authority"]: int(role["id"]) for role in roles}


def user_count(api: Api) -> int:
    return api.gql("{ users { totalCount } }")["data"]["users"]["totalCount"]  # type: ignore[no-any-return]


# --- transport -------------------------------------------------------------------------------


def test_graphql_post_answers_data(api):
    response = api.post("/graphql", json={"query": "{ viewer { adminByNow } }"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "data": {"viewer": {"adminByNow": True}},
        "extensions": {"cost": {"rows": 0, "limit": 50_000}},
    }


def test_graphql_get_with_query_answers_data(api):
    response = api.get("/graphql", params={"query": "{ viewer { user { username } } }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"user": {"username": "admin"}}}


def test_graphql_browser_get_without_query_serves_graphiql(anonymous):
    response = anonymous.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


# --- reads -----------------------------------------------------------------------------------


def test_viewer_admin_sees_own_user_and_admin_flag(api):
    answer = api.gql("{ viewer { user { username } adminByNow } }")
    assert "errors" not in answer
    assert answer["data"]["viewer"] == {"user": {"username": "admin"}, "adminByNow": True}


def test_users_first_two_pages_with_total_and_next(api, make_user):
    for _ in range(2):
        make_user()
    answer = api.gql(
        "{ users(first: 2) { totalCount nodes { username } pageInfo { hasNextPage } } }"
    )
    assert "errors" not in answer
    users = answer["data"]["users"]
    assert users["totalCount"] == 3
    assert len(users["nodes"]) == 2
    assert users["pageInfo"] == {"hasNextPage": True}
    names = [node["username"] for node in users["nodes"]]
    assert names == sorted(names)


def test_user_unknown_id_errors_not_found(api):
    answer = api.gql("{ user(id: 999999) { username } }")
    assert answer["data"] is None
    assert codes(answer) == ["NOT_FOUND"]
    assert answer["errors"][0]["path"] == ["user"]


def test_user_plain_user_cannot_see_private_fields_of_another(api, make_user):
    other = make_user()
    me = make_user()
    query = "query($id: Long!) { user(id: $id) { username email publicKey } }"
    answer = me["api"].gql(query, {"id": other["id"]})
    assert "errors" not in answer
    assert answer["data"]["user"] == {
        "username": other["username"],
        "email": None,
        "publicKey": None,
    }
    own = me["api"].gql(query, {"id": me["id"]})["data"]["user"]
    assert own["email"] == me["email"]
    assert own["publicKey"] == me["keys"]["publicKey"]


# --- authorisation ---------------------------------------------------------------------------


def test_user_create_plain_user_is_forbidden(api, make_user):
    plain = make_user()
    before = user_count(api)
    answer = plain["api"].gql(
        'mutation { userCreate(input: {username: "intruder", firstname: "I", lastname: "X", '
        'email: "i@example.org", password: "password-123"}) { user { id } } }'
    )
    assert answer["data"] is None
    assert codes(answer) == ["FORBIDDEN"]
    assert user_count(api) == before


def test_users_anonymous_is_unauthenticated(anonymous):
    answer = anonymous.gql("{ users { totalCount } }")
    assert answer["data"] is None
    assert codes(answer) == ["UNAUTHENTICATED"]


def test_introspection_anonymous_works(anonymous):
    answer = anonymous.gql("{ __schema { queryType { name } } }")
    assert answer["data"] == {"__schema": {"queryType": {"name": "Query"}}}


# --- limits ----------------------------------------------------------------------------------


@pytest.fixture
def limited(settings: Settings, database_url: str) -> Iterator[Api]:
    """A server with tiny GraphQL limits: depth 2, 3 aliases, 200 tokens."""
    small = replace(settings, graphql_max_depth=2, graphql_max_aliases=3, graphql_max_tokens=200)
    with serve(small, database_url) as running:
        yield Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)


def _assert_rejected(answer: dict[str, Any], fragment: str) -> None:
    assert answer.get("data") is None, answer
    assert answer["errors"], answer
    assert any(fragment in error["message"] for error in answer["errors"]), answer
    assert set(codes(answer)) == {"GRAPHQL_VALIDATION_FAILED"}


def test_depth_limit_exceeded_rejects_and_executes_nothing(limited):
    admin_role = role_ids(limited)["ROLE_ADMIN"]
    me = limited.gql("{ viewer { user { id } } }")["data"]["viewer"]["user"]["id"]
    target = limited.post(
        "/api/user.json",
        json={
            "username": "deep",
            "firstname": "D",
            "lastname": "E",
            "email": "d@example.org",
            "password": "password-123",
        },
    ).json()["user"]["id"]
    assert me != target
    answer = limited.gql(
        "mutation($u: Long!, $r: Long!) { userRoleCreate(userId: $u, roleId: $r) "
        "{ userRole { user { username } } } }",
        {"u": target, "r": admin_role},
    )
    _assert_rejected(answer, "exceeds maximum operation depth of 2")
    roles = limited.get(f"/api/user/{target}/role.json").json()["collection"]
    assert "ROLE_ADMIN" not in {role["authority"] for role in roles}


def test_alias_limit_exceeded_rejects_and_executes_nothing(limited):
    before = user_count(limited)
    creates = " ".join(
        f'u{i}: userCreate(input: {{username: "alias{i}", firstname: "A", lastname: "B", '
        f'email: "a{i}@example.org", password: "password-123"}}) {{ command {{ id }} }}'
        for i in range(4)
    )
    answer = limited.gql(f"mutation {{ {creates} }}")
    _assert_rejected(answer, "aliases")
    assert user_count(limited) == before


def test_token_limit_exceeded_rejects_and_executes_nothing(limited):
    before = user_count(limited)
    padding = " ".join(["username"] * 200)
    answer = limited.gql(
        'mutation { userCreate(input: {username: "tokens", firstname: "T", lastname: "K", '
        f'email: "t@example.org", password: "password-123"}}) {{ user {{ {padding} }} }} }}'
    )
    _assert_rejected(answer, "tokens")
    assert user_count(limited) == before


# --- unexpected errors -----------------------------------------------------------------------


def test_unexpected_exception_is_masked_as_internal_error():
    """No request path of the server raises an unexpected exception on purpose, so the error
    extension is exercised on a schema of its own, executed by strawberry as the server's is."""

    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> int:
            raise RuntimeError("secret detail: password=hunter2")

    schema = strawberry.Schema(query=Query, extensions=[DomainErrors])
    result = asyncio.run(schema.execute("{ boom }"))
    assert result.errors is not None and len(result.errors) == 1
    error = result.errors[0]
    assert error.message == "Internal error"
    assert error.extensions == {"code": INTERNAL}
    assert "hunter2" not in str(error.formatted)


# --- mutations, seen by REST -----------------------------------------------------------------

CREATE = """
mutation($input: UserInput!) {
  userCreate(input: $input) { command { id action message } user { id username firstname } }
}"""
UPDATE = """
mutation($id: Long!, $input: UserInput!) {
  userUpdate(id: $id, input: $input) { command { id action message } user { id firstname } }
}"""
DELETE = """
mutation($id: Long!) { userDelete(id: $id) { command { id action message } user { id } } }"""
GRANT = """
mutation($u: Long!, $r: Long!) {
  userRoleCreate(userId: $u, roleId: $r) { command { id action message } userRole { authority } }
}"""

PROFILE = {
    "username": "graphy",
    "firstname": "Graph",
    "lastname": "Ql",
    "email": "graphy@example.org",
    "password": "password-123",
}


def test_user_create_mutation_returns_command_and_rest_sees_user(api):
    answer = api.gql(CREATE, {"input": PROFILE})
    assert "errors" not in answer, answer
    payload = answer["data"]["userCreate"]
    assert payload["command"]["action"] == "ADD"
    assert int(payload["command"]["id"]) > 0
    assert payload["command"]["message"]
    user_id = payload["user"]["id"]
    shown = api.get(f"/api/user/{user_id}.json")
    assert shown.status_code == 200
    assert shown.json()["username"] == "graphy"
    assert shown.json()["firstname"] == "Graph"


def test_user_update_mutation_returns_command_and_rest_sees_change(api):
    user_id = api.gql(CREATE, {"input": PROFILE})["data"]["userCreate"]["user"]["id"]
    changed = {**PROFILE, "firstname": "Renamed"}
    del changed["password"]
    answer = api.gql(UPDATE, {"id": user_id, "input": changed})
    assert "errors" not in answer, answer
    payload = answer["data"]["userUpdate"]
    assert payload["command"]["action"] == "EDIT"
    assert payload["user"]["firstname"] == "Renamed"
    assert api.get(f"/api/user/{user_id}.json").json()["firstname"] == "Renamed"


def test_user_delete_mutation_returns_command_and_rest_sees_it_gone(api):
    user_id = api.gql(CREATE, {"input": PROFILE})["data"]["userCreate"]["user"]["id"]
    answer = api.gql(DELETE, {"id": user_id})
    assert "errors" not in answer, answer
    assert answer["data"]["userDelete"]["command"]["action"] == "DELETE"
    assert answer["data"]["userDelete"]["user"]["id"] == user_id
    assert api.get(f"/api/user/{user_id}.json").status_code == 404


def test_user_role_create_mutation_returns_command_and_rest_sees_role(api):
    user_id = api.gql(CREATE, {"input": PROFILE})["data"]["userCreate"]["user"]["id"]
    answer = api.gql(GRANT, {"u": user_id, "r": role_ids(api)["ROLE_ADMIN"]})
    assert "errors" not in answer, answer
    payload = answer["data"]["userRoleCreate"]
    assert payload["command"]["action"] == "ADD"
    assert payload["userRole"]["authority"] == "ROLE_ADMIN"
    roles = api.get(f"/api/user/{user_id}/role.json").json()["collection"]
    assert "ROLE_ADMIN" in {role["authority"] for role in roles}
    assert api.get(f"/api/user/{user_id}.json").json()["admin"] is True
