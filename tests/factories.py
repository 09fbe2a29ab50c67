"""`make_*` factories: objects created through REST as a real client would, returning their JSON.

Each factory takes the `Api` to act as, so a test can create objects as any user.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.harness import Api

_numbers = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def created(response: Any, key: str) -> dict[str, Any]:
    """The object of a command envelope, after checking the call succeeded."""
    assert response.status_code == 200, response.text
    return response.json()[key]  # type: ignore[no-any-return]


def make_ontology(
    api: Api, name: str | None = None, *, terms: tuple[str, ...] = ()
) -> dict[str, Any]:
    """An ontology with `terms` (flat, coloured alike); its JSON gains `terms`: name → term."""
    ontology = created(api.post("/api/ontology.json", json={"name": name or unique("ontology")}),
                       "ontology")  # fmt: skip
    ontology["terms"] = {
        term: created(api.post("/api/term.json", json={"name": term, "color": "#AA0000",
                                                       "ontology": ontology["id"]}), "term")
        for term in terms
    }  # fmt: skip
    return ontology


def make_project(
    api: Api,
    name: str | None = None,
    *,
    ontology: int | None = None,
    users: tuple[int, ...] = (),
    admins: tuple[int, ...] = (),
    **flags: Any,
) -> dict[str, Any]:
    """A project created by the caller of `api`, with contributors `users` and managers
    `admins`; `flags` are project fields such as isReadOnly=True."""
    body = {"name": name or unique("project"), "ontology": ontology, "users": list(users),
            "admins": list(admins), **flags}  # fmt: skip
    return created(api.post("/api/project.json", json=body), "project")


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


def first_storage(api: Api) -> int:
    """The id of the caller's first storage (every user has one)."""
    return int(api.get("/api/storage.json").json()["collection"][0]["id"])


def imported(api: Api, path: Path, project: int) -> tuple[list[Any], Any, Any]:
    """The file at `path` uploaded into `project` and imported at once: PIMS's answer, the
    image instance it made there, and that instance's reference slice."""
    made = upload(api, path, project)
    assert isinstance(made, list), made.text
    instance = made[0]["images"][0]["imageInstances"][0]
    piece = api.get(f"/api/imageinstance/{instance['id']}/sliceinstance/reference.json").json()
    return made, instance, piece


def upload(
    api: Api,
    path: Path,
    project: int | None = None,
    *,
    sync: bool = True,
    storage: int | None = None,
    name: str | None = None,
    chunked: bool = False,
) -> Any:
    """POST /upload of the file at `path` (as the file `name`, default its own), signed as
    client 4.x signs, `chunked` without a Content-Length; PIMS's JSON answer on a 200, else
    the response."""
    import requests

    from tests.harness import http_date, signature

    query = f"?idStorage={storage if storage is not None else first_storage(api)}"
    query += f"&sync={'true' if sync else 'false'}"
    if project is not None:
        query += f"&idProject={project}"
    boundary = "cytogateboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files[]"; '
        f'filename="{name or path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    body = head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
    content_type = f"multipart/form-data; boundary={boundary}"
    date = http_date()
    auth = signature(api.private_key or "", f"POST\n\n{content_type}\n{date}")
    headers = {"content-type": content_type, "date": date,
               "authorization": f"CYTOMINE {api.public_key}:{auth}"}  # fmt: skip
    data = iter([body]) if chunked else body
    response = requests.post(api.base + "/upload" + query, data=data, headers=headers, timeout=120)
    return response if response.status_code != 200 else response.json()
