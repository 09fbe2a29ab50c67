"""The software registry and software in projects (README decision 9): who may read and change
them, bad input as a clear 4xx that changes nothing, undo of a deletion, and lists whose cost
does not grow with their length."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import created, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def register(api: Api, name: str = "Tool", **fields: Any) -> dict[str, Any]:
    return created(api.post("/api/software.json", json={"name": name, **fields}), "software")


def offer(api: Api, software: int, project: int) -> dict[str, Any]:
    body = {"software": software, "project": project}
    return created(api.post("/api/softwareproject.json", json=body), "softwareproject")


def test_software_json_and_its_creator_rights(api, people, make_user):
    author = make_user()
    tool = register(author["api"], "Tool", softwareVersion="1.0", executeCommand="run",
                    deprecated=True)  # fmt: skip
    assert tool["class"] == "be.cytomine.domain.processing.Software"
    assert (tool["name"], tool["softwareVersion"], tool["deprecated"], tool["user"]) == (
        "Tool",
        "1.0",
        True,
        author["id"],
    )
    path = f"/api/software/{tool['id']}.json"
    assert people["guest"]["api"].get(path).status_code == 200  # any user reads the registry
    assert_error(people["guest"]["api"].post("/api/software.json", json={"name": "g"}), 403)
    for stranger in (people["user"], people["admin"]):  # ROLE_ADMIN without a session is a user
        assert_error(stranger["api"].put(path, json={"name": "Mine"}), 403)
        assert_error(stranger["api"].delete(path), 403)
    edited = people["admin_session"]["api"].put(path, json={"name": "Renamed"})
    assert edited.status_code == 200, edited.text
    # PUT replaces every field
    assert edited.json()["software"]["softwareVersion"] is None
    assert author["api"].delete(path).status_code == 200
    assert_error(api.get(path), 404)


def test_software_in_a_project_is_the_managers_and_read_by_members(api, people, make_user):
    manager, member = make_user(), make_user()
    project = make_project(api, users=(member["id"],), admins=(manager["id"],))
    tool = register(people["user"]["api"])
    assert_error(member["api"].post("/api/softwareproject.json",
                                    json={"software": tool["id"], "project": project["id"]}),
                 403)  # fmt: skip
    link = offer(manager["api"], tool["id"], project["id"])
    assert (link["project"], link["software"], link["name"]) == (project["id"], tool["id"],
                                                                  "Tool")  # fmt: skip
    assert_error(manager["api"].post("/api/softwareproject.json",
                                     json={"software": tool["id"], "project": project["id"]}),
                 409)  # fmt: skip
    for path in (f"/api/project/{project['id']}/softwareproject.json",
                 f"/api/project/{project['id']}/software.json",
                 f"/api/softwareproject/{link['id']}.json"):  # fmt: skip
        assert member["api"].get(path).status_code == 200, path
        assert_error(people["user"]["api"].get(path), 403)
    assert member["api"].get("/api/softwareproject.json").json()["size"] == 1
    assert people["user"]["api"].get("/api/softwareproject.json").json()["size"] == 0
    assert_error(member["api"].delete(f"/api/softwareproject/{link['id']}.json"), 403)
    assert manager["api"].delete(f"/api/softwareproject/{link['id']}.json").status_code == 200


def test_deleting_software_takes_its_links_and_undo_brings_both_back(api, make_user):
    author = make_user()
    project = make_project(api)
    tool = register(author["api"])
    link = offer(api, tool["id"], project["id"])
    links = f"/api/project/{project['id']}/softwareproject.json"
    assert author["api"].delete(f"/api/software/{tool['id']}.json").status_code == 200
    assert api.get(links).json()["size"] == 0
    assert author["api"].get("/api/command/undo.json").status_code == 200
    assert [item["id"] for item in api.get(links).json()["collection"]] == [link["id"]]


@pytest.mark.parametrize(
    "body",
    [{"name": "a\u0000b"}, {"name": "ok", "executeCommand": "x\u0000"},
     {"name": "ok", "softwareVersion": "v" * 256}, {"name": {"x": 1}}, [{"name": "x"}],
     {"name": "ok", "sourcePath": "p" * 10_001}],
)  # fmt: skip
def test_bad_software_is_400_and_changes_nothing(api, body):
    before = api.get("/api/software.json").json()
    assert_error(api.post("/api/software.json", json=body), 400)
    assert api.get("/api/software.json").json() == before


def test_bad_ids_are_4xx(api):
    tool = register(api)
    huge = 2**64
    assert_error(api.get(f"/api/software/{huge}.json"), 400)
    assert_error(api.put(f"/api/software/{huge}.json", json={"name": "x"}), 400)
    assert_error(api.delete(f"/api/software/{huge}.json"), 400)
    assert_error(api.put("/api/software/99999999.json", json={"name": "x"}), 404)
    assert_error(api.put(f"/api/software/{tool['id']}.json", json={"id": tool["id"] + 1,
                                                                   "name": "x"}), 400)  # fmt: skip
    for body in ({"software": huge, "project": 1}, {"software": tool["id"], "project": -1},
                 {"software": "x", "project": 1}):  # fmt: skip
        assert_error(api.post("/api/softwareproject.json", json=body), 400)
    assert api.get(f"/api/software/{tool['id']}.json").json()["name"] == "Tool"


@pytest.mark.identity_read_every_request
def test_software_lists_cost_the_same_whatever_their_length(api, server):
    project = make_project(api)
    of_project = f"/api/project/{project['id']}"
    paths = ("/api/software.json", f"{of_project}/softwareproject.json",
             f"{of_project}/software.json", "/api/softwareproject.json")  # fmt: skip
    costs = []
    for made, count in enumerate((1, 12)):
        for number in range(count - made):  # 1 software, then 12 in all
            offer(api, register(api, f"Tool {count}-{number}")["id"], project["id"])
        with server.count_statements() as counter:
            for path in paths:
                assert api.get(path).json()["size"] == count, path
        costs.append(counter.n)
    assert costs[0] == costs[1], costs
