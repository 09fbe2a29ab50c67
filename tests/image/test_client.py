"""Image instances and slice instances through the official cytomine-python-client 4.3.0:
create, fetch, update, list with filters, delete, and the reference slice."""

from __future__ import annotations

from typing import Any

from cytomine.models import (
    ImageInstance,
    ImageInstanceCollection,
    Project,
    SliceInstance,
    SliceInstanceCollection,
)

from tests.factories import abstract_image
from tests.harness import Api

CLASS = "be.cytomine.domain.image.ImageInstance"
SLICE_CLASS = "be.cytomine.domain.image.SliceInstance"


def test_image_instance_save_fetch_update_delete(client: Any, api: Api) -> None:
    project = Project("Client images").save()
    base = abstract_image(api, slices=3, name="CMU-1.svs")
    image = ImageInstance(base["id"], project.id).save()
    assert image and isinstance(image.id, int)
    assert image.class_ == CLASS
    assert (image.baseImage, image.project, image.user) == (
        base["id"], project.id, client.current_user.id)  # fmt: skip
    assert (image.instanceFilename, image.width, image.depth) == ("CMU-1.svs", 46000, 3)
    assert (image.physicalSizeX, image.magnification, image.reviewed) == (0.499, 20, False)

    fetched = ImageInstance().fetch(image.id)
    assert fetched.thumb.endswith(f"/api/imageinstance/{image.id}/thumb.png?maxSize=512")
    fetched.instanceFilename = "renamed.svs"
    fetched.physicalSizeX = 0.25
    updated = fetched.update()
    assert (updated.instanceFilename, updated.physicalSizeX, updated.physicalSizeY) == (
        "renamed.svs", 0.25, 0.499)  # fmt: skip
    again = ImageInstance().fetch(image.id)
    assert (again.instanceFilename, again.physicalSizeX) == ("renamed.svs", 0.25)
    assert again.update().instanceFilename == "renamed.svs"  # re-sending changes nothing
    assert Project().fetch(project.id).numberOfImages == 1

    assert ImageInstance().delete(image.id)
    assert not ImageInstance().fetch(image.id)
    assert Project().fetch(project.id).numberOfImages == 0


def test_image_instance_reference_slice(client: Any, api: Api) -> None:
    project = Project("Client reference").save()
    base = abstract_image(api, planes=[(c, z, 0) for c in range(2) for z in range(3)])
    image = ImageInstance(base["id"], project.id).save()
    reference = ImageInstance().fetch(image.id).reference_slice()
    assert isinstance(reference, SliceInstance)
    assert reference.class_ == SLICE_CLASS
    assert (reference.channel, reference.zStack, reference.time) == (1, 1, 0)
    assert (reference.image, reference.project, reference.rank) == (image.id, project.id, 3)


def test_image_instance_collection_by_project_with_filters_and_paging(
    client: Any, api: Api
) -> None:
    project = Project("Client listing").save()
    widths = {"a.svs": 300, "b.svs": 900, "c.svs": 600, "d.svs": 1200}
    for name, width in widths.items():
        ImageInstance(abstract_image(api, name=name, width=width)["id"], project.id).save()
    everything = ImageInstanceCollection().fetch_with_filter("project", project.id)
    assert [i.instanceFilename for i in everything] == ["d.svs", "c.svs", "b.svs", "a.svs"]
    by_width = ImageInstanceCollection(sort="width", order="asc", **{"width[lte]": 600})
    narrow = by_width.fetch_with_filter("project", project.id)
    assert [i.instanceFilename for i in narrow] == ["a.svs", "c.svs"]
    paged = ImageInstanceCollection().fetch_with_filter("project", project.id, max=2)
    assert [i.instanceFilename for i in paged] == ["d.svs", "c.svs", "b.svs", "a.svs"]


def test_slice_instance_collection_save_fetch_delete(client: Any, api: Api) -> None:
    project = Project("Client slices").save()
    base = abstract_image(api, slices=2)
    image = ImageInstance(base["id"], project.id).save()
    slices = SliceInstanceCollection().fetch_with_filter("imageinstance", image.id)
    assert [(s.zStack, s.rank) for s in slices] == [(0, 0), (1, 1)]
    second = slices[1]
    assert SliceInstance().delete(second.id)
    assert not SliceInstance().fetch(second.id)
    remade = SliceInstance(project.id, image.id, second.baseSlice).save()
    assert remade and (remade.zStack, remade.image, remade.baseSlice) == (
        1, image.id, second.baseSlice)  # fmt: skip
    fetched = SliceInstance().fetch(remade.id)
    assert fetched.path == base["uploadedFile"]["filename"]
    assert fetched.update().id == remade.id
    assert len(SliceInstanceCollection().fetch_with_filter("imageinstance", image.id)) == 2
