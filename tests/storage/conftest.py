"""Storage-side fixtures: a storage with an owner and a member, and files, images, slices and
companion files made through REST the way PIMS makes them."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from tests.factories import created, unique
from tests.harness import Api

STORAGE_CLASS = "be.cytomine.domain.image.server.Storage"
FILE_CLASS = "be.cytomine.domain.image.UploadedFile"
IMAGE_CLASS = "be.cytomine.domain.image.AbstractImage"
SLICE_CLASS = "be.cytomine.domain.image.AbstractSlice"
COMPANION_CLASS = "be.cytomine.domain.image.CompanionFile"


def me(api: Api) -> dict[str, Any]:
    return api.get("/api/user/current.json").json()  # type: ignore[no-any-return]


def own_storage(api: Api) -> dict[str, Any]:
    """The storage every user gets at creation ("<username> storage")."""
    listed = api.get("/api/storage.json").json()["collection"]
    return next(s for s in listed if s["name"] == f"{me(api)['username']} storage")


def upload(api: Api, storage: int, **fields: Any) -> dict[str, Any]:
    """An uploaded file registered by the caller in `storage`."""
    name = fields.pop("originalFilename", None) or unique("slide") + ".svs"
    body = {
        "originalFilename": name,
        "filename": f"upload-{unique('u')}/{name}",
        "size": 1000,
        "ext": "svs",
        "contentType": "SVS",
        "storage": storage,
        "user": me(api)["id"],
        "status": 100,
        **fields,
    }
    return created(api.post("/api/uploadedfile.json", json=body), "uploadedfile")


def image(api: Api, file: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An abstract image of `file` (46000 × 32914, 20×, 0.499 µm/px, RGB)."""
    body = {
        "originalFilename": file["originalFilename"],
        "uploadedFile": file["id"],
        "width": 46000,
        "height": 32914,
        "magnification": 20,
        "physicalSizeX": 0.499,
        "physicalSizeY": 0.499,
        "samplePerPixel": 3,
        "bitPerSample": 8,
        **fields,
    }
    return created(api.post("/api/abstractimage.json", json=body), "abstractimage")


def plane(
    api: Api, picture: dict[str, Any], c: int = 0, z: int = 0, t: int = 0, **fields: Any
) -> dict[str, Any]:
    """A slice of `picture` at (c, z, t), stored in the image's file unless told otherwise."""
    body = {
        "image": picture["id"],
        "uploadedFile": picture["uploadedFile"],
        "mime": "openslide/svs",
        "channel": c,
        "zStack": z,
        "time": t,
        **fields,
    }
    return created(api.post("/api/abstractslice.json", json=body), "abstractslice")


def companion(
    api: Api, picture: dict[str, Any], file: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    body = {
        "image": picture["id"],
        "uploadedFile": None if file is None else file["id"],
        "originalFilename": "profile.hdf5",
        "filename": "profile.hdf5",
        "type": "HDF5",
        **fields,
    }
    return created(api.post("/api/companionfile.json", json=body), "companionfile")


def slide(api: Api, storage: int, *, planes: int = 1, **fields: Any) -> dict[str, Any]:
    """A deployed upload with its image and `planes` slices along z: the image's JSON with
    `file` and `slices` added."""
    file = upload(api, storage)
    picture = image(api, file, depth=planes, **fields)
    picture["file"] = file
    picture["slices"] = [plane(api, picture, z=z) for z in range(planes)]
    return picture


def place(api: Api, picture: dict[str, Any]) -> dict[str, Any]:
    """The image put in a new project of the caller: the instance's JSON, with `project`."""
    project = created(api.post("/api/project.json", json={"name": unique("project")}), "project")
    body = {"baseImage": picture["id"], "project": project["id"]}
    instance = created(api.post("/api/imageinstance.json", json=body), "imageinstance")
    instance["projectJson"] = project
    return instance


def run_sql(database_url: str, statement: str, *args: Any) -> list[Any]:
    """Rows of one statement run straight on the test's database (to see stored values)."""

    async def run() -> list[Any]:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return list(await conn.fetch(statement, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.fixture
def storage_id(api: Api) -> int:
    """The super-administrator's own storage."""
    return int(own_storage(api)["id"])


@pytest.fixture
def team(api: Api, make_user: Any) -> dict[str, Any]:
    """A storage owned by `owner` with `member` added, and `other`, a user outside it."""
    owner = make_user()
    member = make_user()
    other = make_user()
    storage = own_storage(owner["api"])
    added = owner["api"].post(f"/api/storage/{storage['id']}/user/{member['id']}.json")
    assert added.status_code == 200, added.text
    return {"owner": owner, "member": member, "other": other, "storage": storage}
