"""Bad input to the activity routes: a clear 4xx JSON error, nothing recorded, never a 5xx
(DESIGN.md "Security")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.activity.conftest import viewport
from tests.harness import assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

HUGE = 99999999999999999999999


def cases(scene: dict[str, Any], user: int) -> list[Any]:
    """(method, path, request keywords, status) for each bad request."""
    p, i = f"/api/project/{scene['project']['id']}", f"/api/imageinstance/{scene['image']['id']}"
    s = f"/api/sliceinstance/{scene['slices'][0]}"
    return [
        ("POST", "/api/project/999999999/userconnection.json", {"json": {}}, 404),
        ("POST", f"/api/project/{HUGE}/userconnection.json", {"json": {}}, 400),
        ("POST", f"{p}/userconnection.json", {"json": {"os": "x" * 300}}, 400),
        ("POST", f"{p}/userconnection.json", {"json": {"browser": {"x": 1}}}, 400),
        ("POST", f"{p}/userconnection.json", {"data": "{not json"}, 400),
        ("POST", "/api/imageinstance/999999999/consultation.json", {"json": {}}, 404),
        ("POST", f"{i}/consultation.json", {"json": {"mode": "m" * 300}}, 400),
        ("POST", f"{i}/position.json", {"json": viewport(topLeftX=5000, topRightX=6000,
                                                          bottomRightX=6000, bottomLeftX=5000)},
         400),
        ("POST", f"{i}/position.json", {"json": viewport(topLeftY=-500, topRightY=-500,
                                                          bottomRightY=-900, bottomLeftY=-900)},
         400),
        ("POST", f"{i}/position.json", {"json": viewport(topLeftX=1e12)}, 400),
        ("POST", f"{i}/position.json", {"json": viewport(zoom=-1)}, 400),
        ("POST", f"{i}/position.json", {"json": viewport(zoom=1000)}, 400),
        ("POST", f"{i}/position.json", {"json": viewport(zoom="x" * 20)}, 200),
        ("POST", f"{i}/position.json", {"json": []}, 400),
        ("POST", "/api/imageinstance/999999999/position.json", {"json": viewport()}, 404),
        ("POST", "/api/sliceinstance/999999999/position.json", {"json": viewport()}, 404),
        ("POST", f"{s}/position.json", {"json": viewport(bottomLeftX="nan")}, 400),
        ("POST", "/api/annotation_action.json", {"json": {"action": "select"}}, 400),
        ("POST", "/api/annotation_action.json", {"json": {"annotationIdent": 999999999,
                                                          "action": "select"}}, 404),
        ("POST", "/api/annotation_action.json", {"json": {"annotationIdent": 1}}, 400),
        ("POST", "/api/annotation_action.json", {"json": {"annotationIdent": HUGE,
                                                          "action": "x"}}, 400),
        ("GET", f"{p}/userconnection/999999999.json", {}, 404),
        ("GET", f"{p}/userconnection/{user}.json", {"params": {"max": -1}}, 400),
        ("GET", f"{p}/connectionFrequency.json", {"params": {"period": "year"}}, 400),
        ("GET", f"{p}/connectionFrequency.json", {"params": {"afterThan": "soon"}}, 400),
        ("GET", "/api/averageConnections.json", {}, 400),
        ("GET", "/api/connectionFrequency.json", {}, 400),
        ("GET", "/api/projectConnection/999999999.json", {}, 404),
        ("GET", "/api/projectConnection/1.json", {"params": {"start": "x"}}, 400),
        ("GET", f"{p}/userconnection/count.json", {"params": {"startDate": "x"}}, 400),
        ("GET", "/api/imageconsultation/resume.json", {"params": {"project": 1}}, 400),
        ("GET", f"{i}/positions.json", {"params": {"showDetails": "true", "afterThan": "x"}}, 400),
        ("GET", f"{i}/position/999999999.json", {}, 404),
        ("GET", "/api/imageinstance/999999999/online.json", {}, 404),
        ("GET", "/api/position/999999999.json", {}, 404),
        ("GET", "/api/annotation_action/999999999.json", {}, 404),
        ("GET", "/api/user/999999999/friends.json", {}, 404),
        ("GET", f"{p}/resumeActivity/999999999.json", {}, 404),
    ]  # fmt: skip


def test_bad_input_is_a_4xx_and_records_nothing(api, scene):
    user = api.get("/api/user/current.json").json()["id"]
    for method, path, kw, status in cases(scene, user):
        response = api.request(method, path, **kw)
        if status == 200:
            assert response.status_code == 200, (path, response.text)
        else:
            body = assert_error(response, status)
            assert body["message"], path
    project = scene["project"]["id"]
    assert api.get(f"/api/project/{project}/userconnection/count.json").json() == {"total": 0}
    details = api.get(f"/api/imageinstance/{scene['image']['id']}/positions.json",
                      params={"showDetails": "true"}).json()  # fmt: skip
    assert details["size"] == 1, "only the position whose zoom was unreadable (so 0) is kept"
    assert api.get(f"/api/project/{project}/annotation_action/count.json").json() == {"total": 0}
