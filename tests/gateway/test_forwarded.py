"""Absolute links behind a reverse proxy (resolvers/forwarded.py): the scheme and host a
trusted proxy forwards name the links the server gives out (REST, GraphQL, status) and mark
the session cookie of an HTTPS caller Secure; from any other peer, or when they are not a
scheme and a host, those headers change nothing."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from typing import Any

import pytest
import requests

from settings import Settings
from tests.factories import abstract_image, add_image, make_project
from tests.harness import ADMIN_PASSWORD, ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, serve

PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "slides.example.org"}


def links(api: Api, headers: dict[str, str]) -> list[str]:
    """The links one image gives through REST, GraphQL and the status route."""
    project = make_project(api)
    instance = add_image(api, project["id"], abstract_image(api)["id"])
    rest = api.get(f"/api/imageinstance/{instance['id']}.json", headers=headers).json()
    graphql = api.post("/graphql", headers=headers, json={
        "query": "query($id: Long!) { imageInstance(id: $id) { tileUrlTemplate } }",
        "variables": {"id": instance["id"]}}).json()  # fmt: skip
    status = api.get("/status.json", headers=headers).json()
    return [rest["thumb"], graphql["data"]["imageInstance"]["tileUrlTemplate"],
            status["serverURL"]]  # fmt: skip


def proxied_server(settings: Settings, database_url: str, trusted: str) -> Any:
    return serve(dataclasses.replace(
        settings, trusted_proxies=(ipaddress.ip_network(trusted),)), database_url)  # fmt: skip


def test_a_trusted_proxy_names_the_links(settings, database_url):
    with proxied_server(settings, database_url, "127.0.0.1") as proxy:
        api = Api(proxy.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        for link in links(api, PROXIED):
            assert link.startswith("https://slides.example.org"), link
        chained = {"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "a.example, b.example"}
        for link in links(api, chained):
            assert link.startswith("https://b.example"), "the nearest proxy's values win"


def test_forwarded_headers_from_an_untrusted_peer_change_nothing(settings, database_url):
    with proxied_server(settings, database_url, "10.0.0.0/8") as server:
        api = Api(server.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        for link in links(api, PROXIED):
            assert link.startswith(server.url), link


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "evil.example/<script>"},
    {"X-Forwarded-Proto": "", "X-Forwarded-Host": "a b"},
])  # fmt: skip
def test_forwarded_values_that_are_not_a_scheme_and_host_are_ignored(settings, database_url,
                                                                     headers):  # fmt: skip
    with proxied_server(settings, database_url, "127.0.0.1") as proxy:
        api = Api(proxy.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        for link in links(api, headers):
            assert link.startswith(proxy.url), link


def test_the_session_cookie_is_secure_when_the_caller_came_over_https(settings, database_url):
    with proxied_server(settings, database_url, "127.0.0.1") as proxy:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        for headers, secure in ((PROXIED, True), ({}, False)):
            response = requests.post(proxy.url + "/api/authenticate?session=true", json=login,
                                     headers=headers, timeout=30)  # fmt: skip
            assert response.status_code == 200, response.text
            cookie = response.headers["Set-Cookie"].lower()
            assert "httponly" in cookie and ("; secure" in cookie) is secure, cookie


@pytest.mark.parametrize(("trusted", "caller"), [("127.0.0.1", "10.1.2.3"),
                                                 ("10.0.0.0/8", "127.0.0.1")])  # fmt: skip
def test_the_access_log_names_the_caller(settings, database_url, caplog, trusted, caller):
    """Behind a trusted proxy, the address it forwards; from any other peer, the peer's."""
    with proxied_server(settings, database_url, trusted) as server, caplog.at_level(
        logging.INFO, "cytogate.access"
    ):  # fmt: skip
        headers = {"X-Forwarded-For": "6.6.6.6, 10.1.2.3"}
        assert requests.get(server.url + "/status.json", headers=headers, timeout=30).ok
    [line] = [r.getMessage() for r in caplog.records if r.name == "cytogate.access"]
    assert line.startswith(f"{caller} GET /status.json 200 "), line


def test_the_session_cookie_is_secure_under_a_public_url_whose_scheme_is_capitalised(
    settings, database_url
):
    """A URL's scheme is case-insensitive: `CYTOGATE_PUBLIC_URL=HTTPS://…` is HTTPS too."""
    public = dataclasses.replace(settings, public_url="HTTPS://slides.example.org/")
    with serve(public, database_url) as server:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        response = requests.post(server.url + "/api/authenticate?session=true", json=login,
                                  timeout=30)  # fmt: skip
        assert response.status_code == 200, response.text
        assert "; secure" in response.headers["Set-Cookie"].lower()
