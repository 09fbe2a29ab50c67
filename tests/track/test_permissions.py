"""Who may read and change tracks and annotation tracks, by global role, project role and
project mode (contract core.md §7.4, images-annotations.md §4, §6): READ on the project to
read; owner-or-mode (the image's creator owns a track, the annotation's creator a link) and the
user role to write; admins-by-now pass everything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Api

ROLES = ("superadmin", "admin_session", "admin", "manager", "owner", "contributor", "guest",
         "stranger")  # fmt: skip
MODES = ("CLASSIC", "RESTRICTED", "READ_ONLY")
MODE_FLAGS = {"CLASSIC": {}, "RESTRICTED": {"isRestricted": True},
              "READ_ONLY": {"isReadOnly": True}}  # fmt: skip
ALWAYS = ("superadmin", "admin_session", "manager")
NEVER = ("admin", "stranger", "guest")  # not members, or a guest (writes need the user role)

#: role → mode → status.
READ = {role: dict.fromkeys(MODES, 403 if role in ("admin", "stranger") else 200)
        for role in ROLES}  # fmt: skip
WRITE = {
    **{role: dict.fromkeys(MODES, 200) for role in ALWAYS},
    **{role: dict.fromkeys(MODES, 403) for role in NEVER},
    "owner": {"CLASSIC": 200, "RESTRICTED": 200, "READ_ONLY": 403},
    "contributor": {"CLASSIC": 200, "RESTRICTED": 403, "READ_ONLY": 403},
}


@pytest.fixture
def world(api: Api, people: dict[str, Any], make_user: Any) -> Any:
    """A project (in the mode asked) with a manager, two contributors and a guest. The first
    contributor, the owner, added its image and drew two annotations on it (one per slice); a
    track on the image holds the first one."""

    def build(mode: str) -> dict[str, Any]:
        manager, owner, contributor = make_user(), make_user(), make_user()
        members = (owner["id"], contributor["id"], people["guest"]["id"])
        project = make_project(api, admins=(manager["id"],), users=members)
        image = add_image(owner["api"], project["id"], abstract_image(owner["api"], slices=2)["id"])
        slices = api.get(f"/api/imageinstance/{image['id']}/sliceinstance.json").json()
        drawn = [
            created(owner["api"].post("/api/annotation.json", json={
                "location": "POINT (10 10)", "slice": piece["id"]}), "annotation")
            for piece in slices["collection"]
        ]  # fmt: skip
        track = created(api.post("/api/track.json", json={"name": "t", "image": image["id"]}),
                        "track")  # fmt: skip
        linked = api.post(f"/api/annotationtrack/{drawn[0]['id']}/{track['id']}.json")
        assert linked.status_code == 200, linked.text
        if MODE_FLAGS[mode]:
            body = {**project, **MODE_FLAGS[mode]}
            assert api.put(f"/api/project/{project['id']}.json", json=body).status_code == 200
        actors = {**{role: people[role] for role in ("superadmin", "admin_session", "admin",
                                                       "guest")},
                  "manager": manager, "owner": owner, "contributor": contributor,
                  "stranger": people["user"]}  # fmt: skip
        return {"project": project, "image": image, "annotations": drawn, "track": track,
                "actors": actors}  # fmt: skip

    return build


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
def test_track_operations_by_role_and_mode(world, api, role, mode):
    scene = world(mode)
    actor: Api = scene["actors"][role]["api"]
    track, image, project = scene["track"], scene["image"], scene["project"]
    first, second = scene["annotations"]
    link = f"/api/annotationtrack/{first['id']}/{track['id']}.json"

    for read in (f"/api/track/{track['id']}.json", f"/api/project/{project['id']}/track.json",
                 f"/api/imageinstance/{image['id']}/track.json", link,
                 f"/api/track/{track['id']}/annotationtrack.json",
                 f"/api/annotation/{first['id']}/annotationtrack.json"):  # fmt: skip
        assert actor.get(read).status_code == READ[role][mode], read

    made = actor.post("/api/track.json", json={"name": f"by-{role}", "image": image["id"]})
    assert made.status_code == WRITE[role][mode], made.text
    edited = actor.put(f"/api/track/{track['id']}.json", json={**track, "name": f"t-{role}"})
    assert edited.status_code == WRITE[role][mode], edited.text
    put_in = actor.post("/api/annotationtrack.json",
                        json={"annotationIdent": second["id"], "track": track["id"]})  # fmt: skip
    assert put_in.status_code == WRITE[role][mode], put_in.text
    taken_out = actor.delete(link)
    assert taken_out.status_code == WRITE[role][mode], taken_out.text
    removed = actor.delete(f"/api/track/{track['id']}.json")
    assert removed.status_code == WRITE[role][mode], removed.text
    still = api.get(f"/api/track/{track['id']}.json").status_code
    assert still == (404 if WRITE[role][mode] == 200 else 200)


def test_anonymous_is_401(anonymous, api, scene):
    made = api.post("/api/track.json", json={"name": "t", "image": scene["image"]["id"]})
    track = made.json()["track"]
    assert anonymous.get(f"/api/track/{track['id']}.json").status_code == 401
    body = {"name": "x", "image": scene["image"]["id"]}
    assert anonymous.post("/api/track.json", json=body).status_code == 401
