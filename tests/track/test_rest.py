"""Tracks and annotation tracks through raw REST: exact JSON, envelopes, statuses, the rules of
contract images-annotations.md §4, and undo of a track delete."""

from __future__ import annotations

from typing import Any

from tests.factories import abstract_image, add_image
from tests.harness import assert_error

TRACK_CLASS = "be.cytomine.domain.ontology.Track"
LINK_CLASS = "be.cytomine.domain.ontology.AnnotationTrack"
ANNOTATION_CLASS = "be.cytomine.domain.ontology.UserAnnotation"


def epoch_ms(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) == 13


def test_track_create_read_update_delete_exact_json(api, scene):
    image, project = scene["image"]["id"], scene["project"]["id"]
    body = {"name": "nucleus-7", "color": "#ff0000", "image": image, "project": 999999999,
            "class": TRACK_CLASS}  # fmt: skip
    response = api.post("/api/track.json", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    track = answer["track"]
    tid = track["id"]
    assert answer == {
        "message": f"Track {tid} (nucleus-7) added", "printMessage": True,
        "callback": {"method": "be.cytomine.AddTrackCommand", "trackID": str(tid)},
        "command": answer["command"], "track": track,
    }  # fmt: skip
    assert isinstance(answer["command"], int)
    assert track == {"class": TRACK_CLASS, "id": tid, "created": track["created"],
                     "updated": track["updated"], "name": "nucleus-7", "color": "#ff0000",
                     "image": image, "project": project}  # fmt: skip
    assert epoch_ms(track["created"]) and epoch_ms(track["updated"])
    assert api.get(f"/api/track/{tid}.json").json() == track

    edited = api.put(f"/api/track/{tid}.json", json={**track, "name": "nucleus-8", "color": None})
    assert edited.status_code == 200, edited.text
    assert edited.json()["message"] == f"Track {tid} (nucleus-8) edited"
    assert edited.json()["callback"] == {"method": "be.cytomine.EditTrackCommand",
                                         "trackID": str(tid)}  # fmt: skip
    assert {k: edited.json()["track"][k] for k in ("name", "color", "image", "project")} == {
        "name": "nucleus-8", "color": None, "image": image, "project": project}  # fmt: skip

    removed = api.delete(f"/api/track/{tid}.json")
    assert removed.status_code == 200, removed.text
    assert removed.json()["callback"] == {"method": "be.cytomine.DeleteTrackCommand",
                                          "trackID": str(tid)}  # fmt: skip
    assert removed.json()["track"]["name"] == "nucleus-8"
    gone = assert_error(api.get(f"/api/track/{tid}.json"), 404)
    assert gone["errors"] == {"message": f"Track not found with filters : {{id={tid}}}"}


def test_track_name_is_unique_within_its_image_only(api, scene, make_track):
    make_track(api, "cell")
    again = api.post("/api/track.json", json={"name": "cell", "image": scene["image"]["id"]})
    body = assert_error(again, 409)
    assert body["errors"] == "Track cell already exist in this image!" and body["success"] is False
    other = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    elsewhere = api.post("/api/track.json", json={"name": "cell", "image": other["id"]})
    assert elsewhere.status_code == 200, elsewhere.text
    second = make_track(api, "cell-2")
    renamed = api.put(f"/api/track/{second['id']}.json", json={**second, "name": "cell"})
    assert_error(renamed, 409)


def test_track_needs_an_image_and_a_name(api, scene):
    assert_error(api.post("/api/track.json", json={"name": "x"}), 404)
    assert_error(api.post("/api/track.json", json={"name": "x", "image": 999999999}), 404)
    assert_error(api.post("/api/track.json", json={"image": scene["image"]["id"]}), 400)
    assert_error(api.post("/api/track.json", json={"name": "  ", "image": scene["image"]["id"]}),
                 400)  # fmt: skip
    made = api.post("/api/track.json", json={"name": "t", "image": scene["image"]["id"]}).json()
    assert_error(api.put(f"/api/track/{made['track']['id']}.json", json={"name": "t2"}), 404)
    assert api.get(f"/api/imageinstance/{scene['image']['id']}/track.json").json()["size"] == 1


def test_track_listings_by_project_and_image_sorted_by_name_and_paged(api, scene, make_track):
    for name in ("b", "c", "a"):
        make_track(api, name)
    other = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    api.post("/api/track.json", json={"name": "d", "image": other["id"]})
    of_project = api.get(f"/api/project/{scene['project']['id']}/track.json").json()
    assert [t["name"] for t in of_project["collection"]] == ["a", "b", "c", "d"]
    assert (of_project["size"], of_project["perPage"], of_project["totalPages"]) == (4, 4, 1)
    assert all(t["class"] == TRACK_CLASS for t in of_project["collection"])
    of_image = api.get(f"/api/imageinstance/{scene['image']['id']}/track.json",
                       params={"max": 2, "offset": 1}).json()  # fmt: skip
    assert [t["name"] for t in of_image["collection"]] == ["b", "c"]
    assert {k: of_image[k] for k in ("offset", "perPage", "size", "totalPages")} == {
        "offset": 1, "perPage": 2, "size": 3, "totalPages": 2}  # fmt: skip
    assert_error(api.get("/api/project/999999999/track.json"), 404)
    assert_error(api.get("/api/imageinstance/999999999/track.json"), 404)


def test_annotation_track_create_show_list_delete_exact_json(api, scene, annotate, make_track):
    track = make_track(api)
    upper = annotate(api, slice_index=1)
    lower = annotate(api, slice_index=0, location="POINT (20 20)")
    response = api.post("/api/annotationtrack.json",
                        json={"annotationIdent": upper["id"], "track": track["id"],
                              "annotationClassName": ANNOTATION_CLASS})  # fmt: skip
    assert response.status_code == 200, response.text
    answer = response.json()
    link = answer["annotationtrack"]
    assert answer == {
        "message": f"AnnotationTrack {upper['id']} ({track['id']}) added", "printMessage": True,
        "callback": {"method": "be.cytomine.AddAnnotationTrackCommand",
                     "annotationtrackID": str(link["id"])},
        "command": answer["command"], "annotationtrack": link,
    }  # fmt: skip
    assert link == {"class": LINK_CLASS, "id": link["id"], "created": link["created"],
                    "updated": link["updated"], "annotationIdent": upper["id"],
                    "annotationClassName": ANNOTATION_CLASS, "track": track["id"],
                    "slice": scene["slices"][1]}  # fmt: skip
    assert epoch_ms(link["created"])

    path_form = api.post(f"/api/annotationtrack/{lower['id']}/{track['id']}.json")  # no body
    assert path_form.status_code == 200, path_form.text
    assert path_form.json()["annotationtrack"]["slice"] == scene["slices"][0]

    shown = api.get(f"/api/annotationtrack/{upper['id']}/{track['id']}.json")
    assert shown.json() == link
    of_track = api.get(f"/api/track/{track['id']}/annotationtrack.json").json()
    assert [item["annotationIdent"] for item in of_track["collection"]] == [lower["id"],
                                                                           upper["id"]]  # fmt: skip
    assert of_track["size"] == 2  # plane order: slice 0 before slice 1, whatever the creation
    of_annotation = api.get(f"/api/annotation/{upper['id']}/annotationtrack.json").json()
    assert of_annotation["collection"] == [link]

    removed = api.delete(f"/api/annotationtrack/{upper['id']}/{track['id']}.json")
    assert removed.status_code == 200, removed.text
    assert removed.json()["callback"]["method"] == "be.cytomine.DeleteAnnotationTrackCommand"
    assert removed.json()["annotationtrack"] == link
    assert_error(api.get(f"/api/annotationtrack/{upper['id']}/{track['id']}.json"), 404)
    assert_error(api.delete(f"/api/annotationtrack/{upper['id']}/{track['id']}.json"), 404)
    assert api.get(f"/api/annotation/{upper['id']}.json").status_code == 200  # it stays


def test_annotation_track_rules(api, scene, annotate, make_track):
    track = make_track(api)
    first = annotate(api, slice_index=0)
    same_slice = annotate(api, slice_index=0, location="POINT (30 30)")
    link = {"annotationIdent": first["id"], "track": track["id"]}
    assert api.post("/api/annotationtrack.json", json=link).status_code == 200
    assert_error(api.post("/api/annotationtrack.json", json=link), 409)  # same pair
    taken = {"annotationIdent": same_slice["id"], "track": track["id"]}
    assert_error(api.post("/api/annotationtrack.json", json=taken), 409)  # slice taken
    unknown = {"annotationIdent": 999999999, "track": track["id"]}
    assert_error(api.post("/api/annotationtrack.json", json=unknown), 404)
    no_track = {"annotationIdent": same_slice["id"], "track": 999999999}
    assert_error(api.post("/api/annotationtrack.json", json=no_track), 404)
    assert_error(api.post(f"/api/annotationtrack/{same_slice['id']}/999999999.json"), 404)
    other = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    foreign = api.post("/api/track.json", json={"name": "f", "image": other["id"]}).json()
    wrong_image = {"annotationIdent": same_slice["id"], "track": foreign["track"]["id"]}
    assert_error(api.post("/api/annotationtrack.json", json=wrong_image), 400)
    assert_error(api.get(f"/api/annotationtrack/999999999/{track['id']}.json"), 404)
    assert_error(api.get("/api/track/999999999/annotationtrack.json"), 404)
    assert_error(api.get("/api/annotation/999999999/annotationtrack.json"), 404)
    links = api.get(f"/api/track/{track['id']}/annotationtrack.json").json()
    assert [item["annotationIdent"] for item in links["collection"]] == [first["id"]]
    later = annotate(api, slice_index=1, location="POINT (40 40)")
    assert api.post(f"/api/annotationtrack/{later['id']}/{track['id']}.json").status_code == 200
    moved = {**later, "slice": scene["slices"][0]}  # onto the slice the track holds already
    assert_error(api.put(f"/api/userannotation/{later['id']}.json", json=moved), 409)
    assert api.get(f"/api/userannotation/{later['id']}.json").json()["slice"] == later["slice"]


def test_annotation_created_with_tracks_and_deleted_leaves_the_track(api, scene, make_track):
    track = make_track(api)
    body = {"location": "POINT (5 5)", "slice": scene["slices"][0], "track": [track["id"]]}
    made = api.post("/api/annotation.json", json=body)
    assert made.status_code == 200, made.text
    annotation = made.json()["annotation"]
    links = api.get(f"/api/track/{track['id']}/annotationtrack.json").json()["collection"]
    assert [item["annotationIdent"] for item in links] == [annotation["id"]]
    assert api.delete(f"/api/annotation/{annotation['id']}.json").status_code == 200
    assert api.get(f"/api/track/{track['id']}/annotationtrack.json").json()["size"] == 0
    assert api.get(f"/api/track/{track['id']}.json").status_code == 200


def test_undo_of_a_track_delete_restores_it_with_its_links_and_redo_deletes_again(
    api, scene, annotate, make_track
):
    track = make_track(api, "followed")
    made = [annotate(api, slice_index=i, location=f"POINT ({i + 1} {i + 1})") for i in (0, 1)]
    for annotation in made:
        api.post(f"/api/annotationtrack/{annotation['id']}/{track['id']}.json")
    before = api.get(f"/api/track/{track['id']}/annotationtrack.json").json()["collection"]
    assert len(before) == 2
    assert api.delete(f"/api/track/{track['id']}.json").status_code == 200
    assert api.get(f"/api/annotationtrack/{made[0]['id']}/{track['id']}.json").status_code == 404

    undone = api.get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert [item["callback"]["method"] for item in undone.json()["collection"]] == [
        "be.cytomine.AddTrackCommand"]  # fmt: skip
    assert api.get(f"/api/track/{track['id']}.json").json()["name"] == "followed"
    after = api.get(f"/api/track/{track['id']}/annotationtrack.json").json()["collection"]
    assert after == before  # same ids, same slices, same dates

    assert api.get("/api/command/redo.json").status_code == 200
    assert api.get(f"/api/track/{track['id']}.json").status_code == 404
    assert api.get(f"/api/annotation/{made[0]['id']}/annotationtrack.json").json()["size"] == 0
    assert api.get(f"/api/annotation/{made[0]['id']}.json").status_code == 200


def test_track_moves_to_another_image_only_while_empty(api, scene, annotate, make_track):
    other = add_image(api, scene["project"]["id"], abstract_image(api)["id"])
    empty, held = make_track(api, "empty"), make_track(api, "held")
    api.post(f"/api/annotationtrack/{annotate(api)['id']}/{held['id']}.json")
    moved = api.put(f"/api/track/{empty['id']}.json", json={**empty, "image": other["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["track"]["image"] == other["id"]
    assert_error(api.put(f"/api/track/{held['id']}.json", json={**held, "image": other["id"]}),
                 400)  # fmt: skip
    assert api.get(f"/api/track/{held['id']}.json").json()["image"] == scene["image"]["id"]


def test_annotation_tracks_posted_as_an_array_are_made_one_by_one(api, scene, annotate, make_track):
    track = make_track(api)
    lower, upper = annotate(api, slice_index=0), annotate(api, slice_index=1)
    same_slice = annotate(api, slice_index=0, location="POINT (40 40)")
    body = [{"annotationIdent": a["id"], "track": track["id"]} for a in (lower, upper, same_slice)]
    response = api.post("/api/annotationtrack.json", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == 206 and len(answer["data"]["errors"]) == 1
    links = api.get(f"/api/track/{track['id']}/annotationtrack.json").json()["collection"]
    assert [item["annotationIdent"] for item in links] == [lower["id"], upper["id"]]
