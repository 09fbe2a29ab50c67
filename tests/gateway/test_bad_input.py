"""Bad input gets a clear 4xx with a JSON error body, changes nothing, and is never a 500 nor a
redirect (DESIGN.md "Security", contract core.md §1, §4.2, §5)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from settings import Settings
from tests.harness import (
    ADMIN_PRIVATE_KEY,
    ADMIN_PUBLIC_KEY,
    Api,
    assert_error,
    assert_graphql_error,
    serve,
)

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

PROFILE = {
    "username": "victim",
    "firstname": "Vic",
    "lastname": "Tim",
    "email": "victim@example.org",
    "password": "password-123",
}


def users(api: Api) -> list[dict[str, Any]]:
    """Everything a change could touch: every user as REST lists them."""
    return api.get("/api/user.json", params={"withRoles": "true"}).json()["collection"]  # type: ignore[no-any-return]


@pytest.fixture
def victim(api: Api) -> dict[str, Any]:
    response = api.post("/api/user.json", json=PROFILE)
    assert response.status_code == 200, response.text
    return response.json()["user"]  # type: ignore[no-any-return]


# --- bodies ----------------------------------------------------------------------------------


def test_user_create_malformed_json_is_400_and_changes_nothing(api):
    before = users(api)
    assert_error(api.post("/api/user.json", data='{"username": "x", '), 400)
    assert users(api) == before


def test_user_create_empty_body_is_400_and_changes_nothing(api):
    before = users(api)
    assert_error(api.post("/api/user.json", data=""), 400)
    assert_error(api.post("/api/user.json", data="  \n"), 400)
    assert users(api) == before


@pytest.mark.parametrize("body", ["[1, 2]", '"just a string"', "42", "null"])
def test_user_update_non_object_body_is_400_and_changes_nothing(api, victim, body):
    before = users(api)
    assert_error(api.put(f"/api/user/{victim['id']}.json", data=body), 400)
    assert users(api) == before


@pytest.mark.parametrize(
    "field, value",
    [
        ("isDeveloper", {"a": 1}),
        ("isDeveloper", [True]),
        ("username", ["x"]),
        ("username", {"a": 1}),
        ("email", ["victim@example.org"]),
    ],
)
def test_user_create_wrong_types_is_400_and_changes_nothing(api, field, value):
    before = users(api)
    body = {**PROFILE, "username": "wrongtypes", field: value}
    assert_error(api.post("/api/user.json", json=body), 400)
    assert users(api) == before


@pytest.mark.parametrize(
    "field, value", [("isDeveloper", {"a": 1}), ("username", ["x"]), ("firstname", {"a": 1})]
)
def test_user_update_wrong_types_is_400_and_changes_nothing(api, victim, field, value):
    before = users(api)
    body = {**victim, field: value}
    assert_error(api.put(f"/api/user/{victim['id']}.json", json=body), 400)
    assert users(api) == before


def test_user_create_text_with_nul_character_is_400_and_changes_nothing(api):
    before = users(api)
    body = {**PROFILE, "username": "nul", "firstname": "a\u0000b"}
    assert_error(api.post("/api/user.json", json=body), 400)
    assert users(api) == before


@pytest.mark.parametrize("missing", ["username", "firstname", "lastname", "email", "password"])
def test_user_create_missing_required_field_is_400_and_changes_nothing(api, missing):
    before = users(api)
    body = {key: value for key, value in PROFILE.items() if key != missing}
    body["username"] = body.get("username") and "incomplete"
    body = {key: value for key, value in body.items() if value is not None}
    assert_error(api.post("/api/user.json", json=body), 400)
    assert users(api) == before


def test_user_update_missing_required_field_is_400_and_changes_nothing(api, victim):
    before = users(api)
    body = {key: value for key, value in victim.items() if key != "lastname"}
    assert_error(api.put(f"/api/user/{victim['id']}.json", json=body), 400)
    assert users(api) == before


# --- ids, parameters, routes -----------------------------------------------------------------


def test_user_unknown_id_is_404_and_changes_nothing(api):
    before = users(api)
    assert_error(api.get("/api/user/999999.json"), 404)
    assert_error(api.put("/api/user/999999.json", json={**PROFILE, "id": 999999}), 404)
    assert_error(api.delete("/api/user/999999.json"), 404)
    assert users(api) == before


@pytest.mark.parametrize(
    "params",
    [{"max": "-1"}, {"max": "abc"}, {"offset": "-3"}, {"offset": "1.5"},
     {"offset": "99999999999999999999"}, {"max": "2147483648"}],
)  # fmt: skip
def test_bad_paging_is_400(api, params):
    assert_error(api.get("/api/user.json", params=params), 400)
    assert_error(api.get("/api/role.json", params=params), 400)  # paged in memory


def test_user_list_repeated_parameter_is_400(api):
    assert_error(api.get("/api/user.json?max=1&max=2"), 400)


@pytest.mark.parametrize(
    "query",
    [
        "id[equals]=99999999999999999999999",
        "id[in]=1,99999999999999999999999",
        "created[gte]=99999999999999999999",
        "id[lte]=abc",
        "username[ilike]=a%00b",
    ],
)
def test_user_list_unreadable_filter_value_is_400(api, query):
    assert_error(api.get(f"/api/user.json?{query}"), 400)


def test_api_unknown_route_is_404_json(api, anonymous):
    assert_error(api.get("/api/nothing-here.json"), 404)
    assert_error(api.post("/api/nothing/1/here.json", json={}), 404)


def test_user_list_wrong_method_is_405_with_allow(api):
    before = users(api)
    response = api.request("PATCH", "/api/user.json", json={"username": "patched"})
    assert_error(response, 405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert users(api) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/user.json/",
        "/api/",
        "/api",
        "/api/user/",
        "/graphql/",
        "/api/user/current.json/",
        "//api/user.json",
        "/session/admin/",
        "/user/current/keys/",
    ],
)
def test_api_odd_path_is_never_a_redirect(api, anonymous, path):
    for caller in (api, anonymous):
        response = caller.get(path)
        assert not 300 <= response.status_code < 400, (path, response.status_code)
        assert response.status_code < 500, (path, response.status_code, response.text)


# --- size ------------------------------------------------------------------------------------


@pytest.fixture
def small(settings: Settings, database_url: str) -> Iterator[Api]:
    with serve(replace(settings, max_body_bytes=2048), database_url) as running:
        yield Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)


def test_body_over_limit_is_413_json_and_changes_nothing(small):
    before = users(small)
    body = {**PROFILE, "username": "huge", "origin": "x" * 4096}
    assert_error(small.post("/api/user.json", json=body), 413)
    response = small.post(
        "/graphql", json={"query": "{ viewer { adminByNow } }", "pad": "x" * 4096}
    )
    assert_graphql_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert users(small) == before


# --- GraphQL documents -----------------------------------------------------------------------


def _gql_error(response: requests.Response) -> list[str]:
    """A rejected document: a 4xx, or 200 with errors and no data; the errors' codes."""
    assert response.status_code < 500, response.text
    assert response.status_code == 200 or 400 <= response.status_code < 500
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    return [error.get("extensions", {}).get("code") for error in body["errors"]]


