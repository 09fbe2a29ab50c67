"""Review of the storage side's rights: what a write may point at. A slice's file and a file's
parent are other storages' objects; naming one must need the rights on it that reading or
changing it would (contract images-annotations.md §2.1, §2.4, §6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Api, assert_error
from tests.storage.conftest import me, own_storage, slide

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


@pytest.fixture
def scene(team: dict[str, Any]) -> dict[str, Any]:
    """`victim`: a slide in the owner's storage; `mine`: one in the outsider's own storage."""
    owner, other = team["owner"]["api"], team["other"]["api"]
    return {"victim": slide(owner, team["storage"]["id"]),
            "mine": slide(other, own_storage(other)["id"]), "other": other,
            "owner": owner}  # fmt: skip


def _slices(api: Api, image: dict[str, Any]) -> list[Any]:
    return api.get(f"/api/abstractimage/{image['id']}/abstractslice.json").json()["collection"]


def test_slice_cannot_be_stored_in_a_file_of_a_storage_one_cannot_write(scene):
    """A slice whose file is someone else's would show that file's path and serve its pixels
    through the slice's thumb and crops."""
    other, victim, mine = scene["other"], scene["victim"], scene["mine"]
    before = _slices(other, mine)
    body = {"image": mine["id"], "uploadedFile": victim["file"]["id"], "zStack": 3}
    assert_error(other.post("/api/abstractslice.json", json=body), 403)
    own = mine["slices"][0]
    moved = {**{k: v for k, v in own.items() if k != "class"},
             "uploadedFile": victim["file"]["id"]}  # fmt: skip
    assert_error(other.put(f"/api/abstractslice/{own['id']}.json", json=moved), 403)
    assert _slices(other, mine) == before


def test_slice_in_a_file_of_a_writable_storage_is_accepted(team, scene):
    """A member writes the owner's storage: a slice of their image may live in its files."""
    member = team["member"]["api"]
    victim = scene["victim"]
    body = {"image": victim["id"], "uploadedFile": victim["file"]["id"], "zStack": 4}
    assert member.post("/api/abstractslice.json", json=body).status_code == 200


def test_file_cannot_be_filed_under_a_file_of_a_storage_one_cannot_write(scene):
    """A child joins its parent's tree: the parent's deletion takes it along, and a project
    using it blocks that deletion. Filing under someone else's file is theirs to allow."""
    other, victim = scene["other"], scene["victim"]
    storage = own_storage(other)["id"]
    body = {"originalFilename": "x.svs", "filename": "x.svs", "storage": storage,
            "user": me(other)["id"], "parent": victim["file"]["id"]}  # fmt: skip
    assert_error(other.post("/api/uploadedfile.json", json=body), 403)
    own = scene["mine"]["file"]
    moved = {**{k: v for k, v in own.items() if k != "class"}, "parent": victim["file"]["id"]}
    assert_error(other.put(f"/api/uploadedfile/{own['id']}.json", json=moved), 403)
    shown = other.get(f"/api/uploadedfile/{own['id']}.json").json()
    assert shown["parent"] is None
    tree = scene["owner"].get("/api/uploadedfile.json", params={"root": victim["file"]["id"]})
    assert [row["id"] for row in tree.json()["collection"]] == [victim["file"]["id"]]


THROUGH_PROJECT = """query($id: Long!) { imageInstance(id: $id) { abstractImage {
  id uploadedFile { id storage { id name } }
  files: storage { uploadedFiles { nodes { originalFilename } } }
  people: storage { members { username } }
  tree: uploadedFile { children { nodes { originalFilename } } }
  up: uploadedFile { parent { originalFilename } }
} } }"""


def test_project_readers_do_not_reach_the_rest_of_the_storage(team, api):
    """A project member reaches an image's abstract image, file and storage through the graph
    (what the image shows), but the storage's other files, its members and the file's tree
    need READ on the storage, as over REST."""
    from tests.factories import add_image, make_project
    from tests.storage.conftest import upload

    owner, reader = team["owner"], team["other"]
    storage = team["storage"]["id"]
    archive = upload(owner["api"], storage, originalFilename="batch-secret.zip",
                     contentType="ZIP")  # fmt: skip
    picture = slide(owner["api"], storage)
    moved = {**{k: v for k, v in picture["file"].items() if k != "class"},
             "parent": archive["id"]}  # fmt: skip
    assert owner["api"].put(f"/api/uploadedfile/{picture['file']['id']}.json",
                            json=moved).status_code == 200  # fmt: skip
    upload(owner["api"], storage, originalFilename="unrelated-secret.svs",
           parent=picture["file"]["id"])  # fmt: skip
    project = make_project(owner["api"], users=(reader["id"], team["member"]["id"]))
    image = add_image(owner["api"], project["id"], picture["id"])

    answer = reader["api"].gql(THROUGH_PROJECT, {"id": image["id"]})
    text = str(answer)
    assert "secret" not in text, answer
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"FORBIDDEN"}
    shown = answer["data"]["imageInstance"]["abstractImage"]
    assert shown["uploadedFile"]["storage"]["id"] == storage
    assert shown["people"] is None and shown["files"] is None, shown

    for who in (owner, team["member"]):  # READ on the storage: everything
        seen = who["api"].gql(THROUGH_PROJECT, {"id": image["id"]})
        assert "errors" not in seen, seen
        assert "unrelated-secret.svs" in str(seen) and "batch-secret.zip" in str(seen)


def test_in_use_refusal_does_not_show_names_a_blind_project_hides(team, api):
    """Deleting an image a blind project uses is refused naming its uses: the instance's name
    there is shown as the project shows it to everyone, the base image's id."""
    from tests.factories import add_image, make_project

    owner = team["owner"]["api"]
    picture = slide(owner, team["storage"]["id"])
    project = make_project(api, blindMode=True)
    add_image(api, project["id"], picture["id"], instanceFilename="patient-4711")
    refused = assert_error(owner.delete(f"/api/abstractimage/{picture['id']}.json"), 403)
    assert "patient-4711" not in str(refused)
    assert refused["errorValues"]["imageNames"] == [str(picture["id"])]
