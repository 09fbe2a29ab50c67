"""Users, roles and role links over raw HTTP: exact JSON, statuses and permissions
(contract core.md §3–§5, §9.1–§9.2)."""

from __future__ import annotations

import time
from typing import Any

from tests.harness import ADMIN_PUBLIC_KEY, Api, assert_error

USER_CLASS = "be.cytomine.domain.security.User"
ROLE_CLASS = "be.cytomine.domain.security.SecRole"
LINK_CLASS = "be.cytomine.domain.security.SecUserSecRole"
USER_KEYS = {
    "class", "id", "created", "updated", "username", "origin", "algo", "firstname", "lastname",
    "email", "language", "isDeveloper", "enabled", "user", "name", "fullName",
}  # fmt: skip
SELF_KEYS = {"publicKey", "privateKey", "passwordExpired"}
LIST_KEYS = {"collection", "offset", "perPage", "size", "totalPages"}


def _body(name: str, **extra: Any) -> dict[str, Any]:
    return {"username": name, "firstname": name.title(), "lastname": "Test",
            "email": f"{name}@example.org", "password": "password-123", **extra}  # fmt: skip


def _roles(api: Api) -> dict[str, int]:
    return {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}


def _authorities(api: Api, user_id: int) -> list[str]:
    links = api.get(f"/api/user/{user_id}/role.json").json()["collection"]
    return sorted(link["authority"] for link in links)


def _usernames(api: Api, **params: Any) -> list[str]:
    response = api.get("/api/user.json", params=params)
    assert response.status_code == 200, response.text
    return [u["username"] for u in response.json()["collection"]]


def _is_epoch_ms(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and abs(int(value) / 1000 - time.time()) < 600


def _admin_id(api: Api) -> int:
    return int(api.get("/api/user/current.json").json()["id"])


# --- user JSON shape --------------------------------------------------------------------------


def test_user_create_returns_exact_command_envelope(api: Api) -> None:
    response = api.post("/api/user.json", json=_body("jdoe", firstname="Jane", lastname="Doe"))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "printMessage", "callback", "command", "user"}
    user = body["user"]
    assert body["message"] == f"User {user['id']} (jdoe) added"
    assert body["printMessage"] is True
    assert body["callback"] == {"method": "be.cytomine.AddUserCommand", "userID": str(user["id"])}
    assert isinstance(body["command"], int)
    assert set(user) == USER_KEYS
    assert user["class"] == USER_CLASS
    assert _is_epoch_ms(user["created"]) and user["updated"] == user["created"]
    assert user["user"] is None
    assert user["origin"] == "ADMINISTRATOR"
    assert (user["algo"], user["isDeveloper"], user["enabled"]) == (False, False, True)
    assert user["language"] == "EN"
    assert (user["name"], user["fullName"]) == ("Jane Doe", "Jane Doe (jdoe)")
    assert user["email"] == "jdoe@example.org"


def test_user_create_grants_role_user(api: Api) -> None:
    user = api.post("/api/user.json", json=_body("kim")).json()["user"]
    assert _authorities(api, user["id"]) == ["ROLE_USER"]


