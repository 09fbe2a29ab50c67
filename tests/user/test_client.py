"""Users, roles and role links through the official cytomine-python-client 4.3.0."""

from __future__ import annotations

from typing import Any

from cytomine.models import (
    Role,
    RoleCollection,
    User,
    UserCollection,
    UserRole,
    UserRoleCollection,
)
from cytomine.models.user import CurrentUser

from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY

CLASS = "be.cytomine.domain.security.User"


def _new_user(name: str) -> User:
    user = User(name, name.title(), "Client", f"{name}@example.org", "password-123").save()
    assert user, f"creating {name} failed"
    return user


def test_connect_current_user_has_keys_and_flags(client: Any) -> None:
    me = client.current_user
    assert me.username == "admin"
    assert me.publicKey == ADMIN_PUBLIC_KEY
    assert me.privateKey == ADMIN_PRIVATE_KEY
    assert me.class_ == CLASS
    assert me.adminByNow is True
    assert me.isSwitched is False


def test_current_user_keys_returns_own_pair(client: Any) -> None:
    keys = CurrentUser().fetch().keys()
    assert keys == {"publicKey": ADMIN_PUBLIC_KEY, "privateKey": ADMIN_PRIVATE_KEY}
    assert keys["privateKey"] == client.current_user.privateKey


def test_current_user_signature_returns_signature_and_key(client: Any) -> None:
    answer = CurrentUser().fetch().signature()
    assert answer["publicKey"] == ADMIN_PUBLIC_KEY
    assert isinstance(answer["signature"], str) and answer["signature"]


def test_admin_session_open_close_returns_true(client: Any) -> None:
    assert client.open_admin_session() is True
    assert client.current_user.adminByNow is True
    assert client.close_admin_session() is True
    assert client.current_user.username == "admin"


def test_user_save_fetch_update_delete_roundtrip(client: Any) -> None:
    user = User("alice", "Alice", "Liddell", "alice@example.org", "password-123", "FR").save()
    assert user
    assert isinstance(user.id, int)
    assert user.class_ == CLASS
    assert (user.username, user.firstname, user.lastname) == ("alice", "Alice", "Liddell")
    assert user.email == "alice@example.org"
    assert user.language == "FR"
    assert user.origin == "ADMINISTRATOR"
    assert user.enabled is True

    fetched = User().fetch(user.id)
    assert fetched.username == "alice"
    assert fetched.fullName == "Alice Liddell (alice)"
    assert fetched.user is True and fetched.admin is False and fetched.guest is False
    assert not hasattr(fetched, "privateKey") or fetched.privateKey is None

    fetched.lastname = "Pleasance"
    fetched.language = "EN"
    updated = fetched.update()
    assert updated
    assert updated.lastname == "Pleasance"
    assert User().fetch(user.id).lastname == "Pleasance"
    assert User().fetch(user.id).language == "EN"

    assert User().delete(user.id) is True
    assert User().fetch(user.id) is False


def test_user_keys_as_admin_returns_pair(client: Any) -> None:
    user = _new_user("bob")
    keys = user.keys()
    assert set(keys) == {"publicKey", "privateKey"}
    assert keys["publicKey"] != keys["privateKey"]
    assert User(id=user.id).keys() == keys


def test_user_collection_fetch_all_returns_every_user(client: Any) -> None:
    for name in ("carol", "dave", "erin"):
        _new_user(name)
    users = UserCollection().fetch()
    assert [u.username for u in users] == ["admin", "carol", "dave", "erin"]
    assert all(u.class_ == CLASS for u in users)


def test_user_collection_fetch_paged_returns_every_user(client: Any) -> None:
    # The client's paging floors size/max, so keep the total a multiple of the page size.
    for name in ("u1", "u2", "u3", "u4", "u5"):
        _new_user(name)
    users = UserCollection().fetch(max=2)
    assert sorted(u.username for u in users) == ["admin", "u1", "u2", "u3", "u4", "u5"]
    assert len({u.id for u in users}) == 6


def test_role_collection_fetch_returns_four_roles_guest_last(client: Any) -> None:
    roles = RoleCollection().fetch()
    assert [r.authority for r in roles] == [
        "ROLE_USER",
        "ROLE_ADMIN",
        "ROLE_SUPER_ADMIN",
        "ROLE_GUEST",
    ]
    assert roles[-1].authority == "ROLE_GUEST"


def test_role_fetch_by_id_returns_role(client: Any) -> None:
    guest = RoleCollection().fetch()[-1]
    role = Role().fetch(guest.id)
    assert role.authority == "ROLE_GUEST"
    assert role.id == guest.id
    assert role.class_ == "be.cytomine.domain.security.SecRole"


def test_user_role_save_fetch_delete_roundtrip(client: Any) -> None:
    user = _new_user("frank")
    guest = RoleCollection().fetch()[-1]
    link = UserRole(user.id, guest.id).save()
    assert link
    assert (link.user, link.role, link.authority) == (user.id, guest.id, "ROLE_GUEST")

    fetched = UserRole().fetch(user.id, guest.id)
    assert fetched
    assert fetched.authority == "ROLE_GUEST"

    links = UserRoleCollection(filters={"user": user.id}).fetch()
    assert sorted(r.authority for r in links) == ["ROLE_GUEST", "ROLE_USER"]

    assert fetched.delete() is True
    assert UserRole().fetch(user.id, guest.id) is False
    links = UserRoleCollection(filters={"user": user.id}).fetch()
    assert [r.authority for r in links] == ["ROLE_USER"]
