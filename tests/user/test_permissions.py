"""Who may read and change accounts, credentials and project management (contract core.md
§2.2, §7.1, §7.5, §9.1–9.2), at the edges the main tables of tests/user/test_rest.py and
tests/project/test_permissions.py do not reach: short-term tokens, super administrators'
accounts and guests holding a project's ADMINISTRATION."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_project
from tests.harness import Api, assert_error

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def _short_term(user: dict[str, Any], server_url: str) -> Api:
    """`Api` authenticated by the short-term token a ping gives `user` (300 s, GET only): the
    token browsers put in the URLs of `<img>` tags, and so the one most likely to leak."""
    token = user["api"].get("/server/ping.json").json()["shortTermToken"]
    short = Api(server_url, None, None)
    short.session.headers["Authorization"] = f"Bearer {token}"
    return short


# --- short-term tokens -------------------------------------------------------------------------


def test_short_term_token_reads_no_api_keys(server: Any, make_user: Any) -> None:
    """A leaked read-only token must not become the private key, which signs any write and
    outlives the token."""
    user = make_user()
    short = _short_term(user, server.url)
    me = short.get("/api/user/current.json")
    assert me.status_code == 200 and me.json()["id"] == user["id"], me.text
    assert "privateKey" not in me.json() and "publicKey" not in me.json(), me.text
    for path in ("/api/user/current/keys", "/user/current/keys",
                 f"/api/user/{user['id']}/keys.json", f"/api/user/{user['username']}/keys.json",
                 f"/api/userkey/{user['keys']['publicKey']}/keys.json",
                 "/api/signature.json?method=POST&forwardURI=/api/user.json"):  # fmt: skip
        body = assert_error(short.get(path), 403)
        assert user["keys"]["privateKey"] not in str(body)
    answer = short.get("/graphql", params={"query": "{ viewer { user { privateKey } } }"})
    assert answer.json()["data"]["viewer"]["user"]["privateKey"] is None, answer.text


def test_short_term_token_ping_brings_no_new_token(server: Any, make_user: Any) -> None:
    """A short-term token that could renew itself at every ping would never expire."""
    user = make_user()
    short = _short_term(user, server.url)
    ping = short.get("/server/ping.json")
    assert ping.status_code == 200, ping.text
    assert ping.json()["authenticated"] is True and ping.json()["user"] == user["id"]
    assert "shortTermToken" not in ping.json()


def test_short_term_token_opens_no_admin_session(server: Any, people: dict[str, Any]) -> None:
    """Opening an admin session is a change, though it comes over GET."""
    admin = people["admin"]
    short = _short_term(admin, server.url)
    assert_error(short.get("/session/admin/open.json"), 403)
    assert admin["api"].get("/session/admin/info.json").json()["adminByNow"] is False
    assert short.get("/session/admin/info.json").status_code == 200


def test_signed_and_bearer_callers_still_read_their_keys(anonymous: Api, make_user: Any) -> None:
    user = make_user()
    keys = user["api"].get("/api/user/current/keys").json()
    assert keys == {"primaryKey": user["keys"]["publicKey"],
                    "secondaryKey": user["keys"]["privateKey"]}  # fmt: skip
    signed_in = {"username": user["username"], "password": "password-123"}
    token = anonymous.post("/api/authenticate", json=signed_in).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    mine = anonymous.get(f"/api/user/{user['id']}/keys.json", headers=bearer)
    assert mine.json() == user["keys"], mine.text
    assert (
        anonymous.get("/api/user/current.json", headers=bearer).json()["privateKey"]
        == (user["keys"]["privateKey"])
    )


# --- super administrators ----------------------------------------------------------------------


def test_admin_cannot_take_over_a_super_admin(api: Api, people: dict[str, Any]) -> None:
    """ROLE_ADMIN may not grant ROLE_SUPER_ADMIN; reading a super administrator's private key
    or setting their password, e-mail or roles would be the same grant by another road."""
    admin = people["admin_session"]["api"]
    target = people["superadmin"]
    path = f"/api/user/{target['id']}"
    before = api.get(f"{path}.json").json()
    roles = {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}
    answers = {
        "keys by id": admin.get(f"{path}/keys.json"),
        "keys by name": admin.get(f"/api/user/{target['username']}/keys.json"),
        "keys by public key": admin.get(f"/api/userkey/{target['publicKey']}/keys.json"),
        "password": admin.put(f"{path}/password.json", json={"password": "taken-over-1"}),
        "update": admin.put(f"{path}.json", json={**before, "email": "mallory@example.org",
                                                  "publicKey": "", "privateKey": ""}),
        "lock": admin.post(f"{path}/lock.json"),
        "delete": admin.delete(f"{path}.json"),
        "remove role": admin.delete(f"{path}/role/{roles['ROLE_SUPER_ADMIN']}.json"),
        "define role": admin.put(f"{path}/role/{roles['ROLE_USER']}/define.json"),
    }  # fmt: skip
    wrong = {name: r.status_code for name, r in answers.items() if r.status_code != 403}
    assert not wrong, wrong
    for response in answers.values():
        assert target["privateKey"] not in response.text
    after = api.get(f"{path}.json").json()
    assert after == before
    assert api.get("/api/user/current/keys").json()["secondaryKey"] == target["privateKey"]
    assert api.post("/api/authenticate",
                    json={"username": target["username"], "password": "taken-over-1"}
                    ).status_code == 403  # fmt: skip
    held = {link["authority"] for link in api.get(f"{path}/role.json").json()["collection"]}
    assert "ROLE_SUPER_ADMIN" in held


def test_admin_still_manages_other_admins_and_users(api: Api, people: dict[str, Any]) -> None:
    admin = people["admin_session"]["api"]
    for other in (people["user"], people["admin"]):
        keys = admin.get(f"/api/user/{other['id']}/keys.json")
        assert keys.status_code == 200 and keys.json() == other["keys"], keys.text
        changed = admin.put(f"/api/user/{other['id']}/password.json",
                            json={"password": "reset-by-admin"})  # fmt: skip
        assert changed.status_code == 200, changed.text


def test_super_admin_manages_another_super_admin(api: Api, make_user: Any) -> None:
    roles = {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}
    other = make_user()
    assert api.put(f"/api/user/{other['id']}/role/{roles['ROLE_SUPER_ADMIN']}/define.json").ok
    assert api.get(f"/api/user/{other['id']}/keys.json").json() == other["keys"]
    assert api.put(f"/api/user/{other['id']}/role/{roles['ROLE_USER']}/define.json").ok
    assert api.post(f"/api/user/{other['id']}/lock.json").status_code == 200


def test_super_admin_edits_themself_without_admin_session_rules(api: Api) -> None:
    me = api.get("/api/user/current.json").json()
    body = {key: me[key] for key in ("username", "firstname", "lastname", "email", "language")}
    answer = api.put(f"/api/user/{me['id']}.json", json={**body, "firstname": "Boss"})
    assert answer.status_code == 200 and answer.json()["user"]["firstname"] == "Boss", answer.text


# --- guests managing projects ------------------------------------------------------------------


@pytest.fixture
def guest_manager(api: Api, make_user: Any) -> dict[str, Any]:
    """A project whose managers include a user then made a guest (ROLE_GUEST only), and a
    contributor: `project`, `guest` (the demoted manager), `other` (the contributor)."""
    owner = make_user()
    guest = make_user()
    other = make_user()
    project = make_project(owner["api"], users=(other["id"],), admins=(guest["id"],))
    roles = {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}
    assert api.put(f"/api/user/{guest['id']}/role/{roles['ROLE_GUEST']}/define.json").ok
    return {"project": project, "guest": guest, "other": other, "owner": owner}


def test_guest_holding_project_administration_writes_nothing(
    api: Api, make_user: Any, guest_manager: dict[str, Any]
) -> None:
    """A guest reads but writes nothing (core.md §7.1, §7.5), whatever ACL entries remain from
    before the demotion (or a manager granted)."""
    project, guest, other = guest_manager["project"], guest_manager["guest"]["api"], \
        guest_manager["other"]  # fmt: skip
    path = f"/api/project/{project['id']}"
    stranger = make_user()
    layer_body = {"project": project["id"], "user": other["id"]}
    software = api.post("/api/software.json", json={"name": "counting"}).json()["software"]
    offered = {"software": software["id"], "project": project["id"]}
    answers = {
        "offer software": guest.post("/api/softwareproject.json", json=offered),
        "update": guest.put(f"{path}.json", json={**project, "name": "renamed"}),
        "add member": guest.post(f"{path}/user/{stranger['id']}.json"),
        "add manager": guest.post(f"{path}/user/{other['id']}/admin.json"),
        "add members": guest.post(f"{path}/user.json?users={stranger['id']}"),
        "remove member": guest.delete(f"{path}/user/{other['id']}.json"),
        "remove members": guest.delete(f"{path}/user.json?users={other['id']}"),
        "representative": guest.post(f"{path}/representative.json", json=layer_body),
        "default layer": guest.post(f"{path}/defaultlayer.json", json=layer_body),
        "delete": guest.delete(f"{path}.json"),
    }
    wrong = {name: r.status_code for name, r in answers.items() if r.status_code != 403}
    assert not wrong, wrong
    assert api.get(f"{path}.json").json()["name"] == project["name"]
    members = {u["id"] for u in api.get(f"{path}/user.json").json()["collection"]}
    assert other["id"] in members and stranger["id"] not in members
    assert api.get(f"{path}/defaultlayer.json").json()["collection"] == []
    assert len(api.get(f"{path}/representative.json").json()["collection"]) == 1


def test_guest_manager_still_reads_and_may_leave(api: Api, guest_manager: dict[str, Any]) -> None:
    project, guest = guest_manager["project"], guest_manager["guest"]
    path = f"/api/project/{project['id']}"
    assert guest["api"].get(f"{path}/user.json").status_code == 200
    left = guest["api"].delete(f"{path}/user/{guest['id']}.json")
    assert left.status_code == 200, left.text
    members = {u["id"] for u in api.get(f"{path}/user.json").json()["collection"]}
    assert guest["id"] not in members


def test_guest_manager_cannot_replay_project_commands(api: Api, make_user: Any) -> None:
    """Undo and redo of a project's commands are writes too: a manager demoted to guest may
    not undo what they did as a user."""
    owner = make_user()
    manager = make_user()
    project = make_project(owner["api"], admins=(manager["id"],))
    path = f"/api/project/{project['id']}.json"
    edited = manager["api"].put(path, json={**project, "name": project["name"] + "-2"})
    assert edited.status_code == 200, edited.text
    roles = {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}
    assert api.put(f"/api/user/{manager['id']}/role/{roles['ROLE_GUEST']}/define.json").ok
    answer = manager["api"].get(f"/command/{edited.json()['command']}/undo.json")
    assert answer.status_code == 403, answer.text
    assert api.get(path).json()["name"] == project["name"] + "-2"
