"""GraphiQL (gateway/graphiql.py) in a real browser without internet: headless Debian Chromium,
driven by selenium through Debian's chromedriver, can resolve no host name, loads /graphql, runs
queries as the administrator (a bearer token in the header editor, then the session cookie of
the `login` mutation) and shows the answers; its network log shows that every request it made
went to the test server. Were the page to load anything from a CDN, GraphiQL would never render
and the log would name that host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from gateway import graphiql
from tests.harness import ADMIN_PASSWORD, Api, Server, assert_graphql_error

#: Debian's packages (scripts/install.sh); given explicitly, so selenium-manager never runs.
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--window-size=1280,1024",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No name resolves, so anything but the server at 127.0.0.1 is out of reach.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
WHO = "{ viewer { user { username } } }"
ADMIN = {"viewer": {"user": {"username": "admin"}}}
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
#: The Headers tab of the editor tools, open by default (the Variables one is hidden).
HEADERS_EDITOR = 'section[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror'
RUN_BUTTON = ".graphiql-execute-button"
RESULT = 'section[aria-label="Result Window"] .CodeMirror'


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium with a profile of its own, logging its network events."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium'}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def set_editor(driver: WebDriver, editor: WebElement, text: str) -> None:
    """Replace the text of one of GraphiQL's CodeMirror editors through CodeMirror's own API,
    which GraphiQL hears as typing (typed keys would get their brackets closed twice)."""
    driver.execute_script("arguments[0].CodeMirror.setValue(arguments[1])", editor, text)


def editor_text(driver: WebDriver, editor: WebElement) -> str:
    """All the text of an editor: its DOM holds only the lines scrolled into view."""
    text: str = driver.execute_script("return arguments[0].CodeMirror.getValue()", editor)
    return text


def run(driver: WebDriver, query: str, headers: str = "") -> Any:
    """Fill the query and header editors, press the run button and read the result panel."""
    wait = WebDriverWait(driver, 15)
    editor = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, QUERY_EDITOR),
                        "GraphiQL did not render")  # fmt: skip
    set_editor(driver, editor, query)
    set_editor(driver, driver.find_element(By.CSS_SELECTOR, HEADERS_EDITOR), headers)
    result = driver.find_element(By.CSS_SELECTOR, RESULT)
    set_editor(driver, result, "")
    driver.find_element(By.CSS_SELECTOR, RUN_BUTTON).click()
    wait.until(lambda d: editor_text(d, result), "no result shown")
    return json.loads(editor_text(driver, result))


def requested_urls(driver: WebDriver) -> list[str]:
    """Every URL the browser asked for over the network, from Chromium's log (without its own
    chrome:// pages, nor the data: URLs of inlined fonts)."""
    urls = []
    for entry in driver.get_log("performance"):
        message: dict[str, Any] = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if urlsplit(url).scheme not in ("chrome", "data"):
                urls.append(url)
    return urls


def test_graphiql_runs_queries_offline_with_a_token_then_a_session(
    server: Server, anonymous: Api, browser: WebDriver
) -> None:
    login = anonymous.post("/api/authenticate", json={"username": "admin",
                                                      "password": ADMIN_PASSWORD})  # fmt: skip
    assert login.status_code == 200, login.text
    bearer = json.dumps({"Authorization": f"Bearer {login.json()['token']}"})

    browser.get(server.url + "/graphql")
    assert run(browser, WHO, bearer)["data"] == ADMIN
    assert run(browser, WHO)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    login_mutation = f"""mutation {{
        login(username: "admin", password: "{ADMIN_PASSWORD}", session: true) {{ token }}
    }}"""
    signed_in = run(browser, login_mutation)
    assert signed_in["data"]["login"]["token"]
    assert run(browser, WHO)["data"] == ADMIN

    urls = requested_urls(browser)
    assert {urlsplit(url).netloc for url in urls} == {urlsplit(server.url).netloc}, urls
    assert {urlsplit(url).path for url in urls} - {"/graphql"} == graphiql.ASSET_PATHS


def test_assets_served_anonymously_with_their_type_and_cached(anonymous: Api) -> None:
    for name, asset in graphiql.ASSETS.items():
        response = anonymous.get(f"/graphql/assets/{name}")
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith(asset.content_type)
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert response.content == asset.path.read_bytes()


def test_assets_only_those_of_the_table(api: Api) -> None:
    for path in (
        "/graphql/assets/package.json",
        "/graphql/assets/..%2Fpackage.json",
        "/graphql/assets/",
        "/graphql/assets/react/umd/react.production.min.js",
    ):
        assert api.get(path).status_code == 404, path


def test_graphiql_without_its_files_answers_503_saying_to_install(
    anonymous: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(graphiql, "NODE_MODULES", tmp_path)
    response = anonymous.get("/graphql", headers={"accept": "text/html"})
    assert "make install" in assert_graphql_error(response, 503, "UNAVAILABLE")["message"]
    assert anonymous.get("/graphql/assets/react.js").status_code == 404
