"""Who may read and change properties, descriptions and attached files, by global role, project
role and project mode: the rules of the object they hang from (contract core.md §7.5, §9.10).

Reading needs READ on the object's project (an abstract image: on its storage or a project
using it). Writing follows the meta rule: WRITE on a project (its managers); the user role and
the owner-or-mode check on an image (its adder owns it); a role and the owner-or-mode check on
an annotation (its author owns it); the user role on an abstract image one may read.
Admins-by-now pass everything.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Api
from tests.metadata.conftest import CLASSES, upload

ROLES = ("superadmin", "admin_session", "admin", "manager", "owner", "contributor", "guest",
         "stranger")  # fmt: skip
MODES = ("CLASSIC", "RESTRICTED", "READ_ONLY")
MODE_FLAGS = {"CLASSIC": {}, "RESTRICTED": {"isRestricted": True},
              "READ_ONLY": {"isReadOnly": True}}  # fmt: skip
ALWAYS = ("superadmin", "admin_session", "manager")
OUTSIDERS = ("admin", "stranger")  # not members (ROLE_ADMIN without a session is a user)


def by_mode(classic: int, restricted: int, read_only: int) -> dict[str, int]:
    return {"CLASSIC": classic, "RESTRICTED": restricted, "READ_ONLY": read_only}


def table(**rows: dict[str, int]) -> dict[str, dict[str, int]]:
    """role → mode → status: ALWAYS pass, OUTSIDERS are refused, the rest as given."""
    return {**{role: by_mode(200, 200, 200) for role in ALWAYS},
            **{role: by_mode(403, 403, 403) for role in OUTSIDERS}, **rows}  # fmt: skip


OWNER_OR_MODE = {"owner": by_mode(200, 200, 403), "contributor": by_mode(200, 403, 403)}
#: object class → role → mode → status.
READ = {
    **dict.fromkeys(("Project", "ImageInstance", "UserAnnotation"), table(
        **{role: by_mode(200, 200, 200) for role in ("owner", "contributor", "guest")})),
    "AbstractImage": table(**{role: by_mode(200, 200, 200) for role in ("owner", "contributor",
                                                                         "guest")}),
}  # fmt: skip
WRITE = {
    "Project": table(**{role: by_mode(403, 403, 403) for role in ("owner", "contributor",
                                                                   "guest")}),
    "ImageInstance": table(**OWNER_OR_MODE, guest=by_mode(403, 403, 403)),
    "UserAnnotation": table(**OWNER_OR_MODE, guest=by_mode(200, 403, 403)),
    "AbstractImage": table(owner=by_mode(200, 200, 200), contributor=by_mode(200, 200, 200),
                           guest=by_mode(403, 403, 403)),
}  # fmt: skip


def build(api: Api, people: dict[str, Any], make_user: Any, mode: str) -> dict[str, Any]:
    """A project (in `mode`) with a manager, two contributors and a guest. The first
    contributor, the owner, added its image and drew an annotation on it."""
    manager, owner, contributor = make_user(), make_user(), make_user()
    members = (owner["id"], contributor["id"], people["guest"]["id"])
    project = make_project(api, admins=(manager["id"],), users=members)
    image = add_image(owner["api"], project["id"], abstract_image(owner["api"])["id"])
    drawn = created(owner["api"].post("/api/annotation.json", json={
        "location": "POINT (10 10)", "image": image["id"]}), "annotation")  # fmt: skip
    if MODE_FLAGS[mode]:
        body = {**project, **MODE_FLAGS[mode]}
        assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
    actors = {**{role: people[role] for role in ("superadmin", "admin_session", "admin",
                                                   "guest")},
              "manager": manager, "owner": owner, "contributor": contributor,
              "stranger": people["user"]}  # fmt: skip
    objects = {"Project": project["id"], "ImageInstance": image["id"],
               "AbstractImage": image["baseImage"], "UserAnnotation": drawn["id"]}  # fmt: skip
    return {"objects": objects, "actors": actors}


@pytest.mark.parametrize("mode", MODES)
def test_metadata_operations_by_role_mode_and_object(api, people, make_user, mode):
    world = build(api, people, make_user, mode)
    for role in ROLES:
        actor: Api = world["actors"][role]["api"]
        for name, ident in world["objects"].items():
            base = f"/api/domain/{CLASSES[name]}/{ident}"
            seeded = created(api.post(f"{base}/property.json", json={"key": "s", "value": "v"}),
                             "property")  # fmt: skip
            where = (role, name, mode)
            for read in (f"{base}/property.json", f"{base}/property/{seeded['id']}.json",
                         f"{base}/attachedfile.json"):  # fmt: skip
                assert actor.get(read).status_code == READ[name][role][mode], (where, read)

            expected = WRITE[name][role][mode]
            made = actor.post(f"{base}/property.json", json={"key": "k", "value": role})
            assert made.status_code == expected, (where, made.text)
            edited = actor.put(f"{base}/property/{seeded['id']}.json",
                               json={"key": "s", "value": "w"})  # fmt: skip
            assert edited.status_code == expected, (where, edited.text)
            described = actor.post(f"{base}/description.json", json={"data": role})
            assert described.status_code == expected, (where, described.text)
            if expected == 200:
                assert actor.delete(f"{base}/description.json").status_code == 200
            params = {"domainClassName": CLASSES[name], "domainIdent": ident}
            sent = upload(actor, b"x", params=params)
            assert sent.status_code == expected, (where, sent.text)
            if expected == 200:
                fid = sent.json()["id"]
                assert actor.get(f"/api/attachedfile/{fid}/download").status_code == 200
                assert actor.delete(f"/api/attachedfile/{fid}.json").status_code == 200
            removed = actor.delete(f"{base}/property/{seeded['id']}.json")
            assert removed.status_code == expected, (where, removed.text)


def test_a_file_is_read_as_its_object_is(api, people, make_user):
    world = build(api, people, make_user, "CLASSIC")
    project = world["objects"]["Project"]
    params = {"domainClassName": CLASSES["Project"], "domainIdent": project}
    fid = upload(api, b"secret", params=params).json()["id"]
    for role in ROLES:
        actor: Api = world["actors"][role]["api"]
        status = READ["Project"][role]["CLASSIC"]
        assert actor.get(f"/api/attachedfile/{fid}.json").status_code == status, role
        assert actor.get(f"/api/attachedfile/{fid}/download").status_code == status, role
    everything = {role: world["actors"][role]["api"].get("/api/attachedfile.json").status_code
                  for role in ("superadmin", "admin", "manager")}  # fmt: skip
    assert everything == {"superadmin": 200, "admin": 403, "manager": 403}


def test_undo_is_refused_to_who_lost_the_right(api, scene, make_user):
    manager = make_user()
    project = scene["project"]["id"]
    assert api.post(f"/api/project/{project}/user/{manager['id']}/admin.json").status_code == 200
    path = f"/api/domain/{CLASSES['Project']}/{project}/property.json"
    made = manager["api"].post(path, json={"key": "k", "value": "v"})
    assert made.status_code == 200, made.text
    demoted = api.delete(f"/api/project/{project}/user/{manager['id']}/admin.json")
    assert demoted.status_code == 200, demoted.text
    assert manager["api"].get("/api/command/undo.json").status_code == 403
    assert api.get(path).json()["size"] == 1


def test_anonymous_is_401(anonymous, scene):
    project = scene["project"]["id"]
    path = f"/api/domain/{CLASSES['Project']}/{project}/property.json"
    assert anonymous.get(path).status_code == 401
    assert anonymous.post(path, json={"key": "k", "value": "v"}).status_code == 401
    assert anonymous.get("/api/attachedfile/1/download").status_code == 401
    assert (
        upload(
            anonymous, b"x", params={"domainClassName": "Project", "domainIdent": project}
        ).status_code
        == 401
    )
