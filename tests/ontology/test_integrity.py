"""The hierarchy and term placement stay whole whatever path changes them: a term edit, or an
undo/redo replaying an old command (decision 5; images-annotations.md §5.2, §5.4): links
never cross ontologies nor form a cycle, and an annotation's terms stay in its project's
ontology."""

from __future__ import annotations

from typing import Any

import pytest

from tests.annotation.conftest import scene  # noqa: F401  (the annotation tests' scene)
from tests.factories import created, make_ontology, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def link(api: Api, parent: int, child: int) -> dict[str, Any]:
    """The envelope of a new parent link (its `command` is the command id)."""
    response = api.post("/api/relation/parent/term.json", json={"term1": parent, "term2": child})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def links_of(api: Api, term: int) -> list[tuple[int, int]]:
    listed = api.get(f"/api/relation/term/{term}.json").json()["collection"]
    return sorted((x["term1"], x["term2"]) for x in listed)


def move(api: Api, term: dict[str, Any], ontology: int) -> Any:
    body = {"name": term["name"], "color": term["color"], "ontology": ontology}
    return api.put(f"/api/term/{term['id']}.json", json=body)


def test_undo_of_a_link_removal_cannot_close_a_cycle(api):
    ontology = make_ontology(api, terms=("A", "B"))
    a, b = ontology["terms"]["A"]["id"], ontology["terms"]["B"]["id"]
    link(api, a, b)
    removed = api.delete(f"/api/relation/parent/term1/{a}/term2/{b}.json")
    assert removed.status_code == 200, removed.text
    link(api, b, a)
    # restoring A → B now would make A and B each other's parent
    assert_error(api.get(f"/api/command/{removed.json()['command']}/undo.json"), 400)
    assert links_of(api, a) == [(b, a)]


def test_redo_of_a_link_cannot_cross_ontologies(api):
    one, two = make_ontology(api, terms=("A", "B")), make_ontology(api)
    a, b = one["terms"]["A"], one["terms"]["B"]
    made = link(api, a["id"], b["id"])
    assert api.get(f"/api/command/{made['command']}/undo.json").status_code == 200
    assert move(api, b, two["id"]).status_code == 200  # free of links, it may move
    assert_error(api.get(f"/api/command/{made['command']}/redo.json"), 400)
    assert links_of(api, a["id"]) == []


def test_undo_of_a_move_cannot_strand_a_linked_term(api):
    one, two = make_ontology(api, terms=("T",)), make_ontology(api, terms=("U",))
    t, u = one["terms"]["T"], two["terms"]["U"]
    moved = move(api, t, two["id"])
    assert moved.status_code == 200, moved.text
    link(api, u["id"], t["id"])
    assert_error(api.get(f"/api/command/{moved.json()['command']}/undo.json"), 400)
    assert api.get(f"/api/term/{t['id']}.json").json()["ontology"] == two["id"]


def test_undo_of_a_move_needs_write_on_the_ontology_it_leaves(api, make_user):
    manager = make_user()
    mine = make_ontology(manager["api"], terms=("T",))
    theirs = make_ontology(api)
    project = make_project(api, ontology=theirs["id"], admins=(manager["id"],))
    moved = move(manager["api"], mine["terms"]["T"], theirs["id"])
    assert moved.status_code == 200, moved.text
    left = api.delete(f"/api/project/{project['id']}/user/{manager['id']}.json")
    assert left.status_code == 200, left.text
    # no longer allowed to edit `theirs`, the manager may not take its term away
    undo = manager["api"].get(f"/api/command/{moved.json()['command']}/undo.json")
    assert_error(undo, 403)
    assert api.get(f"/api/term/{mine['terms']['T']['id']}.json").json()["ontology"] == theirs["id"]


def test_undo_of_an_ontology_deletion_brings_its_tree_back(api):
    ontology = make_ontology(api, terms=("A", "B", "C"))
    a, b, c = (ontology["terms"][n]["id"] for n in "ABC")
    link(api, a, b)
    link(api, b, c)
    deleted = api.delete(f"/api/ontology/{ontology['id']}.json")
    assert deleted.status_code == 200, deleted.text
    assert api.get(f"/api/command/{deleted.json()['command']}/undo.json").status_code == 200
    tree = api.get(f"/api/ontology/{ontology['id']}.json").json()["children"]
    (root,) = tree
    (middle,) = root["children"]
    assert (root["name"], middle["name"]) == ("A", "B")
    assert [leaf["name"] for leaf in middle["children"]] == ["C"]


def annotate(api: Api, scene: dict[str, Any], terms: list[int]) -> dict[str, Any]:  # noqa: F811
    body = {"location": "POINT (10 10)", "slice": scene["slices"][0], "term": terms}
    return created(api.post("/api/annotation.json", json=body), "annotation")


def test_a_term_on_annotations_cannot_change_ontology(api, scene):  # noqa: F811
    tumour = api.get(f"/api/term/{scene['terms']['Tumour']}.json").json()
    annotate(api, scene, [tumour["id"]])
    other = make_ontology(api)
    assert_error(move(api, tumour, other["id"]), 400)
    assert api.get(f"/api/term/{tumour['id']}.json").json()["ontology"] == scene["ontology"]["id"]
    stroma = api.get(f"/api/term/{scene['terms']['Stroma']}.json").json()
    assert move(api, stroma, other["id"]).status_code == 200  # carried by none, it may move


def test_undo_of_a_move_cannot_strand_a_term_on_annotations(api, scene):  # noqa: F811
    other = make_ontology(api, terms=("Fat",))
    fat = other["terms"]["Fat"]
    moved = move(api, fat, scene["ontology"]["id"])
    assert moved.status_code == 200, moved.text
    annotation = annotate(api, scene, [fat["id"]])
    assert_error(api.get(f"/api/command/{moved.json()['command']}/undo.json"), 400)
    assert api.get(f"/api/term/{fat['id']}.json").json()["ontology"] == scene["ontology"]["id"]
    assert api.get(f"/api/annotation/{annotation['id']}.json").json()["term"] == [fat["id"]]


def test_redo_of_an_annotation_term_keeps_to_the_project_ontology(api, scene):  # noqa: F811
    annotation = annotate(api, scene, [])
    tumour = scene["terms"]["Tumour"]
    added = api.post(f"/api/annotation/{annotation['id']}/term/{tumour}.json")
    assert added.status_code == 200, added.text
    command = added.json()["command"]
    assert api.get(f"/api/command/{command}/undo.json").status_code == 200
    other = make_ontology(api)
    project = {**scene["project"], "ontology": other["id"]}
    changed = api.put(f"/api/project/{project['id']}.json", json=project)
    assert changed.status_code == 200, changed.text
    assert_error(api.get(f"/api/command/{command}/redo.json"), 400)
    assert api.get(f"/api/annotation/{annotation['id']}.json").json()["term"] == []
