"""Projects over raw HTTP: the list extras and bounds, members, default layers and
representatives, with exact JSON, envelopes and statuses (contract core.md §3–§5, §9.3–§9.6)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from tests.factories import created, make_ontology, make_project
from tests.harness import Api
from tests.project.conftest import Team

PROJECT_KEYS = {
    "class", "id", "created", "updated", "name", "ontology", "ontologyName", "blindMode",
    "areImagesDownloadable", "numberOfSlides", "numberOfImages", "numberOfAnnotations",
    "numberOfJobAnnotations", "numberOfReviewedAnnotations", "isClosed", "isReadOnly",
    "isRestricted", "hideUsersLayers", "hideAdminsLayers",
}  # fmt: skip
USER_KEYS = {
    "class", "id", "created", "updated", "username", "origin", "algo", "firstname", "lastname",
    "email", "language", "isDeveloper", "enabled", "user", "name", "fullName",
}  # fmt: skip
SELF_KEYS = {"publicKey", "privateKey", "passwordExpired"}
LIST_KEYS = {"collection", "offset", "perPage", "size", "totalPages"}
ENVELOPE_KEYS = {"message", "printMessage", "callback", "command"}
LAYER_CLASS = "be.cytomine.domain.project.ProjectDefaultLayer"
REPRESENTATIVE_CLASS = "be.cytomine.domain.project.ProjectRepresentativeUser"


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _listed(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    body = _ok(api.get(path, params=params))
    assert set(body) == LIST_KEYS
    return body["collection"]  # type: ignore[no-any-return]


def _names(api: Api, **params: Any) -> list[str]:
    return [p["name"] for p in _listed(api, "/api/project.json", **params)]


def _is_epoch_ms_number(value: Any) -> bool:
    return isinstance(value, int) and abs(value / 1000 - time.time()) < 600


def _sql(database_url: str, statement: str, *args: Any) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(statement, *args)
        finally:
            await conn.close()

    asyncio.run(run())


# --- project.json extras ---------------------------------------------------------------------


def test_project_list_without_flags_has_plain_project_json(api: Api, team: Team) -> None:
    [project] = _listed(api, "/api/project.json")
    assert set(project) == PROJECT_KEYS
    assert project["name"] == "Team project"


def test_project_list_with_members_count_counts_every_member(api, team, make_user) -> None:
    make_project(api, "Alone")
    listed = {p["name"]: p for p in _listed(api, "/api/project.json", withMembersCount="true")}
    assert set(listed["Team project"]) == PROJECT_KEYS | {"membersCount"}
    assert listed["Team project"]["membersCount"] == 2
    assert listed["Alone"]["membersCount"] == 1


def test_project_list_sort_and_filter_on_members_count(api: Api, team: Team) -> None:
    make_project(api, "Alone")
    flag = {"withMembersCount": "true"}
    assert _names(api, sort="membersCount", order="asc", **flag) == ["Alone", "Team project"]
    assert _names(api, sort="membersCount", order="desc", **flag) == ["Team project", "Alone"]
    assert _names(api, **{"membersCount[gte]": "2"}, **flag) == ["Team project"]
    assert _names(api, **{"membersCount[lte]": "1"}, **flag) == ["Alone"]


def test_project_list_members_count_without_flag_is_400(api: Api, team: Team) -> None:
    response = api.get("/api/project.json", params={"sort": "membersCount"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "message": "Cannot sort on membersCount without argument withMembersCount"
    }
    response = api.get("/api/project.json", params={"membersCount[gte]": "1"})
    assert response.status_code == 400
    assert "withMembersCount" in response.json()["message"]
    response = api.get("/api/project.json", params={"sort": "lastActivity"})
    assert response.json()["message"] == (
        "Cannot sort on lastActivity without argument withLastActivity"
    )
    response = api.get("/api/project.json", params={"currentUserRole[in]": "manager"})
    assert response.status_code == 400


def test_project_list_openapi_flag_spelling_is_accepted(api: Api, team: Team) -> None:
    [project] = _listed(api, "/api/project.json", withMemberCount="true")
    assert project["membersCount"] == 2


def test_project_list_last_activity_is_number_of_newest_history(api, team, database_url) -> None:
    older = make_project(api, "Older")
    time.sleep(0.01)
    listed = {p["name"]: p for p in _listed(api, "/api/project.json", withLastActivity="true")}
    assert set(listed["Older"]) == PROJECT_KEYS | {"lastActivity"}
    assert _is_epoch_ms_number(listed["Older"]["lastActivity"])
    assert listed["Older"]["lastActivity"] >= int(older["created"])
    newest = max(listed.values(), key=lambda p: p["lastActivity"])
    assert newest["name"] == "Older"

    _ok(api.put(f"/api/project/{team.project['id']}.json", json={**team.project}))
    by_activity = _names(api, withLastActivity="true", sort="lastActivity", order="desc")
    assert by_activity == ["Team project", "Older"]

    _sql(database_url, "DELETE FROM command_history WHERE project_id = $1", older["id"])
    listed = {p["name"]: p for p in _listed(api, "/api/project.json", withLastActivity="true")}
    assert listed["Older"]["lastActivity"] is None


def test_project_list_current_user_roles_filter_and_sort(team: Team, make_user) -> None:
    other = make_project(team.contributor["api"], "Connie's", users=(team.manager["id"],))
    api = team.manager["api"]
    flag = {"withCurrentUserRoles": "true"}
    listed = {p["name"]: p for p in _listed(api, "/api/project.json", **flag)}
    assert set(listed["Team project"]) == PROJECT_KEYS | {"currentUserRoles"}
    assert listed["Team project"]["currentUserRoles"] == {"admin": True, "representative": True}
    assert listed["Connie's"]["currentUserRoles"] == {"admin": False, "representative": False}
    assert _names(api, **{"currentUserRole[in]": "manager"}, **flag) == ["Team project"]
    assert _names(api, **{"currentUserRole[in]": "contributor"}, **flag) == ["Connie's"]
    assert _names(api, sort="currentUserRole", order="asc", **flag) == ["Connie's", "Team project"]
    assert _names(api, sort="currentUserRole", order="desc", **flag) == [
        "Team project",
        "Connie's",
    ]
    assert other["id"] != team.project["id"]


def test_project_list_all_flags_together(api: Api, team: Team) -> None:
    flags = {"withMembersCount": "1", "withLastActivity": "yes", "withCurrentUserRoles": "True"}
    [project] = _listed(team.contributor["api"], "/api/project.json", **flags)
    assert set(project) == PROJECT_KEYS | {"membersCount", "lastActivity", "currentUserRoles"}
    assert project["currentUserRoles"] == {"admin": False, "representative": False}
    assert project["membersCount"] == 2


# --- bounds, light lists, last opened --------------------------------------------------------


def test_project_bounds_cover_visible_projects(team: Team) -> None:
    make_project(team.outsider["api"], "Zulu")
    api = team.manager["api"]
    second = make_project(api, "Alpha", users=(team.contributor["id"], team.outsider["id"]))
    bounds = _ok(api.get("/api/bounds/project.json"))
    assert set(bounds) == {
        "created", "updated", "mode", "name", "numberOfAnnotations", "numberOfJobAnnotations",
        "numberOfReviewedAnnotations", "numberOfImages",
    }  # fmt: skip
    assert bounds["name"] == {"min": "Alpha", "max": "Team project"}
    assert bounds["created"] == {"min": team.project["created"], "max": second["created"]}
    assert bounds["mode"] == {"min": "CLASSIC", "max": "CLASSIC"}
    assert bounds["numberOfImages"] == {"min": 0, "max": 0}
    assert bounds["numberOfJobAnnotations"] == {"min": 0, "max": 0}

    with_members = _ok(api.get("/api/bounds/project.json", params={"withMembersCount": "true"}))
    assert with_members["members"] == {"min": 2, "max": 3}


def test_project_bounds_without_projects_are_null(make_user) -> None:
    lonely = make_user()
    bounds = _ok(lonely["api"].get("/api/bounds/project.json"))
    assert bounds["name"] == {"min": None, "max": None}
    assert bounds["created"] == {"min": None, "max": None}


def test_user_project_light_lists_member_managed_and_created(api: Api, team: Team) -> None:
    make_project(team.contributor["api"], "Connie's", users=(team.manager["id"],))
    me = team.manager
    path = f"/api/user/{me['id']}/project/light.json"

    def light(**params: Any) -> list[dict[str, Any]]:
        return _listed(me["api"], path, **params)

    assert light() == [
        {"id": light()[0]["id"], "name": "Connie's"},
        {"id": team.project["id"], "name": "Team project"},
    ]
    assert light(admin="true") == [{"id": team.project["id"], "name": "Team project"}]
    assert light(creator="true") == [{"id": team.project["id"], "name": "Team project"}]
    assert _listed(api, path, creator="true") == light(creator="true")


def test_user_project_light_of_someone_else_is_403_unknown_404(api: Api, team: Team) -> None:
    path = f"/api/user/{team.manager['id']}/project/light.json"
    assert team.contributor["api"].get(path).status_code == 403
    assert team.manager["api"].get("/api/user/99999999/project/light.json").status_code == 403
    assert api.get("/api/user/99999999/project/light.json").status_code == 404


def test_last_opened_completes_with_newest_visible_projects(team: Team) -> None:
    make_project(team.outsider["api"], "Not mine")
    second = make_project(team.manager["api"], "Second")
    body = _ok(team.manager["api"].get("/api/project/method/lastopened.json", params={"max": 5}))
    assert set(body) == LIST_KEYS
    rows = body["collection"]
    assert [row["id"] for row in rows] == [second["id"], team.project["id"]]
    assert rows[0] == {"id": second["id"], "date": int(second["created"]), "opened": False}
    one = _ok(team.manager["api"].get("/api/project/method/lastopened.json", params={"max": 1}))
    assert [row["id"] for row in one["collection"]] == [second["id"]]


# --- members ---------------------------------------------------------------------------------


def test_project_members_have_roles_and_user_json(api: Api, team: Team, make_user) -> None:
    boss = make_user("boss")
    _ok(api.post(f"{team.path}/user/{boss['id']}/admin.json"))
    members = _listed(team.contributor["api"], f"{team.path}/user.json")
    by_name = {m["username"]: m for m in members}
    assert {name: m["role"] for name, m in by_name.items()} == {
        "manny": "representative", "connie": "contributor", "boss": "manager",
    }  # fmt: skip
    assert set(by_name["manny"]) == (USER_KEYS - {"email"}) | {"role"}
    assert set(by_name["connie"]) == USER_KEYS | SELF_KEYS | {"role"}
    assert by_name["manny"]["class"] == "be.cytomine.domain.security.User"
    assert by_name["manny"]["user"] is None
    assert [m["username"] for m in members] == ["boss", "connie", "manny"]
    as_admin = {m["username"]: m for m in _listed(api, f"{team.path}/user.json")}
    assert as_admin["manny"]["email"] == "manny@example.org"


def test_project_members_sort_and_filter(api: Api, team: Team, make_user) -> None:
    boss = make_user("boss", firstname="Zed")
    _ok(api.post(f"{team.path}/user/{boss['id']}/admin.json"))
    path = f"{team.path}/user.json"

    def names(**params: Any) -> list[str]:
        return [m["username"] for m in _listed(api, path, **params)]

    assert names() == ["boss", "connie", "manny"]
    assert names(sortColumn="username", sortDirection="asc") == ["boss", "connie", "manny"]
    assert names(sortColumn="username", sortDirection="desc") == ["manny", "connie", "boss"]
    assert names(sortColumn="projectRole", sortDirection="asc") == ["connie", "boss", "manny"]
    assert names(sortColumn="fullName", sortDirection="asc") == ["connie", "manny", "boss"]
    assert names(**{"projectRole[in]": "manager,representative"}, sortColumn="username",
                 sortDirection="asc") == ["boss", "manny"]  # fmt: skip
    assert names(**{"fullName[ilike]": "tribu"}) == ["connie"]
    assert names(**{"fullName[ilike]": "MANNY"}) == ["manny"]
    # online: a ping naming the project in the last 300 s (core.md §9.16)
    assert names(**{"status[equals]": "online"}) == []
    ping = boss["api"].post("/server/ping.json", json={"project": team.project["id"]})
    assert ping.status_code == 200
    assert names(**{"status[equals]": "online"}) == names(online="true") == ["boss"]
    page = _ok(api.get(path, params={"max": 2, "offset": 1, "sortColumn": "username",
                                     "sortDirection": "asc"}))  # fmt: skip
    assert [m["username"] for m in page["collection"]] == ["connie", "manny"]
    assert (page["size"], page["offset"], page["perPage"], page["totalPages"]) == (3, 1, 2, 2)


def test_project_members_unknown_sort_is_400(api: Api, team: Team) -> None:
    response = api.get(f"{team.path}/user.json", params={"sortColumn": "password"})
    assert response.status_code == 400
    assert response.json()["message"] == "Cannot sort on password: unknown field"


def test_project_managers_representatives_and_creator(api: Api, team: Team, make_user) -> None:
    boss = make_user("boss")
    _ok(api.post(f"{team.path}/user/{boss['id']}/admin.json"))
    managers = _listed(team.contributor["api"], f"{team.path}/admin.json")
    assert sorted(u["username"] for u in managers) == ["boss", "manny"]
    assert all(set(u) == USER_KEYS - {"email"} for u in managers)
    representatives = _listed(api, f"{team.path}/users/representative.json")
    assert [u["username"] for u in representatives] == ["manny"]
    assert set(representatives[0]) == USER_KEYS
    creator = _listed(api, f"{team.path}/creator.json")
    assert [u["id"] for u in creator] == [team.manager["id"]]


def test_project_creator_deleted_is_404(api: Api, team: Team) -> None:
    _ok(api.delete(f"/api/user/{team.manager['id']}.json"))
    response = api.get(f"{team.path}/creator.json")
    assert response.status_code == 404
    assert "creator" in response.json()["errors"]["message"]


def _layer_names(api: Api, team: Team) -> list[str]:
    return sorted(u["username"] for u in _listed(api, f"{team.path}/userlayer.json", image=1))


def test_project_user_layers_follow_hide_flags(api: Api, team: Team, make_user) -> None:
    other = make_user("olga")
    _ok(api.post(f"{team.path}/user/{other['id']}.json"))
    contributor = team.contributor["api"]
    assert _layer_names(contributor, team) == ["connie", "manny", "olga"]

    def flags(users: bool, admins: bool) -> None:
        body = {**team.project, "hideUsersLayers": users, "hideAdminsLayers": admins}
        _ok(team.manager["api"].put(f"{team.path}.json", json=body))

    flags(users=False, admins=True)
    assert _layer_names(contributor, team) == ["connie", "olga"]
    flags(users=True, admins=False)
    assert _layer_names(contributor, team) == ["connie", "manny"]
    flags(users=True, admins=True)
    assert _layer_names(contributor, team) == ["connie"]
    assert _layer_names(team.manager["api"], team) == ["connie", "manny", "olga"]
    assert _layer_names(api, team) == ["connie", "manny", "olga"]


def test_project_members_add_many_returns_ok(api: Api, team: Team, make_user) -> None:
    a, b = make_user(), make_user()
    response = team.manager["api"].post(f"{team.path}/user.json?users={a['id']},{b['id']}")
    assert response.status_code == 200
    assert response.json() == {"data": {"message": "OK"}, "status": 200}
    names = {m["username"]: m["role"] for m in _listed(api, f"{team.path}/user.json")}
    assert names[a["username"]] == names[b["username"]] == "contributor"


def test_project_members_add_with_bad_ids_is_206_and_adds_the_rest(api, team, make_user) -> None:
    a = make_user()
    path = f"{team.path}/user.json?users={a['id']},99999999,abc,"
    response = team.manager["api"].post(path)
    assert response.status_code == 206
    assert response.json() == {
        "data": {"message": f"Cannot add theses users to the project {team.project['id']} : "
                            "99999999. abc are not well formatted ids"},
        "status": 200,
    }  # fmt: skip
    assert a["id"] in {m["id"] for m in _listed(api, f"{team.path}/user.json")}


def test_project_members_remove_many(api: Api, team: Team, make_user) -> None:
    a = make_user()
    _ok(api.post(f"{team.path}/user/{a['id']}.json"))
    ids = f"{a['id']},{team.contributor['id']}"
    response = team.manager["api"].delete(f"{team.path}/user.json?users={ids}")
    assert response.json() == {"data": {"message": "OK"}, "status": 200}
    assert [m["username"] for m in _listed(api, f"{team.path}/user.json")] == ["manny"]
    response = team.manager["api"].delete(f"{team.path}/user.json?users=12345678")
    assert response.status_code == 206
    assert response.json()["data"]["message"].startswith("Cannot remove theses users from")


def test_project_members_remove_self_as_contributor(api: Api, team: Team) -> None:
    me = team.contributor
    response = me["api"].delete(f"{team.path}/user.json?users={me['id']}")
    assert response.status_code == 200
    assert me["api"].get(f"{team.path}.json").status_code == 403


def test_project_members_add_many_as_contributor_is_403(team: Team, make_user) -> None:
    a = make_user()
    response = team.contributor["api"].post(f"{team.path}/user.json?users={a['id']}")
    assert response.status_code == 403


# --- default layers --------------------------------------------------------------------------


def _layer_body(team: Team, user: dict[str, Any], hide: bool = False) -> dict[str, Any]:
    return {"project": team.project["id"], "user": user["id"], "hideByDefault": hide}


def _make_layer(api: Api, team: Team, user: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"{team.path}/defaultlayer.json", json=_layer_body(team, user))
    return created(response, "projectdefaultlayer")


def test_default_layer_create_returns_exact_envelope(team: Team) -> None:
    api = team.manager["api"]
    response = api.post(f"{team.path}/defaultlayer.json", json=_layer_body(team, team.contributor))
    body = _ok(response)
    assert set(body) == ENVELOPE_KEYS | {"projectdefaultlayer"}
    layer = body["projectdefaultlayer"]
    assert set(layer) == {"class", "id", "created", "updated", "project", "user", "hideByDefault"}
    assert layer["class"] == LAYER_CLASS
    assert (layer["project"], layer["user"], layer["hideByDefault"]) == (
        team.project["id"], team.contributor["id"], False,
    )  # fmt: skip
    assert body["message"] == f"Default Layer {layer['id']} (Connie Tributor) added"
    assert body["callback"] == {
        "method": "be.cytomine.AddProjectDefaultLayerCommand",
        "projectdefaultlayerID": str(layer["id"]),
    }
    assert isinstance(body["command"], int) and body["printMessage"] is True


def test_default_layer_crud_roundtrip(team: Team) -> None:
    api = team.manager["api"]
    layer = _make_layer(api, team, team.manager)
    path = f"{team.path}/defaultlayer/{layer['id']}.json"
    assert _ok(team.contributor["api"].get(path)) == layer
    assert _listed(team.contributor["api"], f"{team.path}/defaultlayer.json") == [layer]

    updated = _ok(api.put(path, json={**layer, "hideByDefault": True}))
    assert updated["message"] == f"Default Layer {layer['id']} (Manny Ger) updated"
    assert updated["callback"]["method"] == "be.cytomine.EditProjectDefaultLayerCommand"
    assert updated["projectdefaultlayer"]["hideByDefault"] is True
    assert _ok(api.get(path))["hideByDefault"] is True

    deleted = _ok(api.delete(path))
    assert deleted["message"] == f"Default Layer {layer['id']} (Manny Ger) deleted"
    assert deleted["projectdefaultlayer"]["id"] == layer["id"]
    assert api.get(path).status_code == 404
    assert _listed(api, f"{team.path}/defaultlayer.json") == []


def test_default_layer_rules_member_duplicate_and_project(team: Team, api: Api) -> None:
    manager = team.manager["api"]
    response = manager.post(f"{team.path}/defaultlayer.json",
                            json=_layer_body(team, team.outsider))  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"] == (
        f"the user {team.outsider['id']} is not into the project {team.project['id']}"
    )
    layer = _make_layer(manager, team, team.contributor)
    again = manager.post(f"{team.path}/defaultlayer.json", json=_layer_body(team, team.contributor))
    assert again.status_code == 409
    assert again.json()["success"] is False
    other = make_project(api, "Other")
    assert api.get(f"/api/project/{other['id']}/defaultlayer/{layer['id']}.json").status_code == 404
    assert manager.get(f"{team.path}/defaultlayer/{other['id']}.json").status_code == 404


def test_default_layer_create_without_project_in_body_uses_path(team: Team) -> None:
    body = {"user": team.contributor["id"], "hideByDefault": True}
    layer = created(team.manager["api"].post(f"{team.path}/defaultlayer.json", json=body),
                    "projectdefaultlayer")  # fmt: skip
    assert (layer["project"], layer["hideByDefault"]) == (team.project["id"], True)


def test_default_layer_create_is_undone_and_redone(team: Team) -> None:
    api = team.manager["api"]
    layer = _make_layer(api, team, team.contributor)
    path = f"{team.path}/defaultlayer/{layer['id']}.json"
    undone = _ok(api.get("/api/command/undo.json"))["collection"]
    assert undone[0]["message"] == f"Default Layer {layer['id']} (Connie Tributor) deleted"
    assert api.get(path).status_code == 404
    _ok(api.get("/api/command/redo.json"))
    assert _ok(api.get(path)) == layer


# --- representatives -------------------------------------------------------------------------


def test_representative_create_returns_exact_envelope(team: Team) -> None:
    body = {"project": team.project["id"], "user": team.contributor["id"]}
    answer = _ok(team.manager["api"].post(f"{team.path}/representative.json", json=body))
    assert set(answer) == ENVELOPE_KEYS | {"projectrepresentativeuser"}
    row = answer["projectrepresentativeuser"]
    assert set(row) == {"class", "id", "created", "updated", "project", "user"}
    assert row["class"] == REPRESENTATIVE_CLASS
    assert (row["project"], row["user"]) == (team.project["id"], team.contributor["id"])
    assert answer["message"] == f"Representative User {row['id']} (Connie Tributor) added"
    assert answer["callback"] == {
        "method": "be.cytomine.AddProjectRepresentativeUserCommand",
        "projectrepresentativeuserID": str(row["id"]),
    }
    listed = _listed(team.contributor["api"], f"{team.path}/representative.json")
    assert [r["user"] for r in listed] == [team.manager["id"], team.contributor["id"]]
    assert _ok(team.contributor["api"].get(f"{team.path}/representative/{row['id']}.json")) == row


def test_representative_rules_member_duplicate_last(team: Team) -> None:
    api = team.manager["api"]
    path = f"{team.path}/representative.json"
    outsider = api.post(path, json={"project": team.project["id"], "user": team.outsider["id"]})
    assert outsider.status_code == 400
    twice = api.post(path, json={"project": team.project["id"], "user": team.manager["id"]})
    assert twice.status_code == 409
    [mine] = _listed(api, path)
    last = api.delete(f"{team.path}/representative/{mine['id']}.json")
    assert last.status_code == 400
    assert last.json()["errors"] == (
        "You cannot remove the last representative role. Add someone else as representative"
    )
    assert api.delete(path, params={"user": team.manager["id"]}).status_code == 400
    assert api.get(f"{team.path}/representative/{mine['id']}.json").status_code == 200


def test_representative_delete_by_id_and_by_user(team: Team) -> None:
    api = team.manager["api"]
    path = f"{team.path}/representative.json"
    body = {"project": team.project["id"], "user": team.contributor["id"]}
    added = created(api.post(path, json=body), "projectrepresentativeuser")
    gone = _ok(api.delete(path, params={"user": team.contributor["id"]}))
    assert gone["projectrepresentativeuser"]["id"] == added["id"]
    assert gone["message"] == f"Representative User {added['id']} (Connie Tributor) deleted"
    again = created(api.post(path, json=body), "projectrepresentativeuser")
    [first] = [r for r in _listed(api, path) if r["user"] == team.manager["id"]]
    _ok(api.delete(f"{team.path}/representative/{first['id']}.json"))
    assert [r["id"] for r in _listed(api, path)] == [again["id"]]
    assert api.delete(path, params={"user": team.outsider["id"]}).status_code == 404
    assert api.delete(f"{team.path}/representative/{first['id']}.json").status_code == 404


def test_last_representative_leaving_hands_over_to_manager(api: Api, team: Team) -> None:
    response = api.delete(f"{team.path}/user/{team.manager['id']}.json")
    assert response.json() == {"data": {"message": "OK"}}
    [row] = _listed(api, f"{team.path}/representative.json")
    admin = _ok(api.get("/api/user/current.json"))
    assert row["user"] == admin["id"]


def test_members_dropped_by_an_update_leave_as_removed_ones_do(api: Api, team: Team) -> None:
    """A PUT whose `users` leave out the representative removes them as DELETE would (§9.3,
    §9.4): no representative outside the project, the caller takes over."""
    body = {**team.project, "users": [team.contributor["id"]], "admins": []}
    _ok(api.put(f"{team.path}.json", json=body))
    members = {u["username"]: u["role"] for u in _listed(api, f"{team.path}/user.json")}
    assert members == {"connie": "contributor", "admin": "representative"}
    [row] = _listed(api, f"{team.path}/representative.json")
    assert row["user"] == _ok(api.get("/api/user/current.json"))["id"]


# --- ontology and update interplay -----------------------------------------------------------


def test_project_update_with_representatives_replaces_them(team: Team) -> None:
    ontology = make_ontology(team.manager["api"])
    body = {**team.project, "ontology": ontology["id"], "representatives": [team.contributor["id"]]}
    _ok(team.manager["api"].put(f"{team.path}.json", json=body))
    reps = _listed(team.manager["api"], f"{team.path}/users/representative.json")
    assert [u["username"] for u in reps] == ["connie"]


# --- software --------------------------------------------------------------------------------

SOFTWARE_CLASS = "be.cytomine.domain.processing.Software"
LINK_CLASS = "be.cytomine.domain.processing.SoftwareProject"
SOFTWARE_KEYS = {
    "class", "id", "created", "updated", "name", "softwareVersion", "deprecated",
    "executeCommand", "pullingCommand", "sourcePath", "user",
}  # fmt: skip


def _software(api: Api, name: str = "Segmenter", **fields: Any) -> dict[str, Any]:
    return created(api.post("/api/software.json", json={"name": name, **fields}), "software")


def test_software_crud_returns_exact_json(team: Team) -> None:
    api = team.manager["api"]
    body = {"name": "Segmenter", "softwareVersion": "2.0", "executeCommand": "run $x",
            "pullingCommand": "docker pull seg", "sourcePath": "/opt/seg",
            "class": "ignored"}  # fmt: skip
    answer = _ok(api.post("/api/software.json", json=body))
    assert set(answer) == ENVELOPE_KEYS | {"software"}
    software = answer["software"]
    assert set(software) == SOFTWARE_KEYS
    assert software["class"] == SOFTWARE_CLASS
    assert answer["message"] == f"Software {software['id']} (Segmenter) added"
    assert answer["callback"] == {"method": "be.cytomine.AddSoftwareCommand",
                                  "softwareID": str(software["id"])}  # fmt: skip
    assert (software["softwareVersion"], software["deprecated"], software["user"]) == (
        "2.0", False, team.manager["id"],
    )  # fmt: skip
    path = f"/api/software/{software['id']}.json"
    assert _ok(team.outsider["api"].get(path)) == software
    assert [s["id"] for s in _listed(team.outsider["api"], "/api/software.json")] == [
        software["id"]
    ]

    assert team.outsider["api"].put(path, json={**software, "name": "Mine"}).status_code == 403
    edited = _ok(api.put(path, json={"name": "Segmenter", "deprecated": True}))
    assert edited["callback"]["method"] == "be.cytomine.EditSoftwareCommand"
    assert edited["software"]["deprecated"] is True
    assert edited["software"]["executeCommand"] is None
    assert team.outsider["api"].delete(path).status_code == 403
    assert _ok(api.delete(path))["message"] == f"Software {software['id']} (Segmenter) deleted"
    assert api.get(path).status_code == 404


def test_software_project_links_and_lists(api: Api, team: Team) -> None:
    software = _software(api, softwareVersion="1.0")
    make_project(team.outsider["api"], "Hidden")
    body = {"software": software["id"], "project": team.project["id"]}
    answer = _ok(team.manager["api"].post("/api/softwareproject.json", json=body))
    link = answer["softwareproject"]
    assert set(link) == {"class", "id", "created", "updated", "project", "software", "name",
                         "softwareVersion"}  # fmt: skip
    assert link["class"] == LINK_CLASS
    assert (link["project"], link["software"], link["name"], link["softwareVersion"]) == (
        team.project["id"], software["id"], "Segmenter", "1.0",
    )  # fmt: skip
    assert answer["callback"]["method"] == "be.cytomine.AddSoftwareProjectCommand"
    assert answer["callback"]["softwareprojectID"] == str(link["id"])

    reader = team.contributor["api"]
    assert _ok(reader.get(f"/api/softwareproject/{link['id']}.json")) == link
    assert _listed(reader, f"{team.path}/softwareproject.json") == [link]
    assert [s["id"] for s in _listed(reader, f"{team.path}/software.json")] == [software["id"]]
    assert _listed(reader, "/api/softwareproject.json") == [link]
    assert _listed(team.outsider["api"], "/api/softwareproject.json") == []
    assert team.outsider["api"].get(f"/api/softwareproject/{link['id']}.json").status_code == 403

    assert team.manager["api"].post("/api/softwareproject.json", json=body).status_code == 409
    assert reader.post("/api/softwareproject.json", json=body).status_code == 403
    unknown = {"software": 99999999, "project": team.project["id"]}
    response = team.manager["api"].post("/api/softwareproject.json", json=unknown)
    assert response.status_code == 400
    assert response.json()["errors"] == "software was not found with id: 99999999"


def test_software_delete_removes_its_links(api: Api, team: Team) -> None:
    software = _software(api)
    body = {"software": software["id"], "project": team.project["id"]}
    link = created(team.manager["api"].post("/api/softwareproject.json", json=body),
                   "softwareproject")  # fmt: skip
    _ok(api.delete(f"/api/software/{software['id']}.json"))
    assert api.get(f"/api/softwareproject/{link['id']}.json").status_code == 404
    assert _listed(api, f"{team.path}/softwareproject.json") == []


def test_software_project_delete_by_manager(team: Team) -> None:
    software = _software(team.outsider["api"])
    body = {"software": software["id"], "project": team.project["id"]}
    link = created(team.manager["api"].post("/api/softwareproject.json", json=body),
                   "softwareproject")  # fmt: skip
    path = f"/api/softwareproject/{link['id']}.json"
    assert team.contributor["api"].delete(path).status_code == 403
    gone = _ok(team.manager["api"].delete(path))
    assert gone["softwareproject"]["id"] == link["id"]
    assert gone["callback"]["method"] == "be.cytomine.DeleteSoftwareProjectCommand"
    assert team.manager["api"].get(path).status_code == 404


def test_software_registering_as_guest_is_403(people: dict[str, Any]) -> None:
    response = people["guest"]["api"].post("/api/software.json", json={"name": "X"})
    assert response.status_code == 403