def test_user_show_as_admin_has_flags_and_no_keys(api: Api, make_user: Any) -> None:
    user = make_user("lena")
    response = api.get(f"/api/user/{user['id']}.json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_KEYS | {"admin", "guest"}
    assert (body["admin"], body["user"], body["guest"]) == (False, True, False)
    assert body["email"] == "lena@example.org"
    assert _is_epoch_ms(body["created"]) and _is_epoch_ms(body["updated"])


def test_user_show_self_has_keys_and_password_expired(make_user: Any) -> None:
    user = make_user("mona")
    body = user["api"].get(f"/api/user/{user['id']}.json").json()
    assert set(body) == USER_KEYS | SELF_KEYS | {"admin", "guest"}
    assert body["publicKey"] == user["keys"]["publicKey"]
    assert body["privateKey"] == user["keys"]["privateKey"]
    assert body["passwordExpired"] is False
    assert body["email"] == "mona@example.org"


def test_user_show_other_as_plain_user_hides_email_and_keys(api: Api, make_user: Any) -> None:
    viewer = make_user("nick")
    body = viewer["api"].get(f"/api/user/{_admin_id(api)}.json").json()
    assert set(body) == (USER_KEYS - {"email"}) | {"admin", "guest"}
    assert (body["admin"], body["user"], body["guest"]) == (True, False, False)


def test_user_show_guest_only_user_has_guest_flag(api: Api, make_user: Any) -> None:
    user = make_user("olga")
    roles = _roles(api)
    assert api.put(f"/api/user/{user['id']}/role/{roles['ROLE_GUEST']}/define.json").ok
    body = api.get(f"/api/user/{user['id']}.json").json()
    assert (body["admin"], body["user"], body["guest"]) == (False, False, True)


def test_user_list_other_users_as_plain_user_hides_email(api: Api, make_user: Any) -> None:
    viewer = make_user("paul")
    response = viewer["api"].get("/api/user.json")
    assert response.status_code == 200
    users = {u["username"]: u for u in response.json()["collection"]}
    assert set(users["admin"]) == USER_KEYS - {"email"}
    assert set(users["paul"]) == USER_KEYS | SELF_KEYS
    assert users["paul"]["email"] == "paul@example.org"
    assert users["paul"]["user"] is None


def test_user_list_as_admin_has_emails_and_null_user(api: Api, make_user: Any) -> None:
    make_user("quinn")
    users = {u["username"]: u for u in api.get("/api/user.json").json()["collection"]}
    assert set(users["quinn"]) == USER_KEYS
    assert users["quinn"]["email"] == "quinn@example.org"
    assert users["quinn"]["user"] is None
    assert set(users["admin"]) == USER_KEYS | SELF_KEYS
    assert users["admin"]["publicKey"] == ADMIN_PUBLIC_KEY


def test_user_show_by_username_is_case_insensitive(api: Api, make_user: Any) -> None:
    user = make_user("Rita")
    for name in ("Rita", "rita", "RITA"):
        response = api.get(f"/api/user/{name}.json")
        assert response.status_code == 200, name
        assert response.json()["id"] == user["id"]


def test_user_show_unknown_id_returns_404_error_object(api: Api) -> None:
    response = api.get("/api/user/987654.json")
    assert response.status_code == 404
    body = response.json()
    assert body["errors"] == {"message": "User not found with filters : {id=987654}"}
    assert body["message"] == body["errors"]["message"]


def test_user_show_id_out_of_64_bit_range_returns_400(api: Api) -> None:
    response = api.get("/api/user/99999999999999999999.json")
    assert response.status_code == 400
    assert "Long" in response.json()["errors"]["message"]
    assert api.get("/api/user/99999999999999999999/role.json").status_code == 400
    assert api.get("/api/user/99999999999.json").status_code == 404


def test_user_graphql_id_out_of_range_is_bad_input_not_internal(api: Api) -> None:
    answer = api.gql("query($id: Long!) { user(id: $id) { id } }", {"id": "99999999999999999999"})
    assert answer["data"] is None
    (error,) = answer["errors"]
    assert error["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")
    assert "64-bit" in error["message"]


def test_user_show_by_username_with_special_characters(api: Api) -> None:
    for name in ("john.doe", "élodie", "o'neil", "a@b.c"):
        created = api.post("/api/user.json", json=_body("tmp", username=name))
        assert created.status_code == 200, created.text
        response = api.get(f"/api/user/{name}.json")
        assert response.status_code == 200, name
        assert response.json()["id"] == created.json()["user"]["id"]


def test_user_show_unknown_username_returns_404(api: Api) -> None:
    response = api.get("/api/user/nobody.json")
    assert response.status_code == 404
    assert isinstance(response.json()["errors"]["message"], str)


def test_user_show_anonymous_returns_401(anonymous: Api) -> None:
    assert anonymous.get("/api/user/1.json").status_code == 401
    assert anonymous.get("/api/user.json").status_code == 401


def test_user_by_public_key_returns_one_bare_user(api: Api, make_user: Any) -> None:
    user = make_user("sam")
    response = api.get("/api/user.json", params={"publicKey": user["keys"]["publicKey"]})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user["id"]
    assert body["username"] == "sam"
    assert "collection" not in body
    assert body["class"] == USER_CLASS


def test_user_by_public_key_unknown_returns_404(api: Api) -> None:
    response = api.get("/api/user.json", params={"publicKey": "no-such-key"})
    assert response.status_code == 404
    assert "message" in response.json()["errors"]


# --- lists: paging, sorting, filters ----------------------------------------------------------


def test_user_list_envelope_counts_everything(api: Api, make_user: Any) -> None:
    for name in ("ua", "ub", "uc", "ud"):
        make_user(name)
    body = api.get("/api/user.json").json()
    assert set(body) == LIST_KEYS
    assert (body["offset"], body["perPage"], body["size"], body["totalPages"]) == (0, 5, 5, 1)
    body = api.get("/api/user.json", params={"max": 0, "offset": 0}).json()
    assert len(body["collection"]) == 5


def test_user_list_max_offset_pages(api: Api, make_user: Any) -> None:
    for name in ("ua", "ub", "uc", "ud"):
        make_user(name)
    body = api.get("/api/user.json", params={"max": 2, "offset": 2}).json()
    assert [u["username"] for u in body["collection"]] == ["ub", "uc"]
    assert (body["offset"], body["perPage"], body["size"], body["totalPages"]) == (2, 2, 5, 3)
    body = api.get("/api/user.json", params={"max": 2, "offset": 4}).json()
    assert [u["username"] for u in body["collection"]] == ["ud"]
    assert body["perPage"] == 1
    body = api.get("/api/user.json", params={"max": 2, "offset": 10}).json()
    assert (body["collection"], body["size"]) == ([], 5)


def test_user_list_bad_paging_returns_400(api: Api) -> None:
    assert api.get("/api/user.json", params={"max": -1}).status_code == 400
    assert api.get("/api/user.json", params={"offset": "x"}).status_code == 400


def test_user_list_sort_default_username_and_order(api: Api, make_user: Any) -> None:
    make_user("zed", firstname="Aaron", lastname="Zulu")
    make_user("bea", firstname="Zoe", lastname="Young")
    assert _usernames(api) == ["admin", "bea", "zed"]
    assert _usernames(api, sort="username", order="desc") == ["zed", "bea", "admin"]
    assert _usernames(api, sort="fullName", order="asc")[:2] == ["zed", "admin"]
    assert _usernames(api, sort="fullName", order="desc")[0] == "bea"


def test_user_list_unknown_sort_returns_400(api: Api) -> None:
    response = api.get("/api/user.json", params={"sort": "nonsense"})
    assert response.status_code == 400
    assert "message" in response.json()["errors"]
    assert api.get("/api/user.json", params={"order": "sideways"}).status_code == 400


def test_user_list_sort_role_without_with_roles_returns_400(api: Api, make_user: Any) -> None:
    make_user("vic")
    response = api.get("/api/user.json", params={"sort": "role"})
    assert response.status_code == 400
    assert "withRoles" in response.json()["errors"]["message"]
    response = api.get("/api/user.json", params={"sort": "role", "withRoles": "true"})
    assert response.status_code == 200
    users = response.json()["collection"]
    assert [(u["username"], u["role"]) for u in users] == [
        ("admin", "ROLE_SUPER_ADMIN"),
        ("vic", "ROLE_USER"),
    ]


def test_user_list_full_name_ilike_matches_names_email_username(api: Api, make_user: Any) -> None:
    make_user("walt", firstname="Walter", lastname="White", email="heisenberg@example.org")
    make_user("jesse", firstname="Jesse", lastname="Pinkman")
    assert _usernames(api, **{"fullName[ilike]": "WHITE"}) == ["walt"]
    assert _usernames(api, **{"fullName[ilike]": "heisen"}) == ["walt"]
    assert _usernames(api, **{"fullName[ilike]": "pinkman"}) == ["jesse"]
    assert _usernames(api, **{"fullName[ilike]": "jes"}) == ["jesse"]
    assert _usernames(api, **{"fullName[ilike]": "nobody-at-all"}) == []


def test_user_list_bad_filter_value_returns_400(api: Api) -> None:
    for key, value in (
        ("id[equals]", "abc"),
        ("id[in]", "1,x"),
        ("id[lte]", "99999999999999999999"),
        ("created[gte]", "abc"),
        ("created[gte]", "99999999999999999999"),
    ):
        response = api.get("/api/user.json", params={key: value})
        assert response.status_code == 400, (key, value, response.text)
        assert "message" in response.json()["errors"]


def test_user_list_enabled_filter(api: Api, make_user: Any) -> None:
    user = make_user("nia")
    make_user("obi")
    api.post(f"/api/user/{user['id']}/lock.json")
    assert _usernames(api, **{"enabled[equals]": "false"}) == ["nia"]
    assert _usernames(api, **{"enabled[equals]": "true"}) == ["admin", "obi"]


def test_user_list_username_equals_filters(api: Api, make_user: Any) -> None:
    make_user("xena")
    make_user("xenia")
    body = api.get("/api/user.json", params={"username[equals]": "xena"}).json()
    assert [u["username"] for u in body["collection"]] == ["xena"]
    assert body["size"] == 1
    assert _usernames(api, **{"username[ilike]": "xen"}) == ["xena", "xenia"]
    assert _usernames(api, **{"unknownField[equals]": "1"}) == ["admin", "xena", "xenia"]


# --- create validation and uniqueness ---------------------------------------------------------


def test_user_create_duplicate_username_case_insensitive_returns_409(api: Api) -> None:
    assert api.post("/api/user.json", json=_body("yann")).status_code == 200
    response = api.post("/api/user.json", json=_body("YANN", email="other@example.org"))
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["errors"], str) and "YANN" in body["errors"]
    assert body["errorValues"] == {}
    assert _usernames(api, **{"username[ilike]": "yann"}) == ["yann"]