@pytest.mark.parametrize("levels", [50, 500, 1600, 5000])
def test_graphql_deep_nesting_is_rejected(api, levels):
    query = "{" + " viewer {" * levels + " adminByNow" + " }" * levels + " }"
    _gql_error(api.post("/graphql", json={"query": query}))


@pytest.mark.parametrize("levels", [200, 2000])
def test_graphql_deep_list_value_is_rejected(api, levels):
    query = "{ user(id: " + "[" * levels + "1" + "]" * levels + ") { id } }"
    _gql_error(api.post("/graphql", json={"query": query}))


@pytest.mark.parametrize("count", [31, 1000, 20000])
def test_graphql_alias_bomb_is_rejected(api, count):
    query = "{ " + " ".join(f"a{i}: viewer {{ adminByNow }}" for i in range(count)) + " }"
    _gql_error(api.post("/graphql", json={"query": query}))


def test_graphql_fragment_cycle_is_rejected(api):
    query = (
        "{ viewer { ...A } } fragment A on AuthInfo { adminByNow ...B } "
        "fragment B on AuthInfo { isAdmin ...A }"
    )
    assert set(_gql_error(api.post("/graphql", json={"query": query}))) == {
        "GRAPHQL_VALIDATION_FAILED"
    }


def test_graphql_huge_string_is_not_a_server_error(api):
    huge = "x" * 2_000_000
    response = api.post("/graphql", json={"query": f'{{ user(username: "{huge}") {{ id }} }}'})
    assert _gql_error(response) == ["NOT_FOUND"]
    response = api.post(
        "/graphql",
        json={
            "query": "query($u: String!) { user(username: $u) { id } }",
            "variables": {"u": huge},
        },
    )
    assert _gql_error(response) == ["NOT_FOUND"]


