"""Storages, uploaded files, abstract images and abstract slices through the official
cytomine-python-client 4.3.0: what it sends and what it reads back."""

from __future__ import annotations

from typing import Any

from cytomine.models import (
    AbstractImage,
    AbstractImageCollection,
    AbstractSlice,
    AbstractSliceCollection,
    Storage,
    StorageCollection,
    UploadedFile,
    UploadedFileCollection,
)

from tests.storage.conftest import FILE_CLASS, IMAGE_CLASS, SLICE_CLASS, STORAGE_CLASS


def _my_storage(client: Any) -> Storage:
    mine = [s for s in StorageCollection().fetch() if s.name == "admin storage"]
    assert len(mine) == 1
    return mine[0]


def _new_file(client: Any, name: str = "CMU-1.svs", **kw: Any) -> UploadedFile:
    storage = _my_storage(client)
    file = UploadedFile(name, f"upload/{name}", 1234, "svs", "SVS", None, storage.id,
                        client.current_user.id, **kw).save()  # fmt: skip
    assert file, f"saving {name} failed"
    return file


def test_storage_save_fetch_update_list_delete(client, make_user):
    alice = make_user()
    storage = Storage("lab storage", alice["id"]).save()
    assert storage
    assert storage.class_ == STORAGE_CLASS
    assert (storage.name, storage.userId, storage.user) == ("lab storage", alice["id"], alice["id"])

    fetched = Storage().fetch(storage.id)
    assert (fetched.name, fetched.userId) == ("lab storage", alice["id"])
    fetched.name = "renamed"
    assert fetched.update()
    assert Storage().fetch(storage.id).name == "renamed"

    own = [s.id for s in StorageCollection().fetch()]
    every = [s.id for s in StorageCollection(all=True).fetch()]
    assert storage.id not in own and storage.id in every
    assert _my_storage(client).id in own

    assert Storage().delete(storage.id)
    assert not Storage().fetch(storage.id)


def test_uploaded_file_save_fetch_update_list_delete(client):
    file = _new_file(client, status=0)
    assert file.class_ == FILE_CLASS
    assert (file.originalFilename, file.size, file.contentType) == ("CMU-1.svs", 1234, "SVS")
    assert (file.status, file.statusText, file.path) == (0, "UPLOADED", "upload/CMU-1.svs")

    fetched = UploadedFile().fetch(file.id)
    fetched.status = UploadedFile.DEPLOYED
    fetched.size = 4321
    assert fetched.update()
    again = UploadedFile().fetch(file.id)
    assert (again.status, again.statusText, again.size) == (100, "DEPLOYED", 4321)

    child = _new_file(client, "member.svs", id_parent=file.id)
    assert child.parent == file.id
    everything = UploadedFileCollection(all=True).fetch()
    assert {f.id for f in everything} >= {file.id, child.id}
    children = UploadedFileCollection(parent=file.id).fetch()
    assert [f.id for f in children] == [child.id]
    roots = UploadedFileCollection(onlyRoots=True).fetch()
    assert file.id in [f.id for f in roots] and child.id not in [f.id for f in roots]

    assert not UploadedFile().delete(child.id)  # not a root
    assert UploadedFile().delete(file.id)
    assert not UploadedFile().fetch(file.id)
    assert not UploadedFile().fetch(child.id)


def test_abstract_image_and_slices_save_fetch_update_list_delete(client):
    file = _new_file(client, status=100)
    picture = AbstractImage("CMU-1.svs", file.id)
    picture.width, picture.height, picture.depth = 46000, 32914, 2
    picture.samplePerPixel, picture.magnification, picture.physicalSizeX = 3, 20, 0.499
    picture = picture.save()
    assert picture
    assert picture.class_ == IMAGE_CLASS
    assert (picture.originalFilename, picture.uploadedFile) == ("CMU-1.svs", file.id)
    assert (picture.path, picture.contentType, picture.zoom) == ("upload/CMU-1.svs", "SVS", 8)
    assert picture.dimensions == "XYZ"
    assert picture.thumb.endswith(f"/api/abstractimage/{picture.id}/thumb.png?maxSize=512")

    slices = [AbstractSlice(picture.id, file.id, 0, z, 0).save() for z in range(2)]
    assert all(slices)
    assert slices[1].class_ == SLICE_CLASS
    assert (slices[1].zStack, slices[1].rank, slices[1].path) == (1, 1, "upload/CMU-1.svs")
    by_image = AbstractSliceCollection(filters={"abstractimage": picture.id}).fetch()
    assert [s.id for s in by_image] == [s.id for s in slices]
    by_file = AbstractSliceCollection(filters={"uploadedfile": file.id}).fetch()
    assert [s.id for s in by_file] == [s.id for s in slices]

    fetched = AbstractImage().fetch(picture.id)
    fetched.physicalSizeX = 0.25
    fetched.magnification = 40
    assert fetched.update()
    again = AbstractImage().fetch(picture.id)
    assert (again.physicalSizeX, again.magnification) == (0.25, 40)
    assert picture.id in [i.id for i in AbstractImageCollection().fetch()]

    piece = AbstractSlice().fetch(slices[1].id)
    piece.channelName = "DAPI"
    assert piece.update()
    assert AbstractSlice().fetch(slices[1].id).channelName == "DAPI"
    assert AbstractSlice().delete(slices[1].id)
    assert not AbstractSlice().fetch(slices[1].id)

    assert AbstractImage().delete(picture.id)
    assert not AbstractImage().fetch(picture.id)
    assert not AbstractSlice().fetch(slices[0].id)


def test_abstract_slices_saved_as_a_collection(client):
    file = _new_file(client)
    picture = AbstractImage("stack.svs", file.id)
    picture.depth = 3
    picture = picture.save()
    planes = AbstractSliceCollection()
    for z in range(3):
        planes.append(AbstractSlice(picture.id, file.id, 0, z, 0))
    assert planes.save() is True
    fetched = AbstractSliceCollection(filters={"abstractimage": picture.id}).fetch()
    assert [s.zStack for s in fetched] == [0, 1, 2]
