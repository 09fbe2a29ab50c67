"""The HTTP gateway under hostile input: writes over GET or HEAD with a browser's cookie or a
short-term token, cross-site posts riding the session cookie, slow and vanishing clients, the
headers every answer carries, and path aliases."""

from __future__ import annotations

import dataclasses
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from settings import Settings
from tests.factories import make_project
from tests.harness import (
    ADMIN_PASSWORD,
    ADMIN_PRIVATE_KEY,
    ADMIN_PUBLIC_KEY,
    Api,
    Server,
    assert_error,
    http_date,
    serve,
    signature,
)

#: A new user's body, as a page of another site would post it in a plain HTML form.
FORM_BODY = ('{"username": "csrf", "firstname": "C", "lastname": "S", '
             '"email": "csrf@example.org", "password": "password-123"}')  # fmt: skip
APP = "https://viewer.example.org"


def signed_in(server: Server) -> tuple[requests.Session, dict[str, Any]]:
    """A browser holding the admin's session cookie, and the tokens its sign-in answered."""
    browser = requests.Session()
    response = browser.post(server.url + "/api/authenticate?session=true",
                            json={"username": "admin", "password": ADMIN_PASSWORD},
                            timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    return browser, response.json()


def usernames(api: Api) -> set[str]:
    listed = api.get("/api/user.json", params={"max": 0})
    assert listed.status_code == 200, listed.text
    return {user["username"] for user in listed.json()["collection"]}


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


# --- writes over GET and HEAD ----------------------------------------------------------------


def test_a_write_over_head_refuses_the_session_cookie_alone(server, api):
    """HEAD is a GET without the body: a page may send one with the browser's cookie as
    freely, so the routes that write over GET refuse it as they refuse the GET."""
    project = make_project(api)["id"]
    browser, _ = signed_in(server)
    assert browser.head(server.url + "/api/command/undo.json", timeout=30).status_code == 403
    assert api.get(f"/api/project/{project}.json").status_code == 200, "nothing undone"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_short_term_token_cannot_write_over_get(server, api, method):
    """The short-term token (what pages put in image URLs, so the likeliest to leak) reads
    only: it never undoes the user's last command."""
    project = make_project(api)["id"]
    _, tokens = signed_in(server)
    headers = {"Authorization": f"Bearer {tokens['shortTermToken']}"}
    undone = requests.request(method, server.url + "/api/command/undo.json", headers=headers,
                              timeout=30)  # fmt: skip
    assert undone.status_code == 403, undone.text
    if method == "GET":
        assert_error(undone, 403)
    assert api.get(f"/api/project/{project}.json").status_code == 200, "nothing undone"
    read = requests.get(server.url + "/api/user/current.json", headers=headers, timeout=30)
    assert read.status_code == 200, read.text


# --- cross-site requests riding the session cookie -------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"},  # another port
        {"Origin": "http://evil.example"},  # a browser that sends no Sec-Fetch-Site
        {"Origin": "null"},  # a sandboxed frame
        {"Origin": "http://[::1"},  # unreadable
    ],
)
def test_a_cross_site_post_with_the_session_cookie_is_refused_and_changes_nothing(
    server, api, headers
):
    """A plain HTML form of another page (text/plain, no preflight) posting a JSON body."""
    browser, _ = signed_in(server)
    before = usernames(api)
    response = browser.post(server.url + "/api/user.json", data=FORM_BODY, timeout=30,
                            headers={"Content-Type": "text/plain", **headers})  # fmt: skip
    assert_error(response, 403)
    graphql = browser.post(server.url + "/graphql", timeout=30, headers=headers,
                           json={"query": "mutation { logout }"})  # fmt: skip
    assert graphql.status_code == 403, graphql.text
    assert graphql.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert usernames(api) == before
    assert browser.get(server.url + "/api/user/current.json", timeout=30).status_code == 200


