"""Storages, their members and uploaded files over raw HTTP: exact JSON, statuses, envelopes
and the four listing modes (contract core.md §3–§5, §9.7; images-annotations.md §2.1, §9.7)."""

from __future__ import annotations

import time
from typing import Any

from tests.factories import unique
from tests.storage.conftest import (
    FILE_CLASS,
    STORAGE_CLASS,
    companion,
    image,
    me,
    own_storage,
    place,
    plane,
    run_sql,
    slide,
    upload,
)

STORAGE_KEYS = {"class", "id", "created", "updated", "name", "user", "userId"}
FILE_KEYS = {
    "class",
    "id",
    "created",
    "updated",
    "user",
    "parent",
    "storage",
    "originalFilename",
    "filename",
    "path",
    "ext",
    "contentType",
    "size",
    "isArchive",
    "status",
    "statusText",
    "projects",
}
TREE_KEYS = {
    "id",
    "created",
    "originalFilename",
    "contentType",
    "lTree",
    "parent",
    "size",
    "status",
    "image",
    "slices",
    "companionFile",
    "thumbURL",
    "macroURL",
    "isArchive",
}
ROOT_KEYS = {
    "id",
    "contentType",
    "created",
    "filename",
    "originalFilename",
    "size",
    "status",
    "storageId",
    "userId",
    "width",
    "height",
    "magnification",
    "root",
    "image",
    "thumbURL",
    "isArchive",
}
LIST_KEYS = {"collection", "offset", "perPage", "size", "totalPages"}


def _is_epoch_ms(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and abs(int(value) / 1000 - time.time()) < 600


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["collection"]]


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


# --- storages --------------------------------------------------------------------------------


