"""End-to-end flows of the official cytomine-python-client 4.3.0, as an image-analysis
researcher scripts them: connect, browse projects and images, dump pixels, build an ontology,
annotate (single and bulk), list with the collection's filters and pages, review, attach
metadata, manage members, upload, and follow tracks. One small real image per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from cytomine.models import (
    Annotation,
    AnnotationCollection,
    AnnotationTerm,
    AnnotationTrack,
    AttachedFile,
    AttachedFileCollection,
    CurrentUser,
    Description,
    ImageInstance,
    ImageInstanceCollection,
    Ontology,
    Project,
    ProjectCollection,
    Property,
    PropertyCollection,
    SliceInstance,
    SliceInstanceCollection,
    Storage,
    StorageCollection,
    Tag,
    TagCollection,
    TagDomainAssociation,
    TagDomainAssociationCollection,
    Term,
    TermCollection,
    Track,
    TrackCollection,
    UploadedFile,
    UploadedFileCollection,
    User,
    UserCollection,
)

from tests.factories import first_storage
from tests.harness import Api
from tests.imaging.pictures import expected, flat

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")

WIDTH, HEIGHT = 600, 400


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return flat(tmp_path_factory.mktemp("flows") / "slide.png", WIDTH, HEIGHT)


@pytest.fixture
def study(client: Any, api: Api, picture: Path) -> dict[str, Any]:
    """What a researcher starts from: an ontology (Tumour, Stroma), a project using it and one
    uploaded image in it, all made through the client."""
    ontology = Ontology("Histology").save()
    tumour = Term("Tumour", ontology.id, "#FF0000").save()
    stroma = Term("Stroma", ontology.id, "#00FF00").save()
    project = Project("Study", ontology.id).save()
    uploaded = client.upload_image(str(picture), first_storage(api), project.id, sync=True)
    assert uploaded, "upload_image returned False"
    (image,) = ImageInstanceCollection().fetch_with_filter("project", project.id)
    return {"ontology": ontology, "tumour": tumour, "stroma": stroma, "project": project,
            "image": image, "uploaded": uploaded}  # fmt: skip


def _decode(path: Path) -> np.ndarray:
    image = pyvips.Image.new_from_file(str(path))
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8,
                      shape=(image.height, image.width, image.bands))  # fmt: skip


def test_connect_browse_projects_and_images(client: Any, study: dict[str, Any]) -> None:
    me = CurrentUser().fetch()
    assert me.id == client.current_user.id and me.username
    projects = ProjectCollection().fetch()
    assert [p.id for p in projects] == [study["project"].id]
    mine = ProjectCollection().fetch_with_filter("user", me.id)
    assert [p.name for p in mine] == ["Study"]
    by_ontology = ProjectCollection().fetch_with_filter("ontology", study["ontology"].id)
    assert [p.id for p in by_ontology] == [study["project"].id]
    project = Project().fetch(study["project"].id)
    assert (project.ontology, project.numberOfImages) == (study["ontology"].id, 1)
    (image,) = ImageInstanceCollection().fetch_with_filter("project", project.id)
    assert (image.width, image.height, image.project) == (WIDTH, HEIGHT, project.id)
    assert image.originalFilename == "slide.png" and image.instanceFilename == "slide.png"
    assert image.numberOfAnnotations == 0


def test_image_dump_download_and_window(client: Any, study: dict[str, Any],
                                        tmp_path: Path, picture: Path) -> None:  # fmt: skip
    image = ImageInstance().fetch(study["image"].id)
    assert image.dump(str(tmp_path / "thumbs" / "{id}.png"), max_size=128)
    assert image.filename == str(tmp_path / "thumbs" / f"{image.id}.png")
    assert max(_decode(Path(image.filename)).shape[:2]) == 128
    assert image.dump(str(tmp_path / "{originalFilename}-{id}.jpg"))
    assert Path(image.filename).name == f"slide.png-{image.id}.jpg"
    assert image.download(str(tmp_path / "original" / "{originalFilename}"))
    assert (tmp_path / "original" / "slide.png").read_bytes() == picture.read_bytes()
    assert image.window(10, 20, 30, 40, str(tmp_path / "w-{id}-{x}-{y}-{w}-{h}.png"))
    window = _decode(tmp_path / f"w-{image.id}-10-20-30-40.png")
    assert window.shape[:2] == (40, 30) and tuple(window[0, 0, :3]) == expected(10, 20)


def test_slices_reference_dump_and_window(client: Any, study: dict[str, Any],
                                          tmp_path: Path) -> None:  # fmt: skip
    image = study["image"]
    reference = image.reference_slice()
    assert isinstance(reference, SliceInstance) and reference.image == image.id
    (piece,) = SliceInstanceCollection().fetch_with_filter("imageinstance", image.id)
    assert (piece.id, piece.channel, piece.zStack, piece.time) == (reference.id, 0, 0, 0)
    fetched = SliceInstance().fetch(piece.id)
    assert fetched.dump(str(tmp_path / "slice-{id}.png"), max_size=64)
    assert max(_decode(Path(fetched.filename)).shape[:2]) == 64
    assert fetched.window(5, 6, 7, 8, str(tmp_path / "sw.png"))
    window = _decode(tmp_path / "sw.png")
    assert window.shape[:2] == (8, 7) and tuple(window[0, 0, :3]) == expected(5, 6)


def test_ontology_terms_by_ontology_and_project(client: Any, study: dict[str, Any]) -> None:
    ontology = study["ontology"]
    child = Term("Necrosis", ontology.id, "#0000FF", study["tumour"].id).save()
    assert child.parent == study["tumour"].id
    by_ontology = TermCollection().fetch_with_filter("ontology", ontology.id)
    assert sorted(t.name for t in by_ontology) == ["Necrosis", "Stroma", "Tumour"]
    assert {t.name: t.parent for t in by_ontology}["Necrosis"] == study["tumour"].id
    by_project = TermCollection().fetch_with_filter("project", study["project"].id)
    assert sorted(t.id for t in by_project) == sorted(t.id for t in by_ontology)
    fetched = Ontology().fetch(ontology.id)
    assert fetched.name == "Histology"
    assert [p["id"] for p in fetched.projects] == [study["project"].id]


def test_annotations_single_bulk_and_filtered_listing(client: Any, study: dict[str, Any],
                                                      make_user: Any) -> None:  # fmt: skip
    image, tumour, stroma = study["image"], study["tumour"].id, study["stroma"].id
    single = Annotation("POINT (10 10)", image.id, [tumour]).save()
    assert single and single.term == [tumour] and single.slice == image.reference_slice().id
    bulk = AnnotationCollection()
    for i in range(7):
        bulk.append(Annotation(f"POLYGON(({i * 50} 0, {i * 50 + 40} 0, {i * 50 + 40} 40, "
                               f"{i * 50} 40, {i * 50} 0))", image.id, [stroma]))  # fmt: skip
    assert bulk.save(chunk=3)
    project = study["project"].id
    me = client.current_user.id
    listed = AnnotationCollection(project=project, image=image.id, user=me, term=stroma,
                                  showWKT=True, showTerm=True, showMeta=True, showGIS=True,
                                  ).fetch()  # fmt: skip
    assert len(listed) == 7
    first = listed[0]
    assert first.location.startswith("POLYGON") and first.term == [stroma]
    assert (first.image, first.project, first.user) == (image.id, project, me)
    assert first.area > 0 and first.perimeter > 0 and first.centroid
    assert first.created and first.class_ == "be.cytomine.domain.ontology.UserAnnotation"
    everything = AnnotationCollection(project=project, showTerm=True).fetch()
    assert len(everything) == 8
    nobody = make_user()
    theirs = AnnotationCollection(project=project, user=nobody["id"]).fetch()
    assert theirs is not False and len(theirs) == 0
    in_box = AnnotationCollection(project=project, image=image.id, bbox="0,0,45,45",
                                  showWKT=True).fetch()  # fmt: skip
    assert sorted(a.location.split(" ")[0] for a in in_box) == ["POINT", "POLYGON"]
    assert Project().fetch(project).numberOfAnnotations == 8
    assert ImageInstance().fetch(image.id).numberOfAnnotations == 8


def test_annotation_paging(client: Any, study: dict[str, Any]) -> None:
    image = study["image"]
    bulk = AnnotationCollection()
    for i in range(9):
        bulk.append(Annotation(f"POINT ({i} {i})", image.id))
    assert bulk.save()
    project = study["project"].id
    page = AnnotationCollection(project=project, max=4, offset=0, showWKT=True)
    assert page._fetch()
    seen = [a.id for a in page]
    assert len(seen) == 4 and page._total == 9
    assert page.fetch_next_page()
    seen += [a.id for a in page]
    assert page.fetch_next_page()
    seen += [a.id for a in page]
    assert len(seen) == 9 and len(set(seen)) == 9
    assert page.fetch_previous_page() and len(page) == 4
    paged = AnnotationCollection(project=project).fetch(max=3)
    assert len({a.id for a in paged}) == 9


def test_annotation_dump_review_and_terms(client: Any, study: dict[str, Any],
                                          tmp_path: Path) -> None:  # fmt: skip
    image, tumour, stroma = study["image"], study["tumour"].id, study["stroma"].id
    box = f"POLYGON((100 {HEIGHT - 100}, 180 {HEIGHT - 100}, 180 {HEIGHT - 160}, " \
          f"100 {HEIGHT - 160}, 100 {HEIGHT - 100}))"  # fmt: skip
    made = Annotation(box, image.id, [tumour]).save()
    assert made.dump(str(tmp_path / "{id}.png"))
    crop = _decode(Path(made.filename))
    assert crop.shape[:2] == (60, 80) and tuple(crop[0, 0, :3]) == expected(100, 100)
    assert made.dump(str(tmp_path / "{id}-z1.png"), zoom=1)
    assert _decode(Path(made.filename)).shape[:2] == (30, 40)
    assert made.dump(str(tmp_path / "{id}-mask.png"), mask=True)
    assert _decode(Path(made.filename))[30, 40, 0] == 255
    assert made.dump(str(tmp_path / "{id}-alpha.jpg"), mask=True, alpha=True)
    assert _decode(Path(made.filename)).shape[2] == 4  # PNG bytes, named as asked
    assert made.dump(str(tmp_path / "{id}-default"))  # no extension: jpg
    assert made.filename.endswith("-default.jpg")

    assert AnnotationTerm(made.id, stroma).save()
    assert sorted(Annotation().fetch(made.id).term) == sorted([tumour, stroma])
    link = AnnotationTerm().fetch(made.id, stroma)
    assert (link.userannotation, link.term, link.user) == (made.id, stroma,
                                                           client.current_user.id)  # fmt: skip
    assert AnnotationTerm().fetch(made.id, tumour).delete()
    assert Annotation().fetch(made.id).term == [stroma]
    by_annotation = TermCollection().fetch_with_filter("annotation", made.id)
    assert [t.term for t in by_annotation] == [stroma]  # AnnotationTerm fields (§5 terms)

    assert client.post(f"imageinstance/{image.id}/review.json")  # no model method starts it
    assert made.review()
    second = Annotation("POINT (300 300)", image.id, [tumour]).save()
    assert second.review([stroma, tumour])  # form-encoded `terms=..&terms=..`
    project = study["project"].id
    listed = AnnotationCollection(project=project, reviewed=True, showTerm=True,
                                  showWKT=True).fetch()  # fmt: skip
    by_parent = {a.parentIdent: a for a in listed}
    assert by_parent.keys() == {made.id, second.id}
    assert by_parent[made.id].term == [stroma]
    assert sorted(by_parent[second.id].term) == sorted([stroma, tumour])
    assert by_parent[made.id].location == Annotation().fetch(made.id).location
    assert ImageInstance().fetch(image.id).numberOfReviewedAnnotations == 2


def test_metadata_on_an_annotation(client: Any, study: dict[str, Any], tmp_path: Path) -> None:
    made = Annotation("POINT (5 5)", study["image"].id).save()
    annotation = Annotation().fetch(made.id)
    assert Property(annotation, "cells", "12").save()
    assert PropertyCollection(annotation).fetch().as_dict()["cells"].value == "12"
    assert Property(annotation).fetch(key="cells").value == "12"
    notes = tmp_path / "notes.csv"
    notes.write_text("cell,area\n1,3.5\n")
    attached = AttachedFile(annotation, str(notes)).save()
    assert attached and attached.id
    (listed,) = AttachedFileCollection(annotation).fetch()
    assert listed.filename == "notes.csv"  # the base name of the path the client sends
    target = tmp_path / "back.csv"
    assert AttachedFile(annotation, id=listed.id).download(str(target), override=True)
    assert target.read_bytes() == notes.read_bytes()
    described = Description(annotation, "<p>a mitosis</p>").save()
    assert described and described.data == "<p>a mitosis</p>"
    assert Description(annotation).fetch().data == "<p>a mitosis</p>"


def test_tags_on_project_and_image(client: Any, study: dict[str, Any]) -> None:
    project = Project().fetch(study["project"].id)
    image = ImageInstance().fetch(study["image"].id)
    tag = Tag("to-review").save()
    assert tag and tag.name == "to-review"
    assert "to-review" in [t.name for t in TagCollection().fetch()]
    for target in (project, image):
        linked = TagDomainAssociation(target, tag.id).save()
        assert linked and linked.tag == tag.id and linked.domainIdent == target.id
        (listed,) = TagDomainAssociationCollection(target).fetch()
        assert (listed.id, listed.tag) == (linked.id, tag.id)
        assert TagDomainAssociation(target).delete(linked.id)
        assert len(TagDomainAssociationCollection(target).fetch()) == 0


def test_users_members_and_roles(client: Any, study: dict[str, Any]) -> None:
    project = Project().fetch(study["project"].id)
    alice = User("alice", "Alice", "Liddell", "alice@example.org", "password-123").save()
    assert alice and alice.id
    bob = User("bob", "Bob", "Builder", "bob@example.org", "password-123").save()
    assert project.add_user(alice.id)
    assert project.add_user(bob.id, admin=True)
    members = UserCollection().fetch_with_filter("project", project.id)
    assert {"alice", "bob"} <= {u.username for u in members}
    admins = UserCollection(admin=True).fetch_with_filter("project", project.id)
    assert "bob" in {u.username for u in admins} and "alice" not in {u.username for u in admins}
    assert [p.id for p in ProjectCollection().fetch_with_filter("user", alice.id)] == [project.id]
    assert project.delete_user(bob.id, admin=True)
    admins = UserCollection(admin=True).fetch_with_filter("project", project.id)
    assert "bob" not in {u.username for u in admins}
    assert project.delete_user(alice.id)
    assert ProjectCollection().fetch_with_filter("user", alice.id) is not False
    assert len(ProjectCollection().fetch_with_filter("user", alice.id)) == 0
    everyone = UserCollection().fetch()
    assert {"alice", "bob"} <= {u.username for u in everyone}


def test_storage_uploaded_files_and_upload(client: Any, study: dict[str, Any],
                                           picture: Path) -> None:  # fmt: skip
    storages = StorageCollection().fetch()
    storage = Storage().fetch(storages[0].id)
    assert storage.user == client.current_user.id
    uploaded = study["uploaded"]
    assert (uploaded.originalFilename, uploaded.storage) == ("slide.png", storage.id)
    fetched = UploadedFile().fetch(uploaded.id)
    assert (fetched.status, fetched.size, fetched.contentType) == (
        UploadedFile.DEPLOYED, picture.stat().st_size, "PNG")  # fmt: skip
    assert fetched.projects == [study["project"].id]
    files = UploadedFileCollection().fetch()
    assert uploaded.id in [f.id for f in files]
    again = client.upload_image(str(picture), storage.id, study["project"].id,
                                properties={"scanner": "X"}, sync=True)  # fmt: skip
    assert again and again.id != uploaded.id
    assert len(ImageInstanceCollection().fetch_with_filter("project", study["project"].id)) == 2


def test_tracks_and_annotation_tracks(client: Any, study: dict[str, Any]) -> None:
    image = study["image"]
    track = Track("cell-1", image.id, "#112233").save()
    assert track and track.project == study["project"].id
    first = Annotation("POINT (1 1)", image.id, id_tracks=[track.id]).save()
    assert first and first.track == [track.id]
    other = Track("cell-2", image.id, "#445566").save()
    second = Annotation("POINT (2 2)", image.id).save()
    assert AnnotationTrack(id_annotation=second.id, id_track=other.id).save()
    listed = AnnotationCollection(project=study["project"].id, tracks=[track.id, other.id],
                                  showTrack=True).fetch()  # fmt: skip
    assert sorted((a.id, tuple(a.track)) for a in listed) == sorted(
        [(first.id, (track.id,)), (second.id, (other.id,))])  # fmt: skip
    (only,) = AnnotationCollection(project=study["project"].id, track=other.id).fetch()
    assert only.id == second.id
    both = sorted([track.id, other.id])
    assert sorted(t.id for t in TrackCollection().fetch_with_filter("imageinstance", image.id)) \
        == both  # fmt: skip
    assert sorted(t.id for t in TrackCollection().fetch_with_filter(
        "project", study["project"].id)) == both  # fmt: skip
    link = AnnotationTrack().fetch(second.id, other.id)
    assert (link.annotationIdent, link.track) == (second.id, other.id)
    assert link.delete()
    assert not AnnotationTrack().fetch(second.id, other.id)


def test_annotation_collection_show_groups_and_list_filters(client: Any, study: dict[str, Any],
                                                            make_user: Any) -> None:  # fmt: skip
    image, tumour, stroma = study["image"], study["tumour"].id, study["stroma"].id
    project = study["project"].id
    both = Annotation("POINT (10 10)", image.id, [tumour, stroma]).save()
    bare = Annotation("POINT (20 20)", image.id).save()
    only = Annotation("POINT (30 30)", image.id, [tumour]).save()
    shown = AnnotationCollection(project=project, showUser=True, showImage=True, showSlice=True,
                                 showTerm=True, showGIS=True).fetch()  # fmt: skip
    row = {a.id: a for a in shown}[only.id]
    assert (row.creator, row.originalFilename, row.instanceFilename) == (
        client.current_user.username, "slide.png", "slide.png")  # fmt: skip
    assert (row.channel, row.zStack, row.time, row.term) == (0, 0, 0, [tumour])
    assert row.centroid == {"x": 30.0, "y": 30.0}
    assert [a.id for a in AnnotationCollection(project=project, noTerm=True).fetch()] == [bare.id]
    assert [a.id for a in AnnotationCollection(project=project, multipleTerm=True).fetch()] == [
        both.id]  # fmt: skip
    by_terms = AnnotationCollection(project=project, terms=[tumour, stroma]).fetch()
    assert sorted(a.id for a in by_terms) == sorted([both.id, only.id])
    by_images = AnnotationCollection(project=project, images=[image.id]).fetch()
    assert len(by_images) == 3
    slice_id = image.reference_slice().id
    assert len(AnnotationCollection(project=project, slice=slice_id).fetch()) == 3
    assert len(AnnotationCollection(project=project, slices=[slice_id]).fetch()) == 3
    near = AnnotationCollection(project=project, baseAnnotation=bare.id,
                                maxDistanceBaseAnnotation=15).fetch()  # fmt: skip
    assert sorted(a.id for a in near) == sorted([both.id, bare.id, only.id])
    closest = AnnotationCollection(project=project, baseAnnotation=bare.id,
                                   maxDistanceBaseAnnotation=5).fetch()  # fmt: skip
    assert [a.id for a in closest] == [bare.id]
    other = make_user()
    assert len(AnnotationCollection(project=project, users=[other["id"], client.current_user.id]
                                    ).fetch()) == 3  # fmt: skip
    hidden = AnnotationCollection(project=project, showMeta=True, showWKT=True,
                                  hideMeta=True).fetch()  # fmt: skip
    assert all(getattr(a, "image", None) is None and a.location for a in hidden)


def test_annotation_fetch_update_keeps_fields(client: Any, study: dict[str, Any]) -> None:
    image, tumour, stroma = study["image"], study["tumour"].id, study["stroma"].id
    track = Track("t", image.id, "#000000").save()
    made = Annotation("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", image.id, [tumour],
                      id_tracks=[track.id]).save()  # fmt: skip
    fetched = Annotation().fetch(made.id)
    assert fetched.track is None  # not in the domain JSON (§3.1); the listing shows it
    fetched.location = "POLYGON((0 0, 20 0, 20 20, 0 20, 0 0))"
    updated = fetched.update()
    assert updated and updated.area == 400.0  # px², the image has no calibration
    again = Annotation().fetch(made.id)
    assert (again.term, again.image, again.slice, again.user) == (
        [tumour], image.id, made.slice, made.user)  # fmt: skip
    assert again.location == "POLYGON ((0 0, 20 0, 20 20, 0 20, 0 0))"
    again.term = [stroma]  # ignored by an update (images-annotations.md §3.3)
    assert again.update()
    assert Annotation().fetch(made.id).term == [tumour]
    listed = AnnotationCollection(project=study["project"].id, showTrack=True).fetch()
    assert listed[0].track == [track.id]


def test_crops_of_a_collection(client: Any, study: dict[str, Any], tmp_path: Path) -> None:
    image = study["image"]
    bulk = AnnotationCollection()
    for i in range(3):
        bulk.append(Annotation(f"POLYGON(({i * 60} 0, {i * 60 + 30} 0, {i * 60 + 30} 20, "
                               f"{i * 60} 20, {i * 60} 0))", image.id))  # fmt: skip
    assert bulk.save()
    listed = AnnotationCollection(project=study["project"].id, showWKT=True).fetch()
    dumped = listed.dump_crops(str(tmp_path / "{project}" / "{id}.png"), n_workers=2,
                               max_size=16, increase_area=1.5)  # fmt: skip
    assert len(dumped) == 3
    for annotation in dumped:
        assert Path(annotation.filename).parent.name == str(study["project"].id)
        assert max(_decode(Path(annotation.filename)).shape[:2]) == 16


def test_included_annotations_of_an_area(client: Any, study: dict[str, Any]) -> None:
    image = study["image"]
    inside = Annotation("POINT (50 50)", image.id, [study["tumour"].id]).save()
    Annotation("POINT (500 300)", image.id).save()
    area = Annotation("POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))", image.id).save()
    included = AnnotationCollection(included=True, image=image.id, annotation=area.id,
                                    showTerm=True).fetch()  # fmt: skip
    assert included is not False
    assert [a.id for a in included] == [inside.id]  # §3.7: the area itself is excluded


def test_metadata_update_and_named_attached_file(client: Any, study: dict[str, Any],
                                                  tmp_path: Path) -> None:  # fmt: skip
    image = ImageInstance().fetch(study["image"].id)
    imported = len(PropertyCollection(image).fetch())  # copied from the abstract image
    stain = Property(image, "stain", "HE").save()
    stain.value = "IHC"
    assert stain.update() and Property(image).fetch(key="stain").value == "IHC"
    by_key = Property(image).fetch(key="stain")
    assert by_key.delete()
    assert len(PropertyCollection(image).fetch()) == imported
    report = tmp_path / "raw-report.txt"
    report.write_text("score: 3\n")
    attached = AttachedFile(image, filename="report.txt", file=str(report)).save()
    assert attached and attached.filename == "report.txt"
    assert attached.download(str(tmp_path / "{filename}"), override=True)
    assert (tmp_path / "report.txt").read_text() == "score: 3\n"
    described = Description(image, "first").save()
    described.data = "second"
    assert described.update()
    assert Description(image).fetch().data == "second"
    assert Description(image).fetch().delete()
    assert not Description(image).fetch()
    project = Project().fetch(study["project"].id)
    assert Description(project, "<b>study</b>").save()
    assert Description(project).fetch().data == "<b>study</b>"


def test_term_project_and_storage_round_trips(client: Any, study: dict[str, Any]) -> None:
    term = Term().fetch(study["tumour"].id)
    term.name = "Tumour cells"
    assert term.update()
    again = Term().fetch(term.id)
    assert (again.name, again.color, again.ontology) == ("Tumour cells", "#FF0000",
                                                         study["ontology"].id)  # fmt: skip
    project = Project().fetch(study["project"].id)
    project.name = "Study renamed"
    assert project.update()
    fetched = Project().fetch(project.id)
    assert (fetched.name, fetched.ontology, fetched.numberOfImages) == (
        "Study renamed", study["ontology"].id, 1)  # fmt: skip
    storage = Storage().fetch(StorageCollection().fetch()[0].id)
    storage.name = "My slides"
    assert storage.update()
    assert Storage().fetch(storage.id).name == "My slides"
    uploaded = UploadedFile().fetch(study["uploaded"].id)
    uploaded.originalFilename = "renamed.png"
    assert uploaded.update()
    after = UploadedFile().fetch(uploaded.id)
    assert (after.originalFilename, after.status, after.storage) == (
        "renamed.png", UploadedFile.DEPLOYED, storage.id)  # fmt: skip


def test_researcher_with_own_keys_shares_a_project(server: Any, client: Any, make_user: Any,
                                                   picture: Path) -> None:  # fmt: skip
    from cytomine import Cytomine

    alice, bob = make_user(), make_user()

    def connect(user: dict[str, Any]) -> Any:
        return Cytomine(server.url, user["keys"]["publicKey"], user["keys"]["privateKey"],
                        configure_logging=False)  # fmt: skip

    with connect(alice) as alices:
        me = CurrentUser().fetch()
        assert (me.id, me.username) == (alice["id"], alice["username"])
        assert alices.current_user.id == alice["id"]
        ontology = Ontology("Alice's").save()
        cell = Term("cell", ontology.id, "#123456").save()
        project = Project("Alice's study", ontology.id).save()
        assert project and project.add_user(bob["id"])
        (storage,) = StorageCollection().fetch()
        assert client_upload(alices, picture, storage.id, project.id)
        (image,) = ImageInstanceCollection().fetch_with_filter("project", project.id)
        assert Annotation("POINT (5 5)", image.id, [cell.id]).save()
    with connect(bob):
        assert [p.id for p in ProjectCollection().fetch()] == [project.id]
        (image,) = ImageInstanceCollection().fetch_with_filter("project", project.id)
        mine = Annotation("POINT (6 6)", image.id, [cell.id]).save()
        assert mine and mine.user == bob["id"]
        theirs = AnnotationCollection(project=project.id, user=alice["id"], showTerm=True).fetch()
        assert len(theirs) == 1 and theirs[0].term == [cell.id]
        assert len(AnnotationCollection(project=project.id).fetch()) == 2
        assert TermCollection().fetch_with_filter("project", project.id)[0].id == cell.id
        members = UserCollection().fetch_with_filter("project", project.id)
        assert {u.id for u in members} == {alice["id"], bob["id"]}
        assert not Project().fetch(project.id).update(name="hijacked")  # contributor: 403


def client_upload(connection: Any, picture: Path, storage: int, project: int) -> Any:
    """`upload_image` as a script calls it, waiting for the import."""
    return connection.upload_image(str(picture), storage, project, sync=True)


def test_segmentation_outputs_as_annotations(client: Any, study: dict[str, Any]) -> None:
    image, project = study["image"], study["project"].id
    assert not Annotation("POLYGON((0 0, 40 40, 40 0, 0 40, 0 0))", image.id).save()  # §3.3
    ring = ", ".join(f"{300 + 80 * np.cos(t):.3f} {200 + 80 * np.sin(t):.3f}"
                     for t in np.linspace(0, 2 * np.pi, 400, endpoint=False))  # fmt: skip
    first = ring.split(", ")[0]
    circle = Annotation(f"POLYGON(({ring}, {first}))", image.id).save()
    assert circle and circle.geometryCompression > 0
    assert circle.location.count(",") < 400
    outside = Annotation(f"POLYGON(({WIDTH - 10} 10, {WIDTH + 50} 10, {WIDTH + 50} 50, "
                         f"{WIDTH - 10} 50, {WIDTH - 10} 10))", image.id).save()  # fmt: skip
    assert outside and f"{WIDTH + 50}" not in outside.location  # clipped to the image
    blobs = Annotation("MULTIPOLYGON(((0 100, 10 100, 10 110, 0 110, 0 100)), "
                       "((20 100, 30 100, 30 110, 20 110, 20 100)))", image.id).save()  # fmt: skip
    assert blobs and blobs.location.startswith("MULTIPOLYGON")
    line = Annotation("LINESTRING (0 0, 100 100)", image.id).save()
    assert line and line.location == "LINESTRING (0 0, 100 100)"
    with_meta = Annotation("POINT (1 2)", image.id, property={"score": "0.9"}).save()
    assert with_meta
    assert PropertyCollection(Annotation().fetch(with_meta.id)).fetch().as_dict()[
        "score"].value == "0.9"  # fmt: skip
    assert not Annotation("POLYGON((0 0, 0.2 0, 0.2 0.2, 0 0.2, 0 0))", image.id).save()
    assert Project().fetch(project).numberOfAnnotations == 5


def test_reuse_an_uploaded_image_in_a_second_project(
    client: Any, study: dict[str, Any], tmp_path: Path, picture: Path
) -> None:
    from cytomine.models import AbstractImage, AbstractImageCollection, AbstractSliceCollection

    uploaded = study["uploaded"]
    base = uploaded.images[0]["abstractImage"]
    abstract = AbstractImage().fetch(base.id)
    assert (abstract.width, abstract.height, abstract.uploadedFile) == (WIDTH, HEIGHT,
                                                                        uploaded.id)  # fmt: skip
    assert abstract.download(str(tmp_path / "abstract-{originalFilename}"))
    assert (tmp_path / "abstract-slide.png").read_bytes() == picture.read_bytes()
    assert base.id in [a.id for a in AbstractImageCollection().fetch()]
    (piece,) = AbstractSliceCollection().fetch_with_filter("abstractimage", base.id)
    assert piece.image == base.id and piece.uploadedFile == uploaded.id
    (again,) = AbstractSliceCollection().fetch_with_filter("uploadedfile", uploaded.id)
    assert again.id == piece.id

    other = Project("Second look", study["ontology"].id).save()
    copy = ImageInstance(base.id, other.id).save()
    assert copy and (copy.baseImage, copy.project, copy.width) == (base.id, other.id, WIDTH)
    assert copy.reference_slice().baseSlice == piece.id
    assert copy.window(0, 0, 10, 10, str(tmp_path / "copy.png"))
    assert tuple(_decode(tmp_path / "copy.png")[9, 9, :3]) == expected(9, 9)
    Annotation("POINT (3 3)", copy.id, [study["tumour"].id]).save()
    assert len(AnnotationCollection(project=study["project"].id).fetch()) == 0
    assert len(AnnotationCollection(project=other.id).fetch()) == 1
    assert ImageInstance().delete(copy.id)
    assert Project().fetch(other.id).numberOfImages == 0
    assert AbstractImage().fetch(base.id)  # the other project still uses it


def test_delete_a_project_with_its_content(client: Any, study: dict[str, Any]) -> None:
    image = study["image"]
    made = Annotation("POINT (9 9)", image.id, [study["tumour"].id]).save()
    Property(Project().fetch(study["project"].id), "k", "v").save()
    Track("doomed", image.id, "#000000").save()
    assert Project().delete(study["project"].id)
    assert not Project().fetch(study["project"].id)
    assert not ImageInstance().fetch(image.id)
    assert not Annotation().fetch(made.id)
    assert len(ProjectCollection().fetch()) == 0
    ontology = Ontology().fetch(study["ontology"].id)
    assert ontology and Ontology().delete(ontology.id)  # no project uses it any more
    assert not Term().fetch(study["tumour"].id)


def test_uploaded_files_listings_and_storages(client: Any, study: dict[str, Any],
                                              make_user: Any) -> None:  # fmt: skip
    uploaded = study["uploaded"]
    mine = UploadedFileCollection().fetch()
    assert [f.id for f in mine] == [uploaded.id]
    assert [f.id for f in UploadedFileCollection(all=True).fetch()] == [uploaded.id]
    children = UploadedFileCollection(parent=uploaded.id).fetch()
    assert children is not False
    other = make_user()
    assert len(StorageCollection(all=True).fetch()) >= 2
    theirs = Storage("Shared", other["id"]).save()
    assert theirs and theirs.user == other["id"]
    assert Storage().fetch(theirs.id).name == "Shared"
    assert Storage().delete(theirs.id)


def test_python_booleans_and_user_lookups(client: Any, study: dict[str, Any],
                                          make_user: Any) -> None:  # fmt: skip
    image, project = study["image"], study["project"].id
    tagged = Annotation("POINT (4 4)", image.id, [study["tumour"].id]).save()
    plain = Annotation("POINT (8 8)", image.id).save()
    # the client sends Python's `False`/`True` spelling for every boolean attribute
    unreviewed = AnnotationCollection(project=project, reviewed=False, noTerm=False,
                                      multipleTerm=False, showTerm=False).fetch()  # fmt: skip
    assert sorted(a.id for a in unreviewed) == sorted([tagged.id, plain.id])
    assert all(getattr(a, "term", None) is None for a in unreviewed)
    no_wkt = AnnotationCollection(project=project, showWKT=False, showGIS=False).fetch()
    assert all(getattr(a, "location", None) is None for a in no_wkt)
    other = make_user()
    online = UserCollection(online=True).fetch_with_filter("project", project)
    assert online is not False
    assert User().fetch(other["id"]).username == other["username"]
    keys = User().fetch(other["id"]).keys()
    assert keys and keys["publicKey"] == other["keys"]["publicKey"]


def test_reviewed_crops_slice_annotations_and_tagged_annotations(
    client: Any, study: dict[str, Any], tmp_path: Path
) -> None:
    image = study["image"]
    slice_id = image.reference_slice().id
    made = Annotation("POLYGON((10 10, 50 10, 50 30, 10 30, 10 10))", id_slice=slice_id).save()
    assert made and (made.image, made.slice, made.project) == (image.id, slice_id,
                                                               study["project"].id)  # fmt: skip
    by_image = AnnotationCollection(image=image.id, showWKT=True).fetch()
    assert [a.id for a in by_image] == [made.id]
    later = AnnotationCollection(project=study["project"].id, afterThan=int(made.created) + 1000)
    assert len(later.fetch()) == 0
    assert client.post(f"imageinstance/{image.id}/review.json")
    assert made.review([study["tumour"].id])
    reviewed = AnnotationCollection(project=study["project"].id, reviewed=True,
                                    showWKT=True).fetch()  # fmt: skip
    assert "reviewedannotation" in reviewed[0].cropURL
    dumped = reviewed.dump_crops(str(tmp_path / "reviewed-{id}.png"))
    assert len(dumped) == 1 and _decode(Path(dumped[0].filename)).shape[:2] == (20, 40)

    annotation = Annotation().fetch(made.id)
    tag = Tag("mitosis").save()
    linked = TagDomainAssociation(annotation, tag.id).save()
    assert linked and linked.domainClassName == annotation.class_
    assert TagDomainAssociation(annotation).fetch(linked.id).tag == tag.id
    assert [t.tag for t in TagDomainAssociationCollection(annotation).fetch()] == [tag.id]
    tag.name = "mitoses"
    assert tag.update() and Tag().fetch(tag.id).name == "mitoses"


def test_thumbnail_options_a_script_passes(client: Any, study: dict[str, Any],
                                           tmp_path: Path) -> None:  # fmt: skip
    image = ImageInstance().fetch(study["image"].id)
    assert image.dump(str(tmp_path / "t.png"), max_size=(64, 32), bits="max")
    assert max(_decode(tmp_path / "t.png").shape[:2]) == 64
    assert image.dump(str(tmp_path / "g.png"), max_size=32, gamma=0.5, contrast=2.0,
                      inverse=True)  # fmt: skip
    assert max(_decode(tmp_path / "g.png").shape[:2]) == 32
    made = Annotation("POINT (100 100)", image.id).save()
    assert made.dump(str(tmp_path / "p.png"), increase_area=20, max_size=25, complete=False)
    assert max(_decode(tmp_path / "p.png").shape[:2]) == 25