def test_user_create_short_password_returns_400(api: Api) -> None:
    response = api.post("/api/user.json", json=_body("zoe", password="short"))
    assert response.status_code == 400
    assert response.json()["errors"] == "Your password must have at least 8 characters!"
    assert _usernames(api) == ["admin"]


def test_user_create_missing_fields_returns_400(api: Api) -> None:
    for missing in ("username", "firstname", "lastname", "email", "password"):
        body = _body("zoe")
        del body[missing]
        response = api.post("/api/user.json", json=body)
        assert response.status_code == 400, missing
        assert response.json()["success"] is False
    assert api.post("/api/user.json", json=_body("zoe", email="not-an-email")).status_code == 400
    assert _usernames(api) == ["admin"]


def test_user_create_empty_or_malformed_body_returns_400(api: Api) -> None:
    assert api.post("/api/user.json", data="").status_code == 400
    assert api.post("/api/user.json", data="{not json").status_code == 400
    assert api.post("/api/user.json", data="42").status_code == 400
    assert _usernames(api) == ["admin"]


def test_user_create_too_long_or_invalid_fields_returns_400(api: Api) -> None:
    for body in (
        _body("x" * 300),
        _body("ok1", firstname="f" * 300),
        _body("ok2", email="a" * 250 + "@example.org"),
        _body("ok3", password="p" * 2000),
        _body("ok4", origin="o" * 300),
        _body("ok5", language="KLINGON"),
        _body("   "),
    ):
        response = api.post("/api/user.json", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["success"] is False
    assert _usernames(api) == ["admin"]


def test_user_create_language_name_and_ignores_read_only(api: Api) -> None:
    body = _body("yves", language="FRENCH", admin=True, algo=True, created="1", publicKey="mine")
    response = api.post("/api/user.json", json=body)
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["language"] == "FR"
    assert _authorities(api, user["id"]) == ["ROLE_USER"]
    keys = api.get(f"/api/user/{user['id']}/keys.json").json()
    assert keys["publicKey"] != "mine"


def test_user_create_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("amy")
    response = plain["api"].post("/api/user.json", json=_body("ben"))
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert api.get("/api/user/ben.json").status_code == 404


def test_user_bulk_create_all_ok_returns_200_status_200(api: Api) -> None:
    response = api.post("/api/user.json", json=[_body("b1"), _body("b2")])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 200
    assert body["data"]["message"].endswith("added")
    assert _usernames(api) == ["admin", "b1", "b2"]


def test_user_bulk_create_partial_returns_200_status_206(api: Api) -> None:
    api.post("/api/user.json", json=_body("b1"))
    response = api.post("/api/user.json", json=[_body("b1"), _body("b3")])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 206
    assert body["data"]["success"] is False
    assert len(body["data"]["errors"]) == 1
    assert body["data"]["errors"][0]["data"]["username"] == "b1"
    assert _usernames(api) == ["admin", "b1", "b3"]


def test_user_bulk_create_all_failing_returns_200_status_400(api: Api) -> None:
    response = api.post("/api/user.json", json=[_body("b4", password="x"), "junk"])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 400
    assert body["data"]["message"] == "No entry saved"
    assert len(body["data"]["errors"]) == 2
    assert _usernames(api) == ["admin"]


# --- update -----------------------------------------------------------------------------------


def test_user_update_as_admin_returns_edit_envelope(api: Api, make_user: Any) -> None:
    user = make_user("carl")
    body = {**_body("carl2", firstname="Carlos", lastname="Santana", language="NL"),
            "id": user["id"], "password": None}  # fmt: skip
    response = api.put(f"/api/user/{user['id']}.json", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"message", "printMessage", "callback", "command", "user"}
    assert answer["callback"] == {
        "method": "be.cytomine.EditUserCommand",
        "userID": str(user["id"]),
    }
    assert answer["message"] == f"User {user['id']} (carl2) edited"
    assert answer["user"]["username"] == "carl2"
    assert answer["user"]["fullName"] == "Carlos Santana (carl2)"
    shown = api.get(f"/api/user/{user['id']}.json").json()
    assert (shown["username"], shown["language"]) == ("carl2", "NL")
    # the password did not change: the user still authenticates with the old keys
    assert user["api"].get("/api/user/current.json").status_code == 200


def test_user_update_self_as_plain_user_allowed(make_user: Any) -> None:
    user = make_user("dina")
    body = {**_body("dina", lastname="Changed"), "id": user["id"]}
    response = user["api"].put(f"/api/user/{user['id']}.json", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["lastname"] == "Changed"


def test_user_update_missing_firstname_returns_400(api: Api, make_user: Any) -> None:
    user = make_user("earl")
    body = _body("earl")
    del body["firstname"]
    response = api.put(f"/api/user/{user['id']}.json", json=body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert api.get(f"/api/user/{user['id']}.json").json()["firstname"] == "Earl"


def test_user_update_body_id_differs_from_path_returns_400(api: Api, make_user: Any) -> None:
    user = make_user("fay")
    other = make_user("gus")
    body = {**_body("fay", lastname="Changed"), "id": other["id"]}
    response = api.put(f"/api/user/{user['id']}.json", json=body)
    assert response.status_code == 400
    assert api.get(f"/api/user/{user['id']}.json").json()["lastname"] == "Test"
    assert api.get(f"/api/user/{other['id']}.json").json()["lastname"] == "Test"


def test_user_update_to_taken_username_returns_409(api: Api, make_user: Any) -> None:
    user = make_user("hal")
    make_user("ian")
    response = api.put(f"/api/user/{user['id']}.json", json=_body("IAN"))
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False and isinstance(body["errors"], str)
    assert api.get(f"/api/user/{user['id']}.json").json()["username"] == "hal"


def test_user_update_own_username_case_change_allowed(api: Api, make_user: Any) -> None:
    user = make_user("jon")
    response = api.put(f"/api/user/{user['id']}.json", json=_body("Jon"))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "Jon"


def test_user_update_other_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("kai")
    other = make_user("lou")
    response = plain["api"].put(f"/api/user/{other['id']}.json", json=_body("lou", lastname="X"))
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert api.get(f"/api/user/{other['id']}.json").json()["lastname"] == "Test"


def test_user_update_unknown_id_returns_404(api: Api) -> None:
    response = api.put("/api/user/987654.json", json=_body("ghost"))
    assert response.status_code == 404
    assert isinstance(response.json()["errors"], str)


def test_user_update_by_locked_user_returns_401(api: Api, make_user: Any) -> None:
    user = make_user("max")
    assert api.post(f"/api/user/{user['id']}/lock.json").status_code == 200
    assert api.get(f"/api/user/{user['id']}.json").json()["enabled"] is False
    response = user["api"].put(f"/api/user/{user['id']}.json", json=_body("max", enabled=True))
    assert response.status_code == 401
    assert api.get(f"/api/user/{user['id']}.json").json()["enabled"] is False


def test_user_update_enabled_by_plain_user_ignored(api: Api, make_user: Any) -> None:
    user = make_user("mia")
    response = user["api"].put(f"/api/user/{user['id']}.json", json=_body("mia", enabled=False))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["enabled"] is True
    assert user["api"].get("/api/user/current.json").status_code == 200


def test_user_update_admin_disabling_yourself_returns_400(api: Api) -> None:
    admin_id = _admin_id(api)
    current = api.get(f"/api/user/{admin_id}.json").json()
    response = api.put(f"/api/user/{admin_id}.json", json={**current, "enabled": False})
    assert response.status_code == 400
    assert response.json()["errors"] == "You cannot lock yourself"
    assert api.get("/api/user/current.json").json()["enabled"] is True


def test_user_update_client_style_full_object_keeps_keys(api: Api, make_user: Any) -> None:
    user = make_user("moe")
    me = user["api"].get(f"/api/user/{user['id']}.json").json()
    me["class_"] = me.pop("class")
    me["firstname"] = "Maurice"
    response = user["api"].put(f"/api/user/{user['id']}.json", json=me)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["firstname"] == "Maurice"
    assert user["api"].get(f"/api/user/{user['id']}/keys.json").json() == user["keys"]


def test_user_update_empty_keys_regenerates_them(api: Api, make_user: Any) -> None:
    user = make_user("ned")
    body = _body("ned", publicKey="", privateKey="")
    assert user["api"].put(f"/api/user/{user['id']}.json", json=body).status_code == 200
    assert user["api"].get("/api/user/current.json").status_code == 401
    keys = api.get(f"/api/user/{user['id']}/keys.json").json()
    assert keys["publicKey"] != user["keys"]["publicKey"]
    fresh = api.as_keys(keys["publicKey"], keys["privateKey"])
    assert fresh.get("/api/user/current.json").json()["username"] == "ned"


# --- delete -----------------------------------------------------------------------------------


def test_user_delete_returns_envelope_then_404(api: Api, make_user: Any) -> None:
    user = make_user("omar")
    response = api.delete(f"/api/user/{user['id']}.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "printMessage", "callback", "command", "user"}
    assert body["callback"] == {
        "method": "be.cytomine.DeleteUserCommand",
        "userID": str(user["id"]),
    }
    assert body["user"]["username"] == "omar"
    assert body["user"]["user"] is None
    assert api.get(f"/api/user/{user['id']}.json").status_code == 404
    assert user["api"].get("/api/user/current.json").status_code == 401
    assert _usernames(api) == ["admin"]


def test_user_delete_yourself_returns_400(api: Api) -> None:
    admin_id = _admin_id(api)
    response = api.delete(f"/api/user/{admin_id}.json")
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert api.get(f"/api/user/{admin_id}.json").status_code == 200


def test_user_delete_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("pia")
    other = make_user("rob")
    assert plain["api"].delete(f"/api/user/{other['id']}.json").status_code == 403
    assert api.get(f"/api/user/{other['id']}.json").status_code == 200


def test_user_delete_unknown_returns_404(api: Api) -> None:
    response = api.delete("/api/user/987654.json")
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_user_delete_after_own_commands_succeeds(api: Api, make_user: Any) -> None:
    actor = make_user("pam")
    other = make_user("ray")
    guest = _roles(api)["ROLE_GUEST"]
    assert actor["api"].post(f"/api/user/{other['id']}/role.json", json={"role": guest}).ok
    assert actor["api"].put(f"/api/user/{actor['id']}.json", json=_body("pam", lastname="Z")).ok
    response = api.delete(f"/api/user/{actor['id']}.json")
    assert response.status_code == 200, response.text
    assert _usernames(api) == ["admin", "ray"]
    assert _authorities(api, other["id"]) == ["ROLE_GUEST", "ROLE_USER"]


def test_user_delete_with_roles_removes_links(api: Api, make_user: Any) -> None:
    user = make_user("sue", roles=("ROLE_GUEST",))
    assert api.delete(f"/api/user/{user['id']}.json").status_code == 200
    assert api.get(f"/api/user/{user['id']}/role.json").status_code == 404


# --- lock / unlock ----------------------------------------------------------------------------


def test_user_lock_blocks_signed_requests_until_unlocked(api: Api, make_user: Any) -> None:
    user = make_user("tom")
    response = api.post(f"/api/user/{user['id']}/lock.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["callback"]["method"] == "be.cytomine.EditUserCommand"
    assert body["user"]["enabled"] is False
    assert user["api"].get("/api/user/current.json").status_code == 401

    again = api.post(f"/api/user/{user['id']}/lock.json")
    assert again.status_code == 400
    assert again.json()["errors"] == "User already locked !"

    response = api.delete(f"/api/user/{user['id']}/lock.json")
    assert response.status_code == 200
    assert response.json()["user"]["enabled"] is True
    assert user["api"].get("/api/user/current.json").status_code == 200
    assert api.delete(f"/api/user/{user['id']}/lock.json").status_code == 400


def test_user_lock_revokes_login_and_bearer_token(api: Api, anonymous: Api, make_user: Any) -> None:
    user = make_user("tex")
    login = anonymous.post(
        "/api/authenticate", json={"username": "tex", "password": "password-123"}
    )
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    assert anonymous.get("/api/user/current.json", headers=bearer).status_code == 200
    assert api.post(f"/api/user/{user['id']}/lock.json").status_code == 200
    assert anonymous.get("/api/user/current.json", headers=bearer).status_code == 401
    again = anonymous.post(
        "/api/authenticate", json={"username": "tex", "password": "password-123"}
    )
    assert again.status_code == 403


def test_user_lock_yourself_returns_400(api: Api) -> None:
    response = api.post(f"/api/user/{_admin_id(api)}/lock.json")
    assert response.status_code == 400
    assert api.get("/api/user/current.json").json()["enabled"] is True


def test_user_lock_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("uma")
    other = make_user("val")
    assert plain["api"].post(f"/api/user/{other['id']}/lock.json").status_code == 403
    assert api.get(f"/api/user/{other['id']}.json").json()["enabled"] is True


def test_user_lock_unknown_returns_404(api: Api) -> None:
    assert api.post("/api/user/987654/lock.json").status_code == 404


# --- password ---------------------------------------------------------------------------------


def _login(api: Api, username: str, password: str) -> int:
    response = api.post("/api/authenticate", json={"username": username, "password": password})
    return response.status_code


def test_user_password_change_by_admin_returns_bare_user(api: Api, make_user: Any) -> None:
    user = make_user("wes")
    response = api.put(f"/api/user/{user['id']}/password.json", json={"password": "new-pass-456"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == user["id"] and body["class"] == USER_CLASS
    assert "command" not in body
    assert _login(api, "wes", "new-pass-456") == 200
    assert _login(api, "wes", "password-123") != 200


def test_user_password_change_self_allowed(api: Api, make_user: Any) -> None:
    user = make_user("xia")
    response = user["api"].put(
        f"/api/user/{user['id']}/password.json", json={"password": "mine-123456"}
    )
    assert response.status_code == 200, response.text
    assert _login(api, "xia", "mine-123456") == 200


def test_user_password_change_short_or_missing_returns_400(api: Api, make_user: Any) -> None:
    user = make_user("yui")
    short = api.put(f"/api/user/{user['id']}/password.json", json={"password": "short"})
    assert short.status_code == 400
    assert short.json()["errors"]["message"] == "Your password must have at least 8 characters!"
    missing = api.put(f"/api/user/{user['id']}/password.json", json={})
    assert missing.status_code == 400
    assert missing.json()["errors"]["message"] == "Password is missing in JSON"
    assert _login(api, "yui", "password-123") == 200


def test_user_password_change_other_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("zak")
    other = make_user("abe")
    response = plain["api"].put(
        f"/api/user/{other['id']}/password.json", json={"password": "hijack-123"}
    )
    assert response.status_code == 403
    assert _login(api, "abe", "password-123") == 200


def test_user_password_change_unknown_returns_404(api: Api) -> None:
    response = api.put("/api/user/987654/password.json", json={"password": "whatever-123"})
    assert response.status_code == 404


# --- keys -------------------------------------------------------------------------------------


def test_user_keys_by_public_key_self_and_admin(api: Api, make_user: Any) -> None:
    user = make_user("bo")
    pub = user["keys"]["publicKey"]
    mine = user["api"].get(f"/api/userkey/{pub}/keys.json")
    assert mine.status_code == 200
    assert mine.json() == user["keys"]
    assert api.get(f"/api/userkey/{pub}/keys.json").json() == user["keys"]
    assert api.get("/api/userkey/unknown/keys.json").status_code == 404


def test_user_keys_by_id_and_username(api: Api, make_user: Any) -> None:
    user = make_user("cy")
    assert set(user["keys"]) == {"publicKey", "privateKey"}
    assert api.get(f"/api/user/{user['id']}/keys.json").json() == user["keys"]
    assert api.get("/api/user/CY/keys.json").json() == user["keys"]
    assert user["api"].get(f"/api/user/{user['id']}/keys.json").json() == user["keys"]
    assert api.get("/api/user/987654/keys.json").status_code == 404


def test_user_keys_of_other_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("di")
    other = make_user("ed")
    assert plain["api"].get(f"/api/user/{other['id']}/keys.json").status_code == 403
    pub = other["keys"]["publicKey"]
    response = plain["api"].get(f"/api/userkey/{pub}/keys.json")
    assert response.status_code == 403
    assert "message" in response.json()["errors"]
    assert plain["api"].get(f"/api/user/{_admin_id(api)}/keys.json").status_code == 403


def test_current_keys_get_returns_primary_secondary(make_user: Any) -> None:
    user = make_user("flo")
    expected = {"primaryKey": user["keys"]["publicKey"], "secondaryKey": user["keys"]["privateKey"]}
    assert user["api"].get("/api/user/current/keys").json() == expected
    assert user["api"].get("/user/current/keys").json() == expected


def test_current_keys_regenerate_old_keys_stop_working(make_user: Any) -> None:
    user = make_user("gil")
    response = user["api"].post("/api/user/current/keys")
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert set(fresh) == {"primaryKey", "secondaryKey"}
    assert fresh["primaryKey"] != user["keys"]["publicKey"]
    assert fresh["secondaryKey"] != user["keys"]["privateKey"]
    assert user["api"].get("/api/user/current.json").status_code == 401
    renewed = user["api"].as_keys(fresh["primaryKey"], fresh["secondaryKey"])
    assert renewed.get("/api/user/current.json").json()["username"] == "gil"
    assert renewed.get("/api/user/current/keys").json() == fresh


def test_signature_signs_for_caller(api: Api) -> None:
    params = {"method": "GET", "date": "Tue, 07 Jan 2025 10:15:30 +0000",
              "forwardURI": "/api/project.json", "queryString": "max=10&offset=0"}  # fmt: skip
    body = api.get("/api/signature.json", params=params).json()
    assert body == {"signature": "gPXWSy/OsGLyUAhdAa0EFaFBHxI=", "publicKey": ADMIN_PUBLIC_KEY}


def test_signature_post_with_content_type_either_spelling(api: Api) -> None:
    params = {"method": "POST", "date": "Tue, 07 Jan 2025 10:15:30 +0000",
              "content-type": "application/json", "forwardURI": "/api/project.json"}  # fmt: skip
    assert api.get("/api/signature.json", params=params).json()["signature"] == (
        "UEP3SDsJweEd7JshfVJ9mZ6uBw0="
    )
    params["content-Type"] = params.pop("content-type")
    assert api.get("/api/signature.json", params=params).json()["signature"] == (
        "UEP3SDsJweEd7JshfVJ9mZ6uBw0="
    )


def test_anonymous_user_and_role_routes_return_401(anonymous: Api) -> None:
    for path in ("/api/role.json", "/api/user/current.json", "/api/user/current/keys",
                 "/api/signature.json", "/api/user/1/role.json"):  # fmt: skip
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.post("/api/user.json", json=_body("x")).status_code == 401


# --- roles ------------------------------------------------------------------------------------


def test_role_list_returns_four_roles_in_bootstrap_order(make_user: Any) -> None:
    user = make_user("hu")
    response = user["api"].get("/api/role.json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == LIST_KEYS
    assert [r["authority"] for r in body["collection"]] == [
        "ROLE_USER", "ROLE_ADMIN", "ROLE_SUPER_ADMIN", "ROLE_GUEST",
    ]  # fmt: skip
    assert (body["size"], body["totalPages"], body["offset"]) == (4, 1, 0)
    for role in body["collection"]:
        assert set(role) == {"class", "id", "created", "updated", "authority"}
        assert role["class"] == ROLE_CLASS


def test_role_show_returns_role_or_404(api: Api) -> None:
    roles = _roles(api)
    body = api.get(f"/api/role/{roles['ROLE_ADMIN']}.json").json()
    assert body["authority"] == "ROLE_ADMIN"
    assert body["id"] == roles["ROLE_ADMIN"]
    assert body["class"] == ROLE_CLASS
    response = api.get("/api/role/987654.json")
    assert response.status_code == 404
    assert "message" in response.json()["errors"]


def test_user_roles_list_returns_links(api: Api, make_user: Any) -> None:
    user = make_user("ivy")
    body = api.get(f"/api/user/{user['id']}/role.json").json()
    assert set(body) == LIST_KEYS
    (link,) = body["collection"]
    assert set(link) == {"class", "id", "created", "updated", "user", "role", "authority"}
    assert link["class"] == LINK_CLASS
    assert (link["user"], link["role"], link["authority"]) == (
        user["id"], _roles(api)["ROLE_USER"], "ROLE_USER",
    )  # fmt: skip
    assert _is_epoch_ms(link["created"])
    assert api.get("/api/user/987654/role.json").status_code == 404


def test_user_roles_highest_returns_one_role(api: Api, make_user: Any) -> None:
    user = make_user("jay", roles=("ROLE_GUEST",))
    body = api.get(f"/api/user/{user['id']}/role.json", params={"highest": "true"}).json()
    assert set(body) == LIST_KEYS
    (role,) = body["collection"]
    assert role["class"] == ROLE_CLASS
    assert role["authority"] == "ROLE_USER"
    assert role["id"] == _roles(api)["ROLE_USER"]
    admin = api.get(f"/api/user/{_admin_id(api)}/role.json", params={"highest": "True"}).json()
    assert [r["authority"] for r in admin["collection"]] == ["ROLE_SUPER_ADMIN"]


def test_user_role_add_returns_exact_envelope(api: Api, make_user: Any) -> None:
    user = make_user("kay")
    roles = _roles(api)
    body = {"user": user["id"], "role": roles["ROLE_GUEST"]}
    response = api.post(f"/api/user/{user['id']}/role.json", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"message", "printMessage", "callback", "command", "secusersecrole"}
    link = answer["secusersecrole"]
    assert answer["callback"] == {
        "method": "be.cytomine.AddSecUserSecRoleCommand",
        "secusersecroleID": str(link["id"]),
    }
    assert (link["class"], link["user"], link["role"], link["authority"]) == (
        LINK_CLASS, user["id"], roles["ROLE_GUEST"], "ROLE_GUEST",
    )  # fmt: skip
    shown = api.get(f"/api/user/{user['id']}/role/{roles['ROLE_GUEST']}.json").json()
    assert shown["id"] == link["id"]
    assert _authorities(api, user["id"]) == ["ROLE_GUEST", "ROLE_USER"]


def test_user_role_add_user_from_path_when_body_lacks_it(api: Api, make_user: Any) -> None:
    user = make_user("lee")
    roles = _roles(api)
    response = api.post(f"/api/user/{user['id']}/role.json", json={"role": roles["ROLE_GUEST"]})
    assert response.status_code == 200, response.text
    assert _authorities(api, user["id"]) == ["ROLE_GUEST", "ROLE_USER"]


def test_user_role_add_body_user_differs_returns_400(api: Api, make_user: Any) -> None:
    user = make_user("mae")
    other = make_user("ned")
    body = {"user": other["id"], "role": _roles(api)["ROLE_GUEST"]}
    response = api.post(f"/api/user/{user['id']}/role.json", json=body)
    assert response.status_code == 400
    assert _authorities(api, user["id"]) == ["ROLE_USER"]
    assert _authorities(api, other["id"]) == ["ROLE_USER"]


def test_user_role_add_duplicate_returns_409(api: Api, make_user: Any) -> None:
    user = make_user("oli")
    body = {"user": user["id"], "role": _roles(api)["ROLE_USER"]}
    response = api.post(f"/api/user/{user['id']}/role.json", json=body)
    assert response.status_code == 409
    assert response.json()["success"] is False
    assert isinstance(response.json()["errors"], str)
    assert _authorities(api, user["id"]) == ["ROLE_USER"]


def test_user_role_add_unknown_role_or_user_returns_404(api: Api, make_user: Any) -> None:
    user = make_user("pat")
    unknown_role = api.post(f"/api/user/{user['id']}/role.json", json={"role": 987654})
    assert unknown_role.status_code == 404
    guest = _roles(api)["ROLE_GUEST"]
    assert api.post("/api/user/987654/role.json", json={"role": guest}).status_code == 404
    assert _authorities(api, user["id"]) == ["ROLE_USER"]


def test_user_role_add_admin_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("quin")
    roles = _roles(api)
    for authority in ("ROLE_ADMIN", "ROLE_SUPER_ADMIN"):
        body = {"user": plain["id"], "role": roles[authority]}
        response = plain["api"].post(f"/api/user/{plain['id']}/role.json", json=body)
        assert response.status_code == 403, authority
    assert _authorities(api, plain["id"]) == ["ROLE_USER"]


def test_user_role_add_guest_as_plain_user_allowed(api: Api, make_user: Any) -> None:
    plain = make_user("rae")
    other = make_user("sal")
    body = {"user": other["id"], "role": _roles(api)["ROLE_GUEST"]}
    response = plain["api"].post(f"/api/user/{other['id']}/role.json", json=body)
    assert response.status_code == 200, response.text
    assert _authorities(api, other["id"]) == ["ROLE_GUEST", "ROLE_USER"]


def test_user_role_add_to_guest_only_user_as_plain_user_returns_403(
    api: Api, make_user: Any
) -> None:
    plain = make_user("tia")
    guest = make_user("udo")
    roles = _roles(api)
    assert api.put(f"/api/user/{guest['id']}/role/{roles['ROLE_GUEST']}/define.json").ok
    body = {"user": guest["id"], "role": roles["ROLE_USER"]}
    response = plain["api"].post(f"/api/user/{guest['id']}/role.json", json=body)
    assert response.status_code == 403
    assert _authorities(api, guest["id"]) == ["ROLE_GUEST"]


def test_user_role_add_as_guest_returns_403(api: Api, make_user: Any) -> None:
    guest = make_user("vera")
    other = make_user("will")
    roles = _roles(api)
    assert api.put(f"/api/user/{guest['id']}/role/{roles['ROLE_GUEST']}/define.json").ok
    body = {"user": other["id"], "role": roles["ROLE_GUEST"]}
    response = guest["api"].post(f"/api/user/{other['id']}/role.json", json=body)
    assert response.status_code == 403
    assert _authorities(api, other["id"]) == ["ROLE_USER"]


def test_user_role_remove_returns_envelope_then_404(api: Api, make_user: Any) -> None:
    user = make_user("xan", roles=("ROLE_GUEST",))
    guest = _roles(api)["ROLE_GUEST"]
    response = api.delete(f"/api/user/{user['id']}/role/{guest}.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "printMessage", "callback", "command", "secusersecrole"}
    assert body["callback"]["method"] == "be.cytomine.DeleteSecUserSecRoleCommand"
    assert body["secusersecrole"]["authority"] == "ROLE_GUEST"
    assert api.get(f"/api/user/{user['id']}/role/{guest}.json").status_code == 404
    assert api.delete(f"/api/user/{user['id']}/role/{guest}.json").status_code == 404
    assert _authorities(api, user["id"]) == ["ROLE_USER"]


def test_user_role_remove_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("yul")
    other = make_user("zia", roles=("ROLE_GUEST",))
    guest = _roles(api)["ROLE_GUEST"]
    assert plain["api"].delete(f"/api/user/{other['id']}/role/{guest}.json").status_code == 403
    assert _authorities(api, other["id"]) == ["ROLE_GUEST", "ROLE_USER"]


def test_user_role_remove_own_role_returns_403(api: Api) -> None:
    admin_id = _admin_id(api)
    roles = _roles(api)
    response = api.delete(f"/api/user/{admin_id}/role/{roles['ROLE_ADMIN']}.json")
    assert response.status_code == 403
    assert "You cannot remove you a role" in response.json()["message"]
    assert "ROLE_ADMIN" in _authorities(api, admin_id)


def test_user_role_remove_own_super_admin_allowed_then_admin_needs_session(api: Api) -> None:
    admin_id = _admin_id(api)
    roles = _roles(api)
    response = api.delete(f"/api/user/{admin_id}/role/{roles['ROLE_SUPER_ADMIN']}.json")
    assert response.status_code == 200, response.text
    current = api.get("/api/user/current.json").json()
    assert (current["admin"], current["adminByNow"]) == (True, False)
    assert api.post("/api/user.json", json=_body("nope")).status_code == 403
    assert api.get("/session/admin/open.json").status_code == 200
    assert api.post("/api/user.json", json=_body("yes")).status_code == 200
    assert api.get("/session/admin/close.json").status_code == 200
    assert api.post("/api/user.json", json=_body("nope2")).status_code == 403
    assert _usernames(api) == ["admin", "yes"]


def test_user_with_admin_role_sees_emails_only_in_admin_session(api: Api, make_user: Any) -> None:
    admin = make_user("ada", roles=("ROLE_ADMIN",))
    make_user("bea")
    current = admin["api"].get("/api/user/current.json").json()
    assert (current["admin"], current["user"]) == (True, False)
    assert (current["adminByNow"], current["userByNow"]) == (False, True)
    users = admin["api"].get("/api/user.json").json()["collection"]
    assert "email" not in {u["username"]: u for u in users}["bea"]
    assert admin["api"].get("/session/admin/open.json").json()["adminByNow"] is True
    users = admin["api"].get("/api/user.json").json()["collection"]
    assert {u["username"]: u for u in users}["bea"]["email"] == "bea@example.org"


def test_user_role_define_replaces_role_set(api: Api, make_user: Any) -> None:
    user = make_user("abby", roles=("ROLE_GUEST",))
    roles = _roles(api)
    response = api.put(f"/api/user/{user['id']}/role/{roles['ROLE_ADMIN']}/define.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == LIST_KEYS
    # active roles: ROLE_ADMIN only counts inside an admin session
    assert [r["authority"] for r in body["collection"]] == ["ROLE_USER", "ROLE_GUEST"]
    assert all(r["class"] == ROLE_CLASS for r in body["collection"])
    assert _authorities(api, user["id"]) == ["ROLE_ADMIN", "ROLE_GUEST", "ROLE_USER"]

    response = api.put(f"/api/user/{user['id']}/role/{roles['ROLE_GUEST']}/define.json")
    assert response.status_code == 200
    assert [r["authority"] for r in response.json()["collection"]] == ["ROLE_GUEST"]
    assert _authorities(api, user["id"]) == ["ROLE_GUEST"]


def test_user_role_define_as_plain_user_returns_403(api: Api, make_user: Any) -> None:
    plain = make_user("cody")
    roles = _roles(api)
    path = f"/api/user/{plain['id']}/role/{roles['ROLE_ADMIN']}/define.json"
    assert plain["api"].put(path).status_code == 403
    assert _authorities(api, plain["id"]) == ["ROLE_USER"]


def test_user_role_define_dropping_own_role_returns_403(api: Api) -> None:
    admin_id = _admin_id(api)
    roles = _roles(api)
    response = api.put(f"/api/user/{admin_id}/role/{roles['ROLE_USER']}/define.json")
    assert response.status_code == 403
    assert "ROLE_ADMIN" in _authorities(api, admin_id)


def test_user_role_define_unknown_returns_404(api: Api, make_user: Any) -> None:
    user = make_user("dora")
    assert api.put(f"/api/user/{user['id']}/role/987654/define.json").status_code == 404
    guest = _roles(api)["ROLE_GUEST"]
    assert api.put(f"/api/user/987654/role/{guest}/define.json").status_code == 404
    assert _authorities(api, user["id"]) == ["ROLE_USER"]


def test_only_administrators_search_users_by_e_mail(api: Api, make_user: Any) -> None:
    """E-mails are only an administrator's to see (contract decision 7), so nobody else may
    filter, sort or search on them: each answer would reveal a guess."""
    make_user("hidden", email="hidden@secret-lab.example")
    viewer = make_user("peer")["api"]
    for params in ({"email[ilike]": "secret-lab"}, {"email[equals]": "hidden@secret-lab.example"},
                   {"sort": "email"}):  # fmt: skip
        assert_error(viewer.get("/api/user.json", params=params), 403)
        assert api.get("/api/user.json", params=params).status_code == 200
    assert _usernames(viewer, **{"fullName[ilike]": "secret-lab"}) == []
    assert _usernames(api, **{"fullName[ilike]": "secret-lab"}) == ["hidden"]
    assert _usernames(viewer, **{"fullName[ilike]": "hidd"}) == ["hidden"]  # names still match