def test_storage_create_returns_exact_command_envelope(api):
    response = api.post("/api/storage.json", json={"name": "Slides 2026"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "printMessage", "callback", "command", "storage"}
    storage = body["storage"]
    assert set(storage) == STORAGE_KEYS
    assert storage["class"] == STORAGE_CLASS
    assert storage["name"] == "Slides 2026"
    assert storage["user"] == storage["userId"] == me(api)["id"]
    assert _is_epoch_ms(storage["created"]) and storage["updated"] == storage["created"]
    assert body["message"] == f"Storage {storage['id']} (Slides 2026) added"
    assert body["printMessage"] is True
    assert body["callback"] == {
        "method": "be.cytomine.AddStorageCommand",
        "storageID": str(storage["id"]),
    }
    assert isinstance(body["command"], int)
    assert api.get(f"/api/storage/{storage['id']}.json").json() == storage


def test_storage_create_owner_by_user_or_user_id_for_admin(api, make_user):
    alice, bob = make_user(), make_user()
    by_user = api.post("/api/storage.json", json={"name": "a", "user": alice["id"]}).json()
    by_user_id = api.post("/api/storage.json", json={"name": "b", "userId": bob["id"]}).json()
    assert by_user["storage"]["userId"] == alice["id"]
    assert by_user_id["storage"]["user"] == bob["id"]
    listed = [s["name"] for s in alice["api"].get("/api/storage.json").json()["collection"]]
    assert "a" in listed and "b" not in listed


def test_storage_create_by_user_owner_is_forced_to_caller(api, make_user):
    alice = make_user()
    body = {"name": "mine", "user": me(api)["id"], "userId": me(api)["id"]}
    storage = alice["api"].post("/api/storage.json", json=body).json()["storage"]
    assert storage["user"] == storage["userId"] == alice["id"]
    assert alice["api"].get(f"/api/storage/{storage['id']}/user.json").json()["size"] == 1


def test_storage_create_array_creates_each_element(api):
    response = api.post("/api/storage.json", json=[{"name": "x1"}, {"name": ""}, {"name": "x2"}])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 206
    assert body["data"]["errors"][0]["message"] == "Property name must be set"
    names = [s["name"] for s in api.get("/api/storage.json").json()["collection"]]
    assert "x1" in names and "x2" in names


def test_storage_create_without_name_is_400_command_error(api):
    body = _error(api.post("/api/storage.json", json={"name": "  "}), 400)
    assert body == {
        "success": False,
        "errors": "Property name must be set",
        "errorValues": {},
        "message": "Property name must be set",
    }


def test_storage_create_unknown_owner_is_400(api):
    body = _error(api.post("/api/storage.json", json={"name": "x", "userId": 987654}), 400)
    assert body["errors"] == "user was not found with id: 987654"


def test_storage_show_unknown_is_404(api):
    body = _error(api.get("/api/storage/987654.json"), 404)
    assert body["errors"] == {"message": "Storage not found with filters : {id=987654}"}


def test_storage_update_renames_and_admin_moves_owner(api, make_user):
    alice = make_user()
    storage = own_storage(alice["api"])
    renamed = alice["api"].put(
        f"/api/storage/{storage['id']}.json", json={**storage, "name": "renamed"}
    )
    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert body["callback"]["method"] == "be.cytomine.EditStorageCommand"
    assert body["message"] == f"Storage {storage['id']} (renamed) edited"
    assert body["storage"]["name"] == "renamed"
    assert body["storage"]["userId"] == alice["id"]
    bob = make_user()
    moved = api.put(
        f"/api/storage/{storage['id']}.json", json={**body["storage"], "userId": bob["id"]}
    ).json()["storage"]
    assert moved["user"] == moved["userId"] == bob["id"]
    assert (
        bob["api"].put(f"/api/storage/{storage['id']}.json", json={"name": "bob's now"}).status_code
        == 200
    )


def test_storage_update_owner_change_by_owner_is_403(make_user):
    alice, bob = make_user(), make_user()
    storage = own_storage(alice["api"])
    response = alice["api"].put(
        f"/api/storage/{storage['id']}.json", json={"name": "x", "user": bob["id"]}
    )
    _error(response, 403)
    assert own_storage(alice["api"])["name"] == storage["name"]


def test_storage_update_client3_user_key_wins_when_it_changed(api, make_user):
    alice, bob = make_user(), make_user()
    storage = own_storage(alice["api"])
    body = {**storage, "user": bob["id"]}  # userId is still alice, as last read
    moved = api.put(f"/api/storage/{storage['id']}.json", json=body).json()["storage"]
    assert moved["userId"] == bob["id"]


def test_storage_delete_empty_then_404_and_undo_restores_rights(api, make_user):
    alice = make_user()
    storage = alice["api"].post("/api/storage.json", json={"name": "temp"}).json()["storage"]
    response = alice["api"].delete(f"/api/storage/{storage['id']}.json")
    assert response.status_code == 200, response.text
    assert response.json()["callback"]["method"] == "be.cytomine.DeleteStorageCommand"
    assert response.json()["storage"]["name"] == "temp"
    _error(alice["api"].get(f"/api/storage/{storage['id']}.json"), 404)
    assert alice["api"].get("/api/command/undo.json").status_code == 200
    assert alice["api"].get(f"/api/storage/{storage['id']}.json").json()["name"] == "temp"


def test_storage_delete_with_files_is_400(api, storage_id):
    upload(api, storage_id)
    body = _error(api.delete(f"/api/storage/{storage_id}.json"), 400)
    assert body["errors"] == "Storage contains data"
    assert api.get(f"/api/storage/{storage_id}.json").status_code == 200


def test_storage_list_default_own_and_all_for_admin(api, make_user):
    alice = make_user()
    own = own_storage(alice["api"])
    assert _ids(alice["api"].get("/api/storage.json")) == [own["id"]]
    assert _ids(alice["api"].get("/api/storage.json", params={"all": "true"})) == [own["id"]]
    assert own["id"] not in _ids(api.get("/api/storage.json"))
    assert own["id"] in _ids(api.get("/api/storage.json", params={"all": "True"}))
    body = api.get("/api/storage.json", params={"all": "true", "max": 1, "offset": 1}).json()
    assert set(body) == LIST_KEYS and body["perPage"] == 1 and body["offset"] == 1


def test_storage_members_list_add_remove(team):
    owner, member, other, storage = team["owner"], team["member"], team["other"], team["storage"]
    path = f"/api/storage/{storage['id']}"
    listed = owner["api"].get(f"{path}/user.json").json()
    assert set(listed) == LIST_KEYS
    assert sorted(u["id"] for u in listed["collection"]) == sorted([owner["id"], member["id"]])
    assert all(u["class"] == "be.cytomine.domain.security.User" for u in listed["collection"])
    added = owner["api"].post(f"{path}/user/{other['id']}.json")
    assert added.status_code == 200 and added.json() == {"data": {"message": "OK"}}
    assert other["api"].get(f"{path}.json").status_code == 200
    upload(other["api"], storage["id"])
    removed = owner["api"].delete(f"{path}/user/{other['id']}.json")
    assert removed.status_code == 200 and removed.json() == {"data": {"message": "OK"}}
    _error(other["api"].get(f"{path}.json"), 403)


def test_storage_member_removes_themself(team):
    member, storage = team["member"], team["storage"]
    path = f"/api/storage/{storage['id']}"
    assert member["api"].delete(f"{path}/user/{member['id']}.json").status_code == 200
    _error(member["api"].get(f"{path}.json"), 403)


def test_storage_owner_cannot_be_removed(api, team):
    owner, storage = team["owner"], team["storage"]
    path = f"/api/storage/{storage['id']}/user/{owner['id']}.json"
    body = _error(owner["api"].delete(path), 400)
    assert body["errors"] == {"message": "The storage owner cannot be deleted."}
    _error(api.delete(path), 400)
    assert owner["api"].get(f"/api/storage/{storage['id']}.json").status_code == 200


def test_storage_member_add_unknown_user_is_404(team):
    response = team["owner"]["api"].post(f"/api/storage/{team['storage']['id']}/user/987654.json")
    _error(response, 404)


# --- uploaded files: one -----------------------------------------------------------------------


def test_uploaded_file_create_returns_exact_json(api, storage_id):
    body = {
        "originalFilename": "CMU-1.svs",
        "filename": "upload-1/CMU-1.svs",
        "size": 177552579,
        "ext": "",
        "contentType": "",
        "storage": storage_id,
        "user": me(api)["id"],
        "status": 0,
        "projects": [3001],
        "imageServer": 12,
    }
    response = api.post("/api/uploadedfile.json", json=body)
    assert response.status_code == 200, response.text
    envelope = response.json()
    file = envelope["uploadedfile"]
    assert set(file) == FILE_KEYS
    assert envelope["callback"] == {
        "method": "be.cytomine.AddUploadedFileCommand",
        "uploadedfileID": str(file["id"]),
    }
    assert file["class"] == FILE_CLASS
    assert (file["parent"], file["storage"], file["user"]) == (None, storage_id, me(api)["id"])
    assert (file["path"], file["filename"]) == ("upload-1/CMU-1.svs", "upload-1/CMU-1.svs")
    assert (file["status"], file["statusText"], file["isArchive"]) == (0, "UPLOADED", False)
    assert file["projects"] == [3001]
    assert file["size"] == 177552579
    assert api.get(f"/api/uploadedfile/{file['id']}.json").json() == file


def test_uploaded_file_update_moves_status_like_the_image_server(api, storage_id):
    file = upload(api, storage_id, status=0, contentType="", size=0)
    body = {**file, "status": 104, "contentType": "SVS", "size": 42, "filename": "final/a.svs"}
    response = api.put(f"/api/uploadedfile/{file['id']}.json", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["callback"]["method"] == "be.cytomine.EditUploadedFileCommand"
    updated = api.get(f"/api/uploadedfile/{file['id']}.json").json()
    assert (updated["status"], updated["statusText"]) == (104, "CONVERTED")
    assert (updated["contentType"], updated["size"]) == ("SVS", 42)
    assert updated["path"] == updated["filename"] == "final/a.svs"
    odd = api.put(f"/api/uploadedfile/{file['id']}.json", json={**updated, "status": 999})
    assert odd.json()["uploadedfile"]["statusText"] is None


def test_uploaded_file_update_to_unwritable_storage_is_403(api, make_user, storage_id):
    alice = make_user()
    file = upload(alice["api"], own_storage(alice["api"])["id"])
    response = alice["api"].put(
        f"/api/uploadedfile/{file['id']}.json", json={**file, "storage": storage_id}
    )
    _error(response, 403)
    assert (
        alice["api"].get(f"/api/uploadedfile/{file['id']}.json").json()["storage"]
        == file["storage"]
    )


def test_uploaded_file_update_new_parent_moves_the_subtree(api, storage_id):
    root = upload(api, storage_id, contentType="ZIP")
    child = upload(api, storage_id, parent=root["id"])
    grandchild = upload(api, storage_id, parent=child["id"])
    other_root = upload(api, storage_id)
    moved = api.put(
        f"/api/uploadedfile/{child['id']}.json", json={**child, "parent": other_root["id"]}
    )
    assert moved.status_code == 200, moved.text
    tree = api.get("/api/uploadedfile.json", params={"root": other_root["id"]}).json()
    assert [row["lTree"] for row in tree["collection"]] == [
        f"{other_root['id']}",
        f"{other_root['id']}.{child['id']}",
        f"{other_root['id']}.{child['id']}.{grandchild['id']}",
    ]
    assert _ids(api.get("/api/uploadedfile.json", params={"root": root["id"]})) == [root["id"]]
    assert api.get("/api/command/undo.json").status_code == 200
    back = api.get("/api/uploadedfile.json", params={"root": root["id"]}).json()["collection"]
    assert [row["lTree"] for row in back] == [
        f"{root['id']}",
        f"{root['id']}.{child['id']}",
        f"{root['id']}.{child['id']}.{grandchild['id']}",
    ]


def test_uploaded_file_update_parent_under_itself_is_400(api, storage_id):
    root = upload(api, storage_id)
    child = upload(api, storage_id, parent=root["id"])
    body = _error(
        api.put(f"/api/uploadedfile/{root['id']}.json", json={**root, "parent": child["id"]}), 400
    )
    assert body["errors"] == "An uploaded file cannot be its own ancestor"


def test_uploaded_file_delete_child_is_403(api, storage_id):
    root = upload(api, storage_id)
    child = upload(api, storage_id, parent=root["id"])
    _error(api.delete(f"/api/uploadedfile/{child['id']}.json"), 403)
    assert api.get(f"/api/uploadedfile/{child['id']}.json").status_code == 200


def test_uploaded_file_delete_cascades_and_undo_restores_everything(api, storage_id):
    root = upload(api, storage_id, contentType="ZIP")
    member = upload(api, storage_id, parent=root["id"])
    picture = image(api, member)
    pieces = [plane(api, picture, z=z) for z in range(2)]
    profile_file = upload(api, storage_id, parent=root["id"], contentType="HDF5")
    profile = companion(api, picture, profile_file)
    api.delete(f"/api/companionfile/{profile['id']}.json")  # an image with one is refused
    other_picture = image(api, upload(api, storage_id))
    kept = companion(api, other_picture, profile_file)

    response = api.delete(f"/api/uploadedfile/{root['id']}.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["callback"]["method"] == "be.cytomine.DeleteUploadedFileCommand"
    assert body["uploadedfile"]["id"] == root["id"]
    gone = [
        f"/api/uploadedfile/{root['id']}.json",
        f"/api/uploadedfile/{member['id']}.json",
        f"/api/uploadedfile/{profile_file['id']}.json",
        f"/api/abstractimage/{picture['id']}.json",
        *(f"/api/abstractslice/{p['id']}.json" for p in pieces),
        f"/api/companionfile/{kept['id']}.json",
    ]
    assert [api.get(path).status_code for path in gone] == [404] * len(gone)
    assert api.get(f"/api/abstractimage/{other_picture['id']}.json").status_code == 200

    undone = api.get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert [api.get(path).status_code for path in gone] == [200] * len(gone)
    tree = api.get("/api/uploadedfile.json", params={"root": root["id"]}).json()["collection"]
    assert {row["id"] for row in tree} == {root["id"], member["id"], profile_file["id"]}


def test_uploaded_file_delete_refused_while_a_project_uses_its_image(api, storage_id):
    picture = slide(api, storage_id)
    instance = place(api, picture)
    body = _error(api.delete(f"/api/uploadedfile/{picture['file']['id']}.json"), 403)
    assert body["errorValues"] == {
        "projectNames": [instance["projectJson"]["name"]],
        "imageNames": [picture["originalFilename"]],
    }
    assert isinstance(body["errors"], str)
    assert api.get(f"/api/abstractimage/{picture['id']}.json").status_code == 200


def test_uploaded_file_delete_refused_while_its_image_has_a_companion_file(api, storage_id):
    picture = slide(api, storage_id)
    companion(api, picture)
    _error(api.delete(f"/api/uploadedfile/{picture['file']['id']}.json"), 403)
    assert api.get(f"/api/uploadedfile/{picture['file']['id']}.json").status_code == 200


def test_uploaded_file_of_file_lists(api, storage_id):
    picture = slide(api, storage_id, planes=3)
    file_id = picture["file"]["id"]
    shown = api.get(f"/api/uploadedfile/{file_id}/abstractimage.json")
    assert shown.status_code == 200 and shown.json()["id"] == picture["id"]
    slices = api.get(f"/api/uploadedfile/{file_id}/abstractslice.json").json()
    assert [s["id"] for s in slices["collection"]] == [s["id"] for s in picture["slices"]]
    profile = companion(api, picture, picture["file"])
    listed = api.get(f"/api/uploadedfile/{file_id}/companionfile.json").json()
    assert [c["id"] for c in listed["collection"]] == [profile["id"]]
    lonely = upload(api, storage_id)
    body = _error(api.get(f"/api/uploadedfile/{lonely['id']}/abstractimage.json"), 404)
    assert body["errors"]["message"] == (
        f"AbstractImage not found with filters : {{uploadedFile={lonely['id']}}}"
    )


def test_uploaded_file_download_of_a_file_not_on_disk_is_404(api, make_user, storage_id):
    file = upload(api, storage_id)
    body = _error(api.get(f"/api/uploadedfile/{file['id']}/download"), 404)
    assert "missing" in body["errors"]["message"]
    _error(api.get("/api/uploadedfile/987654/download"), 404)
    _error(make_user()["api"].get(f"/api/uploadedfile/{file['id']}/download"), 403)


# --- uploaded files: listing modes -------------------------------------------------------------


def test_uploaded_file_list_default_is_own_uploads_newest_first(api, team, storage_id):
    owner, member = team["owner"], team["member"]
    first = upload(owner["api"], team["storage"]["id"])
    second = upload(owner["api"], team["storage"]["id"], parent=first["id"])
    theirs = upload(member["api"], team["storage"]["id"])
    upload(api, storage_id)
    body = owner["api"].get("/api/uploadedfile.json", params={"max": 0, "offset": 0}).json()
    assert set(body) == LIST_KEYS
    assert [f["id"] for f in body["collection"]] == [second["id"], first["id"]]
    assert set(body["collection"][0]) == FILE_KEYS
    assert _ids(member["api"].get("/api/uploadedfile.json")) == [theirs["id"]]
    roots = owner["api"].get("/api/uploadedfile.json", params={"onlyRoots": "True"})
    assert _ids(roots) == [first["id"]]
    children = owner["api"].get("/api/uploadedfile.json", params={"parent": first["id"]})
    assert _ids(children) == [second["id"]]
    ascending = owner["api"].get("/api/uploadedfile.json", params={"sort": "id", "order": "asc"})
    assert _ids(ascending) == [first["id"], second["id"]]


def test_uploaded_file_list_all_for_admins_only(api, team, storage_id):
    theirs = upload(team["owner"]["api"], team["storage"]["id"])
    mine = upload(api, storage_id)
    every = api.get("/api/uploadedfile.json", params={"all": "true", "max": 1}).json()
    assert every["size"] == 2 and every["perPage"] == 1 and every["totalPages"] == 2
    assert set(_ids(api.get("/api/uploadedfile.json", params={"all": "true"}))) == {
        theirs["id"],
        mine["id"],
    }
    _error(team["owner"]["api"].get("/api/uploadedfile.json", params={"all": "true"}), 403)


def test_uploaded_file_list_root_gives_the_subtree_rows(api, storage_id, make_user):
    root = upload(api, storage_id, contentType="ZIP", size=10)
    first = upload(api, storage_id, parent=root["id"], size=20)
    picture = image(api, first)
    pieces = [plane(api, picture, z=z) for z in range(2)]
    profile = companion(api, picture, first)
    second = upload(api, storage_id, parent=root["id"], contentType="PNG")
    lonely_slice_image = image(api, upload(api, storage_id))
    stray = plane(api, lonely_slice_image, uploadedFile=second["id"])
    upload(api, storage_id)

    response = api.get("/api/uploadedfile.json", params={"root": root["id"]})
    assert response.status_code == 200, response.text
    rows = response.json()["collection"]
    assert [row["id"] for row in rows] == [root["id"], first["id"], second["id"]]
    assert all(set(row) == TREE_KEYS for row in rows)
    top, with_image, with_slice = rows
    base = api.base
    assert top == {
        "id": root["id"],
        "created": int(root["created"]),
        "originalFilename": root["originalFilename"],
        "contentType": "ZIP",
        "lTree": str(root["id"]),
        "parent": None,
        "size": 10,
        "status": 100,
        "image": None,
        "slices": [],
        "companionFile": None,
        "thumbURL": None,
        "macroURL": None,
        "isArchive": True,
    }
    assert with_image["lTree"] == f"{root['id']}.{first['id']}"
    assert with_image["image"] == picture["id"]
    assert with_image["slices"] == [p["id"] for p in pieces]
    assert with_image["companionFile"] == profile["id"]
    assert with_image["thumbURL"] == f"{base}/api/abstractimage/{picture['id']}/thumb.png"
    assert with_image["macroURL"] == (
        f"{base}/api/abstractimage/{picture['id']}/associated/macro.png?maxWidth=512"
    )
    assert with_slice["thumbURL"] == f"{base}/api/abstractslice/{stray['id']}/thumb.png"
    assert with_slice["image"] is None and with_slice["slices"] == [stray["id"]]
    _error(make_user()["api"].get("/api/uploadedfile.json", params={"root": root["id"]}), 403)
    _error(api.get("/api/uploadedfile.json", params={"root": 987654}), 404)


def test_uploaded_file_list_roots_with_details(api, storage_id):
    plain = upload(api, storage_id, size=100, status=100)
    picture = image(api, plain, width=500, height=400)
    archive = upload(api, storage_id, contentType="ZIP", size=1)
    member = upload(api, storage_id, parent=archive["id"], size=30, status=10)
    image(api, member)
    converted = upload(api, storage_id, parent=member["id"], size=7)
    upload(api, storage_id, parent=converted["id"], size=2)

    response = api.get("/api/uploadedfile.json", params={"onlyRootsWithDetails": "true"})
    assert response.status_code == 200, response.text
    rows = {row["id"]: row for row in response.json()["collection"]}
    assert set(rows) == {plain["id"], member["id"]}
    assert all(set(row) == ROOT_KEYS | {"nbChildren", "globalSize"} for row in rows.values())
    assert rows[plain["id"]] == {
        "id": plain["id"],
        "contentType": "SVS",
        "created": int(plain["created"]),
        "filename": plain["filename"],
        "originalFilename": plain["originalFilename"],
        "size": 100,
        "status": 100,
        "storageId": storage_id,
        "userId": me(api)["id"],
        "width": 500,
        "height": 400,
        "magnification": 20,
        "root": plain["id"],
        "image": picture["id"],
        "isArchive": False,
        "nbChildren": 0,
        "globalSize": 100,
        "thumbURL": f"{api.base}/api/abstractimage/{picture['id']}/thumb.png",
    }
    deep = rows[member["id"]]
    assert (deep["root"], deep["nbChildren"], deep["globalSize"]) == (archive["id"], 2, 39)
    assert deep["image"] is None and deep["thumbURL"] is None  # status 10: not deployed

    light = api.get(
        "/api/uploadedfile.json",
        params={"onlyRootsWithDetails": "true", "withTreeDetails": "false"},
    )
    assert all(set(row) == ROOT_KEYS for row in light.json()["collection"])


def test_uploaded_file_list_roots_filters_and_sorts(api, storage_id, team):
    small = upload(api, storage_id, size=10, originalFilename="b.svs")
    big = upload(api, storage_id, size=1000, originalFilename="a.svs")
    image(api, small, width=100)
    image(api, big, width=90000)
    theirs = upload(team["owner"]["api"], team["storage"]["id"])
    params = {"onlyRootsWithDetails": "true", "storage[in]": f"{storage_id}"}

    def ids(**extra: Any) -> list[int]:
        return _ids(api.get("/api/uploadedfile.json", params={**params, **extra}))

    assert ids(sort="size", order="asc") == [small["id"], big["id"]]
    assert ids(sort="originalFilename", order="asc") == [big["id"], small["id"]]
    assert ids(sort="globalSize", order="desc") == [big["id"], small["id"]]
    assert ids(sort="nonsense") == [big["id"], small["id"]]  # anything else: newest first
    assert ids(**{"width[lte]": "500"}) == [small["id"]]
    assert ids(**{"originalFilename[ilike]": "A.S"}) == [big["id"]]
    everywhere = {"storage[equals]": f"{storage_id},{team['storage']['id']}"}  # read as `in`
    both = api.get("/api/uploadedfile.json", params={"onlyRootsWithDetails": "true", **everywhere})
    assert _ids(both) == [theirs["id"], big["id"], small["id"]]
    owner = team["owner"]["api"].get(
        "/api/uploadedfile.json", params={"onlyRootsWithDetails": "true"}
    )
    assert _ids(owner) == [theirs["id"]]
    assert ids(**{"size[gte]": "11", "size[lte]": "5000"}) == [big["id"]]
    _error(api.get("/api/uploadedfile.json", params={**params, "size[lte]": "many"}), 400)


def test_uploaded_file_l_tree_is_stored_not_serialised(api, storage_id, database_url):
    root = upload(api, storage_id)
    child = upload(api, storage_id, parent=root["id"])
    assert "lTree" not in api.get(f"/api/uploadedfile/{child['id']}.json").json()
    (stored,) = run_sql(database_url, "SELECT l_tree FROM uploaded_file WHERE id = $1", child["id"])
    assert stored["l_tree"] == f"{root['id']}.{child['id']}"


def test_uploaded_file_create_in_other_storage_is_403(make_user, storage_id):
    alice = make_user()
    body = {"originalFilename": "x", "filename": "x", "storage": storage_id, "user": alice["id"]}
    _error(alice["api"].post("/api/uploadedfile.json", json=body), 403)


def test_uploaded_file_create_for_someone_else_is_admin_only(api, team):
    owner, member = team["owner"], team["member"]
    body = {
        "originalFilename": "x",
        "filename": "x",
        "storage": team["storage"]["id"],
        "user": owner["id"],
    }
    _error(member["api"].post("/api/uploadedfile.json", json=body), 403)
    assert api.post("/api/uploadedfile.json", json=body).status_code == 200


def test_uploaded_file_names_are_unique_only_by_id(api, storage_id):
    name = unique("same") + ".svs"
    first = upload(api, storage_id, originalFilename=name)
    second = upload(api, storage_id, originalFilename=name)
    assert first["id"] != second["id"]
