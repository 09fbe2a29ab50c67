"""Bad input to the track, annotation-track, comment, index and count routes: a clear 4xx JSON
error, nothing changed, never a 5xx (DESIGN.md "Security")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import assert_error, assert_partial

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

HUGE = 99999999999999999999999


def cases(scene: dict[str, Any], track: dict[str, Any], annotation: dict[str, Any]) -> list[Any]:
    """(method, path, request keywords, status) for each bad request."""
    image, slice_id = scene["image"]["id"], scene["slices"][0]
    t, a = track["id"], annotation["id"]
    return [
        ("POST", "/api/track.json", {"data": "{not json"}, 400),
        ("POST", "/api/track.json", {"data": ""}, 400),
        ("POST", "/api/track.json", {"json": "a string"}, 400),
        ("POST", "/api/track.json", {"json": {"name": {"x": 1}, "image": image}}, 400),
        ("POST", "/api/track.json", {"json": {"name": ["x"], "image": image}}, 400),
        ("POST", "/api/track.json", {"json": {"name": "n" * 300, "image": image}}, 400),
        ("POST", "/api/track.json", {"json": {"name": "x", "color": "c" * 100, "image": image}},
         400),
        ("POST", "/api/track.json", {"json": {"name": "x", "image": "abc"}}, 404),
        ("POST", "/api/track.json", {"json": {"name": "x", "image": HUGE}}, 400),
        ("POST", "/api/track.json", {"json": {"name": "x\u0000y", "image": image}}, 400),
        ("PUT", f"/api/track/{t}.json", {"json": {"id": t + 1, "name": "x", "image": image}}, 400),
        ("PUT", f"/api/track/{t}.json", {"data": "[1, 2]"}, 400),
        ("PUT", f"/api/track/{HUGE}.json", {"json": {"name": "x", "image": image}}, 400),
        ("GET", f"/api/track/{HUGE}.json", {}, 400),
        ("GET", "/api/track/999999999.json", {}, 404),
        ("DELETE", "/api/track/999999999.json", {}, 404),
        ("GET", f"/api/project/{scene['project']['id']}/track.json", {"params": {"max": -1}},
         400),
        ("GET", f"/api/imageinstance/{image}/track.json", {"params": {"offset": "abc"}}, 400),
        ("POST", "/api/annotationtrack.json", {"json": {"annotationIdent": "x", "track": t}},
         400),
        ("POST", "/api/annotationtrack.json", {"json": {"annotationIdent": a}}, 400),
        ("POST", "/api/annotationtrack.json", {"json": {"annotationIdent": [a], "track": {}}},
         400),
        ("POST", "/api/annotationtrack.json", {"json": {"annotationIdent": a, "track": HUGE}},
         400),
        ("POST", f"/api/annotationtrack/{a}/{HUGE}.json", {}, 400),
        ("DELETE", f"/api/annotationtrack/{a}/999999999.json", {}, 404),
        ("POST", f"/api/userannotation/{a}/comment.json", {"json": {"receivers": []}}, 400),
        ("POST", f"/api/userannotation/{a}/comment.json", {"json": {"comment": "  "}}, 400),
        ("POST", f"/api/userannotation/{a}/comment.json", {"json": {"comment": ["x"]}}, 400),
        ("POST", f"/api/userannotation/{a}/comment.json",
         {"json": {"comment": "x", "receivers": ["abc"]}}, 400),
        ("POST", f"/api/userannotation/{a}/comment.json",
         {"json": {"comment": "x", "receivers": [999999999]}}, 400),
        ("POST", f"/api/userannotation/{a}/comment.json",
         {"json": {"comment": "x" * 10_001}}, 400),
        ("POST", f"/api/userannotation/{a}/comment.json",
         {"json": {"comment": "x", "receivers": {"id": 1}}}, 400),
        ("POST", "/api/userannotation/999999999/comment.json", {"json": {"comment": "x"}}, 404),
        ("GET", f"/api/userannotation/{a}/comment/999999999.json", {}, 404),
        ("GET", "/api/userannotation/999999999/comment.json", {}, 404),
        ("GET", "/api/sliceinstance/999999999/annotationindex.json", {}, 404),
        ("GET", f"/api/sliceinstance/{HUGE}/annotationindex.json", {}, 400),
        ("GET", "/api/user/999999999/userannotation/count.json", {}, 404),
        ("GET", "/api/user/1/userannotation/count.json", {"params": {"project": "abc"}}, 400),
        ("GET", f"/api/project/{scene['project']['id']}/userannotation/count.json",
         {"params": {"startDate": "yesterday"}}, 400),
        ("GET", f"/api/project/{scene['project']['id']}/userannotation/count.json",
         {"params": {"endDate": str(HUGE)}}, 400),
        ("GET", "/api/project/999999999/userannotation/count.json", {}, 404),
        ("GET", f"/api/sliceinstance/{slice_id}/annotationindex.json",
         {"params": {"max": "x"}}, 400),
    ]  # fmt: skip


def test_bad_input_is_a_4xx_and_changes_nothing(api, scene, annotate, make_track):
    track = make_track(api, "kept")
    annotation = annotate(api)
    me = api.get("/api/user/current.json").json()["id"]
    for method, path, keywords, status in cases(scene, track, annotation):
        if path.startswith("/api/user/1/"):
            path = path.replace("/api/user/1/", f"/api/user/{me}/")
        assert_error(api.request(method, path, **keywords), status)
    tracks = api.get(f"/api/imageinstance/{scene['image']['id']}/track.json").json()
    assert [t["name"] for t in tracks["collection"]] == ["kept"]
    assert api.get(f"/api/track/{track['id']}/annotationtrack.json").json()["size"] == 0
    assert api.get(f"/api/userannotation/{annotation['id']}/comment.json").json()["size"] == 0
    assert api.get(f"/api/annotation/{annotation['id']}.json").json()["nbComments"] == 0


def test_bulk_track_create_reports_each_element(api, scene):
    image = scene["image"]["id"]
    body = [{"name": "ok", "image": image}, {"name": "ok", "image": image}, "nonsense",
            {"image": image}]  # fmt: skip
    assert_partial(api.post("/api/track.json", json=body), errors=3)
    listed = api.get(f"/api/imageinstance/{image}/track.json").json()["collection"]
    assert [t["name"] for t in listed] == ["ok"]
