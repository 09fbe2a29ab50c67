"""Projects through GraphQL: the graph around a project (members with roles, managers,
representatives, creator, default layers, software), the computed fields, and mutations with
the same rules and error codes as REST (DESIGN.md "GraphQL", contract core.md §11)."""

from __future__ import annotations

from typing import Any

from tests.factories import make_project
from tests.project.conftest import Team


def _data(answer: dict[str, Any]) -> Any:
    assert "errors" not in answer, answer
    return answer["data"]


def _code(answer: dict[str, Any]) -> str:
    [error] = answer["errors"]
    return error["extensions"]["code"]  # type: ignore[no-any-return]


PROJECT_GRAPH = """
query Graph($id: Long!) {
  project(id: $id) {
    name membersCount lastActivity currentUserRoles { admin representative }
    members { totalCount nodes { role user { username email } } }
    managers { totalCount nodes { username } }
    representatives { userId user { username } project { name } }
    creator { username }
    defaultLayers { hideByDefault user { username } }
    userLayers { username }
    softwares { name }
    softwareProjects { name softwareVersion software { name } }
  }
}
"""


def test_project_graph_reads_every_relation(team: Team) -> None:
    api = team.manager["api"]
    body = {"project": team.project["id"], "user": team.contributor["id"], "hideByDefault": True}
    assert api.post(f"{team.path}/defaultlayer.json", json=body).status_code == 200
    tool = api.post("/api/software.json", json={"name": "Tool", "softwareVersion": "1.2"}).json()
    link = {"software": tool["software"]["id"], "project": team.project["id"]}
    assert api.post("/api/softwareproject.json", json=link).status_code == 200

    project = _data(team.contributor["api"].gql(PROJECT_GRAPH, {"id": team.project["id"]}))[
        "project"
    ]
    assert project["name"] == "Team project"
    assert project["membersCount"] == 2
    assert project["lastActivity"] is not None
    assert project["currentUserRoles"] == {"admin": False, "representative": False}
    members = {n["user"]["username"]: n for n in project["members"]["nodes"]}
    assert project["members"]["totalCount"] == 2
    assert members["manny"]["role"] == "REPRESENTATIVE"
    assert members["connie"]["role"] == "CONTRIBUTOR"
    assert members["manny"]["user"]["email"] is None
    assert members["connie"]["user"]["email"] == "connie@example.org"
    assert project["managers"] == {"totalCount": 1, "nodes": [{"username": "manny"}]}
    assert project["representatives"] == [
        {"userId": team.manager["id"], "user": {"username": "manny"},
         "project": {"name": "Team project"}}
    ]  # fmt: skip
    assert project["creator"] == {"username": "manny"}
    assert project["defaultLayers"] == [{"hideByDefault": True, "user": {"username": "connie"}}]
    assert sorted(u["username"] for u in project["userLayers"]) == ["connie", "manny"]
    assert project["softwares"] == [{"name": "Tool"}]
    assert project["softwareProjects"] == [
        {"name": "Tool", "softwareVersion": "1.2", "software": {"name": "Tool"}}
    ]


