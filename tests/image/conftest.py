"""Image fixtures: abstract images made through REST the way PIMS makes them (an uploaded file,
an abstract image, its slices), then placed in projects."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from tests.factories import created, unique
from tests.harness import Api

Plane = tuple[int, int, int]


def abstract_image(
    api: Api,
    *,
    slices: int = 1,
    planes: Sequence[Plane] | None = None,
    name: str | None = None,
    content_type: str = "SVS",
    **fields: Any,
) -> dict[str, Any]:
    """An abstract image in the caller's first storage, with `slices` planes along z (or the
    given (channel, z, time) `planes`); its JSON gains `uploadedFile` (the file's JSON) and
    `slices` (the slices' JSON, in the order given)."""
    me = api.get("/api/user/current.json").json()
    storage = api.get("/api/storage.json").json()["collection"][0]
    name = name or unique("image") + ".svs"
    upload = created(api.post("/api/uploadedfile.json", json={
        "originalFilename": name, "filename": f"upload-{unique('f')}/{name}", "size": 1000,
        "contentType": content_type, "storage": storage["id"], "user": me["id"],
    }), "uploadedfile")  # fmt: skip
    planes = list(planes) if planes is not None else [(0, z, 0) for z in range(slices)]
    body = {"originalFilename": name, "uploadedFile": upload["id"], "width": 46000,
            "height": 32914, "magnification": 20, "physicalSizeX": 0.499, "physicalSizeY": 0.499,
            "depth": max([z for _, z, _ in planes], default=0) + 1,
            "channels": max([c for c, _, _ in planes], default=0) + 1,
            "duration": max([t for _, _, t in planes], default=0) + 1,
            "samplePerPixel": 3, **fields}  # fmt: skip
    image = created(api.post("/api/abstractimage.json", json=body), "abstractimage")
    image["uploadedFile"] = upload
    image["slices"] = []
    for c, z, t in planes:
        piece = {"image": image["id"], "uploadedFile": upload["id"], "mime": "openslide/svs",
                 "channel": c, "zStack": z, "time": t}  # fmt: skip
        image["slices"].append(created(api.post("/api/abstractslice.json", json=piece),
                                       "abstractslice"))  # fmt: skip
    return image


def add_image(api: Api, project: int, base_image: int, **fields: Any) -> dict[str, Any]:
    """Place an abstract image in a project; the instance's JSON."""
    body = {"baseImage": base_image, "project": project, **fields}
    return created(api.post("/api/imageinstance.json", json=body), "imageinstance")


@pytest.fixture
def make_abstract_image(api: Api) -> Any:
    """`make_abstract_image(slices=N)`: an abstract image with N slices, made by the admin
    (or by `owner`, an `Api`, in their own storage)."""

    def make(owner: Api | None = None, **kw: Any) -> dict[str, Any]:
        return abstract_image(owner or api, **kw)

    return make


def run_sql(database_url: str, statement: str, *args: Any) -> None:
    """One statement straight into the test's database (counters kept by annotation triggers,
    which have no annotations to count yet)."""

    async def run() -> None:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(statement, *args)
        finally:
            await conn.close()

    asyncio.run(run())
