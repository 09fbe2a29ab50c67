"""Who may read and change ontologies and terms (contract core.md §7.2, §7.5,
images-annotations.md §6): the creator, project members (read) and managers (write) through
derived rights, administrators; guests never write."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_ontology, make_project

ROLES = ("superadmin", "admin_session", "admin", "creator", "manager", "contributor",
         "stranger", "guest")  # fmt: skip


@pytest.fixture
def world(api: Any, people: dict[str, Any], make_user: Any) -> dict[str, Any]:
    """An ontology created by `creator`, used by a project with a manager and a contributor;
    the guest is a contributor too."""
    creator, manager, contributor = make_user(), make_user(), make_user()
    ontology = make_ontology(creator["api"], terms=("T",))
    make_project(api, ontology=ontology["id"], admins=(manager["id"],),
                 users=(contributor["id"], people["guest"]["id"]))  # fmt: skip
    actors = {**{role: people[role] for role in ("superadmin", "admin_session", "admin",
                                                   "guest")},
              "creator": creator, "manager": manager, "contributor": contributor,
              "stranger": people["user"]}  # fmt: skip
    return {"ontology": ontology, "term": ontology["terms"]["T"], "actors": actors}


READ = {"superadmin": 200, "admin_session": 200, "admin": 403, "creator": 200, "manager": 200,
        "contributor": 200, "stranger": 403, "guest": 200}  # fmt: skip
WRITE = {"superadmin": 200, "admin_session": 200, "admin": 403, "creator": 200, "manager": 200,
         "contributor": 403, "stranger": 403, "guest": 403}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_ontology_and_term_reads_by_role(world, role):
    actor = world["actors"][role]["api"]
    assert actor.get(f"/api/ontology/{world['ontology']['id']}.json").status_code == READ[role]
    assert actor.get(f"/api/term/{world['term']['id']}.json").status_code == READ[role]
    listing = actor.get(f"/api/ontology/{world['ontology']['id']}/term.json")
    assert listing.status_code == READ[role]


@pytest.mark.parametrize("role", ROLES)
def test_ontology_and_term_writes_by_role(world, role):
    actor = world["actors"][role]["api"]
    ontology, term = world["ontology"], world["term"]
    rename = actor.put(f"/api/ontology/{ontology['id']}.json", json={"name": f"{role}-name"})
    assert rename.status_code == WRITE[role], rename.text
    body = {"name": f"{role}-term", "color": "#000", "ontology": ontology["id"]}
    assert actor.post("/api/term.json", json=body).status_code == WRITE[role]
    edit = actor.put(f"/api/term/{term['id']}.json", json={**body, "name": f"{role}-t2"})
    assert edit.status_code == WRITE[role]
    removed = actor.delete(f"/api/term/{term['id']}.json")
    assert removed.status_code == WRITE[role]


@pytest.mark.parametrize("role", ["guest", "user", "admin", "superadmin"])
def test_ontology_create_needs_role_user(people, role):
    response = people[role]["api"].post("/api/ontology.json", json={"name": f"made-by-{role}"})
    assert response.status_code == (403 if role == "guest" else 200)


def test_anonymous_is_401(anonymous, api):
    ontology = make_ontology(api)
    assert anonymous.get(f"/api/ontology/{ontology['id']}.json").status_code == 401
    assert anonymous.post("/api/ontology.json", json={"name": "x"}).status_code == 401
