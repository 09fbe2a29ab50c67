"""Who may read and change tags and tag associations, by global role, project role and project
mode (contract core.md §7.5, §9.10, §9.14–§9.15).

Tags: any role reads them, the user role creates them, their creator or an administrator
changes them. Associations follow the object's rules: READ on its project to read (an abstract
image: on its storage or a project using it); to write, WRITE on a project (its managers), the
user role and the owner-or-mode check on an image (its adder owns it), a role and the
owner-or-mode check on an annotation (its author owns it), the user role on an abstract image
one may read. Admins-by-now pass everything.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Api
from tests.tag.conftest import CLASSES

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


@pytest.fixture
def world(api: Api, people: dict[str, Any], make_user: Any, make_tag: Any, put_tag: Any) -> Any:
    """A project (in the mode asked) with a manager, two contributors and a guest. The first
    contributor, the owner, added its image and drew an annotation on it; the administrator
    tagged the project, the image, its abstract image and the annotation with `seed`."""

    def build(mode: str) -> dict[str, Any]:
        manager, owner, contributor = make_user(), make_user(), make_user()
        members = (owner["id"], contributor["id"], people["guest"]["id"])
        project = make_project(api, admins=(manager["id"],), users=members)
        image = add_image(owner["api"], project["id"], abstract_image(owner["api"])["id"])
        drawn = created(owner["api"].post("/api/annotation.json", json={
            "location": "POINT (10 10)", "image": image["id"]}), "annotation")  # fmt: skip
        objects = {"Project": project["id"], "ImageInstance": image["id"],
                   "AbstractImage": image["baseImage"], "UserAnnotation": drawn["id"]}  # fmt: skip
        seed = make_tag(api, "seed")
        seeded = {name: put_tag(api, name, ident, seed["id"]) for name, ident in objects.items()}
        if MODE_FLAGS[mode]:
            body = {**project, **MODE_FLAGS[mode]}
            assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
        actors = {**{role: people[role] for role in ("superadmin", "admin_session", "admin",
                                                       "guest")},
                  "manager": manager, "owner": owner, "contributor": contributor,
                  "stranger": people["user"]}  # fmt: skip
        return {"objects": objects, "seeded": seeded, "actors": actors}

    return build


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
def test_association_operations_by_role_mode_and_object(world, api, make_tag, role, mode):
    scene = world(mode)
    actor: Api = scene["actors"][role]["api"]
    for name, ident in scene["objects"].items():
        of_object = f"/api/domain/{CLASSES[name]}/{ident}/tag_domain_association.json"
        seeded = scene["seeded"][name]
        for read in (of_object, f"/api/tag_domain_association/{seeded['id']}.json"):
            assert actor.get(read).status_code == READ[name][role][mode], (name, read)

        expected = WRITE[name][role][mode]
        made = actor.post(of_object, json={"tag": make_tag(api)["id"]})
        assert made.status_code == expected, (name, made.text)
        removed = actor.delete(f"/api/tag_domain_association/{seeded['id']}.json")
        assert removed.status_code == expected, (name, removed.text)
        still = api.get(f"/api/tag_domain_association/{seeded['id']}.json").status_code
        assert still == (404 if expected == 200 else 200)

    listed = actor.get("/api/tag_domain_association.json").json()["collection"]
    seen = {item["domainClassName"].rsplit(".", 1)[1] for item in listed}
    readable = {name for name in scene["objects"] if READ[name][role][mode] == 200}
    assert seen <= readable and ("AbstractImage" in seen) == ("AbstractImage" in readable)


#: role → (list, create, change own, change another's) statuses.
TAG_RULES = {
    "superadmin": (200, 200, 200, 200),
    "admin_session": (200, 200, 200, 200),
    "admin": (200, 200, 200, 403),
    "user": (200, 200, 200, 403),
    "guest": (200, 403, None, 403),
}


@pytest.mark.parametrize("role", TAG_RULES)
def test_tag_operations_by_global_role(api, people, make_tag, role):
    actor: Api = people[role]["api"]
    listing, creating, own, others = TAG_RULES[role]
    assert actor.get("/api/tag.json").status_code == listing
    assert actor.get(f"/api/tag/{make_tag(api)['id']}.json").status_code == 200
    made = actor.post("/api/tag.json", json={"name": f"by-{role}"})
    assert made.status_code == creating, made.text
    if own is not None:
        mine = made.json()["tag"]
        renamed = actor.put(f"/api/tag/{mine['id']}.json", json={"name": f"by-{role}-2"})
        assert renamed.status_code == own, renamed.text
        assert actor.delete(f"/api/tag/{mine['id']}.json").status_code == own
    theirs = make_tag(api)
    edited = actor.put(f"/api/tag/{theirs['id']}.json", json={"name": f"taken-by-{role}"})
    assert edited.status_code == others, edited.text
    assert actor.delete(f"/api/tag/{theirs['id']}.json").status_code == others
    still = api.get(f"/api/tag/{theirs['id']}.json").status_code
    assert still == (404 if others == 200 else 200)


def test_undo_is_refused_to_who_lost_the_right(api, scene, make_user, make_tag):
    manager = make_user()
    project = scene["project"]["id"]
    assert api.post(f"/api/project/{project}/user/{manager['id']}/admin.json").status_code == 200
    path = f"/api/domain/{CLASSES['Project']}/{project}/tag_domain_association.json"
    made = manager["api"].post(path, json={"tag": make_tag(api)["id"]})
    assert made.status_code == 200, made.text
    demoted = api.delete(f"/api/project/{project}/user/{manager['id']}/admin.json")
    assert demoted.status_code == 200, demoted.text
    assert manager["api"].get("/api/command/undo.json").status_code == 403
    assert api.get(path).json()["size"] == 1


def test_anonymous_is_401(anonymous, api, make_tag):
    tag = make_tag(api)
    assert anonymous.get("/api/tag.json").status_code == 401
    assert anonymous.get(f"/api/tag/{tag['id']}.json").status_code == 401
    assert anonymous.post("/api/tag.json", json={"name": "x"}).status_code == 401
    assert anonymous.get("/api/tag_domain_association.json").status_code == 401
