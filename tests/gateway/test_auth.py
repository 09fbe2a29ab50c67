"""Authentication (contract core.md §2): HMAC signatures in both client variants, tokens,
cookies, password checks, admin sessions, health routes and the no-store headers."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from aiohttp.test_utils import make_mocked_request

from db.engine import Database
from gateway.auth import canonical_strings
from resolvers.auth import SESSION_COOKIE, prune_tokens, sign, token_hash
from settings import Settings
from tests.harness import (
    ADMIN_PASSWORD,
    ADMIN_PRIVATE_KEY,
    ADMIN_PUBLIC_KEY,
    Api,
    Server,
    http_date,
    serve,
    signature,
)
from tests.storage.conftest import run_sql

KEY = "3b1f3f0e-7c1a-4d7e-9a55-2f1c0d9a8e11"
DATE = "Tue, 07 Jan 2025 10:15:30 +0000"
NO_STORE = {
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}
PASSWORD = "password-123"  # what the make_user fixture sets

# (method, raw path, headers, canonical string, signature) — core.md §2.1
VECTORS = [
    ("GET", "/api/project.json?max=10&offset=0", {},
     f"GET\n\n\n{DATE}\n/api/project.json?max=10&offset=0", "gPXWSy/OsGLyUAhdAa0EFaFBHxI="),
    ("POST", "/api/project.json", {"Content-Type": "application/json"},
     f"POST\n\napplication/json\n{DATE}\n/api/project.json", "UEP3SDsJweEd7JshfVJ9mZ6uBw0="),
    ("GET", "/api/anything.json", {}, f"GET\n\n\n{DATE}", "kWuuiFIGdwAhJ7jc7nWdKc2+OI8="),
    ("GET", "/session/admin/open.json", {"Host": "localhost"},
     f"GET\n\n\n{DATE}\n/api/http://localhost/session/admin/open.json",
     "KXNFmzXGZdX1ksq4fE/qEkfO5Qo="),
    ("GET", "/api/project.json?name%5Bilike%5D=a+b%2Cc&flag=True", {},
     f"GET\n\n\n{DATE}\n/api/project.json?name%5Bilike%5D=a+b%2Cc&flag=True",
     "8ug2Mxcpc7/90BfFx66hCpyJULA="),
]  # fmt: skip


def raw_request(
    server: Server,
    method: str,
    raw_path: str,
    *,
    public_key: str = ADMIN_PUBLIC_KEY,
    private_key: str = ADMIN_PRIVATE_KEY,
    canonical: str | None = None,
    date: str | None = None,
    content_type: str | None = None,
    body: bytes | None = None,
) -> requests.Response:
    """Send `raw_path` byte for byte, signed over `canonical` (default: client-3, resource =
    raw path and query)."""
    date = date or http_date()
    headers = {"date": date, "accept": "application/json, */*"}
    if content_type is not None:
        headers["content-type"] = content_type
    if canonical is None:
        canonical = f"{method}\n\n{content_type or ''}\n{date}\n{raw_path}"
    headers["authorization"] = f"CYTOMINE {public_key}:{signature(private_key, canonical)}"
    return requests.request(method, server.url + raw_path, headers=headers, data=body,
                            allow_redirects=False, timeout=30)  # fmt: skip


def old_date(seconds: int = 1200) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - seconds))


def assert_error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    message = errors if isinstance(errors, str) else errors["message"]  # command shape: a string
    assert isinstance(message, str) and message
    return message


def login(anonymous: Api, username: str, password: str, **params: Any) -> requests.Response:
    return anonymous.post("/api/authenticate", json={"username": username, "password": password},
                          params=params or None)  # fmt: skip


def bearer(server: Server, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, server.url + path, headers=headers, allow_redirects=False,
                            timeout=30, **kw)  # fmt: skip


def new_user_body(name: str) -> dict[str, Any]:
    return {"username": name, "firstname": "New", "lastname": "User",
            "email": f"{name}@example.org", "password": PASSWORD}  # fmt: skip


@pytest.fixture
def lenient_server(settings: Settings, database_url: str) -> Iterator[Server]:
    """A server with the Date freshness check off (CYTOGATE_HMAC_MAX_SKEW=0)."""
    with serve(dataclasses.replace(settings, hmac_max_skew=0), database_url) as running:
        yield running


# --- §2.1 test vectors ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "headers", "canonical", "expected"), VECTORS)
def test_sign_test_vector_matches(method, path, headers, canonical, expected):
    assert sign(KEY, canonical) == expected


@pytest.mark.parametrize(("method", "path", "headers", "canonical", "expected"), VECTORS)
def test_canonical_strings_test_vector_included(method, path, headers, canonical, expected):
    request = make_mocked_request(method, path, headers={"Date": DATE, **headers})
    assert canonical in list(canonical_strings(request))


def test_canonical_strings_content_type_also_empty():
    headers = {"Date": DATE, "Content-Type": "application/json"}
    request = make_mocked_request("POST", "/api/project.json", headers=headers)
    candidates = list(canonical_strings(request))
    assert f"POST\n\n\n{DATE}\n/api/project.json" in candidates
    assert f"POST\n\n\n{DATE}" in candidates


def test_canonical_strings_prefix_prepended():
    request = make_mocked_request("GET", "/api/project.json", headers={"Date": DATE})
    assert f"GET\n\n\n{DATE}\n/cyto/api/project.json" in list(canonical_strings(request, "/cyto"))


# --- HMAC over HTTP -------------------------------------------------------------------------


def test_hmac_client4_signature_accepted(api):
    response = api.get("/api/user/current.json")
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "admin"


def test_hmac_client3_raw_query_accepted(server):
    path = "/api/user.json?name%5Bilike%5D=a+b%2Cc&flag=True"
    response = raw_request(server, "GET", path)
    assert response.status_code == 200, response.text
    assert "collection" in response.json()


def test_hmac_client3_post_accepted(server):
    body = b'{"username": "c3user", "firstname": "C", "lastname": "Three", ' \
           b'"email": "c3@example.org", "password": "password-123"}'  # fmt: skip
    response = raw_request(server, "POST", "/api/user.json", content_type="application/json",
                           body=body)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "c3user"


def test_hmac_client3_root_path_quirk_accepted(server):
    host = urlsplit(server.url).netloc
    date = http_date()
    canonical = f"GET\n\n\n{date}\n/api/http://{host}/session/admin/open.json"
    response = raw_request(server, "GET", "/session/admin/open.json", canonical=canonical,
                           date=date)  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["adminByNow"] is True


def test_hmac_content_type_signed_empty_accepted(server):
    date = http_date()
    body = b'{"username": "emptytype", "firstname": "E", "lastname": "T", ' \
           b'"email": "e@example.org", "password": "password-123"}'  # fmt: skip
    response = raw_request(server, "POST", "/api/user.json", content_type="application/json",
                           canonical=f"POST\n\n\n{date}", date=date, body=body)  # fmt: skip
    assert response.status_code == 200, response.text


def test_hmac_no_credentials_unauthorized(anonymous):
    response = anonymous.get("/api/user.json")
    message = assert_error(response, 401)
    assert response.json()["message"] == message  # §5.1: also at the top level


def test_hmac_wrong_signature_unauthorized(server):
    response = raw_request(server, "GET", "/api/user.json", private_key="not-the-key")
    assert_error(response, 401)


def test_hmac_unknown_public_key_same_message_as_bad_signature(server):
    bad_signature = assert_error(
        raw_request(server, "GET", "/api/user.json", private_key="not-the-key"), 401
    )
    unknown_key = assert_error(
        raw_request(server, "GET", "/api/user.json", public_key="no-such-key"), 401
    )
    assert unknown_key == bad_signature


def test_hmac_stale_date_unauthorized_mentions_clock(server):
    message = assert_error(raw_request(server, "GET", "/api/user.json", date=old_date()), 401)
    assert "clock" in message.lower()
    future = assert_error(raw_request(server, "GET", "/api/user.json", date=old_date(-1200)), 401)
    assert "clock" in future.lower()
    assert raw_request(server, "GET", "/api/user.json", date=old_date(60)).status_code == 200


def test_hmac_stale_date_with_skew_check_off_accepted(lenient_server):
    response = raw_request(lenient_server, "GET", "/api/user.json", date=old_date())
    assert response.status_code == 200, response.text


def test_hmac_unreadable_date_unauthorized(server):
    assert_error(raw_request(server, "GET", "/api/user.json", date="yesterday"), 401)


def test_hmac_locked_user_unauthorized(server, api, anonymous, make_user):
    user = make_user()
    assert user["api"].get("/api/user/current.json").status_code == 200
    token = login(anonymous, user["username"], PASSWORD).json()["token"]
    locked = api.post(f"/api/user/{user['id']}/lock.json")
    assert locked.status_code == 200, locked.text
    assert_error(user["api"].get("/api/user/current.json"), 401)
    assert_error(bearer(server, token, "GET", "/api/user/current.json"), 401)


# --- login, tokens, cookies, logout ---------------------------------------------------------


def test_authenticate_good_password_returns_tokens(anonymous, make_user):
    user = make_user()
    response = login(anonymous, user["username"], PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"token", "shortTermToken"}
    assert body["token"] != body["shortTermToken"]
    assert response.headers["Authorization"] == f"Bearer {body['token']}"


def test_authenticate_bad_password_or_unknown_user_forbidden_alike(anonymous, make_user):
    user = make_user()
    bad_password = login(anonymous, user["username"], "wrong-password")
    unknown_user = login(anonymous, "nobody-here", "wrong-password")
    assert_error(bad_password, 403)
    assert_error(unknown_user, 403)
    assert bad_password.json() == unknown_user.json()


def test_authenticate_locked_user_forbidden(api, anonymous, make_user):
    user = make_user()
    assert api.post(f"/api/user/{user['id']}/lock.json").status_code == 200
    assert_error(login(anonymous, user["username"], PASSWORD), 403)


def test_bearer_token_get_and_post_accepted(server, anonymous):
    token = login(anonymous, "admin", ADMIN_PASSWORD).json()["token"]
    current = bearer(server, token, "GET", "/api/user/current.json")
    assert current.status_code == 200, current.text
    assert current.json()["username"] == "admin"
    created = bearer(server, token, "POST", "/api/user.json", json=new_user_body("viabearer"))
    assert created.status_code == 200, created.text


def test_bearer_token_query_parameter_accepted(server, anonymous):
    token = login(anonymous, "admin", ADMIN_PASSWORD).json()["token"]
    response = requests.get(server.url + "/api/user/current.json",
                            params={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text


def test_bearer_short_term_token_get_only(server, anonymous):
    short = login(anonymous, "admin", ADMIN_PASSWORD).json()["shortTermToken"]
    assert bearer(server, short, "GET", "/api/user/current.json").status_code == 200
    refused = bearer(server, short, "POST", "/api/user.json", json=new_user_body("viashort"))
    assert_error(refused, 403)


def test_bearer_unknown_token_unauthorized(server):
    assert_error(bearer(server, "not-a-token", "GET", "/api/user/current.json"), 401)


def test_authenticate_session_cookie_authenticates_browser(server, make_user):
    user = make_user()
    browser = requests.Session()
    response = browser.post(server.url + "/api/authenticate?session=true",
                            json={"username": user["username"], "password": PASSWORD},
                            timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    set_cookie = response.headers["Set-Cookie"]
    assert SESSION_COOKIE in set_cookie and "httponly" in set_cookie.lower()
    current = browser.get(server.url + "/api/user/current.json", timeout=30)
    assert current.status_code == 200, current.text
    assert current.json()["id"] == user["id"]


def test_authenticate_without_session_sets_no_cookie(anonymous):
    response = login(anonymous, "admin", ADMIN_PASSWORD)
    assert response.status_code == 200
    assert SESSION_COOKIE not in response.headers.get("Set-Cookie", "")


def test_logout_bearer_token_revoked(server, anonymous):
    token = login(anonymous, "admin", ADMIN_PASSWORD).json()["token"]
    out = bearer(server, token, "POST", "/api/logout")
    assert out.status_code == 200, out.text
    assert out.json() == {}
    assert_error(bearer(server, token, "GET", "/api/user/current.json"), 401)


def test_logout_session_cookie_cleared_and_revoked(server):
    browser = requests.Session()
    response = browser.post(server.url + "/api/authenticate", params={"session": "true"},
                            json={"username": "admin", "password": ADMIN_PASSWORD},
                            timeout=30)  # fmt: skip
    cookie = response.cookies[SESSION_COOKIE]
    out = browser.post(server.url + "/api/logout", timeout=30)
    assert out.status_code == 200, out.text
    assert SESSION_COOKIE in out.headers["Set-Cookie"]
    assert SESSION_COOKIE not in browser.cookies
    assert_error(browser.get(server.url + "/api/user/current.json", timeout=30), 401)
    replayed = requests.get(server.url + "/api/user/current.json",
                            cookies={SESSION_COOKIE: cookie}, timeout=30)  # fmt: skip
    assert_error(replayed, 401)


def test_graphql_login_token_works(server, anonymous):
    answer = anonymous.gql(
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
        {"u": "admin", "p": ADMIN_PASSWORD},
    )
    assert "errors" not in answer, answer
    token = answer["data"]["login"]["token"]
    assert bearer(server, token, "GET", "/api/user/current.json").status_code == 200


def test_graphql_login_bad_password_error(anonymous):
    answer = anonymous.gql(
        'mutation { login(username: "admin", password: "wrong-password") { token } }'
    )
    assert answer.get("errors")
    assert not answer.get("data")


# --- security_check -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_security_check_body_password_ok_or_unauthorized(make_user, method):
    user = make_user()
    path = "/api/user/security_check.json"
    response = user["api"].request(method, path, json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json() == {}
    message = assert_error(user["api"].request(method, path, json={"password": "wrong-pass"}), 401)
    assert message == "No matching password"


def test_security_check_query_or_missing_password(make_user):
    user = make_user()
    path = "/api/user/security_check.json"
    assert user["api"].get(path, params={"password": PASSWORD}).status_code == 200
    assert_error(user["api"].get(path, params={"password": "wrong-pass"}), 401)
    assert_error(user["api"].post(path, json={}), 401)


# --- admin session --------------------------------------------------------------------------


def test_admin_session_closed_admin_not_admin_by_now(make_user):
    admin = make_user(roles=("ROLE_ADMIN",))
    info = admin["api"].get("/session/admin/info.json")
    assert info.status_code == 200, info.text
    assert info.json() == {"admin": True, "user": False, "guest": False,
                           "adminByNow": False, "userByNow": True, "guestByNow": False}  # fmt: skip
    assert_error(admin["api"].post("/api/user.json", json=new_user_body("closed")), 403)


def test_admin_session_open_then_close_toggles_admin_rights(make_user):
    admin = make_user(roles=("ROLE_ADMIN",))
    opened = admin["api"].get("/session/admin/open.json")
    assert opened.status_code == 200, opened.text
    assert opened.json()["adminByNow"] is True
    assert opened.json()["userByNow"] is True  # not exclusive here (§2.5)
    assert admin["api"].get("/session/admin/info.json").json()["adminByNow"] is True
    created = admin["api"].post("/api/user.json", json=new_user_body("opened"))
    assert created.status_code == 200, created.text
    closed = admin["api"].get("/session/admin/close.json")
    assert closed.status_code == 200, closed.text
    assert closed.json()["adminByNow"] is False
    assert admin["api"].get("/session/admin/info.json").json()["adminByNow"] is False
    assert_error(admin["api"].post("/api/user.json", json=new_user_body("reclosed")), 403)


def test_admin_session_plain_user_forbidden(make_user):
    user = make_user()
    message = assert_error(user["api"].get("/session/admin/open.json"), 403)
    assert message == "You are not an admin!"
    assert_error(user["api"].get("/session/admin/close.json"), 403)
    info = user["api"].get("/session/admin/info.json").json()
    assert info["adminByNow"] is False and info["user"] is True


def test_admin_session_anonymous_unauthorized(anonymous):
    assert_error(anonymous.get("/session/admin/open.json"), 401)
    assert_error(anonymous.get("/session/admin/info.json"), 401)


def test_admin_session_super_admin_always_admin_by_now(api):
    assert api.get("/session/admin/info.json").json()["adminByNow"] is True
    assert api.get("/session/admin/close.json").json()["adminByNow"] is True
    assert api.get("/api/user/current.json").json()["adminByNow"] is True
    assert api.post("/api/user.json", json=new_user_body("bysuper")).status_code == 200


def test_admin_session_applies_to_bearer_token(server, anonymous, make_user):
    admin = make_user(roles=("ROLE_ADMIN",))
    token = login(anonymous, admin["username"], PASSWORD).json()["token"]
    info = bearer(server, token, "GET", "/session/admin/info.json").json()
    assert info["adminByNow"] is False
    assert admin["api"].get("/session/admin/open.json").status_code == 200  # opened via HMAC
    assert bearer(server, token, "GET", "/session/admin/info.json").json()["adminByNow"] is True
    created = bearer(server, token, "POST", "/api/user.json", json=new_user_body("tokenadmin"))
    assert created.status_code == 200, created.text
    assert bearer(server, token, "GET", "/session/admin/close.json").status_code == 200
    assert admin["api"].get("/session/admin/info.json").json()["adminByNow"] is False


def exclusive(body: dict[str, Any], names: tuple[str, str, str]) -> tuple[bool, bool, bool]:
    flags = tuple(body[name] for name in names)
    assert sum(flags) <= 1, body
    return flags  # type: ignore[return-value]


ROLE_FLAGS = ("admin", "user", "guest")
BY_NOW_FLAGS = ("adminByNow", "userByNow", "guestByNow")


def test_current_user_flags_exclusive(api, make_user):
    plain = make_user()["api"].get("/api/user/current.json").json()
    assert exclusive(plain, ROLE_FLAGS) == (False, True, False)
    assert exclusive(plain, BY_NOW_FLAGS) == (False, True, False)
    admin = make_user(roles=("ROLE_ADMIN",))
    before = admin["api"].get("/api/user/current.json").json()
    assert exclusive(before, ROLE_FLAGS) == (True, False, False)
    assert exclusive(before, BY_NOW_FLAGS) == (False, True, False)
    admin["api"].get("/session/admin/open.json")
    after = admin["api"].get("/api/user/current.json").json()
    assert exclusive(after, ROLE_FLAGS) == (True, False, False)
    assert exclusive(after, BY_NOW_FLAGS) == (True, False, False)
    assert after["isSwitched"] is False
    superadmin = api.get("/api/user/current.json").json()
    assert exclusive(superadmin, ROLE_FLAGS) == (True, False, False)
    assert exclusive(superadmin, BY_NOW_FLAGS) == (True, False, False)
    assert superadmin["privateKey"] == ADMIN_PRIVATE_KEY


def test_current_user_guest_flags(api, make_user):
    guest = make_user()
    roles = {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}
    defined = api.put(f"/api/user/{guest['id']}/role/{roles['ROLE_GUEST']}/define.json")
    assert defined.status_code == 200, defined.text
    body = guest["api"].get("/api/user/current.json").json()
    assert exclusive(body, ROLE_FLAGS) == (False, False, True)
    assert exclusive(body, BY_NOW_FLAGS) == (False, False, True)
    assert_error(guest["api"].get("/session/admin/open.json"), 403)


def test_admin_session_graphql_mutations(make_user):
    admin = make_user(roles=("ROLE_ADMIN",))
    opened = admin["api"].gql("mutation { adminSessionOpen { adminByNow adminSession } }")
    assert opened["data"]["adminSessionOpen"] == {"adminByNow": True, "adminSession": True}
    assert admin["api"].get("/session/admin/info.json").json()["adminByNow"] is True
    closed = admin["api"].gql("mutation { adminSessionClose { adminByNow } }")
    assert closed["data"]["adminSessionClose"] == {"adminByNow": False}


# --- health ---------------------------------------------------------------------------------


def test_health_anonymous_alive(anonymous):
    for path in ("/server/ping", "/server/ping.json", "/status.json"):
        response = anonymous.get(path)
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        assert body["alive"] is True
        assert body["version"] and body["serverURL"]
    ping = anonymous.post("/server/ping.json", json={}).json()
    assert ping["authenticated"] is False
    assert "user" not in ping and "shortTermToken" not in ping


def test_ping_with_credentials_authenticated(api, make_user):
    """A signed-in ping names the caller and brings a fresh short-term token: read-only."""
    user = make_user()
    body = user["api"].get("/server/ping.json").json()
    assert body["authenticated"] is True
    assert body["user"] == user["id"]
    bearer = {"Authorization": f"Bearer {body['shortTermToken']}"}
    me = api.get("/api/user/current.json", headers=bearer, sign=False)
    assert me.status_code == 200 and me.json()["id"] == user["id"], me.text
    written = api.put(f"/api/user/{user['id']}.json", headers=bearer, sign=False,
                      json={"username": user["username"]})  # fmt: skip
    assert written.status_code == 403, written.text
    again = user["api"].get("/server/ping.json").json()["shortTermToken"]
    assert again != body["shortTermToken"]


def test_ping_bad_signature_still_alive(server):
    response = raw_request(server, "GET", "/server/ping", private_key="not-the-key")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False


def test_options_preflight_no_credentials(server):
    response = requests.options(server.url + "/api/user.json", timeout=30)
    assert response.status_code < 300


# --- signature.json -------------------------------------------------------------------------


def test_signature_endpoint_signs_with_caller_key(make_user):
    user = make_user()
    date = http_date()
    params = {"method": "GET", "date": date, "forwardURI": "/api/project.json",
              "queryString": "max=10"}  # fmt: skip
    response = user["api"].get("/api/signature.json", params=params)
    assert response.status_code == 200, response.text
    canonical = f"GET\n\n\n{date}\n/api/project.json?max=10"
    assert response.json() == {
        "signature": signature(user["keys"]["privateKey"], canonical),
        "publicKey": user["keys"]["publicKey"],
    }


def test_signature_endpoint_content_type_param(api):
    date = http_date()
    params = {"method": "POST", "date": date, "forwardURI": "/api/project.json",
              "content-type": "application/json"}  # fmt: skip
    body = api.get("/api/signature.json", params=params).json()
    canonical = f"POST\n\napplication/json\n{date}\n/api/project.json"
    assert body["signature"] == signature(ADMIN_PRIVATE_KEY, canonical)


def test_signature_endpoint_anonymous_unauthorized(anonymous):
    assert_error(anonymous.get("/api/signature.json", params={"date": http_date()}), 401)


# --- caching headers ------------------------------------------------------------------------


def test_json_answers_carry_no_store_headers(server, api, anonymous):
    answers = [
        api.get("/api/user/current.json"),
        api.get("/session/admin/info.json"),
        anonymous.get("/server/ping"),
        anonymous.get("/status.json"),
        anonymous.get("/api/user.json"),  # 401
        raw_request(server, "GET", "/api/user.json", private_key="not-the-key"),  # 401
        login(anonymous, "admin", ADMIN_PASSWORD),
        login(anonymous, "admin", "wrong-password"),  # 403
        api.get("/api/no-such-thing.json"),  # 404
    ]
    for response in answers:
        assert response.headers["Content-Type"].startswith("application/json"), response.url
        for name, value in NO_STORE.items():
            assert response.headers.get(name) == value, (response.url, name)


def test_a_write_over_get_refuses_the_session_cookie_alone(server):
    """A link on another site makes the browser send its cookie with a GET: routes that write
    over GET (undo, accepting an annotation) then need a signature or a bearer token."""
    browser = requests.Session()
    response = browser.post(server.url + "/api/authenticate?session=true",
                            json={"username": "admin", "password": ADMIN_PASSWORD},
                            timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    assert_error(browser.get(server.url + "/api/command/undo.json", timeout=30), 403)
    assert browser.get(server.url + "/api/user/current.json", timeout=30).status_code == 200
    token = response.json()["token"]
    assert bearer(server, token, "GET", "/api/command/undo.json").status_code == 200


def test_a_password_change_ends_the_users_tokens(server, api, anonymous, make_user):
    user = make_user()
    token = login(anonymous, user["username"], PASSWORD).json()["token"]
    assert bearer(server, token, "GET", "/api/user/current.json").status_code == 200
    changed = api.put(f"/api/user/{user['id']}/password.json", json={"password": "another-one"})
    assert changed.status_code == 200, changed.text
    assert_error(bearer(server, token, "GET", "/api/user/current.json"), 401)
    assert login(anonymous, user["username"], "another-one").status_code == 200


# --- identities kept a few seconds (CYTOGATE_AUTH_CACHE_SECONDS) ------------------------------


def test_a_scripts_next_calls_read_no_identity(server: Server, make_user):
    """The identity behind a key or a token is read once: the next calls of the same client run
    only their own statements (the listing of one empty project: the same count each time)."""
    user = make_user()
    counts = []
    for client in (user["api"], user["api"], user["api"]):
        with server.count_statements() as counted:
            assert client.get("/api/user/current.json").status_code == 200
        counts.append(counted.n)
    assert counts[1] == counts[2] and counts[1] < counts[0]


@pytest.mark.parametrize("change", ["keys", "lock"])
def test_a_change_through_this_server_counts_at_once(api, make_user, change):
    """(A token revoked by logout: test_logout_bearer_token_revoked, whose logout itself
    authenticates with the token, which is then kept.)"""
    user = make_user()
    client = user["api"]
    assert client.get("/api/user/current.json").status_code == 200
    if change == "keys":
        assert client.post("/api/user/current/keys").status_code == 200
    else:
        assert api.post(f"/api/user/{user['id']}/lock.json").status_code == 200
    assert_error(client.get("/api/user/current.json"), 401)


def test_expired_tokens_are_forgotten(make_user, database_url):
    """Pings issue a token each: the upkeep forgets the expired ones."""
    user = make_user()
    kept = user["api"].get("/server/ping.json").json()["shortTermToken"]
    user["api"].get("/server/ping.json")
    mine = "SELECT token_hash FROM auth_token WHERE user_id = $1"
    run_sql(database_url, "UPDATE auth_token SET expires = now() - interval '1 s' WHERE "
            "token_hash <> $1 AND user_id = $2", token_hash(kept), user["id"])  # fmt: skip

    async def prune() -> int:
        db = Database(database_url, pool_size=1)
        try:
            return await prune_tokens(db)
        finally:
            await db.dispose()

    assert asyncio.run(prune()) >= 1
    assert [row[0] for row in run_sql(database_url, mine, user["id"])] == [token_hash(kept)]


@pytest.fixture
def long_kept(settings: Settings, database_url: str) -> Iterator[Server]:
    """A server keeping identities a minute (CYTOGATE_AUTH_CACHE_SECONDS=60)."""
    with serve(dataclasses.replace(settings, auth_cache_seconds=60), database_url) as running:
        yield running


def test_a_kept_token_lapses_at_its_expiry_not_at_the_cache_bound(long_kept, make_user,
                                                                  database_url):  # fmt: skip
    user = make_user()
    token = login(Api(long_kept.url, None, None), user["username"], PASSWORD).json()["token"]
    run_sql(database_url, "UPDATE auth_token SET expires = now() + interval '1.5 s' "
            "WHERE token_hash = $1", token_hash(token))  # fmt: skip
    assert bearer(long_kept, token, "GET", "/api/user/current.json").status_code == 200
    time.sleep(2)
    assert_error(bearer(long_kept, token, "GET", "/api/user/current.json"), 401)


def test_a_kept_admin_session_lapses_at_its_end(long_kept, make_user, database_url):
    admin = make_user(roles=("ROLE_ADMIN",))
    client = Api(long_kept.url, admin["keys"]["publicKey"], admin["keys"]["privateKey"])
    assert client.get("/session/admin/open.json").json()["adminByNow"] is True
    run_sql(database_url, "UPDATE admin_session SET expires = now() + "
            "interval '1.5 s' WHERE user_id = $1", admin["id"])  # fmt: skip
    assert client.get("/session/admin/info.json").json()["adminByNow"] is True
    time.sleep(2)
    assert client.get("/session/admin/info.json").json()["adminByNow"] is False
