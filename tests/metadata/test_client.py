"""Properties, attached files and descriptions through the official cytomine-python-client
4.3.0: save, fetch by id and by key, update, delete and the collections of a project, an image
and an annotation; upload a file and download the same bytes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cytomine.models import (
    Annotation,
    AttachedFile,
    AttachedFileCollection,
    Description,
    ImageInstance,
    Project,
    Property,
    PropertyCollection,
)

PROPERTY_CLASS = "be.cytomine.domain.meta.Property"


def test_property_save_fetch_by_id_and_key_update_delete(client: Any, scene: Any) -> None:
    project = Project().fetch(scene["project"]["id"])
    made = Property(project, "stain", "HE").save()
    assert made and isinstance(made.id, int)
    assert (made.class_, made.domainClassName, made.domainIdent, made.key, made.value) == (
        PROPERTY_CLASS, project.class_, project.id, "stain", "HE")  # fmt: skip

    by_id = Property(project).fetch(made.id)
    assert (by_id.id, by_id.key, by_id.value) == (made.id, "stain", "HE")
    by_key = Property(project).fetch(key="stain")
    assert by_key.id == made.id

    by_key.value = "IHC"
    assert by_key.update().value == "IHC"
    assert Property(project).fetch(made.id).value == "IHC"

    assert by_key.delete()
    assert not Property(project).fetch(made.id)
    assert not Property(project).fetch(key="stain")


def test_property_collections_of_project_image_and_annotation(
    client: Any, scene: Any, annotate: Any, api: Any
) -> None:
    project = Project().fetch(scene["project"]["id"])
    image = ImageInstance().fetch(scene["image"]["id"])
    annotation = Annotation().fetch(annotate(api)["id"])
    for target, pairs in ((project, {"a": "1", "b": "2"}), (image, {"score": "0.93"}),
                          (annotation, {"cells": "12", "grade": "II"})):  # fmt: skip
        for key, value in pairs.items():
            assert Property(target, key, value).save()
        listed = PropertyCollection(target).fetch()
        assert listed.as_dict().keys() == pairs.keys()
        assert {p.key: p.value for p in listed} == pairs
        assert all(p.domainIdent == target.id for p in listed)
    assert not PropertyCollection(project).fetch().as_dict().keys() & {"cells", "score"}


def test_attached_file_upload_fetch_download_and_collection(
    client: Any, scene: Any, tmp_path: Path
) -> None:
    project = Project().fetch(scene["project"]["id"])
    local = tmp_path / "protocol v2.txt"
    payload = bytes(range(256)) * 64 + b"end"
    local.write_bytes(payload)

    sent = AttachedFile(project, str(local)).save()
    assert sent and isinstance(sent.id, int)
    assert sent.filename == "protocol v2.txt", "the part's local path is cut to its name"
    assert (sent.domainClassName, sent.domainIdent) == (project.class_, project.id)

    fetched = AttachedFile(project).fetch(sent.id)
    assert fetched.filename == "protocol v2.txt"
    assert fetched.url == f"/api/attachedfile/{sent.id}/download"

    named = AttachedFile(project, filename="report.txt", file=str(local)).save()
    assert named.filename == "report.txt"

    target = tmp_path / "back.bin"
    assert fetched.download(str(target))
    assert target.read_bytes() == payload

    listed = AttachedFileCollection(project).fetch()
    assert [f.filename for f in listed] == ["protocol v2.txt", "report.txt"]


def test_description_save_fetch_update_delete(client: Any, scene: Any) -> None:
    project = Project().fetch(scene["project"]["id"])
    made = Description(project, "<p>Liver biopsies</p>").save()
    assert made and made.data == "<p>Liver biopsies</p>"
    assert made.class_ == "be.cytomine.domain.meta.Description"
    assert not Description(project, "<p>again</p>").save(), "one description per object"

    fetched = Description(project).fetch()
    assert (fetched.id, fetched.data) == (made.id, "<p>Liver biopsies</p>")
    fetched.data = "<p>Liver and kidney</p>"
    assert fetched.update().data == "<p>Liver and kidney</p>"
    assert Description(project).fetch().data == "<p>Liver and kidney</p>"

    assert fetched.delete()
    assert not Description(project).fetch()