def test_project_members_paged_sorted_filtered(api, team: Team, make_user) -> None:
    for name in ("amy", "bob"):
        user = make_user(name)
        assert api.post(f"{team.path}/user/{user['id']}.json").status_code == 200
    query = """query($id: Long!, $filters: [FilterInput!]) { project(id: $id) {
      members(first: 2, offset: 1, sort: "username", order: "asc", filters: $filters) {
        totalCount pageInfo { hasNextPage hasPreviousPage offset } nodes { user { username } }
      } } }"""
    members = _data(api.gql(query, {"id": team.project["id"]}))["project"]["members"]
    assert members["totalCount"] == 4
    assert [n["user"]["username"] for n in members["nodes"]] == ["bob", "connie"]
    assert members["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True, "offset": 1}
    filters = [{"field": "projectRole", "op": "in", "value": "contributor"}]
    members = _data(api.gql(query, {"id": team.project["id"], "filters": filters}))
    assert members["project"]["members"]["totalCount"] == 3


def test_projects_with_flags_sort_on_computed_fields(team: Team) -> None:
    make_project(team.manager["api"], "Solo")
    query = """{ projects(withMembersCount: true, sort: "membersCount", order: "desc") {
      nodes { name membersCount } } }"""
    nodes = _data(team.manager["api"].gql(query))["projects"]["nodes"]
    assert nodes == [
        {"name": "Team project", "membersCount": 2},
        {"name": "Solo", "membersCount": 1},
    ]
    answer = team.manager["api"].gql('{ projects(sort: "membersCount") { totalCount } }')
    assert _code(answer) == "BAD_USER_INPUT"


def test_project_bounds_and_last_opened(team: Team) -> None:
    query = """{ projectBounds(withMembersCount: true) { name { min max } members { min max } }
                 lastOpenedProjects { projectId opened project { name } } }"""
    data = _data(team.manager["api"].gql(query))
    assert data["projectBounds"] == {"name": {"min": "Team project", "max": "Team project"},
                                     "members": {"min": 2, "max": 2}}  # fmt: skip
    assert data["lastOpenedProjects"] == [
        {"projectId": team.project["id"], "opened": False, "project": {"name": "Team project"}}
    ]


def test_user_projects_relation(team: Team) -> None:
    query = """query($user: Long!, $relation: ProjectRelation!) {
      userProjects(userId: $user, relation: $relation) { nodes { name } } }"""
    for relation, names in (("MEMBER", ["Team project"]), ("MANAGER", []), ("CREATOR", [])):
        data = _data(team.contributor["api"].gql(query, {"user": team.contributor["id"],
                                                         "relation": relation}))  # fmt: skip
        assert [n["name"] for n in data["userProjects"]["nodes"]] == names
    answer = team.contributor["api"].gql(query, {"user": team.manager["id"], "relation": "MEMBER"})
    assert _code(answer) == "FORBIDDEN"


LAYER_CREATE = """mutation($input: ProjectDefaultLayerInput!) {
  projectDefaultLayerCreate(input: $input) {
    command { action domain message printMessage }
    projectDefaultLayer { id projectId userId hideByDefault user { username } }
  } }"""


def test_default_layer_mutations_share_rules_with_rest(team: Team) -> None:
    api = team.manager["api"]
    input_ = {"project": team.project["id"], "user": team.contributor["id"]}
    payload = _data(api.gql(LAYER_CREATE, {"input": input_}))["projectDefaultLayerCreate"]
    layer = payload["projectDefaultLayer"]
    assert payload["command"] == {
        "action": "ADD", "domain": "ProjectDefaultLayer", "printMessage": True,
        "message": f"Default Layer {layer['id']} (Connie Tributor) added",
    }  # fmt: skip
    assert layer["hideByDefault"] is False and layer["user"] == {"username": "connie"}
    assert _code(api.gql(LAYER_CREATE, {"input": input_})) == "CONFLICT"
    outsider = {"project": team.project["id"], "user": team.outsider["id"]}
    assert _code(api.gql(LAYER_CREATE, {"input": outsider})) == "BAD_USER_INPUT"
    assert _code(team.contributor["api"].gql(LAYER_CREATE, {"input": input_})) == "FORBIDDEN"
    rest = api.get(f"{team.path}/defaultlayer/{layer['id']}.json").json()
    assert rest["user"] == team.contributor["id"]

    update = """mutation($id: Long!, $input: ProjectDefaultLayerInput!) {
      projectDefaultLayerUpdate(id: $id, input: $input) { projectDefaultLayer { hideByDefault } }
    }"""
    moved = {"project": team.outsider["id"], "user": team.contributor["id"]}
    assert _code(api.gql(update, {"id": layer["id"], "input": moved})) == "BAD_USER_INPUT"
    flipped = {"user": team.contributor["id"], "hideByDefault": True}
    data = _data(api.gql(update, {"id": layer["id"], "input": flipped}))
    assert data["projectDefaultLayerUpdate"]["projectDefaultLayer"] == {"hideByDefault": True}
    delete = "mutation($id: Long!) { projectDefaultLayerDelete(id: $id) { command { action } } }"
    assert _data(api.gql(delete, {"id": layer["id"]}))["projectDefaultLayerDelete"] == {
        "command": {"action": "DELETE"}
    }
    assert _code(api.gql(delete, {"id": layer["id"]})) == "NOT_FOUND"


def test_representative_mutations(team: Team) -> None:
    api = team.manager["api"]
    create = """mutation($input: ProjectRepresentativeUserInput!) {
      projectRepresentativeUserCreate(input: $input) {
        projectRepresentativeUser { id userId } } }"""
    delete = """mutation($project: Long, $user: Long) {
      projectRepresentativeUserDelete(projectId: $project, userId: $user) {
        command { message } } }"""
    input_ = {"project": team.project["id"], "user": team.contributor["id"]}
    row = _data(api.gql(create, {"input": input_}))["projectRepresentativeUserCreate"][
        "projectRepresentativeUser"
    ]
    assert row["userId"] == team.contributor["id"]
    variables = {"project": team.project["id"], "user": team.manager["id"]}
    assert _data(api.gql(delete, variables))
    variables["user"] = team.contributor["id"]
    assert _code(api.gql(delete, variables)) == "BAD_USER_INPUT"


def test_members_add_remove_payloads(team: Team, make_user) -> None:
    user = make_user()
    add = """mutation($p: Long!, $ids: [ID!]!) {
      projectMembersAdd(projectId: $p, userIds: $ids) { projectId done failed malformed } }"""
    variables = {"p": team.project["id"], "ids": [user["id"], "99999999", "x1"]}
    payload = _data(team.manager["api"].gql(add, variables))["projectMembersAdd"]
    assert payload == {"projectId": team.project["id"], "done": [user["id"]],
                       "failed": [99999999], "malformed": ["x1"]}  # fmt: skip
    assert _code(team.contributor["api"].gql(add, variables)) == "FORBIDDEN"
    remove = add.replace("projectMembersAdd", "projectMembersRemove")
    payload = _data(team.manager["api"].gql(remove, {"p": team.project["id"],
                                                     "ids": [user["id"]]}))  # fmt: skip
    assert payload["projectMembersRemove"]["done"] == [user["id"]]


def test_software_mutations_and_permissions(team: Team, people) -> None:
    create = """mutation($input: SoftwareInput!) {
      softwareCreate(input: $input) { software { id name deprecated userId } command { action } }
    }"""
    created = _data(team.manager["api"].gql(create, {"input": {"name": "Seg", "deprecated": True}}))
    software = created["softwareCreate"]["software"]
    assert software["deprecated"] is True and software["userId"] == team.manager["id"]
    assert _code(people["guest"]["api"].gql(create, {"input": {"name": "X"}})) == "FORBIDDEN"
    update = """mutation($id: Long!, $input: SoftwareInput!) {
      softwareUpdate(id: $id, input: $input) { software { name deprecated } } }"""
    variables = {"id": software["id"], "input": {"name": "Seg2"}}
    assert _code(team.contributor["api"].gql(update, variables)) == "FORBIDDEN"
    data = _data(people["superadmin"]["api"].gql(update, variables))
    assert data["softwareUpdate"]["software"] == {"name": "Seg2", "deprecated": False}
    listed = _data(team.outsider["api"].gql("{ softwares { totalCount nodes { name } } }"))
    assert listed["softwares"] == {"totalCount": 1, "nodes": [{"name": "Seg2"}]}
