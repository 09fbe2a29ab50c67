"""Tracks and annotation tracks through the official cytomine-python-client 4.3.0."""

from __future__ import annotations

from typing import Any

from cytomine.models import Annotation, AnnotationTrack, Track, TrackCollection

from tests.factories import abstract_image, add_image

TRACK_CLASS = "be.cytomine.domain.ontology.Track"
ANNOTATION_CLASS = "be.cytomine.domain.ontology.UserAnnotation"


def test_track_save_fetch_update_delete(client: Any, scene: dict[str, Any]) -> None:
    image = scene["image"]["id"]
    track = Track("nucleus", image, "#00ff00").save()
    assert track and isinstance(track.id, int)
    assert track.class_ == TRACK_CLASS
    assert (track.name, track.color, track.image, track.project) == (
        "nucleus", "#00ff00", image, scene["project"]["id"])  # fmt: skip

    fetched = Track().fetch(track.id)
    assert (fetched.name, fetched.color, fetched.image) == ("nucleus", "#00ff00", image)
    fetched.name = "nucleus-2"
    fetched.color = "#0000ff"
    updated = fetched.update()
    assert (updated.name, updated.color) == ("nucleus-2", "#0000ff")
    assert Track().fetch(track.id).name == "nucleus-2"

    assert Track().delete(track.id)
    assert not Track().fetch(track.id)


def test_track_collection_save_and_fetch_by_image_and_project(
    client: Any, api: Any, scene: dict[str, Any]
) -> None:
    image = scene["image"]["id"]
    other = add_image(api, scene["project"]["id"], abstract_image(api)["id"])["id"]
    bulk = TrackCollection()
    bulk.extend([Track(f"t{i:02}", image if i % 2 else other) for i in range(10)])
    assert bulk.save() is True

    of_image = TrackCollection().fetch_with_filter("imageinstance", image)
    assert [t.name for t in of_image] == ["t01", "t03", "t05", "t07", "t09"]
    of_project = TrackCollection(filters={"project": scene["project"]["id"]}).fetch()
    assert sorted(t.name for t in of_project) == [f"t{i:02}" for i in range(10)]
    assert all(t.project == scene["project"]["id"] for t in of_project)
    paged = TrackCollection(filters={"project": scene["project"]["id"]}).fetch(max=5)
    assert len(paged) == 10  # by pages of 5 (the client pages size // max times, core.md §4.2)


def test_annotation_track_save_fetch_delete(client: Any, scene: dict[str, Any]) -> None:
    track = Track("followed", scene["image"]["id"]).save()
    annotation = Annotation("POINT (10 10)", scene["image"]["id"],
                            id_slice=scene["slices"][0]).save()  # fmt: skip
    link = AnnotationTrack(ANNOTATION_CLASS, annotation.id, track.id).save()
    assert link and isinstance(link.id, int)
    assert (link.annotationIdent, link.track, link.slice) == (
        annotation.id, track.id, scene["slices"][0])  # fmt: skip

    fetched = AnnotationTrack().fetch(annotation.id, track.id)
    assert fetched and fetched.id == link.id
    assert fetched.annotationClassName == ANNOTATION_CLASS

    taken = Annotation("POINT (20 20)", scene["image"]["id"], id_slice=scene["slices"][0]).save()
    assert not AnnotationTrack(ANNOTATION_CLASS, taken.id, track.id).save()  # 409: slice taken

    assert fetched.delete()  # DELETE annotationtrack/{annotation}/{track}.json
    assert not AnnotationTrack().fetch(annotation.id, track.id)
    assert Annotation().fetch(annotation.id)
