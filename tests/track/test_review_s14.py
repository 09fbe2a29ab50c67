"""Review probes on tracks and annotation tracks: links across images and projects, undo of
link changes after the annotation moved, bad ids, and `Track.annotations` vs
`annotationsPage`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def link(api: Api, annotation: dict[str, Any], track: dict[str, Any]) -> Any:
    return api.post(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json")


def links_of(api: Api, track: dict[str, Any]) -> list[dict[str, Any]]:
    return api.get(f"/api/track/{track['id']}/annotationtrack.json").json()["collection"]  # type: ignore[no-any-return]


def test_one_annotation_in_two_tracks_of_its_image_but_once_per_track(
    api, scene, annotate, make_track
):
    annotation = annotate(api)
    first, second = make_track(api), make_track(api)
    assert link(api, annotation, first).status_code == 200
    assert link(api, annotation, second).status_code == 200
    assert_error(link(api, annotation, first), 409)
    mine = api.get(f"/api/annotation/{annotation['id']}/annotationtrack.json").json()
    assert sorted(item["track"] for item in mine["collection"]) == sorted(
        (first["id"], second["id"])
    )


def test_a_track_of_another_project_or_image_takes_no_annotation(api, scene, annotate, make_track):
    annotation = annotate(api)
    project = make_project(api)
    image = add_image(api, project["id"], abstract_image(api, slices=2)["id"])
    foreign = created(api.post("/api/track.json", json={"name": "x", "image": image["id"]}),
                      "track")  # fmt: skip
    assert_error(link(api, annotation, foreign), 400)
    body = {"location": "POINT (5 5)", "slice": scene["slices"][0], "track": [foreign["id"]]}
    assert_error(api.post("/api/annotation.json", json=body), 400)
    assert links_of(api, foreign) == []


def test_bad_ids_are_4xx(api, scene, annotate, make_track):
    track = make_track(api)
    annotation = annotate(api)
    huge = 10**30
    for path in (f"/api/track/{huge}.json", f"/api/annotationtrack/{annotation['id']}/{huge}.json",
                 f"/api/annotationtrack/{huge}/{track['id']}.json",
                 f"/api/track/{huge}/annotationtrack.json",
                 f"/api/imageinstance/{huge}/track.json", f"/api/project/{huge}/track.json",
                 ):  # fmt: skip
        response = api.get(path)
        assert response.status_code in (400, 404), (path, response.text)
    for body in ({"annotationIdent": "x", "track": track["id"]},
                 {"annotationIdent": annotation["id"], "track": [track["id"]]},
                 {"annotationIdent": annotation["id"], "track": huge},
                 {"annotationIdent": None, "track": track["id"]}, {}):  # fmt: skip
        response = api.post("/api/annotationtrack.json", json=body)
        assert response.status_code in (400, 404), (body, response.text)
    for body in ({"name": "n", "image": "abc"},
                 {"name": "n", "image": huge}, {"name": ["n"], "image": scene["image"]["id"]},
                 ):  # fmt: skip
        response = api.post("/api/track.json", json=body)
        assert response.status_code in (400, 404), (body, response.text)
    assert links_of(api, track) == []


def test_undo_of_an_unlink_after_the_annotation_moved_follows_its_slice(
    api, scene, annotate, make_track
):
    """A link lives on its annotation's slice: undoing its removal after the annotation moved to
    another slice must not bring it back on the old slice."""
    track = make_track(api)
    annotation = annotate(api, slice_index=0)
    assert link(api, annotation, track).status_code == 200
    assert (
        api.delete(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json").status_code == 200
    )
    moved = {**annotation, "slice": scene["slices"][1]}
    assert api.put(f"/api/userannotation/{annotation['id']}.json", json=moved).status_code == 200
    # a second annotation now takes slice 0 in the track
    other = annotate(api, slice_index=0, location="POINT (30 30)")
    assert link(api, other, track).status_code == 200
    # undo the move, then the unlink
    assert api.get("/api/command/undo.json").status_code == 200  # the other's link
    response = api.get("/api/command/undo.json")  # the other annotation's creation
    assert response.status_code == 200, response.text
    response = api.get("/api/command/undo.json")  # the move
    assert response.status_code == 200, response.text
    assert (
        api.get(f"/api/userannotation/{annotation['id']}.json").json()["slice"]
        == scene["slices"][0]
    )
    response = api.get("/api/command/undo.json")  # the unlink
    assert response.status_code == 200, response.text
    (restored,) = links_of(api, track)
    assert restored["slice"] == scene["slices"][0]


def _unlinked_then_moved(api, scene, annotate, make_track) -> tuple[Any, Any, Any]:
    """A track, an annotation linked to it on the first slice, then unlinked and moved to the
    second slice; and the unlink's answer."""
    track = make_track(api)
    annotation = annotate(api, slice_index=0)
    assert link(api, annotation, track).status_code == 200
    unlink = api.delete(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json")
    assert unlink.status_code == 200, unlink.text
    moved = {**annotation, "slice": scene["slices"][1]}
    assert api.put(f"/api/userannotation/{annotation['id']}.json", json=moved).status_code == 200
    return track, annotation, unlink


def test_undo_of_an_unlink_puts_the_link_on_the_slice_its_annotation_is_on_now(
    api, scene, annotate, make_track
):
    track, annotation, unlink = _unlinked_then_moved(api, scene, annotate, make_track)
    undone = api.get(f"/api/command/{unlink.json()['command']}/undo.json")
    assert undone.status_code == 200, undone.text
    (restored,) = links_of(api, track)
    assert restored["annotationIdent"] == annotation["id"]
    assert restored["slice"] == scene["slices"][1]


def test_undo_of_an_unlink_whose_slice_is_taken_now_is_a_409_and_changes_nothing(
    api, scene, annotate, make_track
):
    track, _, unlink = _unlinked_then_moved(api, scene, annotate, make_track)
    other = annotate(api, slice_index=1, location="POINT (30 30)")
    assert link(api, other, track).status_code == 200

    assert_error(api.get(f"/api/command/{unlink.json()['command']}/undo.json"), 409)
    assert [item["annotationIdent"] for item in links_of(api, track)] == [other["id"]]


def test_undo_of_an_unlink_after_the_annotation_moved_to_another_image_is_a_400(
    api, scene, annotate, make_track
):
    track = make_track(api)
    annotation = annotate(api, slice_index=0)
    assert link(api, annotation, track).status_code == 200
    unlink = api.delete(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json")
    elsewhere = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    moved = {**annotation, "image": elsewhere["id"], "slice": None}
    assert api.put(f"/api/userannotation/{annotation['id']}.json", json=moved).status_code == 200

    assert_error(api.get(f"/api/command/{unlink.json()['command']}/undo.json"), 400)
    assert links_of(api, track) == []
    assert api.get(f"/api/annotation/{annotation['id']}/annotationtrack.json").json()["size"] == 0


def test_undo_of_a_track_delete_after_its_annotation_was_deleted_is_clean(
    api, scene, annotate, make_track
):
    track = make_track(api, "gone")
    annotation = annotate(api)
    assert link(api, annotation, track).status_code == 200
    deleted = api.delete(f"/api/track/{track['id']}.json")
    assert deleted.status_code == 200
    assert api.delete(f"/api/annotation/{annotation['id']}.json").status_code == 200
    response = api.get(f"/api/command/{deleted.json()['command']}/undo.json")
    assert response.status_code in (200, 400, 404, 409), response.text
    if response.status_code != 200:
        assert_error(api.get(f"/api/track/{track['id']}.json"), 404)


TRACK_ANNOTATIONS = """
query($id: Long!) {
  track(id: $id) {
    annotations { id sliceId }
    annotationTracks { annotationId sliceId }
    annotationsPage { totalCount nodes { id sliceId } }
  }
}
"""


def test_track_annotations_in_plane_order_and_the_page(api, scene, annotate, make_track):
    track = make_track(api)
    upper = annotate(api, slice_index=1)
    lower = annotate(api, slice_index=0, location="POINT (3 4)")
    for annotation in (upper, lower):
        assert link(api, annotation, track).status_code == 200
    answer = api.gql(TRACK_ANNOTATIONS, {"id": track["id"]})
    assert "errors" not in answer, answer
    got = answer["data"]["track"]
    assert [a["id"] for a in got["annotations"]] == [lower["id"], upper["id"]]
    assert [a["annotationId"] for a in got["annotationTracks"]] == [lower["id"], upper["id"]]
    assert got["annotationsPage"]["totalCount"] == 2
    assert sorted(a["id"] for a in got["annotationsPage"]["nodes"]) == sorted(
        (lower["id"], upper["id"])
    )


def test_non_member_reads_no_link_and_changes_none(api, scene, annotate, make_track, people):
    track = make_track(api)
    annotation = annotate(api)
    assert link(api, annotation, track).status_code == 200
    stranger: Api = people["user"]["api"]
    assert_error(stranger.get(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json"), 403)
    assert_error(stranger.get(f"/api/annotation/{annotation['id']}/annotationtrack.json"), 403)
    assert_error(stranger.get(f"/api/track/{track['id']}/annotationtrack.json"), 403)
    assert_error(
        stranger.delete(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json"), 403
    )
    answer = stranger.gql(TRACK_ANNOTATIONS, {"id": track["id"]})
    assert answer["data"] is None or answer["data"]["track"] is None, answer
    assert len(links_of(api, track)) == 1


def test_track_annotations_hide_the_layers_the_project_hides(api, scene, make_user, make_track):
    """`annotations` (unpaged, plane order) shows the caller what `annotationsPage` shows: a
    project hiding its users' layers hides them there too."""
    project = scene["project"]
    drawer, viewer = make_user(), make_user()
    for user in (drawer, viewer):
        assert api.post(f"/api/project/{project['id']}/user/{user['id']}.json").status_code == 200
    track = make_track(api)
    theirs = created(drawer["api"].post("/api/annotation.json", json={
        "location": "POINT (10 10)", "slice": scene["slices"][1]}), "annotation")  # fmt: skip
    mine = created(viewer["api"].post("/api/annotation.json", json={
        "location": "POINT (20 20)", "slice": scene["slices"][0]}), "annotation")  # fmt: skip
    for annotation in (theirs, mine):
        assert link(api, annotation, track).status_code == 200
    flags = {**api.get(f"/api/project/{project['id']}.json").json(), "hideUsersLayers": True}
    assert api.put(f"/api/project/{project['id']}.json", json=flags).status_code == 200

    answer = viewer["api"].gql(TRACK_ANNOTATIONS, {"id": track["id"]})
    assert "errors" not in answer, answer
    got = answer["data"]["track"]
    assert [a["id"] for a in got["annotationsPage"]["nodes"]] == [mine["id"]]
    assert [a["id"] for a in got["annotations"]] == [mine["id"]]
    everything = api.gql(TRACK_ANNOTATIONS, {"id": track["id"]})["data"]["track"]
    assert [a["id"] for a in everything["annotations"]] == [mine["id"], theirs["id"]]
