"""Projects and their members through the official cytomine-python-client 4.3.0."""

from __future__ import annotations

from typing import Any

from cytomine.models import (
    Ontology,
    Project,
    ProjectCollection,
    User,
    UserCollection,
)

CLASS = "be.cytomine.domain.project.Project"


def _user(name: str) -> User:
    user = User(name, name.title(), "Client", f"{name}@example.org", "password-123").save()
    assert user, f"creating {name} failed"
    return user


def test_project_save_fetch_update_delete_roundtrip(client: Any) -> None:
    ontology = Ontology("Tissue").save()
    assert ontology
    project = Project("Demo", ontology.id).save()
    assert project
    assert isinstance(project.id, int)
    assert project.class_ == CLASS
    assert (project.name, project.ontology, project.ontologyName) == ("Demo", ontology.id, "Tissue")
    assert (project.isReadOnly, project.isRestricted, project.blindMode) == (False, False, False)
    assert project.numberOfImages == 0

    fetched = Project().fetch(project.id)
    assert (fetched.id, fetched.name, fetched.created) == (project.id, "Demo", project.created)

    fetched.name = "Demo renamed"
    fetched.isRestricted = True
    fetched.ontology = None
    updated = fetched.update()
    assert updated
    again = Project().fetch(project.id)
    assert again.name == "Demo renamed"
    assert again.isRestricted is True
    assert again.ontology is None and again.ontologyName is None

    assert Project().delete(project.id) is True
    assert Project().fetch(project.id) is False


def test_project_collection_all_and_filtered_by_user_and_ontology(client: Any) -> None:
    alice = _user("alice")
    ontology = Ontology("Cells").save()
    first = Project("First", ontology.id).save()
    second = Project("Second").save()
    assert first.add_user(alice.id) == {"data": {"message": "OK"}}

    everything = ProjectCollection().fetch()
    assert [p.name for p in everything] == ["Second", "First"]
    assert all(p.class_ == CLASS for p in everything)

    of_alice = ProjectCollection(filters={"user": alice.id}).fetch()
    assert [p.id for p in of_alice] == [first.id]
    using = ProjectCollection(filters={"ontology": ontology.id}).fetch()
    assert [p.id for p in using] == [first.id]
    assert second.id not in {p.id for p in using}


def test_project_add_and_delete_user_with_and_without_admin(client: Any) -> None:
    bob = _user("bob")
    carol = _user("carol")
    project = Project("Members").save()
    me = client.current_user

    assert project.add_user(bob.id) == {"data": {"message": "OK"}}
    assert project.add_user(carol.id, admin=True) == {"data": {"message": "OK"}}

    members = UserCollection(filters={"project": project.id}).fetch()
    roles = {u.username: u.role for u in members}
    assert roles == {"admin": "representative", "bob": "contributor", "carol": "manager"}
    assert {u.id for u in members} == {me.id, bob.id, carol.id}

    managers = UserCollection(filters={"project": project.id}, admin=True).fetch()
    assert sorted(u.username for u in managers) == ["admin", "carol"]

    assert project.delete_user(carol.id, admin=True) is True
    managers = UserCollection(filters={"project": project.id}, admin=True).fetch()
    assert [u.username for u in managers] == ["admin"]
    members = UserCollection(filters={"project": project.id}).fetch()
    assert {u.username: u.role for u in members}["carol"] == "contributor"

    assert project.delete_user(bob.id) is True
    assert project.delete_user(carol.id) is True
    members = UserCollection(filters={"project": project.id}).fetch()
    assert [u.username for u in members] == ["admin"]


def test_user_collection_of_project_pages_through_members(client: Any) -> None:
    project = Project("Paged").save()
    for name in ("dan", "eve", "fay"):
        assert project.add_user(_user(name).id)
    # The client floors size/max: keep the total (4) a multiple of the page size.
    members = UserCollection(filters={"project": project.id}).fetch(max=2)
    assert sorted(u.username for u in members) == ["admin", "dan", "eve", "fay"]
