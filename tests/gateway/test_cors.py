"""Calls from pages of other sites (gateway/cors.py): nothing allowed by default; a listed
origin's preflights and answers (streamed ones and errors too) marked readable, with
cookies; `*` for any origin without them; the setting validated at start-up."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests

from settings import ConfigError, Settings
from tests.factories import make_project
from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api, Server, serve

APP = "https://viewer.example.org"


@pytest.fixture
def listed(settings: Settings, database_url: str) -> Iterator[Server]:
    with serve(dataclasses.replace(settings, cors_origins=(APP,)), database_url) as running:
        yield running


def preflight(server: Server, path: str, origin: str) -> requests.Response:
    return requests.options(server.url + path, timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})  # fmt: skip


def test_without_the_setting_no_origin_is_allowed(server, api):
    answer = preflight(server, "/graphql", APP)
    assert answer.status_code == 204
    assert not any(name.startswith("Access-Control") for name in answer.headers)
    got = api.get("/api/user/current.json", headers={"Origin": APP})
    assert got.status_code == 200 and "Access-Control-Allow-Origin" not in got.headers


def test_a_listed_origin_may_call_with_cookies(listed, database_url):
    answer = preflight(listed, "/api/annotation.json", APP.upper())
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == APP.upper()
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert "PUT" in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert int(answer.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in answer.headers["Vary"]
    stranger = preflight(listed, "/api/annotation.json", "https://elsewhere.example.org")
    assert stranger.status_code == 204
    assert not any(name.startswith("Access-Control") for name in stranger.headers)

    def get(path: str, **params: str) -> requests.Response:
        return requests.get(listed.url + path, params=params, headers={"Origin": APP},
                            timeout=30)  # fmt: skip

    refused = get("/api/user/current.json")
    assert refused.status_code == 401, "an error a page can read"
    assert refused.headers["Access-Control-Allow-Origin"] == APP
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    ping = get("/server/ping.json")
    assert ping.status_code == 200 and ping.headers["Access-Control-Allow-Origin"] == APP


def test_a_streamed_answer_carries_the_headers_too(listed):
    api = Api(listed.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
    project = make_project(api)["id"]
    whole = api.get("/api/annotation.json", params={"max": 0, "project": project},
                    headers={"Origin": APP})  # fmt: skip
    assert whole.status_code == 200, whole.text
    assert whole.headers.get("Transfer-Encoding") == "chunked", "streamed from a cursor"
    assert whole.headers["Access-Control-Allow-Origin"] == APP


def test_any_origin_without_cookies(settings, database_url):
    with serve(dataclasses.replace(settings, cors_origins=("*",)), database_url) as running:
        answer = preflight(running, "/graphql", "https://anywhere.example.org")
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in answer.headers
        got = requests.get(running.url + "/server/ping.json", timeout=30,
                           headers={"Origin": "https://anywhere.example.org"})  # fmt: skip
        assert got.headers["Access-Control-Allow-Origin"] == "*"


BAD = (
    "*, https://a.example.org",
    "a.example.org",
    "https://a.example.org/path",
    "ftp://a.example.org",
    "https://a.example.org:99999",
    "https://u@a.example.org",
)


@pytest.mark.parametrize("value", BAD)
def test_a_bad_setting_stops_the_server(value):
    with pytest.raises(ConfigError, match="CYTOGATE_CORS_ORIGINS"):
        Settings.from_env({"CYTOGATE_CORS_ORIGINS": value})


def test_the_setting_reads_a_list():
    read = Settings.from_env({"CYTOGATE_CORS_ORIGINS": " https://A.example.org/, http://b:8080"})
    assert read.cors_origins == ("https://a.example.org", "http://b:8080")
    assert Settings.from_env({}).cors_origins == ()
