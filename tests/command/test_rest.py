"""Command history, undo and redo over REST (contract core.md §8): every domain's commands
replay through one mechanism, transactions are undone together, and permissions are checked
again before anything comes back."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.factories import created, make_ontology, make_project
from tests.harness import Api

HISTORY_KEYS = {"id", "created", "message", "prefix", "prefixAction", "user", "project"}
FULL_KEYS = HISTORY_KEYS | {"data", "serviceName", "className", "action"}


def undo(api: Api, command: int | None = None) -> dict[str, Any]:
    path = "/api/command/undo.json" if command is None else f"/api/command/{command}/undo.json"
    response = api.get(path)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def redo(api: Api) -> dict[str, Any]:
    response = api.get("/command/redo.json")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_undo_with_empty_stack_answers_nothing_to_undo(api):
    assert undo(api)["collection"] == [
        {"success": True, "message": "Nothing to undo", "callback": None, "printMessage": True}
    ]
    assert redo(api)["collection"][0]["message"] == "Nothing to redo"


def test_undo_term_add_deletes_it_and_redo_restores_same_id(api):
    ontology = make_ontology(api)
    body = {"name": "T", "color": "#000", "ontology": ontology["id"]}
    term = created(api.post("/api/term.json", json=body), "term")
    answer = undo(api)
    assert answer["size"] == 1
    [envelope] = answer["collection"]
    assert envelope["message"] == f"Term {term['id']} (T) deleted"
    assert envelope["callback"] == {"method": "be.cytomine.DeleteTermCommand",
                                    "termID": str(term["id"])}  # fmt: skip
    assert envelope["term"]["class"] == "be.cytomine.domain.ontology.Term"
    assert envelope["term"]["name"] == "T" and envelope["term"]["ontology"] == ontology["id"]
    assert api.get(f"/api/term/{term['id']}.json").status_code == 404

    again = redo(api)["collection"][0]
    assert again["message"] == f"Term {term['id']} (T) added"
    assert again["callback"]["method"] == "be.cytomine.AddTermCommand"
    back = api.get(f"/api/term/{term['id']}.json").json()
    assert (back["id"], back["name"], back["created"]) == (term["id"], "T", term["created"])


def test_undo_edit_restores_previous_values(api):
    ontology = make_ontology(api, "Before")
    body = {**ontology, "name": "After"}
    assert api.put(f"/api/ontology/{ontology['id']}.json", json=body).status_code == 200
    envelope = undo(api)["collection"][0]
    assert envelope["message"] == f"Ontology {ontology['id']} (Before) edited"
    assert api.get(f"/api/ontology/{ontology['id']}.json").json()["name"] == "Before"
    redo(api)
    assert api.get(f"/api/ontology/{ontology['id']}.json").json()["name"] == "After"


def test_undo_ontology_delete_restores_terms_links_and_creator_rights(api, make_user):
    owner = make_user()
    ontology = make_ontology(owner["api"], "Tissue", terms=("Tumour", "Necrosis"))
    tumour, necrosis = ontology["terms"]["Tumour"], ontology["terms"]["Necrosis"]
    link = owner["api"].post("/api/relation/parent/term.json",
                             json={"term1": tumour["id"], "term2": necrosis["id"]})  # fmt: skip
    assert link.status_code == 200, link.text
    assert owner["api"].delete(f"/api/ontology/{ontology['id']}.json").status_code == 200
    assert owner["api"].get(f"/api/term/{tumour['id']}.json").status_code == 404

    answer = undo(owner["api"])
    assert [e["message"] for e in answer["collection"]] == [
        f"Ontology {ontology['id']} (Tissue) added"
    ]
    restored = owner["api"].get(f"/api/ontology/{ontology['id']}.json")
    assert restored.status_code == 200, restored.text
    [root] = restored.json()["children"]
    assert root["name"] == "Tumour" and [c["name"] for c in root["children"]] == ["Necrosis"]
    assert owner["api"].put(f"/api/ontology/{ontology['id']}.json",
                            json={"name": "Renamed"}).status_code == 200  # fmt: skip


def test_undo_project_create_removes_it_and_redo_brings_back_rights(api, make_user):
    owner = make_user()
    project = make_project(owner["api"], "Undone")
    undo(owner["api"])
    assert api.get(f"/api/project/{project['id']}.json").status_code == 404
    assert owner["api"].get("/api/project.json").json()["size"] == 0
    redo(owner["api"])
    assert owner["api"].get(f"/api/project/{project['id']}.json").status_code == 200
    representatives = api.get(f"/api/project/{project['id']}/representative.json")
    if representatives.status_code == 200:  # served by the project area
        assert [r["user"] for r in representatives.json()["collection"]] == [owner["id"]]


def test_undo_project_delete_is_refused_and_changes_nothing(api):
    project = make_project(api)
    assert api.delete(f"/api/project/{project['id']}.json").status_code == 200
    response = api.get("/api/command/undo.json")
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "You cannot delete your last operation!"
    assert api.get(f"/api/project/{project['id']}.json").status_code == 404


def test_undo_user_delete_restores_user_roles_storage_and_password(api):
    body = {"username": "phoenix", "firstname": "P", "lastname": "X",
            "email": "p@example.org", "password": "password-123"}  # fmt: skip
    user = created(api.post("/api/user.json", json=body), "user")
    keys = api.get(f"/api/user/{user['id']}/keys.json").json()
    assert api.delete(f"/api/user/{user['id']}.json").status_code == 200
    undo(api)
    roles = api.get(f"/api/user/{user['id']}/role.json").json()["collection"]
    assert [r["authority"] for r in roles] == ["ROLE_USER"]
    phoenix = api.as_keys(keys["publicKey"], keys["privateKey"])
    assert phoenix.get("/api/user/current.json").json()["username"] == "phoenix"
    assert [s["name"] for s in phoenix.get("/api/storage.json").json()["collection"]] == [
        "phoenix storage"
    ]
    token = api.post("/api/authenticate", json={"username": "phoenix", "password": "password-123"})
    assert token.status_code == 200


def test_undo_by_command_id_targets_that_transaction(api):
    first = api.post("/api/ontology.json", json={"name": "First"}).json()
    second = make_ontology(api, "Second")
    answer = undo(api, first["command"])
    assert [e["ontology"]["name"] for e in answer["collection"]] == ["First"]
    assert api.get(f"/api/ontology/{first['ontology']['id']}.json").status_code == 404
    assert api.get(f"/api/ontology/{second['id']}.json").status_code == 200
    assert undo(api)["collection"][0]["ontology"]["name"] == "Second"


def test_undo_unknown_command_id_is_404(api):
    response = api.get("/api/command/999999999/undo.json")
    assert response.status_code == 404, response.text


def test_undo_after_losing_access_is_403_and_changes_nothing(api, make_user):
    member = make_user()
    ontology = make_ontology(api, terms=("T",))
    project = make_project(api, ontology=ontology["id"], admins=(member["id"],))
    term = member["api"].put(f"/api/term/{ontology['terms']['T']['id']}.json",
                             json={"name": "Renamed", "color": "#111",
                                   "ontology": ontology["id"]})  # fmt: skip
    assert term.status_code == 200, term.text
    assert api.delete(f"/api/project/{project['id']}/user/{member['id']}.json").status_code == 200
    response = member["api"].get("/api/command/undo.json")
    assert response.status_code == 403, response.text
    assert api.get(f"/api/term/{ontology['terms']['T']['id']}.json").json()["name"] == "Renamed"


def test_command_history_is_a_bare_array_of_member_projects_newest_first(api, make_user):
    member = make_user()
    project = make_project(api, "Historic", users=(member["id"],))
    other = make_project(api, "Hidden")
    update = api.put(f"/api/project/{project['id']}.json", json={**project, "name": "Historic2"})
    assert update.status_code == 200
    rows = member["api"].get("/api/commandhistory.json").json()
    assert isinstance(rows, list)
    assert [row["message"] for row in rows] == [
        f"Project {project['id']} (Historic2) edited",
        f"Project {project['id']} (Historic) added",
    ]
    assert all(set(row) == HISTORY_KEYS for row in rows)
    assert all(isinstance(row["created"], int) for row in rows)
    assert {row["project"] for row in rows} == {project["id"]} != {other["id"]}

    full = member["api"].get("/api/commandhistory.json", params={"fullData": "true"}).json()
    assert set(full[0]) == FULL_KEYS
    assert full[0]["className"] == "be.cytomine.domain.command.EditCommand"
    assert full[0]["serviceName"] == "ProjectService"
    data = json.loads(full[0]["data"])
    assert data["previousProject"]["name"] == "Historic"
    assert data["newProject"]["name"] == "Historic2"


def test_command_history_dates_and_paging_filter_in_sql(api):
    project = make_project(api)
    for name in ("a", "b", "c"):
        body = {**project, "name": f"{project['name']}{name}"}
        assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
    path = f"/api/project/{project['id']}/commandhistory.json"
    rows = api.get(path).json()
    assert len(rows) == 4
    paged = api.get(path, params={"max": "2", "offset": "1"}).json()
    assert [r["id"] for r in paged] == [r["id"] for r in rows[1:3]]
    newest = rows[0]["created"]
    assert api.get(path, params={"startDate": str(newest)}).json() == []
    assert len(api.get(path, params={"endDate": str(newest + 1)}).json()) == 4
    assert api.get(path, params={"startDate": str(int(time.time() * 1000) + 60_000)}).json() == []


def test_project_history_needs_read_and_known_project(api, make_user):
    project = make_project(api)
    stranger = make_user()
    assert (
        stranger["api"].get(f"/api/project/{project['id']}/commandhistory.json").status_code == 403
    )
    assert api.get("/api/project/999999999/commandhistory.json").status_code == 404


def test_last_commands_lists_command_history_objects(api):
    project = make_project(api, "Last")
    api.put(f"/api/project/{project['id']}.json", json={**project, "name": "Last2"})
    body = api.get(f"/api/project/{project['id']}/last/1.json").json()
    assert body["size"] == 2 and len(body["collection"]) == 1
    [entry] = body["collection"]
    assert entry["class"] == "be.cytomine.domain.command.CommandHistory"
    assert entry["prefixAction"] == ""
    assert isinstance(entry["created"], str) and entry["created"].isdigit()
    command = entry["command"]
    assert command["class"] == "be.cytomine.domain.command.EditCommand"
    assert command["CLASSNAME"] == "EditCommand" and command["type"] == "EDIT"
    assert json.loads(command["data"])["newProject"]["name"] == "Last2"


def test_undo_and_redo_are_written_to_history_with_prefixes(api):
    project = make_project(api)
    api.put(f"/api/project/{project['id']}.json", json={**project, "name": "Renamed"})
    undo(api)
    redo(api)
    rows = api.get(f"/api/project/{project['id']}/commandhistory.json").json()
    assert [r["prefixAction"] for r in rows[:2]] == ["REDO", "UNDO"]


def test_deleted_commands_admin_only_by_domain_without_credentials(api, make_user):
    doomed = make_user()
    ontology = make_ontology(api, "Doomed")
    assert api.delete(f"/api/ontology/{ontology['id']}.json").status_code == 200
    assert api.delete(f"/api/user/{doomed['id']}.json").status_code == 200
    body = api.get("/api/deletecommand.json", params={"domain": "ontology"}).json()
    assert [json.loads(c["data"])["name"] for c in body["collection"]] == ["Doomed"]
    assert body["collection"][0]["class"] == "be.cytomine.domain.command.DeleteCommand"
    users = api.get("/api/deletecommand.json", params={"domain": "user"}).json()["collection"]
    data = json.loads(users[0]["data"])
    assert data["username"] == doomed["username"]
    assert not {"password_hash", "private_key", "public_key"} & set(data)
    assert doomed["api"].get("/api/deletecommand.json").status_code == 401
    assert make_user()["api"].get("/api/deletecommand.json").status_code == 403


def test_graphql_history_undo_and_redo(api):
    ontology = make_ontology(api, "Graph")
    answer = api.gql("mutation { undo { action domain message objectId data } }")
    assert answer["data"]["undo"] == [{
        "action": "DELETE", "domain": "Ontology",
        "message": f"Ontology {ontology['id']} (Graph) deleted", "objectId": ontology["id"],
        "data": answer["data"]["undo"][0]["data"],
    }]  # fmt: skip
    assert answer["data"]["undo"][0]["data"]["name"] == "Graph"
    assert api.gql("mutation { redo { action } }")["data"]["redo"] == [{"action": "ADD"}]
    assert (
        api.gql("mutation { undo(commandId: 1) { action } }")["errors"][0]["extensions"]["code"]
        == "NOT_FOUND"
    )


def test_a_command_is_stored_with_its_history_and_undo_item_in_one_statement(server, api):
    ontology = make_ontology(api)
    body = {"name": "T", "color": "#000", "ontology": ontology["id"]}
    with server.captured("INSERT INTO") as inserts:
        term = created(api.post("/api/term.json", json=body), "term")
    [recorded] = [s for s in inserts if "INSERT INTO command " in s]
    assert "INSERT INTO command_history " in recorded and "INSERT INTO undo_stack_item " in recorded
    assert [s for s in inserts if "command_history" in s or "undo_stack_item" in s] == [recorded]
    assert undo(api)["collection"][0]["message"] == f"Term {term['id']} (T) deleted"


def test_whole_history_streams_in_parts_and_full_data_is_read_whole(api, monkeypatch):
    """Every entry (`max=0`) is written as its rows are read, a partition at a time; with
    `fullData` (the commands, read by a loader) the list is read whole first. Both say what
    the pages say."""
    from resolvers import listing

    monkeypatch.setattr(listing, "WHOLE_LIST_PARTITION", 2)
    project = make_project(api)
    for name in "abcd":
        body = {**project, "name": f"{project['name']}{name}"}
        assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
    path = f"/api/project/{project['id']}/commandhistory.json"
    whole = api.get(path, params={"max": 0})
    assert whole.headers.get("Transfer-Encoding") == "chunked"
    assert whole.json() == api.get(path, params={"max": 5}).json()
    assert len(whole.json()) == 5
    full = api.get(path, params={"max": 0, "fullData": "true"})
    assert full.status_code == 200, full.text
    assert full.json() == api.get(path, params={"max": 5, "fullData": "true"}).json()
    assert [row["id"] for row in full.json()] == [row["id"] for row in whole.json()]
    last = api.get(f"/api/project/{project['id']}/last/0.json").json()
    assert last["size"] == 5 and len(last["collection"]) == 5
