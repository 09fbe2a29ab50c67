"""Who may do what in a project (contract core.md §7.5): one table of operation × role → HTTP
status, checked in each project mode. Roles: the super-admin, an admin without and with an
admin session, the project's manager, a contributor, a non-member and a guest member.

Each operation undoes its own success (as the super-admin) so the next role meets the same
state; project modes change nothing for these operations, which the table shows by holding in
all three.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import created, make_project
from tests.harness import Api

ROLES = ("superadmin", "admin", "admin_session", "manager", "contributor", "outsider", "guest")
#: Members, admins in session and super-admins read; an admin without a session is a plain user.
READ = dict(zip(ROLES, (200, 403, 200, 200, 200, 403, 200), strict=True))
#: Managers and admins-by-now change the project, its members, layers and representatives.
MANAGE = dict(zip(ROLES, (200, 403, 200, 200, 403, 403, 403), strict=True))
#: Any authenticated user reads the software registry.
ANYONE = dict.fromkeys(ROLES, 200)
#: Registering software needs ROLE_USER: guests are refused.
USERS = {**ANYONE, "guest": 403}


@dataclass
class World:
    root: Api
    project: dict[str, Any]
    target: dict[str, Any]
    software: dict[str, Any]
    mode: dict[str, bool]
    members: tuple[int, ...]
    manager: int

    @property
    def path(self) -> str:
        return f"/api/project/{self.project['id']}"


Operation = Callable[[World, Api], int]


def _get(suffix: str) -> Operation:
    return lambda world, actor: actor.get(world.path + suffix).status_code


def _add_member(world: World, actor: Api) -> int:
    status = actor.post(f"{world.path}/user/{world.target['id']}.json").status_code
    world.root.delete(f"{world.path}/user/{world.target['id']}.json")
    return status


def _add_members(world: World, actor: Api) -> int:
    status = actor.post(f"{world.path}/user.json?users={world.target['id']}").status_code
    world.root.delete(f"{world.path}/user/{world.target['id']}.json")
    return status


def _remove_member(world: World, actor: Api) -> int:
    assert world.root.post(f"{world.path}/user/{world.target['id']}.json").ok
    status = actor.delete(f"{world.path}/user/{world.target['id']}.json").status_code
    world.root.delete(f"{world.path}/user/{world.target['id']}.json")
    return status


def _create_and_clean(collection: str, key: str, body: Callable[[World], dict[str, Any]],
                      item: Callable[[World, int], str]) -> Operation:  # fmt: skip
    def operation(world: World, actor: Api) -> int:
        response = actor.post(collection.format(path=world.path), json=body(world))
        if response.status_code == 200:
            assert world.root.delete(item(world, response.json()[key]["id"])).ok
        return response.status_code

    return operation


def _update_project(world: World, actor: Api) -> int:
    body = {**world.project, **world.mode}
    return actor.put(f"{world.path}.json", json=body).status_code


def _delete_project(world: World, actor: Api) -> int:
    throwaway = make_project(world.root, users=world.members, admins=(world.manager,),
                             **world.mode)  # fmt: skip
    return actor.delete(f"/api/project/{throwaway['id']}.json").status_code


def _member_body(world: World) -> dict[str, Any]:
    return {"project": world.project["id"], "user": world.members[0]}


_create_layer = _create_and_clean(
    "{path}/defaultlayer.json", "projectdefaultlayer", _member_body,
    lambda world, i: f"{world.path}/defaultlayer/{i}.json",
)  # fmt: skip
_create_representative = _create_and_clean(
    "{path}/representative.json", "projectrepresentativeuser", _member_body,
    lambda world, i: f"{world.path}/representative/{i}.json",
)  # fmt: skip
_link_software = _create_and_clean(
    "/api/softwareproject.json", "softwareproject",
    lambda world: {"project": world.project["id"], "software": world.software["id"]},
    lambda world, i: f"/api/softwareproject/{i}.json",
)  # fmt: skip
_register_software = _create_and_clean(
    "/api/software.json", "software", lambda world: {"name": "Tool"},
    lambda world, i: f"/api/software/{i}.json",
)  # fmt: skip

TABLE: dict[str, tuple[Operation, dict[str, int]]] = {
    "GET project": (_get(".json"), READ),
    "GET members": (_get("/user.json"), READ),
    "GET managers": (_get("/admin.json"), READ),
    "GET representative users": (_get("/users/representative.json"), READ),
    "GET creator": (_get("/creator.json"), READ),
    "GET user layers": (_get("/userlayer.json"), READ),
    "GET default layers": (_get("/defaultlayer.json"), READ),
    "GET representatives": (_get("/representative.json"), READ),
    "GET project software": (_get("/software.json"), READ),
    "GET project software links": (_get("/softwareproject.json"), READ),
    "GET software registry": (lambda world, actor: actor.get("/api/software.json").status_code,
                              ANYONE),
    "PUT project": (_update_project, MANAGE),
    "DELETE project": (_delete_project, MANAGE),
    "POST member": (_add_member, MANAGE),
    "POST members": (_add_members, MANAGE),
    "DELETE member": (_remove_member, MANAGE),
    "POST default layer": (_create_layer, MANAGE),
    "POST representative": (_create_representative, MANAGE),
    "POST software link": (_link_software, MANAGE),
    "POST software": (_register_software, USERS),
}  # fmt: skip

MODES = {
    "CLASSIC": {"isRestricted": False, "isReadOnly": False},
    "RESTRICTED": {"isRestricted": True, "isReadOnly": False},
    "READ_ONLY": {"isRestricted": False, "isReadOnly": True},
}


@pytest.mark.parametrize("mode", MODES)
def test_project_permission_table(api: Api, people: dict[str, Any], make_user: Any, mode: str):
    manager = make_user("manager")
    contributor = make_user("contributor")
    guest = people["guest"]
    members = (contributor["id"], guest["id"])
    project = make_project(manager["api"], users=members, **MODES[mode])
    assert project["isReadOnly"] == (mode == "READ_ONLY")
    software = created(api.post("/api/software.json", json={"name": "Registry"}), "software")
    world = World(api, project, make_user("target"), software, MODES[mode], members,
                  manager["id"])  # fmt: skip
    actors = {"superadmin": api, "admin": people["admin"]["api"],
              "admin_session": people["admin_session"]["api"], "manager": manager["api"],
              "contributor": contributor["api"], "outsider": people["user"]["api"],
              "guest": guest["api"]}  # fmt: skip

    wrong = []
    for name, (operation, expected) in TABLE.items():
        for role in ROLES:
            status = operation(world, actors[role])
            if status != expected[role]:
                wrong.append(f"{name} as {role}: {status}, expected {expected[role]}")
    assert not wrong, "\n".join(wrong)