def test_a_post_from_the_servers_own_page_with_the_session_cookie_is_accepted(server, api):
    browser, _ = signed_in(server)
    for n, headers in enumerate([
        {"Origin": server.url, "Sec-Fetch-Site": "same-origin"},
        {"Origin": server.url},
        {},  # a script that keeps cookies, an old browser
    ]):  # fmt: skip
        body = FORM_BODY.replace("csrf", f"own{n}")
        response = browser.post(server.url + "/api/user.json", data=body, headers=headers,
                                timeout=30)  # fmt: skip
        assert response.status_code == 200, (headers, response.text)


def test_a_cross_site_post_with_a_bearer_token_is_accepted(server):
    """Only the cookie is sent by the browser on its own: a token is the page's to send."""
    _, tokens = signed_in(server)
    response = requests.post(server.url + "/api/user.json", data=FORM_BODY, timeout=30,
                             headers={"Authorization": f"Bearer {tokens['token']}",
                                      "Origin": "http://evil.example",
                                      "Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert response.status_code == 200, response.text


@pytest.fixture
def listed(settings: Settings, database_url: str) -> Iterator[Server]:
    with serve(dataclasses.replace(settings, cors_origins=(APP,)), database_url) as running:
        yield running


def test_a_listed_origin_may_post_with_the_session_cookie(listed):
    browser, _ = signed_in(listed)
    response = browser.post(listed.url + "/api/user.json", data=FORM_BODY, timeout=30,
                            headers={"Origin": APP, "Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert response.status_code == 200, response.text


# --- slow and vanishing clients --------------------------------------------------------------


@pytest.fixture
def one_connection(settings: Settings, database_url: str) -> Iterator[Server]:
    """A pool of one connection, identities read on every request."""
    tight = dataclasses.replace(settings, pool_size=1, pool_timeout=2, auth_cache_seconds=0)
    with serve(tight, database_url) as running:
        yield running


def test_a_slow_body_holds_no_database_connection(one_connection):
    """A signed client trickling its body must not keep the pool's only connection from the
    others while it does (authentication read its identity from the database)."""
    api = Api(one_connection.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
    date = http_date()
    signed = signature(ADMIN_PRIVATE_KEY, f"POST\n\napplication/json\n{date}")
    with connect(one_connection) as slow:
        slow.sendall(
            (
                f"POST /api/user.json HTTP/1.1\r\nHost: x\r\nDate: {date}\r\n"
                f"Content-Type: application/json\r\nContent-Length: 1000\r\n"
                f"Authorization: CYTOMINE {ADMIN_PUBLIC_KEY}:{signed}\r\n\r\n{{"
            ).encode()
        )
        time.sleep(0.5)  # authenticated by now, waiting for the rest of the body
        other = api.get("/api/user/current.json")
        assert other.status_code == 200, other.text


def test_a_client_hanging_up_mid_body_is_no_server_error(server, caplog):
    caplog.set_level(logging.INFO, "cytogate")
    with connect(server) as gone:
        gone.sendall(
            b"POST /api/authenticate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b'Content-Type: application/json\r\n\r\n{"username":'
        )
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    while not any("closed the connection" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        time.sleep(0.05)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# --- answers ---------------------------------------------------------------------------------


def test_every_answer_says_nosniff(server, api, anonymous):
    project = make_project(api)["id"]
    answers = [
        api.get("/api/user/current.json"),
        anonymous.get("/api/user.json"),  # 401
        api.get("/api/no-such-thing.json"),  # 404
        api.get("/api/annotation.json", params={"max": 0, "project": project}),  # streamed
        api.post("/graphql", json={"query": "{ viewer { adminByNow } }"}),
        anonymous.get("/status.json"),
    ]
    for response in answers:
        assert response.headers.get("X-Content-Type-Options") == "nosniff", response.url


def test_a_path_id_in_other_digits_is_no_alias(api):
    """`/api/user/１.json` (a fullwidth one) is not user 1's path."""
    me = str(api.get("/api/user/current.json").json()["id"])
    assert api.get(f"/api/user/{me}.json").status_code == 200
    fullwidth = "".join(chr(ord(digit) - ord("0") + 0xFF10) for digit in me)
    response = api.get(f"/api/user/{fullwidth}.json")
    assert response.status_code == 404, response.text
