"""Undo and redo check the caller's rights again, on every object a command holds (contract
core.md §8.3 [R]): a user who lost access to part of a batch cannot take it back."""

from __future__ import annotations

from tests.factories import abstract_image, add_image, make_project
from tests.harness import assert_error


def test_undo_of_a_batch_spanning_projects_needs_rights_in_each(api, make_user):
    member = make_user()
    base = abstract_image(api, width=1000, height=800)
    kept = make_project(api, admins=(member["id"],))
    lost = make_project(api, admins=(member["id"],))
    first = add_image(api, kept["id"], base["id"])
    second = add_image(api, lost["id"], base["id"])
    body = [{"location": "POINT (1 1)", "image": first["id"]},
            {"location": "POINT (2 2)", "image": second["id"]}]  # fmt: skip
    answer = member["api"].post("/api/annotation.json", json=body)
    assert answer.status_code == 200 and answer.json()["status"] == 200, answer.text
    assert api.delete(f"/api/project/{lost['id']}/user/{member['id']}.json").status_code == 200

    assert_error(member["api"].get("/api/command/undo.json"), 403)
    for image in (first, second):
        listed = api.get("/api/annotation.json", params={"image": image["id"]}).json()
        assert listed["size"] == 1, listed


def test_undo_of_another_users_command_is_nothing_to_undo(api, make_user):
    other = make_user()
    command = api.post("/api/ontology.json", json={"name": "Mine"}).json()["command"]
    for verb, nothing in (("undo", "Nothing to undo"), ("redo", "Nothing to redo")):
        answer = other["api"].get(f"/api/command/{command}/{verb}.json")
        assert answer.status_code == 200, answer.text
        assert answer.json()["collection"][0]["message"] == nothing
    assert api.get("/api/ontology.json").json()["collection"][0]["name"] == "Mine"


def test_a_creator_removed_from_the_project_cannot_delete_it_by_undoing_its_creation(
    api, make_user
):
    owner = make_user()
    project = make_project(owner["api"])
    assert api.delete(f"/api/project/{project['id']}/user/{owner['id']}.json").status_code == 200
    assert owner["api"].get(f"/api/project/{project['id']}.json").status_code == 403

    assert_error(owner["api"].get("/api/command/undo.json"), 403)
    assert api.get(f"/api/project/{project['id']}.json").status_code == 200
