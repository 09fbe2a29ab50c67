"""Bad input to the project routes gets a clear 4xx JSON error, changes nothing, and is never a
500 nor a redirect (DESIGN.md "Security", contract core.md §4–§5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Api, assert_error
from tests.project.conftest import Team

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def _state(api: Api, team: Team) -> dict[str, Any]:
    """Everything these calls could touch."""
    return {
        path: api.get(team.path + path).json()
        for path in (".json", "/user.json", "/defaultlayer.json", "/representative.json",
                     "/softwareproject.json")
    }  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "password"},
        {"sort": "name", "order": "sideways"},
        {"max": "-1"},
        {"offset": "x"},
        {"sort": "membersCount"},
        {"membersCount[gte]": "1"},
        {"withMembersCount": "true", "membersCount[gte]": "many"},
        {"withLastActivity": "true", "lastActivity[gte]": "yesterday"},
        {"created[lte]": "99999999999999999999999"},
        {"numberOfImages[in]": "1,two"},
    ],
)
def test_project_list_bad_parameters_are_400(api: Api, team: Team, params: dict[str, str]):
    assert_error(api.get("/api/project.json", params=params), 400)


@pytest.mark.parametrize(
    "params",
    [{"sortColumn": "password"}, {"sortDirection": "up"}, {"max": "-3"},
     {"sortColumn": "email"}, {"id[in]": "1,x"}],
)  # fmt: skip
def test_project_members_bad_parameters_are_400(team: Team, params: dict[str, str]):
    assert_error(team.contributor["api"].get(f"{team.path}/user.json", params=params), 400)


def test_project_members_sort_on_email_is_fine_for_admins(api: Api, team: Team):
    response = api.get(f"{team.path}/user.json", params={"sortColumn": "email"})
    assert response.status_code == 200


@pytest.mark.parametrize("users", ["", ",", "x," * 1001])
def test_project_members_bad_id_lists_are_400_and_change_nothing(api, team, users):
    before = _state(api, team)
    assert_error(team.manager["api"].post(f"{team.path}/user.json?users={users}"), 400)
    assert_error(team.manager["api"].delete(f"{team.path}/user.json?users={users}"), 400)
    assert _state(api, team) == before


def test_project_members_missing_ids_is_400(api: Api, team: Team):
    assert_error(team.manager["api"].post(f"{team.path}/user.json"), 400)


def test_project_members_huge_id_is_reported_not_a_crash(api: Api, team: Team):
    before = _state(api, team)
    response = team.manager["api"].post(f"{team.path}/user.json?users=99999999999999999999999")
    assert response.status_code == 206
    assert "99999999999999999999999 are not well formatted" in response.json()["data"]["message"]
    assert _state(api, team) == before


@pytest.mark.parametrize(
    "body",
    [
        {"user": "abc"},
        {"user": None},
        {},
        {"user": {"id": 1}},
        {"user": [1]},
        {"hideByDefault": {"a": 1}},
        {"user": 99999999},
    ],
)
def test_default_layer_bad_bodies_are_400_and_change_nothing(api, team, body):
    before = _state(api, team)
    response = team.manager["api"].post(f"{team.path}/defaultlayer.json", json=body)
    assert_error(response, 400)
    assert _state(api, team) == before


def test_default_layer_body_project_differs_from_path_is_400(api: Api, team: Team):
    body = {"project": team.project["id"] + 1, "user": team.contributor["id"]}
    assert_error(team.manager["api"].post(f"{team.path}/defaultlayer.json", json=body), 400)


@pytest.mark.parametrize("body", ["[1, 2]", '"x"', "", "{bad"])
def test_default_layer_and_representative_non_object_bodies_are_400(api, team, body):
    before = _state(api, team)
    for path in ("/defaultlayer.json", "/representative.json"):
        assert_error(team.manager["api"].post(team.path + path, data=body), 400)
    assert _state(api, team) == before


def test_unknown_ids_are_404(api: Api, team: Team):
    for path in ("/api/project/99999999/user.json", "/api/project/99999999/admin.json",
                 "/api/project/99999999/creator.json", "/api/project/99999999/userlayer.json",
                 "/api/project/99999999/defaultlayer.json",
                 f"{team.path}/defaultlayer/99999999.json",
                 f"{team.path}/representative/99999999.json",
                 "/api/software/99999999.json", "/api/softwareproject/99999999.json",
                 "/api/project/99999999/software.json"):  # fmt: skip
        assert_error(api.get(path), 404)
    assert_error(api.delete(f"{team.path}/defaultlayer/99999999.json"), 404)
    assert_error(api.delete("/api/softwareproject/99999999.json"), 404)
    assert_error(api.post("/api/project/99999999/user.json?users=1"), 404)


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": ["x"]}, {"name": "x" * 256},
     {"name": "ok", "executeCommand": "x" * 10_001}, {"name": "ok", "deprecated": {"a": 1}}],
)  # fmt: skip
def test_software_bad_bodies_are_400_and_change_nothing(api: Api, body: dict[str, Any]):
    before = api.get("/api/software.json").json()
    assert_error(api.post("/api/software.json", json=body), 400)
    assert api.get("/api/software.json").json() == before


@pytest.mark.parametrize("body", [{}, {"software": 99999999}, {"project": "x", "software": 1}])
def test_software_project_bad_bodies_are_400(api: Api, team: Team, body: dict[str, Any]):
    before = _state(api, team)
    body = {"project": team.project["id"], **body} if "project" not in body else body
    assert_error(api.post("/api/softwareproject.json", json=body), 400)
    assert _state(api, team) == before


def test_graphql_member_page_negative_offset_is_bad_input(api: Api, team: Team):
    query = "query($id: Long!) { project(id: $id) { members(offset: -1) { totalCount } } }"
    answer = api.gql(query, {"id": team.project["id"]})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_last_opened_negative_max_is_400(api: Api, team: Team):
    assert_error(api.get("/api/project/method/lastopened.json", params={"max": "-1"}), 400)
