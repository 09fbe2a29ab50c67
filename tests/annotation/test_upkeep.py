"""Annotations kept right when what they lie on changes: an image or slice deleted (and the
deletion undone), a calibration changed, an image moved, the project's ontology swapped
(contract images-annotations.md §2.3, §2.6, §3.3; core.md §9.3)."""

from __future__ import annotations

from typing import Any

from tests.annotation.test_graphql import SQUARE, create, rows
from tests.factories import make_ontology, make_project
from tests.harness import Api, assert_error


def undo(api: Api) -> list[str]:
    answer = api.gql("mutation { undo { action } }")
    assert "errors" not in answer, answer
    return [r["action"] for r in answer["data"]["undo"]]


def measures(api: Api, annotation: int) -> tuple[Any, ...]:
    shown = api.get(f"/api/annotation/{annotation}.json").json()
    return shown["area"], shown["areaUnit"], shown["perimeter"], shown["perimeterUnit"]


def counts(api: Api, scene: dict[str, Any]) -> tuple[int, int]:
    project = api.get(f"/api/project/{scene['project']['id']}.json").json()
    image = api.get(f"/api/imageinstance/{scene['image']['id']}.json").json()
    return project["numberOfAnnotations"], image["numberOfAnnotations"]


def test_undoing_an_image_delete_brings_its_annotations_back(api, scene):
    tumour = scene["terms"]["Tumour"]
    first = create(api, scene, terms=[tumour])
    second = create(api, scene, "POINT (10 10)", slice=scene["slices"][0])
    assert api.delete(f"/api/imageinstance/{scene['image']['id']}.json").status_code == 200
    assert rows(api, project=scene["project"]["id"]) == []
    assert api.get(f"/api/annotation/{first['id']}.json").status_code == 404
    assert undo(api)[0] == "ADD"
    back = {r["id"]: r for r in rows(api, project=scene["project"]["id"])}
    assert sorted(back) == sorted([first["id"], second["id"]])
    assert (back[first["id"]]["location"], back[first["id"]]["termIds"]) == (SQUARE, [tumour])
    assert rows(api, project=scene["project"]["id"], bbox="0,0,500,500")  # geometry indexed
    assert counts(api, scene) == (2, 2)


def test_undoing_a_slice_delete_brings_its_annotations_back(api, scene):
    lower, upper = scene["slices"]
    kept = create(api, scene, slice=upper)
    gone = create(api, scene, "POINT (5 5)", slice=lower, terms=[scene["terms"]["Stroma"]])
    assert api.delete(f"/api/sliceinstance/{lower}.json").status_code == 200
    assert [r["id"] for r in rows(api, project=scene["project"]["id"])] == [kept["id"]]
    assert counts(api, scene) == (1, 1)
    undo(api)
    [back] = [r for r in rows(api, project=scene["project"]["id"]) if r["id"] == gone["id"]]
    assert (back["location"], back["termIds"]) == ("POINT (5 5)", [scene["terms"]["Stroma"]])
    assert counts(api, scene) == (2, 2)


def test_an_image_calibration_change_remeasures_its_annotations(api, scene):
    made = create(api, scene)
    assert measures(api, made["id"]) == (15000.0, "micron²", 0.5, "mm")
    image = api.get(f"/api/imageinstance/{scene['image']['id']}.json").json()
    changed = api.put(f"/api/imageinstance/{image['id']}.json",
                      json={**image, "physicalSizeX": 2.0})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert measures(api, made["id"]) == (240000.0, "micron²", 2.0, "mm")
    undo(api)
    assert measures(api, made["id"]) == (15000.0, "micron²", 0.5, "mm")


def test_an_abstract_image_calibration_change_remeasures_instances(api, scene):
    made = create(api, scene)
    base_id = scene["image"]["baseImage"]
    base = api.get(f"/api/abstractimage/{base_id}.json").json()
    cleared = api.put(f"/api/abstractimage/{base_id}.json", json={**base, "physicalSizeX": None})
    assert cleared.status_code == 200, cleared.text
    assert measures(api, made["id"]) == (60000.0, "pixels²", 1000.0, "pixels")
    undo(api)
    assert measures(api, made["id"]) == (15000.0, "micron²", 0.5, "mm")


