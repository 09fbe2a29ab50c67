"""Review fixes: a user annotation moved to another project after its review does not carry
its reviewed copy's readers into that project (nor the other way round) through the graph, and
an undo never brings a reviewed term back into a project whose ontology no longer has it
(contract images-annotations.md §3.10, core.md §9.3)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, make_ontology, make_project
from tests.harness import Api

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

PARENT = "query($id: Long!) { reviewedAnnotation(id: $id) { id parent { id location } } }"
COPY = "query($id: Long!) { reviewedCopy(annotationId: $id) { id location } }"


def _moved_after_review(api: Api, reviewing: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """The reviewer accepts the first annotation; an administrator then moves the original
    into another project of the same ontology, whose only member is `outsider`."""
    reviewer = reviewing["reviewer"]["api"]
    original = reviewing["annotations"][0]["id"]
    copy = reviewer.post(f"/api/annotation/{original}/review.json").json()["reviewedannotation"]
    outsider = make_user()
    ontology = api.get(f"/api/project/{reviewing['project']['id']}.json").json()["ontology"]
    elsewhere = make_project(api, ontology=ontology, users=(outsider["id"],))  # keeps its terms
    image = add_image(api, elsewhere["id"], abstract_image(api)["id"])
    moved = api.put(f"/api/annotation/{original}.json",
                    json={"location": "POINT (10 10)", "image": image["id"]})  # fmt: skip
    assert moved.status_code == 200, moved.text
    return {"copy": copy["id"], "original": original, "outsider": outsider}


def test_the_parent_of_a_copy_is_hidden_once_it_moved_where_the_reader_may_not_read(
    api, reviewing, make_user
):
    world = _moved_after_review(api, reviewing, make_user)
    reviewer = reviewing["reviewer"]["api"]
    assert reviewer.get(f"/api/annotation/{world['original']}.json").status_code == 403
    answer = reviewer.gql(PARENT, {"id": world["copy"]})
    assert answer["data"]["reviewedAnnotation"] == {"id": world["copy"], "parent": None}, answer
    # who reads both projects still sees it
    seen = api.gql(PARENT, {"id": world["copy"]})["data"]["reviewedAnnotation"]["parent"]
    assert seen == {"id": world["original"], "location": "POINT (10 10)"}


def test_the_reviewed_copy_of_a_moved_annotation_is_hidden_from_readers_of_its_new_project(
    api, reviewing, make_user
):
    world = _moved_after_review(api, reviewing, make_user)
    outsider = world["outsider"]["api"]
    assert outsider.get(f"/api/annotation/{world['original']}.json").status_code == 200
    assert outsider.get(f"/api/reviewedannotation/{world['copy']}.json").status_code == 403
    answer = outsider.gql(COPY, {"id": world["original"]})
    assert answer["data"] == {"reviewedCopy": None}, answer
    assert api.gql(COPY, {"id": world["original"]})["data"]["reviewedCopy"]["id"] == world["copy"]


def test_undo_does_not_restore_a_reviewed_term_outside_the_projects_ontology(api, reviewing):
    reviewer = reviewing["reviewer"]["api"]
    original = reviewing["annotations"][0]["id"]
    tumour = reviewing["terms"]["Tumour"]
    copy = reviewer.post(f"/api/annotation/{original}/review.json").json()["reviewedannotation"]
    assert copy["term"] == [tumour]
    path = f"/api/reviewedannotation/{copy['id']}.json"
    cleared = reviewer.put(path, json={"location": copy["location"], "terms": []})
    assert cleared.status_code == 200, cleared.text
    project = api.get(f"/api/project/{reviewing['project']['id']}.json").json()
    other = make_ontology(api, terms=("Other",))
    forced = {**project, "ontology": other["id"], "forceOntologyUpdate": True}
    changed = api.put(f"/api/project/{project['id']}.json", json=forced)
    assert changed.status_code == 200, changed.text
    undone = reviewer.get("/api/command/undo.json")
    assert undone.status_code == 400, undone.text
    assert api.get(path).json()["term"] == []
    # a rejected copy does not come back with its old term either
    second = reviewing["annotations"][1]["id"]
    project = api.get(f"/api/project/{project['id']}.json").json()
    back = api.put(f"/api/project/{project['id']}.json",
                   json={**project, "ontology": reviewing["ontology"]["id"]})  # fmt: skip
    assert back.status_code == 200, back.text
    made = reviewer.post(f"/api/annotation/{second}/review.json", json={"terms": [tumour]})
    assert made.status_code == 200, made.text
    rejected = reviewer.delete(f"/api/annotation/{second}/review.json")
    assert rejected.status_code == 200, rejected.text
    project = api.get(f"/api/project/{project['id']}.json").json()
    forced = {**project, "ontology": other["id"], "forceOntologyUpdate": True}
    again = api.put(f"/api/project/{project['id']}.json", json=forced)
    assert again.status_code == 200, again.text
    assert reviewer.get("/api/command/undo.json").status_code == 400
    listed = api.get("/api/reviewedannotation.json").json()["collection"]
    assert [item["id"] for item in listed] == [copy["id"]]
