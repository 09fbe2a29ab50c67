"""The REST bridge's reading of a request: which of path, query, body and a route's fixed
values a variable comes from when several give it (rest_compat/bridge.py)."""

from __future__ import annotations

from tests.factories import abstract_image, make_project


def test_spread_body_null_does_not_override_the_path_parameter(api, make_user):
    member = make_user()
    project = make_project(api, users=(member["id"],))
    body = {"project": None, "user": member["id"], "hideByDefault": True}
    response = api.post(f"/api/project/{project['id']}/defaultlayer.json", json=body)
    assert response.status_code == 200, response.text
    layer = response.json()["projectdefaultlayer"]
    assert layer["project"] == project["id"]
    assert layer["user"] == member["id"]


def test_fixed_route_value_wins_over_the_query_parameter(api):
    image = abstract_image(api)
    response = api.get(f"/api/abstractimage/{image['id']}/thumb.png", params={"kind": "DOWNLOAD"})
    assert response.status_code == 404, response.text
    # the thumbnail's answer (a download's says "The file is missing…")
    assert response.json()["message"] == "The image's file is missing on the server's disk"