def test_an_annotated_image_stays_in_its_project(api, scene):
    image = api.get(f"/api/imageinstance/{scene['image']['id']}.json").json()
    elsewhere = make_project(api, ontology=scene["ontology"]["id"])
    path = f"/api/imageinstance/{image['id']}.json"
    moved = api.put(path, json={**image, "project": elsewhere["id"]})
    assert moved.status_code == 200, moved.text
    create(api, scene)  # someone annotates it in its new project
    refused = assert_error(api.get(f"/api/command/{moved.json()['command']}/undo.json"), 400)
    assert "holds annotations" in str(refused["errors"])
    assert api.get(path).json()["project"] == elsewhere["id"]
    refused = assert_error(api.put(path, json={**image, "project": scene["project"]["id"]}), 400)
    assert "holds annotations" in str(refused["errors"])
    assert api.get(path).json()["project"] == elsewhere["id"]
    assert api.get(f"/api/project/{elsewhere['id']}.json").json()["numberOfAnnotations"] == 1


def test_an_ontology_change_with_terms_in_use_needs_force(api, scene):
    made = create(api, scene, terms=[scene["terms"]["Tumour"]])
    project = api.get(f"/api/project/{scene['project']['id']}.json").json()
    other = make_ontology(api, terms=("Necrosis",))
    path = f"/api/project/{project['id']}.json"
    refused = assert_error(api.put(path, json={**project, "ontology": other["id"]}), 403)
    assert refused["errorValues"] == {"userAssociatedTermsCount": 1,
                                      "algoAssociatedTermsCount": 0,
                                      "reviewedAssociatedTermsCount": 0}  # fmt: skip
    assert api.get(path).json()["ontology"] == scene["ontology"]["id"]
    forced = api.put(path, json={**project, "ontology": other["id"], "forceOntologyUpdate": True})
    assert forced.status_code == 200, forced.text
    assert api.get(path).json()["ontology"] == other["id"]
    assert api.get(f"/api/annotation/{made['id']}.json").json()["term"] == []
    same = api.put(path, json={**project, "ontology": other["id"]})  # no change: no check
    assert same.status_code == 200, same.text


def test_undoing_an_ontology_change_is_refused_once_its_terms_are_used(api, scene):
    project = api.get(f"/api/project/{scene['project']['id']}.json").json()
    other = make_ontology(api, terms=("Necrosis",))
    path = f"/api/project/{project['id']}.json"
    changed = api.put(path, json={**project, "ontology": other["id"]})
    assert changed.status_code == 200, changed.text
    necrosis = api.get(f"/api/ontology/{other['id']}/term.json").json()["collection"][0]["id"]
    create(api, scene, terms=[necrosis])
    refused = assert_error(api.get(f"/api/command/{changed.json()['command']}/undo.json"), 403)
    assert refused["errorValues"]["userAssociatedTermsCount"] == 1
    assert api.get(path).json()["ontology"] == other["id"]


def test_undoing_a_reviewed_annotations_delete_counts_its_copy_again(api, scene):
    made = create(api, scene)
    assert api.put(f"/api/imageinstance/{scene['image']['id']}/review.json").status_code == 200
    assert api.put(f"/api/annotation/{made['id']}/review.json").status_code == 200
    query = "query($id: Long!) { annotation(id: $id) { countReviewedAnnotations reviewed } }"

    def shown() -> Any:
        return api.gql(query, {"id": made["id"]})["data"]["annotation"]

    assert shown() == {"countReviewedAnnotations": 1, "reviewed": True}
    assert api.delete(f"/api/userannotation/{made['id']}.json").status_code == 200
    undo(api)
    assert shown() == {"countReviewedAnnotations": 1, "reviewed": True}
