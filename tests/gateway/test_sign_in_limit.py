"""Failed password checks make the next ones wait (resolvers/sign_in_limit.py): per username
and address, per address, the right password included, the same through REST and GraphQL, a
success clearing its own failures, strict under concurrent guesses, and pruned."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from db.engine import Database
from resolvers.sign_in_limit import prune_sign_in_failures
from settings import ConfigError, Settings
from tests.conftest import base_settings
from tests.harness import Api, Server, serve
from tests.storage.conftest import run_sql

PASSWORD = "password-123"  # what the make_user fixture sets
WINDOW = 900


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Three failures per username and address, five per address; the table starts empty (a
    worker's tests share the database and the address)."""
    run_sql(database_url, "DELETE FROM sign_in_failure")
    return dataclasses.replace(base_settings(), sign_in_failures=3,
                               sign_in_failures_per_address=5, sign_in_window=WINDOW)  # fmt: skip


def login(anonymous: Api, username: str, password: str) -> requests.Response:
    return anonymous.post("/api/authenticate", json={"username": username, "password": password})


def assert_waits(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Too many failed sign-ins" in response.json()["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW


def test_failures_of_a_username_make_its_next_sign_ins_wait(anonymous, make_user, database_url):
    user, other = make_user(), make_user()
    for _ in range(3):
        assert login(anonymous, user["username"], "wrong-password").status_code == 403
    assert_waits(login(anonymous, user["username"], PASSWORD))
    assert_waits(login(anonymous, user["username"].upper(), PASSWORD))
    answer = anonymous.post("/graphql", json={
        "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
                 "{ token } }", "variables": {"u": user["username"], "p": PASSWORD}})  # fmt: skip
    assert answer.status_code == 429 and 1 <= int(answer.headers["Retry-After"]) <= WINDOW
    assert answer.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS"
    assert login(anonymous, other["username"], PASSWORD).status_code == 200, "others sign in"
    run_sql(database_url, "UPDATE sign_in_failure SET created = created - interval '16 min'")
    assert login(anonymous, user["username"], PASSWORD).status_code == 200, "out of the window"


def test_a_success_clears_its_username_failures(anonymous, make_user, database_url):
    user = make_user()
    for _ in range(2):
        assert login(anonymous, user["username"], "wrong-password").status_code == 403
    assert login(anonymous, user["username"], PASSWORD).status_code == 200
    assert run_sql(database_url, "SELECT count(*) FROM sign_in_failure")[0][0] == 0
    for _ in range(3):
        assert login(anonymous, user["username"], "wrong-password").status_code == 403
    assert_waits(login(anonymous, user["username"], PASSWORD))


def test_failures_from_an_address_across_usernames_make_every_sign_in_wait(anonymous, make_user):
    user = make_user()
    for n in range(5):
        assert login(anonymous, f"nobody-{n}", "wrong-password").status_code == 403
    assert_waits(login(anonymous, user["username"], PASSWORD))
    assert_waits(login(anonymous, "nobody-9", "wrong-password"))


def test_security_check_is_limited_as_sign_ins_are(make_user):
    user = make_user()
    path = "/api/user/security_check.json"
    for _ in range(3):
        assert user["api"].post(path, json={"password": "wrong-pass"}).status_code == 401
    assert_waits(user["api"].post(path, json={"password": PASSWORD}))


def test_concurrent_guesses_are_counted_strictly(server, make_user):
    """Twenty guesses at once: three are checked, the others wait (the count and the record
    are taken under the address's lock)."""
    user = make_user()

    def guess(_: int) -> int:
        body = {"username": user["username"], "password": "wrong"}
        return requests.post(server.url + "/api/authenticate", json=body, timeout=60).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(guess, range(20)))
    assert statuses == [403] * 3 + [429] * 17