def test_graphql_huge_string_in_mutation_changes_nothing(api):
    before = users(api)
    response = api.post(
        "/graphql",
        json={
            "query": "mutation($i: UserInput!) { userCreate(input: $i) { user { id } } }",
            "variables": {"i": {**PROFILE, "username": "big", "firstname": "x" * 1_000_000}},
        },
    )
    assert _gql_error(response) == ["BAD_USER_INPUT"]
    assert users(api) == before


@pytest.mark.parametrize("query", ["{ viewer { ", "{ viewer { adminByNow } } }", "query {", "}{"])
def test_graphql_syntax_error_is_validation_failed(api, query):
    assert _gql_error(api.post("/graphql", json={"query": query})) == ["GRAPHQL_VALIDATION_FAILED"]


def test_graphql_unknown_field_is_validation_failed(api):
    codes = _gql_error(api.post("/graphql", json={"query": "{ viewer { nope } }"}))
    assert codes == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    "value",
    ["abc", {"a": 1}, [1], 1.5, True, 2**64, None],
)
def test_graphql_variable_of_wrong_type_is_bad_user_input(api, value):
    response = api.post(
        "/graphql",
        json={"query": "query($id: Long!) { user(id: $id) { id } }", "variables": {"id": value}},
    )
    assert _gql_error(response) == ["BAD_USER_INPUT"]


def test_graphql_input_of_wrong_type_is_bad_user_input_and_changes_nothing(api):
    before = users(api)
    response = api.post(
        "/graphql",
        json={
            "query": "mutation($i: UserInput!) { userCreate(input: $i) { user { id } } }",
            "variables": {"i": {**PROFILE, "username": "typed", "isDeveloper": {"a": 1}}},
        },
    )
    assert _gql_error(response) == ["BAD_USER_INPUT"]
    assert users(api) == before


@pytest.mark.parametrize(
    "body",
    [
        '{"query": ',
        "[]",
        '"text"',
        '{"query": 42}',
        '{"query": "{ viewer { adminByNow } }", "variables": "nope"}',
        "{}",
    ],
)
def test_graphql_malformed_request_is_4xx(api, body):
    response = api.post("/graphql", data=body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)


def test_graphql_variable_past_64_bits_is_read_and_refused_as_a_variable(api):
    """The body is valid JSON: the refusal names the variable, not the body."""
    body = b'{"query": "query ($id: Long!) { user(id: $id) { id } }", "variables": {"id": %d}}'
    response = api.post("/graphql", data=body % 2**70)
    assert _gql_error(response) == ["BAD_USER_INPUT"]
    assert "$id" in response.json()["errors"][0]["message"]
