"""Bad input to the review, reviewed-annotation and annotation-term routes: a clear 4xx JSON
error, never a 5xx, and nothing changed (DESIGN.md "Security")."""

from __future__ import annotations

import pytest

from tests.harness import assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def state(api, world):
    """What a refused call must leave as it was."""
    image = api.get(f"/api/imageinstance/{world['image']['id']}.json").json()
    terms = [
        api.get(f"/api/annotation/{a['id']}/term.json").json()["size"] for a in world["annotations"]
    ]
    return (
        image["numberOfReviewedAnnotations"],
        image["reviewUser"],
        image["reviewStop"],
        terms,
        api.get("/api/reviewedannotation.json").json()["size"],
    )


def test_review_routes_refuse_bad_input(api, reviewing):
    reviewer = reviewing["reviewer"]["api"]
    first = reviewing["annotations"][0]["id"]
    image = reviewing["image"]["id"]
    before = state(api, reviewing)
    review = f"/api/annotation/{first}/review.json"
    layers = f"/api/imageinstance/{image}/annotation/review.json"
    cases = [
        (reviewer.put(review, params={"terms": "abc"}), 400),
        (reviewer.get(review, params={"terms": "1,x"}), 400),
        (reviewer.post(review, data="{not json"), 400),
        (reviewer.post(review, data="terms=1&terms=%zz&=="), 400),
        (reviewer.post(review, data=b"\xff\xfe\x00"), 400),
        (reviewer.post(review, data="[1, 2]"), 400),
        (reviewer.post(review, json={"id": first + 1}), 400),
        (reviewer.post(review, json={"terms": {"a": 1}}), 400),
        (reviewer.post(review, json={"terms": [2**70]}), 400),
        (reviewer.post(review, params={"terms": "-5"}), 404),
        (reviewer.put(layers, params={"users": "a,b"}), 400),
        (reviewer.put(layers, params={"users": ""}), 400),
        (reviewer.delete(layers), 400),
        (reviewer.put(layers, params={"users": "1", "task": "x"}), 400),
        (reviewer.put(layers, params={"users": "1", "users2": "2", "max": "-1"}), 400),
        (
            reviewer.delete(
                f"/api/imageinstance/{image}/review.json",
                params={"cancel": "1", "x": "1", "id": "zz"},
            ),
            400,
        ),
        (reviewer.put("/api/imageinstance/999999999/review.json"), 404),
        (reviewer.get(f"/api/imageinstance/{image}/reviewedannotation/stats.json?id=1&id=2"), 400),
        (
            reviewer.get(
                f"/api/project/{reviewing['project']['id']}/reviewedannotation/count.json",
                params={"startDate": "yesterday"},
            ),
            400,
        ),
        (reviewer.get("/api/project/999999999/reviewedannotation/count.json"), 404),
    ]
    for response, status in cases:
        assert_error(response, status)
    assert state(api, reviewing) == before


def test_reviewed_annotation_routes_refuse_bad_input(api, reviewing):
    reviewer = reviewing["reviewer"]["api"]
    first = reviewing["annotations"][0]["id"]
    copy = reviewer.post(f"/api/annotation/{first}/review.json").json()["reviewedannotation"]
    before = state(api, reviewing)
    path = f"/api/reviewedannotation/{copy['id']}.json"
    huge = "POLYGON ((" + ", ".join(f"{i} {i}" for i in range(700_000)) + "))"
    cases = [
        (reviewer.put(path, json={"location": "POLYGON ((0 0, 1 1"}), 400),
        (reviewer.put(path, json={"location": "GEOMETRYCOLLECTION (POINT (1 1))"}), 400),
        (reviewer.put(path, json={"location": "POINT (1 1)", "geometryCompression": -1}), 400),
        (reviewer.put(path, json={"location": "POINT (nan 1)"}), 400),
        (reviewer.put(path, json={"location": huge}), 400),
        (reviewer.put(path, json={"location": "POINT (1 1)", "terms": ["x"]}), 400),
        (reviewer.put(path, json={"location": "POINT (1 1)", "terms": [999999999]}), 400),
        (reviewer.put(path, json=[]), 400),
        (reviewer.put(path, data=""), 400),
        (reviewer.post("/api/reviewedannotation.json", json={"location": {"a": 1}}), 400),
        (
            reviewer.post(
                "/api/reviewedannotation.json", json={"image": "abc", "location": "POINT (1 1)"}
            ),
            400,
        ),
        (reviewer.put("/api/annotation/abc.json", json={}), 404),
        (reviewer.get("/api/annotation.json", params={"reviewed": "true", "project": "x"}), 400),
        (
            reviewer.get(
                "/api/annotation.json",
                params={
                    "reviewed": "true",
                    "project": reviewing["project"]["id"],
                    "reviewUsers": "1,z",
                },
            ),
            400,
        ),
        (
            reviewer.get(
                "/api/annotation.json",
                params={"reviewed": "true", "project": reviewing["project"]["id"], "bbox": "1,2,3"},
            ),
            400,
        ),
        (
            reviewer.get(
                "/api/annotation.json",
                params={
                    "reviewed": "true",
                    "project": reviewing["project"]["id"],
                    "hideBasic": "true",
                    "hideMeta": "true",
                    "hideTerm": "true",
                },
            ),
            404,
        ),
        (reviewer.get("/api/reviewedannotation.json", params={"max": "many"}), 400),
    ]
    for response, status in cases:
        assert_error(response, status)
    bulk = reviewer.post("/api/reviewedannotation.json", json=[{"location": "POINT (1 1)"}, 5])
    assert bulk.status_code == 200 and bulk.json()["status"] == 400
    assert state(api, reviewing) == before
    assert reviewer.get(path).json() == copy


def test_annotation_term_routes_refuse_bad_input(api, reviewing):
    first = reviewing["annotations"][0]["id"]
    tumour = reviewing["terms"]["Tumour"]
    before = state(api, reviewing)
    base = f"/api/annotation/{first}/term"
    cases = [
        (api.post(f"{base}/{tumour}.json", data="just some text"), 400),
        (api.post(f"{base}/{tumour}.json", json={"user": reviewing["contributor"]["id"]}), 409),
        (api.post(f"{base}/{tumour}/clearBefore.json", json={"clearForAll": [1]}), 400),
        (api.get(f"/api/annotation/{first}/term.json", params={"idUser": "me"}), 400),
        (api.get(f"/api/annotation/{first}/notuser/abc/term.json"), 404),
        (api.delete(f"{base}/{tumour}/user/999999999.json"), 404),
        (api.get("/api/annotation/999999999/term.json"), 404),
        (api.post(f"{base}/abc.json"), 404),
    ]
    for response, status in cases:
        assert_error(response, status)
    assert state(api, reviewing) == before
