"""Activity through GraphQL: the mutations recording it, `project { connections consultations
onlineUsers }`, `imageInstance { positions onlineUsers }`, the root listings, and the codes of
refusals."""

from __future__ import annotations

from typing import Any

from tests.activity.conftest import VIEWPORT


def data(answer: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


def code(answer: dict[str, Any]) -> str:
    return answer["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


RECORD = """mutation($p: Long!, $i: Long!, $s: Long!, $a: Long!, $v: PositionInput!) {
  projectConnectionCreate(input: {project: $p, os: "Linux"}) {
    projectConnection { id os time updated user { username } } }
  imageConsultationCreate(input: {image: $i, mode: "view"}) {
    imageConsultation { id mode projectConnectionId imageThumb } }
  positionCreate(input: $v) { position { id location x y sliceId zoom corners } }
  onSlice: positionCreate(input: {slice: $s, topLeftX: 1, topLeftY: 1}) { position { sliceId } }
  annotationActionCreate(input: {annotationIdent: $a, action: "select"}) {
    annotationAction { action annotationClassName user { username } } }
}"""

READ = """query($p: Long!, $i: Long!, $me: Long!) {
  project(id: $p) {
    connections(user: $me) { totalCount nodes { os time countViewedImages online } }
    consultations { totalCount nodes { mode image { id } } }
    onlineUsers { username }
  }
  imageInstance(id: $i) {
    positions(first: 10) { totalCount nodes { zoom user { username } } }
    onlineUsers { username }
  }
  lastPosition(image: $i, user: $me) { x }
  annotationActions(image: $i) { totalCount nodes { action } }
  projectOnlineUsers(project: $p) { user { username } positions { imageId } }
  usersActivity(project: $p) { user { username } frequency lastImageId }
  userActivityResume(project: $p, user: $me) { totalConnections totalAnnotationSelections }
}"""


def test_activity_mutations_fields_and_listings(api, scene):
    project, image = scene["project"]["id"], scene["image"]["id"]
    me = api.get("/api/user/current.json").json()["id"]
    drawn = api.post(
        "/api/annotation.json", json={"location": "POINT (10 10)", "slice": scene["slices"][0]}
    ).json()
    variables = {
        "p": project,
        "i": image,
        "s": scene["slices"][0],
        "a": drawn["annotation"]["id"],
        "v": {"image": image, **VIEWPORT, "zoom": 2},
    }
    made = data(api.gql(RECORD, variables))
    connection = made["projectConnectionCreate"]["projectConnection"]
    assert (connection["os"], connection["time"], connection["updated"]) == ("Linux", None, None)
    consultation = made["imageConsultationCreate"]["imageConsultation"]
    assert consultation["projectConnectionId"] == connection["id"], "the connection just made"
    assert consultation["imageThumb"].endswith(f"/api/imageinstance/{image}/thumb.png?maxSize=512")
    position = made["positionCreate"]["position"]
    assert position["location"] == "POLYGON ((50 300, 250 300, 250 200, 50 200, 50 300))"
    assert position["corners"] == [[50, 300], [250, 300], [250, 200], [50, 200]]
    assert made["onSlice"]["position"]["sliceId"] == scene["slices"][0]
    assert made["annotationActionCreate"]["annotationAction"]["action"] == "select"

    found = data(api.gql(READ, {"p": project, "i": image, "me": me}))
    assert found["project"]["connections"]["totalCount"] == 1
    assert found["project"]["connections"]["nodes"][0]["os"] == "Linux"
    assert found["project"]["consultations"]["nodes"] == [{"mode": "view", "image": {"id": image}}]
    assert found["project"]["onlineUsers"] == [{"username": "admin"}], "looking at an image"
    assert found["imageInstance"]["positions"]["totalCount"] == 2
    assert found["imageInstance"]["onlineUsers"] == [{"username": "admin"}]
    assert found["lastPosition"] is not None
    assert found["annotationActions"]["nodes"] == [{"action": "select"}]
    assert found["projectOnlineUsers"][0]["user"] == {"username": "admin"}
    assert found["usersActivity"] == [
        {"user": {"username": "admin"}, "frequency": 1, "lastImageId": image}
    ]
    assert found["userActivityResume"] == {"totalConnections": 1, "totalAnnotationSelections": 1}


def test_activity_refusals_carry_codes(api, scene, make_user):
    project, image = scene["project"]["id"], scene["image"]["id"]
    stranger = make_user()
    me = api.get("/api/user/current.json").json()["id"]
    assert (
        code(
            stranger["api"].gql(
                "mutation($p: Long!) { projectConnectionCreate(input: {project: $p}) "
                "{ projectConnection { id } } }",
                {"p": project},
            )
        )
        == "FORBIDDEN"
    )
    outside = {
        "image": image,
        **VIEWPORT,
        "topLeftX": 5000,
        "topRightX": 6000,
        "bottomRightX": 6000,
        "bottomLeftX": 5000,
    }
    assert (
        code(
            api.gql(
                "mutation($v: PositionInput!) { positionCreate(input: $v) { position { id } } }",
                {"v": outside},
            )
        )
        == "BAD_USER_INPUT"
    )
    assert (
        code(
            api.gql(
                "mutation { annotationActionCreate(input: {annotationIdent: 999999999, "
                'action: "select"}) { annotationAction { id } } }'
            )
        )
        == "NOT_FOUND"
    )
    assert (
        code(
            stranger["api"].gql(
                "query($p: Long!, $u: Long!) { "
                "projectConnections(project: $p, user: $u) { totalCount } }",
                {"p": project, "u": me},
            )
        )
        == "FORBIDDEN"
    )
    assert code(api.gql('{ connectionFrequency(period: "year") { frequency } }')) == (
        "BAD_USER_INPUT"
    )
