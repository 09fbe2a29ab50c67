"""REST routes of users, roles, keys and sessions (contract core.md §2, §9.1–9.2)."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from rest_compat.envelopes import Call, bare, command, items, json_response, page, single
from rest_compat.routes import Route, flag, given
from rest_compat.shapes import JSON, domain

__all__ = ["ROUTES"]

_user = domain("security.User", hide_null=("publicKey", "privateKey", "passwordExpired", "email"))
_role = domain("security.SecRole")
role_link_json = domain("security.SecUserSecRole")


def user_json(node: JSON) -> JSON:
    """User JSON in lists and envelopes: `user` is null there (core.md §9.1)."""
    node = _user(node)
    node["user"] = None
    return node


def user_show_json(node: JSON) -> JSON:
    """A single GET adds the exclusive role flags; `user` becomes the ROLE_USER flag."""
    node = _user(node)
    node["admin"], node["user"], node["guest"] = (
        node.pop("isAdmin"),
        node.pop("isUser"),
        node.pop("isGuest"),
    )
    return node


def role_json(node: JSON) -> JSON:
    node = _role(node)
    node["updated"] = node["created"]
    return node


def current_json(viewer: JSON) -> JSON:
    """`user/current.json`: the user with keys and the flags; `…ByNow` exclusive (§2.4)."""
    node = _user(viewer.pop("me"))
    admin_now = viewer["adminByNow"]
    user_now = viewer["userByNow"] and not admin_now
    guest_now = viewer["guestByNow"] and not admin_now and not user_now
    node.update(viewer)
    node["userByNow"], node["guestByNow"] = user_now, guest_now
    return node


def _keys_as_primary(keys: Any) -> JSON:
    return {"primaryKey": keys["publicKey"], "secondaryKey": keys["privateKey"]}


def _login(data: Any, call: Call) -> web.Response:
    """Core-PRE's login answer, with the token in the `Authorization` header too (§2.3)."""
    tokens = data["login"]
    return json_response(tokens, headers={"Authorization": f"Bearer {tokens['token']}"})


def _empty(_: Any) -> JSON:
    return {}


_user_command = command("user", "User", user_json)
_link_command = command("secusersecrole", "SecUserSecRole", role_link_json)
_signature_names: Final = {
    "content-MD5": "contentMD5",
    "content-md5": "contentMD5",
    "content-type": "contentType",
    "content-Type": "contentType",
}

ROUTES: Final = (
    Route("GET", "/api/user/current.json", "CurrentUser", single(current_json)),
    Route("GET", "/api/user.json", "UserByPublicKey", single(user_json), when=given("publicKey")),
    Route("GET", "/api/user.json", "Users", page(user_json)),
    Route("GET", "/api/user/{id:int}.json", "UserShow", single(user_show_json)),
    Route("GET", "/api/user/{username}.json", "UserShowByName", single(user_show_json)),
    Route("POST", "/api/user.json", "UserCreate", _user_command, body="input", bulk=True,
          command=True),
    Route("PUT", "/api/user/{id:int}.json", "UserUpdate", _user_command, body="input",
          command=True),
    Route("DELETE", "/api/user/{id:int}.json", "UserDelete", _user_command, command=True),
    Route("POST", "/api/user/{id:int}/lock.json", "UserLock", _user_command, command=True),
    Route("DELETE", "/api/user/{id:int}/lock.json", "UserUnlock", _user_command, command=True),
    Route("PUT", "/api/user/{id:int}/password.json", "UserPasswordChange", single(user_json),
          body="*"),
    Route("GET", "/api/user/security_check.json", "SecurityCheck", bare(_empty), body="*"),
    Route("POST", "/api/user/security_check.json", "SecurityCheck", bare(_empty), body="*"),
    Route("GET", "/api/userkey/{publicKey}/keys.json", "UserKeysByPublicKey", bare()),
    Route("GET", "/api/user/{id:int}/keys.json", "UserKeysById", bare()),
    Route("GET", "/api/user/{username}/keys.json", "UserKeysByName", bare()),
    Route("GET", "/api/user/current/keys", "CurrentUserKeys", bare(_keys_as_primary)),
    Route("GET", "/user/current/keys", "CurrentUserKeys", bare(_keys_as_primary)),
    Route("POST", "/api/user/current/keys", "CurrentUserKeysRegenerate", bare(_keys_as_primary)),
    Route("POST", "/user/current/keys", "CurrentUserKeysRegenerate", bare(_keys_as_primary)),
    Route("GET", "/api/signature.json", "Signature", bare(), rename=_signature_names),
    Route("GET", "/api/role.json", "Roles", items(role_json)),
    Route("GET", "/api/role/{id:int}.json", "RoleShow", single(role_json)),
    Route("GET", "/api/user/{user:int}/role.json", "UserHighestRole",
          bare(lambda role: _highest_list(role)), when=flag("highest")),
    Route("GET", "/api/user/{user:int}/role.json", "UserRoles", items(role_link_json)),
    Route("GET", "/api/user/{user:int}/role/{role:int}.json", "UserRoleShow",
          single(role_link_json)),
    Route("POST", "/api/user/{user:int}/role.json", "UserRoleCreate", _link_command, body="*",
          command=True),
    Route("DELETE", "/api/user/{user:int}/role/{role:int}.json", "UserRoleDelete",
          _link_command, command=True),
    Route("PUT", "/api/user/{user:int}/role/{role:int}/define.json", "UserRolesDefine",
          items(role_json)),
    Route("GET", "/session/admin/open.json", "AdminSessionOpen", bare()),
    Route("GET", "/session/admin/close.json", "AdminSessionClose", bare()),
    Route("GET", "/session/admin/info.json", "AdminSessionInfo", bare()),
    Route("POST", "/api/authenticate", "Login", _login, body="*"),
    Route("POST", "/api/logout", "Logout", bare(_empty)),
)  # fmt: skip


def _highest_list(role: JSON | None) -> JSON:
    """`highest=true`: a list envelope holding the one highest SecRole (§9.2)."""
    collection = [role_json(role)] if role else []
    size = len(collection)
    return {"collection": collection, "offset": 0, "perPage": size, "size": size,
            "totalPages": size}  # fmt: skip


__all__ += ["current_json", "role_json", "user_json", "user_show_json"]
