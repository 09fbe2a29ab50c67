"""Who may do what on the storage side (contract core.md §7.1–§7.2, §7.5; images-annotations.md
§6): one row per caller, one column per operation, the HTTP status each gets.

The storage belongs to `owner`; `member` was added to it; `other` is a user outside it; `guest`
holds ROLE_GUEST only; `admin` holds ROLE_ADMIN without an admin session (so acts as a user);
`admin_session` has one open; `superadmin` is the bootstrap administrator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.harness import Api
from tests.storage.conftest import me, slide, upload

Operation = Callable[[Api, dict[str, Any]], Any]


def _file_body(world: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in world["file"].items() if key != "class"}


OPERATIONS: list[tuple[str, Operation]] = [
    ("read storage", lambda api, w: api.get(f"/api/storage/{w['storage']}.json")),
    ("list members", lambda api, w: api.get(f"/api/storage/{w['storage']}/user.json")),
    ("read file", lambda api, w: api.get(f"/api/uploadedfile/{w['file']['id']}.json")),
    ("read image", lambda api, w: api.get(f"/api/abstractimage/{w['image']['id']}.json")),
    ("read slice", lambda api, w: api.get(f"/api/abstractslice/{w['slice']}.json")),
    ("list images", lambda api, w: api.get("/api/abstractimage.json", params={"id[equals]":
                                                                             w["image"]["id"]})),
    ("thumb", lambda api, w: api.get(f"/api/abstractimage/{w['image']['id']}/thumb.png")),
    ("slice thumb", lambda api, w: api.post(f"/api/abstractslice/{w['slice']}/thumb.png")),
    ("extract", lambda api, w: api.post(
        f"/api/abstractimage/{w['image']['id']}/properties/extract.json")),
    ("create file", lambda api, w: api.post("/api/uploadedfile.json", json={
        "originalFilename": "n.svs", "filename": "n.svs", "storage": w["storage"],
        "user": me(api)["id"]})),
    ("update file", lambda api, w: api.put(f"/api/uploadedfile/{w['file']['id']}.json",
                                           json={**_file_body(w), "status": 104})),
    ("create image", lambda api, w: api.post("/api/abstractimage.json", json={
        "originalFilename": "n.svs", "uploadedFile": w["file"]["id"]})),
    ("update image", lambda api, w: api.put(f"/api/abstractimage/{w['image']['id']}.json",
                                            json={**w["image"], "magnification": 10})),
    ("create slice", lambda api, w: api.post("/api/abstractslice.json", json={
        "image": w["image"]["id"], "zStack": 7})),
    ("update storage", lambda api, w: api.put(f"/api/storage/{w['spare']}.json",
                                              json={"name": "renamed"})),
    ("add member", lambda api, w: api.post(f"/api/storage/{w['spare']}/user/{w['other']}.json")),
    ("delete slice", lambda api, w: api.delete(f"/api/abstractslice/{w['slice']}.json")),
    ("delete image", lambda api, w: api.delete(f"/api/abstractimage/{w['image']['id']}.json")),
    ("delete file", lambda api, w: api.delete(f"/api/uploadedfile/{w['file']['id']}.json")),
    ("delete storage", lambda api, w: api.delete(f"/api/storage/{w['spare']}.json")),
]  # fmt: skip

#: Reads, then pixels (the files are not on disk: 404; extraction swallows it), then writes on
#: files and images, then storage admin.
OWNER = (200,) * 6 + (404, 404, 200) + (200,) * 11
MEMBER = (200,) * 6 + (404, 404, 200) + (200,) * 5 + (403, 403) + (200,) * 3 + (403,)
OUTSIDER = (403,) * 5 + (200,) + (403,) * 14
EXPECTED: dict[str, tuple[int, ...]] = {
    "owner": OWNER,
    "member": MEMBER,
    "other": OUTSIDER,
    "guest": OUTSIDER,
    "admin": OUTSIDER,
    "admin_session": OWNER,
    "superadmin": OWNER,
}


@pytest.fixture
def world(team: dict[str, Any], people: dict[str, Any]) -> dict[str, Any]:
    """The objects every caller tries: a file with an image and a slice in the owner's storage,
    and a spare empty storage of the owner's."""
    owner = team["owner"]["api"]
    storage = team["storage"]["id"]
    picture = slide(owner, storage, planes=2)
    spare = owner.post("/api/storage.json", json={"name": "spare"}).json()["storage"]["id"]
    callers = {"owner": team["owner"], "member": team["member"], "other": team["other"],
               **{role: people[role] for role in ("guest", "admin", "admin_session",
                                                  "superadmin")}}  # fmt: skip
    return {"storage": storage, "spare": spare, "file": picture["file"], "image": picture,
            "slice": picture["slices"][1]["id"], "other": team["other"]["id"],
            "callers": callers}  # fmt: skip


@pytest.mark.parametrize("role", list(EXPECTED))
def test_storage_side_permissions(world, role):
    api = world["callers"][role]["api"]
    got = {name: operation(api, world).status_code for name, operation in OPERATIONS}
    want = dict(zip([name for name, _ in OPERATIONS], EXPECTED[role], strict=True))
    assert got == want


def test_list_images_outsider_sees_none(world):
    for role in ("other", "guest", "admin"):
        api = world["callers"][role]["api"]
        assert api.get("/api/abstractimage.json").json()["collection"] == [], role


def test_guest_member_reads_but_writes_nothing(team, people):
    guest = people["guest"]
    owner, storage = team["owner"]["api"], team["storage"]["id"]
    file = upload(owner, storage)
    assert owner.post(f"/api/storage/{storage}/user/{guest['id']}.json").status_code == 200
    assert guest["api"].get(f"/api/uploadedfile/{file['id']}.json").status_code == 200
    body = {"originalFilename": "g", "filename": "g", "storage": storage, "user": guest["id"]}
    assert guest["api"].post("/api/uploadedfile.json", json=body).status_code == 403
    assert guest["api"].delete(f"/api/uploadedfile/{file['id']}.json").status_code == 403
    assert guest["api"].post("/api/storage.json", json={"name": "g"}).status_code == 403
    leave = guest["api"].delete(f"/api/storage/{storage}/user/{guest['id']}.json")
    assert leave.status_code == 200


def test_member_cannot_remove_other_members(team):
    member, owner, storage = team["member"], team["owner"], team["storage"]["id"]
    other = team["other"]
    assert owner["api"].post(f"/api/storage/{storage}/user/{other['id']}.json").status_code == 200
    path = f"/api/storage/{storage}/user/{other['id']}.json"
    assert member["api"].delete(path).status_code == 403
    assert other["api"].get(f"/api/storage/{storage}.json").status_code == 200


def test_undo_rechecks_rights(team):
    owner, member, storage = team["owner"], team["member"], team["storage"]["id"]
    file = upload(member["api"], storage)
    assert member["api"].delete(f"/api/uploadedfile/{file['id']}.json").status_code == 200
    assert (
        owner["api"].delete(f"/api/storage/{storage}/user/{member['id']}.json").status_code == 200
    )
    assert member["api"].get("/api/command/undo.json").status_code == 403
    assert owner["api"].get(f"/api/uploadedfile/{file['id']}.json").status_code == 404
