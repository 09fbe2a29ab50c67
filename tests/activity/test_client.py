"""Activity through the official cytomine-python-client 4.3.0: positions, annotation actions,
project connections and image consultations, as its collections and models read them (the
last two are not exported by `cytomine.models` in 4.3.0, only by `cytomine.models.social`)."""

from __future__ import annotations

from typing import Any

from cytomine.models import (
    AnnotationAction,
    AnnotationActionCollection,
    Position,
    PositionCollection,
)
from cytomine.models.social import ImageConsultationCollection, ProjectConnectionCollection

from tests.activity.conftest import ok, viewport


def test_positions_and_annotation_actions(client: Any, api: Any, scene: Any) -> None:
    image = scene["image"]["id"]
    assert len(PositionCollection().fetch_with_filter("imageinstance", image)) == 0
    posted = [ok(api.post(f"/api/imageinstance/{image}/position.json", json=viewport(zoom=z)))
              for z in (1, 2)]  # fmt: skip
    positions = PositionCollection().fetch_with_filter("imageinstance", image)
    assert [p.id for p in positions] == [posted[1]["id"], posted[0]["id"]], "newest first"
    assert (positions[0].zoom, positions[0].image, positions[0].x, positions[0].y) == (
        2, image, 150.0, 250.0)  # fmt: skip
    one = Position().fetch(positions[0].id)
    assert (one.id, one.location) == (
        posted[1]["id"], "POLYGON ((50 300, 250 300, 250 200, 50 200, 50 300))")  # fmt: skip
    by_slice = PositionCollection().fetch_with_filter("sliceinstance", scene["slices"][1])
    assert [p.id for p in by_slice] == [p["id"] for p in reversed(posted)], "reference slice"

    drawn = ok(api.post("/api/annotation.json", json={"location": "POINT (10 10)",
                                                       "slice": scene["slices"][0]}))  # fmt: skip
    annotation = drawn["annotation"]["id"]
    for action in ("select", "unselect"):
        ok(api.post("/api/annotation_action.json",
                    json={"annotationIdent": annotation, "action": action}))  # fmt: skip
    actions = AnnotationActionCollection().fetch_with_filter("imageinstance", image)
    assert [a.action for a in actions] == ["select", "unselect"], "oldest first"
    fetched = AnnotationAction().fetch(actions[0].id)
    assert (fetched.annotationIdent, fetched.image, fetched.annotationClassName) == (
        annotation, image, "be.cytomine.domain.ontology.UserAnnotation")  # fmt: skip


def test_project_connections_and_image_consultations(client: Any, api: Any, scene: Any) -> None:
    project, image = scene["project"]["id"], scene["image"]["id"]
    me = client.current_user.id
    browser = {"os": "Linux", "browser": "firefox", "browserVersion": "133"}
    first = ok(api.post(f"/api/project/{project}/userconnection.json", json=browser))
    consulted = ok(api.post(f"/api/imageinstance/{image}/consultation.json", json={"mode": "view"}))
    second = ok(api.post(f"/api/project/{project}/userconnection.json", json={}))

    connections = ProjectConnectionCollection(project, me).fetch()
    assert [c.id for c in connections] == [second["id"], first["id"]]
    assert (connections[1].os, connections[1].browser, connections[1].countViewedImages) == (
        "Linux", "firefox", 1)  # fmt: skip
    assert connections[1].time == 0 and connections[1].countCreatedAnnotations == 0

    consultations = ImageConsultationCollection(project, me).fetch()
    assert [c.id for c in consultations] == [consulted["id"]]
    assert (consultations[0].image, consultations[0].mode, consultations[0].projectConnection) == (
        image, "view", first["id"])  # fmt: skip
