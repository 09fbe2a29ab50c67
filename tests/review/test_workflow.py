"""The review workflow through REST (contract images-annotations.md §3.9, §3.13): start and
stop, accepting and rejecting one annotation or whole layers, the counters they move, the
rules that refuse them, and undo."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.harness import Api, assert_error

REVIEWED = "be.cytomine.domain.ontology.ReviewedAnnotation"


def counters(api: Api, world: dict[str, Any]) -> dict[str, Any]:
    """Every counter a review moves: the image's, the project's, the reviewer's index row on
    the annotations' slice, and each original's `reviewed` flag."""
    image = api.get(f"/api/imageinstance/{world['image']['id']}.json").json()
    project = api.get(f"/api/project/{world['project']['id']}.json").json()
    index = api.get(f"/api/sliceinstance/{world['slices'][1]}/annotationindex.json").json()
    by_user = {row["user"]: row["countReviewedAnnotation"] for row in index["collection"]}
    flags = [
        api.get(f"/api/annotation/{a['id']}.json").json()["reviewed"] for a in world["annotations"]
    ]
    return {
        "image": image["numberOfReviewedAnnotations"],
        "project": project["numberOfReviewedAnnotations"],
        "reviewer": by_user.get(world["reviewer"]["id"], 0),
        "flags": flags,
    }


def test_start_review_answers_the_image_in_review(api, scene, make_user):
    reviewer = make_user()
    api.post(f"/api/project/{scene['project']['id']}/user/{reviewer['id']}.json")
    response = reviewer["api"].post(f"/api/imageinstance/{scene['image']['id']}/review.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "imageinstance"}
    image = body["imageinstance"]
    assert (image["id"], image["reviewUser"], image["inReview"], image["reviewed"]) == (
        scene["image"]["id"],
        reviewer["id"],
        True,
        False,
    )
    assert image["reviewStart"].isdigit() and image["reviewStop"] is None


def test_accept_copies_the_annotation_and_moves_every_counter(reviewing):
    reviewer, original = reviewing["reviewer"]["api"], reviewing["annotations"][0]
    before = counters(reviewer, reviewing)
    assert before == {"image": 0, "project": 0, "reviewer": 0, "flags": [False] * 3}
    response = reviewer.put(f"/api/annotation/{original['id']}/review.json")
    assert response.status_code == 200, response.text
    body = response.json()
    copy = body["reviewedannotation"]
    assert body["callback"] == {
        "method": "be.cytomine.AddReviewedAnnotationCommand",
        "reviewedannotationID": str(copy["id"]),
    }
    assert isinstance(body["command"], int) and body["printMessage"] is True
    expected = {
        "class": REVIEWED,
        "slice": original["slice"],
        "image": original["image"],
        "project": original["project"],
        "user": reviewing["contributor"]["id"],
        "location": original["location"],
        "geometryCompression": 0.0,
        "centroid": original["centroid"],
        "area": original["area"],
        "areaUnit": "micron²",
        "perimeter": original["perimeter"],
        "perimeterUnit": "mm",
        "term": [reviewing["terms"]["Tumour"]],
        "terms": [reviewing["terms"]["Tumour"]],
        "nbComments": 0,
        "reviewed": True,
        "parentIdent": original["id"],
        "parentClassName": "be.cytomine.domain.ontology.UserAnnotation",
        "status": 1,
        "reviewUser": reviewing["reviewer"]["id"],
    }
    assert {key: copy[key] for key in expected} == expected
    base = copy["cropURL"].removesuffix(f"/api/reviewedannotation/{copy['id']}/crop.png")
    assert base.startswith("http") and copy["url"] == copy["cropURL"]
    assert copy["smallCropURL"] == f"{copy['cropURL']}?maxSize=256"
    assert copy["imageURL"] == (
        f"{base}/#/project/{original['project']}/image/{original['image']}/annotation/{copy['id']}"
    )
    assert copy["created"].isdigit() and copy["updated"].isdigit()
    assert reviewer.get(f"/api/reviewedannotation/{copy['id']}.json").json() == copy
    assert counters(reviewer, reviewing) == {
        "image": 1,
        "project": 1,
        "reviewer": 1,
        "flags": [True, False, False],
    }


@pytest.mark.parametrize("form", ["query", "json", "form", "get"])
def test_accept_takes_terms_from_query_json_or_form_body(reviewing, form):
    reviewer, original = reviewing["reviewer"]["api"], reviewing["annotations"][0]
    terms = [reviewing["terms"]["Stroma"], reviewing["terms"]["Tumour"]]
    path = f"/api/annotation/{original['id']}/review.json"
    if form == "query":
        response = reviewer.put(path, params={"terms": ",".join(map(str, terms))})
    elif form == "json":
        response = reviewer.post(path, json={"id": original["id"], "terms": terms})
    elif form == "form":  # what the python client's Annotation.review() sends
        body = urlencode({"id": original["id"], "terms": terms}, doseq=True)
        response = reviewer.post(path, data=body)
    else:
        response = reviewer.get(path, params={"terms": ",".join(map(str, terms))})
    assert response.status_code == 200, response.text
    assert sorted(response.json()["reviewedannotation"]["term"]) == sorted(terms)


def test_accept_refusals(reviewing, make_user):
    reviewer, contributor = reviewing["reviewer"]["api"], reviewing["contributor"]["api"]
    first, second = reviewing["annotations"][0], reviewing["annotations"][1]
    assert reviewer.post(f"/api/annotation/{first['id']}/review.json").status_code == 200
    assert_error(reviewer.post(f"/api/annotation/{first['id']}/review.json"), 409)
    body = assert_error(contributor.post(f"/api/annotation/{second['id']}/review.json"), 400)
    assert "reviewer" in body["message"]
    assert_error(reviewer.post("/api/annotation/999999999/review.json"), 404)
    assert_error(
        reviewer.post(f"/api/annotation/{second['id']}/review.json", json={"terms": [999999999]}),
        404,
    )
    other = reviewer.post("/api/ontology.json", json={"name": "elsewhere"}).json()["ontology"]
    alien = reviewer.post(
        "/api/term.json", json={"name": "X", "color": "#000", "ontology": other["id"]}
    ).json()["term"]
    assert_error(
        reviewer.post(f"/api/annotation/{second['id']}/review.json", json={"terms": [alien["id"]]}),
        400,
    )
    stranger = make_user()
    assert_error(stranger["api"].post(f"/api/annotation/{second['id']}/review.json"), 403)
    assert counters(reviewer, reviewing)["image"] == 1


def test_accept_on_an_image_not_in_review_is_400(api, scene):
    made = api.post(
        "/api/annotation.json", json={"location": "POINT (5 5)", "image": scene["image"]["id"]}
    ).json()
    body = assert_error(api.post(f"/api/annotation/{made['annotation']['id']}/review.json"), 400)
    assert "not in review" in body["message"]


def test_reject_deletes_the_copy_and_moves_the_counters_back(reviewing):
    reviewer, original = reviewing["reviewer"]["api"], reviewing["annotations"][1]
    copy = reviewer.post(f"/api/annotation/{original['id']}/review.json").json()
    response = reviewer.delete(f"/api/annotation/{original['id']}/review.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["callback"]["method"] == "be.cytomine.DeleteReviewedAnnotationCommand"
    assert body["reviewedannotation"] == copy["reviewedannotation"]
    assert counters(reviewer, reviewing) == {
        "image": 0,
        "project": 0,
        "reviewer": 0,
        "flags": [False] * 3,
    }
    assert_error(
        reviewer.get(f"/api/reviewedannotation/{copy['reviewedannotation']['id']}.json"), 404
    )
    body = assert_error(reviewer.delete(f"/api/annotation/{original['id']}/review.json"), 400)
    assert "not reviewed" in body["message"]
    assert_error(reviewer.delete("/api/annotation/999999999/review.json"), 404)


def test_reject_of_another_reviewers_copy_is_403(api, reviewing, make_user):
    reviewer, original = reviewing["reviewer"]["api"], reviewing["annotations"][0]
    assert reviewer.post(f"/api/annotation/{original['id']}/review.json").status_code == 200
    successor = make_user()
    api.post(f"/api/project/{reviewing['project']['id']}/user/{successor['id']}.json")
    path = f"/api/imageinstance/{reviewing['image']['id']}/review.json"
    assert successor["api"].put(path).status_code == 200
    assert_error(successor["api"].delete(f"/api/annotation/{original['id']}/review.json"), 403)
    layers = f"/api/imageinstance/{reviewing['image']['id']}/annotation/review.json"
    assert_error(
        successor["api"].delete(layers, params={"users": reviewing["contributor"]["id"]}), 403
    )
    assert counters(reviewer, reviewing)["image"] == 1


def test_reject_needs_the_image_reviewer_and_the_copy_reviewer(api, reviewing):
    reviewer, original = reviewing["reviewer"]["api"], reviewing["annotations"][0]
    image = reviewing["image"]["id"]
    assert reviewer.post(f"/api/annotation/{original['id']}/review.json").status_code == 200
    assert_error(api.delete(f"/api/annotation/{original['id']}/review.json"), 400)
    assert api.put(f"/api/imageinstance/{image}/review.json").status_code == 200  # take over
    body = assert_error(reviewer.delete(f"/api/annotation/{original['id']}/review.json"), 400)
    assert "reviewer" in body["message"]
    # the superadmin now reviews the image, and may reject another reviewer's copy
    assert api.delete(f"/api/annotation/{original['id']}/review.json").status_code == 200


def test_layers_accept_and_reject_by_creator(api, reviewing):
    reviewer, image = reviewing["reviewer"]["api"], reviewing["image"]["id"]
    mine = api.post("/api/annotation.json", json={"location": "POINT (9 9)", "image": image})
    assert mine.status_code == 200
    first = reviewing["annotations"][0]
    assert reviewer.put(f"/api/annotation/{first['id']}/review.json").status_code == 200
    path = f"/api/imageinstance/{image}/annotation/review.json"
    response = reviewer.put(path, params={"users": reviewing["contributor"]["id"]})
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert (accepted["size"], len(accepted["collection"])) == (2, 2)  # the first was already
    copies = [
        reviewer.get(f"/api/reviewedannotation/{i}.json").json() for i in accepted["collection"]
    ]
    assert sorted(c["parentIdent"] for c in copies) == sorted(
        a["id"] for a in reviewing["annotations"][1:]
    )
    by_parent = {c["parentIdent"]: c for c in copies}
    second = reviewing["annotations"][1]
    assert sorted(by_parent[second["id"]]["term"]) == sorted(second["term"])
    assert counters(reviewer, reviewing)["flags"] == [True, True, True]
    again = reviewer.post(path, params={"users": reviewing["contributor"]["id"]})
    assert again.json()["collection"] == []
    rejected = reviewer.delete(path, params={"users": reviewing["contributor"]["id"]})
    assert rejected.status_code == 200, rejected.text
    assert len(rejected.json()["collection"]) == 3
    assert counters(reviewer, reviewing) == {
        "image": 0,
        "project": 0,
        "reviewer": 0,
        "flags": [False] * 3,
    }
    assert_error(reviewer.put(path), 400)  # users is required
    assert_error(api.put(path, params={"users": reviewing["contributor"]["id"]}), 400)


def test_stop_validates_and_cancel_ends_the_review(reviewing):
    reviewer, contributor = reviewing["reviewer"]["api"], reviewing["contributor"]["api"]
    path = f"/api/imageinstance/{reviewing['image']['id']}/review.json"
    assert_error(contributor.delete(path), 400)  # not the reviewer
    validated = reviewer.delete(path)
    assert validated.status_code == 200, validated.text
    image = validated.json()["imageinstance"]
    assert (image["reviewed"], image["inReview"]) == (True, False)
    assert image["reviewStop"].isdigit()
    # still in review for Cytomine: an annotation may be accepted, the validation cancelled
    first = reviewing["annotations"][0]
    assert reviewer.post(f"/api/annotation/{first['id']}/review.json").status_code == 200
    reopened = reviewer.delete(path, params={"cancel": "true"}).json()["imageinstance"]
    assert (reopened["reviewed"], reopened["inReview"], reopened["reviewStop"]) == (
        False,
        True,
        None,
    )
    cancelled = reviewer.delete(path, params={"cancel": "true"}).json()["imageinstance"]
    assert (cancelled["inReview"], cancelled["reviewUser"], cancelled["reviewStart"]) == (
        False,
        None,
        None,
    )
    assert_error(reviewer.delete(path), 400)  # not in review any more


def test_undo_and_redo_of_accept_and_reject(reviewing):
    reviewer, original = reviewing["reviewer"]["api"], reviewing["annotations"][1]
    copy = reviewer.post(f"/api/annotation/{original['id']}/review.json").json()
    copy_id = copy["reviewedannotation"]["id"]
    assert reviewer.get("/command/undo.json").status_code == 200
    assert_error(reviewer.get(f"/api/reviewedannotation/{copy_id}.json"), 404)
    assert counters(reviewer, reviewing)["image"] == 0
    assert reviewer.get("/command/redo.json").status_code == 200
    restored = reviewer.get(f"/api/reviewedannotation/{copy_id}.json").json()
    assert restored == copy["reviewedannotation"]
    assert counters(reviewer, reviewing) == {
        "image": 1,
        "project": 1,
        "reviewer": 1,
        "flags": [False, True, False],
    }
    assert reviewer.delete(f"/api/annotation/{original['id']}/review.json").status_code == 200
    assert reviewer.get("/command/undo.json").status_code == 200
    assert reviewer.get(f"/api/reviewedannotation/{copy_id}.json").json() == restored
    assert counters(reviewer, reviewing)["reviewer"] == 1


def test_undo_of_accepted_layers_takes_them_all_back(reviewing):
    reviewer, image = reviewing["reviewer"]["api"], reviewing["image"]["id"]
    path = f"/api/imageinstance/{image}/annotation/review.json"
    accepted = reviewer.post(path, params={"users": reviewing["contributor"]["id"]}).json()
    assert len(accepted["collection"]) == 3
    assert reviewer.get("/command/undo.json").status_code == 200
    assert counters(reviewer, reviewing) == {
        "image": 0,
        "project": 0,
        "reviewer": 0,
        "flags": [False] * 3,
    }
    assert reviewer.get("/command/redo.json").status_code == 200
    assert counters(reviewer, reviewing)["image"] == 3
    copies = [
        reviewer.get(f"/api/reviewedannotation/{i}.json").json() for i in accepted["collection"]
    ]
    terms = {copy["parentIdent"]: sorted(copy["term"]) for copy in copies}
    assert terms == {a["id"]: sorted(a["term"]) for a in reviewing["annotations"]}
