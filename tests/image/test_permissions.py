"""Who may read and change image instances and slice instances, by global role, project role
and project mode (contract core.md §7.1–§7.4, images-annotations.md §2.6–§2.7, §6): READ on
the project to read; the read-only check to create; owner-or-mode with the image's creator as
owner to change or delete; the user role to add images; admins-by-now pass everything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, make_project
from tests.harness import Api

ROLES = ("superadmin", "admin_session", "admin", "manager", "owner", "contributor", "guest",
         "stranger")  # fmt: skip
MODES = ("CLASSIC", "RESTRICTED", "READ_ONLY")
MODE_FLAGS = {"CLASSIC": {}, "RESTRICTED": {"isRestricted": True},
              "READ_ONLY": {"isReadOnly": True}}  # fmt: skip
ALWAYS = ("superadmin", "admin_session", "manager")
NEVER = ("admin", "stranger")

#: role → mode → status, for each operation.
READ = {role: dict.fromkeys(MODES, 403 if role in NEVER else 200) for role in ROLES}
OWNER_OR_MODE = {
    **{role: dict.fromkeys(MODES, 200) for role in ALWAYS},
    **{role: dict.fromkeys(MODES, 403) for role in NEVER},
    "owner": {"CLASSIC": 200, "RESTRICTED": 200, "READ_ONLY": 403},
    "contributor": {"CLASSIC": 200, "RESTRICTED": 403, "READ_ONLY": 403},
    "guest": {"CLASSIC": 200, "RESTRICTED": 403, "READ_ONLY": 403},
}
NOT_READ_ONLY = {
    **{role: dict.fromkeys(MODES, 200) for role in ALWAYS},
    **{role: dict.fromkeys(MODES, 403) for role in NEVER},
    **{role: {"CLASSIC": 200, "RESTRICTED": 200, "READ_ONLY": 403}
       for role in ("owner", "contributor", "guest")},
}  # fmt: skip
CREATE = {**NOT_READ_ONLY, "guest": dict.fromkeys(MODES, 403)}  # guests may not add images


@pytest.fixture
def world(api: Api, people: dict[str, Any], make_user: Any) -> Any:
    """A project (in the mode asked) with a manager, two contributors and a guest; the image in
    it was added by the first contributor, its owner."""

    def build(mode: str) -> dict[str, Any]:
        manager, owner, contributor = make_user(), make_user(), make_user()
        members = (owner["id"], contributor["id"], people["guest"]["id"])
        project = make_project(api, admins=(manager["id"],), users=members)
        image = add_image(owner["api"], project["id"], abstract_image(owner["api"], slices=2)["id"])
        if MODE_FLAGS[mode]:
            body = {**project, **MODE_FLAGS[mode]}
            assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
        actors = {**{role: people[role] for role in ("superadmin", "admin_session", "admin",
                                                       "guest")},
                  "manager": manager, "owner": owner, "contributor": contributor,
                  "stranger": people["user"]}  # fmt: skip
        return {"project": project, "image": image, "actors": actors}

    return build


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
def test_image_and_slice_operations_by_role_and_mode(world, api, role, mode):
    scene = world(mode)
    actor: Api = scene["actors"][role]["api"]
    image, project = scene["image"], scene["project"]
    path = f"/api/imageinstance/{image['id']}"

    for read in (f"{path}.json", f"{path}/sliceinstance.json", f"{path}/next.json",
                 f"{path}/sliceinstance/reference.json",
                 f"/api/project/{project['id']}/imageinstance.json",
                 f"/api/project/{project['id']}/bounds/imageinstance.json"):  # fmt: skip
        assert actor.get(read).status_code == READ[role][mode], read

    fetched = api.get(f"{path}.json").json()
    renamed = actor.put(f"{path}.json", json={**fetched, "instanceFilename": f"by-{role}"})
    assert renamed.status_code == OWNER_OR_MODE[role][mode], renamed.text

    slices = api.get(f"{path}/sliceinstance.json").json()["collection"]
    removed = actor.delete(f"/api/sliceinstance/{slices[1]['id']}.json")
    assert removed.status_code == OWNER_OR_MODE[role][mode], removed.text
    if removed.status_code != 200:
        assert api.delete(f"/api/sliceinstance/{slices[1]['id']}.json").status_code == 200
    body = {"baseSlice": slices[1]["baseSlice"], "image": image["id"], "project": project["id"]}
    remade = actor.post("/api/sliceinstance.json", json=body)
    assert remade.status_code == NOT_READ_ONLY[role][mode], remade.text

    own = api if role == "guest" else actor  # a guest cannot upload, so it offers the admin's
    base = abstract_image(own)
    added = actor.post("/api/imageinstance.json",
                       json={"baseImage": base["id"], "project": project["id"]})  # fmt: skip
    assert added.status_code == CREATE[role][mode], added.text

    deleted = actor.delete(f"{path}.json")
    assert deleted.status_code == OWNER_OR_MODE[role][mode], deleted.text


def test_create_needs_read_on_the_abstract_image_storage(api, make_user):
    manager, uploader = make_user(), make_user()
    project = make_project(manager["api"])
    base = abstract_image(uploader["api"])
    body = {"baseImage": base["id"], "project": project["id"]}
    assert manager["api"].post("/api/imageinstance.json", json=body).status_code == 403
    assert api.post("/api/imageinstance.json", json=body).status_code == 200


def test_move_needs_write_rights_on_both_projects(api, make_user):
    owner = make_user()
    home = make_project(api, users=(owner["id"],))
    elsewhere = make_project(api)
    image = add_image(owner["api"], home["id"], abstract_image(owner["api"])["id"])
    moved = owner["api"].put(f"/api/imageinstance/{image['id']}.json",
                             json={**image, "project": elsewhere["id"]})  # fmt: skip
    assert moved.status_code == 403, moved.text
    read_only = make_project(api, users=(owner["id"],), isReadOnly=True)
    moved = owner["api"].put(f"/api/imageinstance/{image['id']}.json",
                             json={**image, "project": read_only["id"]})  # fmt: skip
    assert moved.status_code == 403, moved.text


def test_anonymous_is_401(anonymous, api):
    project = make_project(api)
    image = add_image(api, project["id"], abstract_image(api)["id"])
    assert anonymous.get(f"/api/imageinstance/{image['id']}.json").status_code == 401
    assert anonymous.get(f"/api/imageinstance/{image['id']}/thumb.png").status_code == 401
    assert anonymous.post("/api/imageinstance.json", json={}).status_code == 401