def test_old_failures_are_pruned(anonymous, database_url):
    for n in range(2):
        assert login(anonymous, f"nobody-{n}", "wrong-password").status_code == 403
    run_sql(database_url, "UPDATE sign_in_failure SET created = created - interval '1 hour' "
                          "WHERE username = 'nobody-0'")  # fmt: skip

    async def prune() -> int:
        db = Database(database_url, pool_size=1)
        try:
            return await prune_sign_in_failures(db, WINDOW)
        finally:
            await db.dispose()

    assert asyncio.run(prune()) == 1
    left = run_sql(database_url, "SELECT username FROM sign_in_failure")
    assert [row[0] for row in left] == ["nobody-1"]


def forwarded(server: Server, username: str, password: str, chain: str) -> requests.Response:
    return requests.post(server.url + "/api/authenticate", timeout=30,
                         json={"username": username, "password": password},
                         headers={"X-Forwarded-For": chain})  # fmt: skip


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(settings, database_url,
                                                                 make_user):  # fmt: skip
    """With the proxy trusted, each caller behind it has its own count: the address the
    proxy appended, not what the caller wrote before it; untrusted, the header is ignored."""
    user = make_user()
    proxied = dataclasses.replace(settings, trusted_proxies=(ipaddress.ip_network("127.0.0.1"),))
    with serve(proxied, database_url) as proxy:
        for _ in range(3):
            chain = "6.6.6.6, 10.0.0.1"  # the caller's own claim, then what the proxy saw
            assert forwarded(proxy, user["username"], "wrong", chain).status_code == 403
        assert_waits(forwarded(proxy, user["username"], PASSWORD, "7.7.7.7, 10.0.0.1"))
        assert forwarded(proxy, user["username"], PASSWORD, "10.0.0.2").status_code == 200
    rows = run_sql(database_url, "SELECT DISTINCT address FROM sign_in_failure")
    assert [row[0] for row in rows] == ["10.0.0.1"]
    run_sql(database_url, "DELETE FROM sign_in_failure")
    with serve(settings, database_url) as direct:
        for n in range(3):
            assert forwarded(direct, user["username"], "wrong", f"10.0.1.{n}").status_code == 403
        assert_waits(forwarded(direct, user["username"], PASSWORD, "10.0.2.1"))


def test_an_ipv6_caller_is_counted_by_its_64_prefix(settings, database_url, make_user):
    """An IPv6 host holds a whole /64 and may send from any address in it: its failures count
    by that prefix, else it would rotate past every limit (a fresh address per guess). An
    IPv4-mapped address counts as its IPv4 one, as a dual-stack proxy may write it."""
    user = make_user()
    proxied = dataclasses.replace(settings, trusted_proxies=(ipaddress.ip_network("127.0.0.1"),))
    with serve(proxied, database_url) as proxy:
        for n in range(1, 4):
            chain = f"2001:db8:0:1::{n}"
            assert forwarded(proxy, user["username"], "wrong", chain).status_code == 403
        assert_waits(forwarded(proxy, user["username"], PASSWORD, "2001:DB8:0:1:ffff::9"))
        assert forwarded(proxy, user["username"], PASSWORD, "2001:db8:0:2::1").status_code == 200
        for chain in ("10.0.0.7", "10.0.0.7", "::ffff:10.0.0.7"):
            assert forwarded(proxy, user["username"], "wrong", chain).status_code == 403
        assert_waits(forwarded(proxy, user["username"], PASSWORD, "10.0.0.7"))
    rows = run_sql(database_url, "SELECT DISTINCT address FROM sign_in_failure ORDER BY 1")
    assert [row[0] for row in rows] == ["10.0.0.7", "2001:db8:0:1::/64"]


@pytest.mark.parametrize("value", ["10.0.0.1, proxy.example.org", "10.0.0.0/33"])
def test_a_bad_proxy_setting_stops_the_server(value):
    with pytest.raises(ConfigError, match="CYTOGATE_TRUSTED_PROXIES"):
        Settings.from_env({"CYTOGATE_TRUSTED_PROXIES": value})
    read = Settings.from_env({"CYTOGATE_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert [str(n) for n in read.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
