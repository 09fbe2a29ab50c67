"""Tracks through GraphQL: mutations with input objects and payloads, the track's annotations in
plane order, the image's tracks, and the same rules as REST (error codes)."""

from __future__ import annotations

from typing import Any

CREATE = """
mutation($input: TrackInput!) {
  trackCreate(input: $input) {
    command { action domain message }
    track { id name color imageId projectId image { id } project { id } }
  }
}
"""
LINK = """
mutation($input: AnnotationTrackInput!) {
  annotationTrackCreate(input: $input) {
    command { action domain }
    annotationTrack { id annotationId trackId sliceId }
  }
}
"""
UNLINK = """
mutation($a: Long!, $t: Long!) {
  annotationTrackDelete(annotationId: $a, trackId: $t) { annotationTrack { id } }
}
"""


def code(answer: dict[str, Any]) -> str:
    return answer["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def create(api: Any, **input: Any) -> dict[str, Any]:
    answer = api.gql(CREATE, {"input": input})
    assert "errors" not in answer, answer
    return answer["data"]["trackCreate"]  # type: ignore[no-any-return]


def test_track_create_and_read_through_the_graph(api, scene, annotate):
    image, project = scene["image"]["id"], scene["project"]["id"]
    made = create(api, name="cell", color="#00ff00", image=image)
    track = made["track"]
    assert made["command"] == {"action": "ADD", "domain": "Track",
                               "message": f"Track {track['id']} (cell) added"}  # fmt: skip
    assert {k: track[k] for k in ("name", "color", "imageId", "projectId")} == {
        "name": "cell", "color": "#00ff00", "imageId": image, "projectId": project}  # fmt: skip
    assert track["image"] == {"id": image} and track["project"] == {"id": project}

    upper = annotate(api, slice_index=1)
    lower = annotate(api, slice_index=0, location="POINT (3 4)")
    for annotation in (upper, lower):
        answer = api.gql(LINK, {"input": {"annotation": annotation["id"], "track": track["id"]}})
        assert "errors" not in answer, answer
    linked = answer["data"]["annotationTrackCreate"]
    assert linked["command"] == {"action": "ADD", "domain": "AnnotationTrack"}
    assert linked["annotationTrack"]["sliceId"] == scene["slices"][0]

    read = api.gql(
        "query($id: Long!) { track(id: $id) { name annotations { id location }"
        " annotationTracks { annotationId sliceId } } }",
        {"id": track["id"]},
    )["data"]["track"]
    assert read["annotations"] == [{"id": lower["id"], "location": "POINT (3 4)"},
                                   {"id": upper["id"], "location": "POINT (10 10)"}]  # fmt: skip
    assert [link["sliceId"] for link in read["annotationTracks"]] == scene["slices"]

    tracks = api.gql("query($id: Long!) { imageInstance(id: $id) { tracks { name } } }",
                     {"id": image})  # fmt: skip
    assert tracks["data"]["imageInstance"]["tracks"] == [{"name": "cell"}]
    listed = api.gql("query($p: Long!) { tracks(projectId: $p) { totalCount nodes { name } } }",
                     {"p": project})  # fmt: skip
    assert listed["data"]["tracks"] == {"totalCount": 1, "nodes": [{"name": "cell"}]}
    links = api.gql("query($a: Long!) { annotationTracks(annotationId: $a) { trackId } }",
                    {"a": upper["id"]})  # fmt: skip
    assert links["data"]["annotationTracks"] == [{"trackId": track["id"]}]

    removed = api.gql(UNLINK, {"a": upper["id"], "t": track["id"]})
    assert "errors" not in removed, removed
    assert code(api.gql(UNLINK, {"a": upper["id"], "t": track["id"]})) == "NOT_FOUND"


def test_track_mutations_keep_the_rules(api, scene, annotate, make_user):
    image = scene["image"]["id"]
    track = create(api, name="cell", image=image)["track"]
    assert code(api.gql(CREATE, {"input": {"name": "cell", "image": image}})) == "CONFLICT"
    assert code(api.gql(CREATE, {"input": {"name": "x"}})) == "NOT_FOUND"
    assert code(api.gql(CREATE, {"input": {"image": image}})) == "BAD_USER_INPUT"
    first = annotate(api)
    second = annotate(api, location="POINT (50 50)")
    link = {"annotation": first["id"], "track": track["id"]}
    assert "errors" not in api.gql(LINK, {"input": link})
    taken = {"annotation": second["id"], "track": track["id"]}
    assert code(api.gql(LINK, {"input": taken})) == "CONFLICT"
    assert code(api.gql(LINK, {"input": {"annotation": 999999999, "track": track["id"]}})) == (
        "NOT_FOUND")  # fmt: skip
    assert code(api.gql("{ tracks { totalCount } }")) == "BAD_USER_INPUT"
    assert code(api.gql("{ annotationTracks { id } }")) == "BAD_USER_INPUT"

    stranger = make_user()
    read = "query($id: Long!) { track(id: $id) { name } }"
    assert code(stranger["api"].gql(read, {"id": track["id"]})) == "FORBIDDEN"
    update = ("mutation($id: Long!, $i: TrackInput!) {"
              " trackUpdate(id: $id, input: $i) { track { name } } }")  # fmt: skip
    answer = stranger["api"].gql(update, {"id": track["id"], "i": {"name": "y", "image": image}})
    assert code(answer) == "FORBIDDEN"
    renamed = api.gql(update, {"id": track["id"], "i": {"name": "y", "image": image}})
    assert renamed["data"]["trackUpdate"]["track"] == {"name": "y"}
    deleted = api.gql("mutation($id: Long!) { trackDelete(id: $id) { track { id } } }",
                      {"id": track["id"]})  # fmt: skip
    assert deleted["data"]["trackDelete"]["track"] == {"id": track["id"]}
    assert code(api.gql(read, {"id": track["id"]})) == "NOT_FOUND"
