"""Undo and redo of commands whose objects changed since (contract core.md §8.3): a step that
cannot be replayed answers its error and changes nothing, and what a project's deletion left
of a user's stacks does not block them."""

from __future__ import annotations

from typing import Any

from tests.factories import abstract_image, add_image, created, make_ontology, make_project
from tests.harness import Api, assert_error


def make_term(api: Api, ontology: int, name: str) -> dict[str, Any]:
    body = {"name": name, "color": "#000", "ontology": ontology}
    return created(api.post("/api/term.json", json=body), "term")


def test_undo_of_an_add_whose_object_was_deleted_since_is_404_and_keeps_the_stacks(api, make_user):
    owner = make_user()
    ontology = make_ontology(owner["api"])
    term = make_term(owner["api"], ontology["id"], "Gone")
    assert api.delete(f"/api/term/{term['id']}.json").status_code == 200

    assert_error(owner["api"].get("/api/command/undo.json"), 404)
    # nothing moved to the redo stack: a redo cannot resurrect what the admin deleted
    nothing = owner["api"].get("/api/command/redo.json").json()["collection"]
    assert nothing[0]["message"] == "Nothing to redo"
    assert api.get(f"/api/term/{term['id']}.json").status_code == 404
    history = [r["prefixAction"] for r in api.get("/api/commandhistory.json").json()]
    assert "UNDO" not in history


def test_undo_of_a_transaction_whose_project_was_deleted_skips_its_leftovers(api, make_user):
    """An annotation's term link is recorded without a project: the deletion of the project
    erases the annotation's command but not the link's, whose stack item must not be
    undone alone (answering "Nothing to undo") nor block redo for good."""
    member = make_user()
    ontology = make_ontology(api, terms=("T",))
    base = abstract_image(api, width=1000, height=800)
    kept = make_ontology(member["api"], "Kept")
    doomed = make_project(api, ontology=ontology["id"], admins=(member["id"],))
    image = add_image(api, doomed["id"], base["id"])
    body = {"location": "POINT (1 1)", "image": image["id"],
            "term": [ontology["terms"]["T"]["id"]]}  # fmt: skip
    assert member["api"].post("/api/annotation.json", json=body).status_code == 200
    assert api.delete(f"/api/project/{doomed['id']}.json").status_code == 200

    undone = member["api"].get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert [e["message"] for e in undone.json()["collection"]] == [
        f"Ontology {kept['id']} (Kept) deleted"
    ]
    redone = member["api"].get("/api/command/redo.json")
    assert redone.status_code == 200, redone.text
    assert [e["message"] for e in redone.json()["collection"]] == [
        f"Ontology {kept['id']} (Kept) added"
    ]
    assert member["api"].get("/api/command/redo.json").json()["collection"][0]["message"] == (
        "Nothing to redo"
    )


def test_undo_of_a_term_add_is_refused_while_annotations_carry_it(api, make_user):
    """A delete of a term in use is refused (400): undoing its creation is one too."""
    owner = make_user()
    ontology = make_ontology(owner["api"])
    project = make_project(api, ontology=ontology["id"])
    term = make_term(owner["api"], ontology["id"], "Used")
    image = add_image(api, project["id"], abstract_image(api, width=1000, height=800)["id"])
    body = {"location": "POINT (1 1)", "image": image["id"], "term": [term["id"]]}
    annotation = created(api.post("/api/annotation.json", json=body), "annotation")

    assert_error(owner["api"].get("/api/command/undo.json"), 400)
    assert api.get(f"/api/term/{term['id']}.json").status_code == 200
    assert api.get(f"/api/annotation/{annotation['id']}.json").json()["term"] == [term["id"]]


def test_undo_of_an_add_does_not_take_what_others_made_since(api, make_user):
    """Undoing the creation of a project (of an image) would delete the images (the
    annotations) others added since, which no redo brings back: refused, nothing changes."""
    owner, other = make_user(), make_user()
    project = make_project(owner["api"], users=(other["id"],))
    base = abstract_image(owner["api"], width=1000, height=800)
    image = add_image(owner["api"], project["id"], base["id"])
    body = {"location": "POINT (1 1)", "image": image["id"]}
    annotation = created(other["api"].post("/api/annotation.json", json=body), "annotation")

    assert_error(owner["api"].get("/api/command/undo.json"), 400)  # the image
    assert api.get(f"/api/annotation/{annotation['id']}.json").status_code == 200
    assert other["api"].get("/api/command/undo.json").status_code == 200  # the annotation
    undone = owner["api"].get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert api.get(f"/api/imageinstance/{image['id']}.json").status_code == 404

    later = add_image(api, project["id"], base["id"])
    assert_error(owner["api"].get("/api/command/undo.json"), 400)  # the project
    assert api.get(f"/api/imageinstance/{later['id']}.json").status_code == 200


def test_undo_of_an_add_takes_what_its_own_transaction_made(api, make_user):
    """What came with the object (a user's role and storage, an annotation's terms) goes
    with it."""
    body = {"username": "brief", "firstname": "B", "lastname": "X",
            "email": "b@example.org", "password": "password-123"}  # fmt: skip
    user = created(api.post("/api/user.json", json=body), "user")
    answer = api.get("/api/command/undo.json")
    assert answer.status_code == 200, answer.text
    assert api.get(f"/api/user/{user['id']}.json").status_code == 404


def test_a_transaction_whose_first_command_is_off_the_stacks_is_still_undone(
    make_user, database_url
):
    """A transaction may begin with a command that is not undoable (kept off the stacks, as an
    invitation's): its later commands' items name that first command, which still exists, so
    they are undone, not dropped as leftovers of a deleted project."""
    from tests.storage.conftest import run_sql

    owner = make_user()
    ontology = make_ontology(owner["api"])
    first = make_term(owner["api"], ontology["id"], "First")
    second = make_term(owner["api"], ontology["id"], "Second")
    commands = run_sql(database_url, "SELECT command_id FROM undo_stack_item WHERE user_id = $1 "
                       "ORDER BY id", owner["id"])  # fmt: skip
    _, opening, then = (row[0] for row in commands)  # the ontology, then the two terms
    # the first term's command opens the second's transaction and leaves the stack
    run_sql(database_url, "UPDATE undo_stack_item SET transaction_id = $1 WHERE command_id = $2",
            opening, then)  # fmt: skip
    run_sql(database_url, "DELETE FROM undo_stack_item WHERE command_id = $1", opening)
    undone = owner["api"].get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert [e["message"] for e in undone.json()["collection"]] == [
        f"Term {second['id']} (Second) deleted"
    ]
    assert owner["api"].get(f"/api/term/{first['id']}.json").status_code == 200
