"""Project invitations (`POST /api/project/{id}/invitation.json`, `projectInvite`) against a real
SMTP server (aiosmtpd) on a free local port: the e-mail, the token it carries, and that a
refusal of any kind leaves nothing behind."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller

from settings import ConfigError, Settings, SmtpServer
from tests.conftest import base_settings
from tests.harness import Api, Server, assert_error, serve
from tests.project.conftest import Team

PUBLIC_URL = "https://cytogate.test"
INVITE = """
mutation($project: Long!, $input: ProjectInvitationInput!) {
  projectInvite(projectId: $project, input: $input) {
    user { id username email } projectId project { id name } command { action }
  }
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What an SMTP server on 127.0.0.1 received; `refuse` makes it refuse every recipient."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: bool = False

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:  # fmt: skip
        if self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def _smtp(mailbox: Mailbox) -> tuple[Controller, int]:
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """One SMTP server for the module (the same port keeps one built schema for its tests)."""
    mailbox = Mailbox()
    controller, port = _smtp(mailbox)
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    box = smtp_server[0]
    box.messages.clear()
    box.envelopes.clear()
    box.refuse = False
    return box


@pytest.fixture
def settings(smtp_server: tuple[Mailbox, int]) -> Settings:
    """The test settings, with the module's SMTP server, a known sender and the public URL the
    e-mails point to."""
    smtp = SmtpServer.from_url(f"smtp://127.0.0.1:{smtp_server[1]}?timeout=10")
    return replace(base_settings(), smtp=smtp, mail_from="noreply@cytogate.test",
                   public_url=PUBLIC_URL)  # fmt: skip


def _body(username: str = "newbie", mail: str | None = None) -> dict[str, str]:
    return {"name": username, "firstname": "Nina", "lastname": "Ewbie",
            "mail": mail or f"{username}@example.org"}  # fmt: skip


def _token(message: EmailMessage) -> str:
    found = re.search(r"Authorization: Bearer (\S+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def _bearer(server_url: str, token: str) -> Any:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def call(method: str, path: str, **kw: Any) -> requests.Response:
        return session.request(method, server_url + path, timeout=60, **kw)

    return call


def _nobody(api: Api, username: str) -> None:
    """No user `username` exists."""
    assert_error(api.get(f"/api/user/{username}.json"), 404)


def _member_names(api: Api, team: Team) -> set[str]:
    response = api.get(team.path + "/user.json")
    assert response.status_code == 200, response.text
    return {member["username"] for member in response.json()["collection"]}


# --- success ---------------------------------------------------------------------------------


def test_invitation_mails_a_token_that_lets_the_invitee_in_and_set_a_password(
    server: Server, api: Api, team: Team, mailbox: Mailbox
) -> None:
    before = datetime.now(UTC)
    response = team.manager["api"].post(team.path + "/invitation.json", json=_body())
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["class"] == "be.cytomine.domain.security.User"
    assert (user["username"], user["firstname"], user["lastname"]) == ("newbie", "Nina", "Ewbie")

    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert mailbox.envelopes == [("noreply@cytogate.test", ["newbie@example.org"])]
    assert message["To"] == "newbie@example.org"
    assert message["From"] == "noreply@cytogate.test"
    assert message["Subject"] == "Invitation to Team project"
    text = message.get_content()
    token = _token(message)
    assert "Manny Ger (manny)" in text and '"Team project"' in text
    assert f"{PUBLIC_URL}/api/user/{user['id']}/password.json" in text
    assert server.url not in text  # links never come from the request
    assert token not in response.text and token not in str(response.headers)
    stated = re.search(r"until (.+ UTC)", text)
    assert stated, text
    until = datetime.strptime(stated.group(1), "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    assert timedelta(days=7) - timedelta(minutes=2) < until - before < timedelta(days=7, minutes=2)

    invitee = _bearer(server.url, token)
    read = invitee("GET", team.path + ".json")
    assert read.status_code == 200, read.text
    assert read.json()["name"] == "Team project"
    members = api.get(team.path + "/user.json").json()["collection"]
    assert {m["username"]: m["role"] for m in members}["newbie"] == "contributor"
    roles = api.get(f"/api/user/{user['id']}/role.json").json()["collection"]
    assert [r["authority"] for r in roles] == ["ROLE_USER"]
    graph = invitee("POST", "/graphql", json={"query": "{ viewer { user { username } } }"})
    assert graph.json()["data"]["viewer"]["user"]["username"] == "newbie", graph.text

    changed = invitee("PUT", f"/api/user/{user['id']}/password.json",
                      json={"password": "my-new-password"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert invitee("GET", team.path + ".json").status_code == 401  # the token ends with it
    login = requests.post(server.url + "/api/authenticate", timeout=60,
                          json={"username": "newbie", "password": "my-new-password"})  # fmt: skip
    assert login.status_code == 200, login.text
    assert login.json()["token"]


def test_graphql_invite_returns_the_user_and_the_project(team: Team, mailbox: Mailbox) -> None:
    answer = team.manager["api"].gql(
        INVITE, {"project": team.project["id"], "input": _body("graphy")}
    )
    assert "errors" not in answer, answer
    invited = answer["data"]["projectInvite"]
    assert invited["user"]["username"] == "graphy"
    assert invited["project"] == {"id": team.project["id"], "name": "Team project"}
    assert invited["command"]["action"] == "ADD"
    assert [m["To"] for m in mailbox.messages] == ["graphy@example.org"]


def test_an_admin_may_invite_to_any_project(api: Api, team: Team, mailbox: Mailbox) -> None:
    response = api.post(team.path + "/invitation.json", json=_body("byadmin"))
    assert response.status_code == 200, response.text
    assert len(mailbox.messages) == 1


# --- refusals: nothing created, nothing sent -------------------------------------------------


@pytest.mark.parametrize("who", ["contributor", "outsider"])
def test_only_managers_invite(api: Api, team: Team, mailbox: Mailbox, who: str) -> None:
    response = getattr(team, who)["api"].post(team.path + "/invitation.json", json=_body())
    assert_error(response, 403)
    answer = getattr(team, who)["api"].gql(INVITE, {"project": team.project["id"],
                                                    "input": _body()})  # fmt: skip
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", answer
    _nobody(api, "newbie")
    assert mailbox.messages == []


def test_anonymous_callers_are_refused(anonymous: Api, api: Api, team: Team,
                                       mailbox: Mailbox) -> None:  # fmt: skip
    assert_error(anonymous.post(team.path + "/invitation.json", json=_body()), 401)
    _nobody(api, "newbie")
    assert mailbox.messages == []


def test_unknown_project_is_404(api: Api, mailbox: Mailbox) -> None:
    assert_error(api.post("/api/project/987654321/invitation.json", json=_body()), 404)
    _nobody(api, "newbie")
    assert mailbox.messages == []


def test_a_taken_username_is_a_conflict_an_address_is_not_told(
    api: Api, team: Team, mailbox: Mailbox
) -> None:
    manager = team.manager["api"]
    taken = _body("CONNIE", "fresh@example.org")
    taken_name = assert_error(manager.post(team.path + "/invitation.json", json=taken), 409)
    assert taken_name["message"] == "User CONNIE already exist!"
    _nobody(api, "fresh")
    assert mailbox.messages == []
    assert _member_names(api, team) == {"manny", "connie"}
    # addresses need not be unique (as for user creation): whether one has an account stays
    # unknown to the inviter
    known_address = _body("fresh", team.outsider["email"].upper())
    invited = manager.post(team.path + "/invitation.json", json=known_address)
    assert invited.status_code == 200, invited.text
    assert _member_names(api, team) == {"manny", "connie", "fresh"}


def test_an_invitation_is_not_undone_and_blocks_no_undo(
    api: Api, team: Team, mailbox: Mailbox
) -> None:
    manager = team.manager["api"]
    renamed = manager.put(team.path + ".json", json={**team.project, "name": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    assert manager.post(team.path + "/invitation.json", json=_body()).status_code == 200
    undone = manager.get("/api/command/undo.json")  # the rename, not the invitation
    assert undone.status_code == 200, undone.text
    assert api.get(team.path + ".json").json()["name"] == team.project["name"]
    assert "newbie" in _member_names(api, team)


def test_without_a_public_url_invitations_are_503(
    database_url: str, api: Api, team: Team, settings: Settings, mailbox: Mailbox
) -> None:
    with serve(replace(settings, public_url=None), database_url) as running:
        manager = api.as_keys(team.manager["keys"]["publicKey"], team.manager["keys"]["privateKey"])
        manager.base = running.url
        error = assert_error(manager.post(team.path + "/invitation.json", json=_body()), 503)
        assert "CYTOGATE_PUBLIC_URL" in error["message"]
    _nobody(api, "newbie")
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"mail": "not-an-address"}, "valid e-mail"),
        ({"mail": "a,b@example.org"}, "valid e-mail"),
        ({"mail": "a@[b.org"}, "valid e-mail"),
        ({"mail": None}, "email"),
        ({"name": "  "}, "username"),
        ({"firstname": None}, "firstname"),
        ({"lastname": ""}, "lastname"),
    ],
)
def test_bad_fields_are_400(
    api: Api, team: Team, mailbox: Mailbox, changes: dict[str, Any], needle: str
) -> None:
    body = {key: value for key, value in {**_body(), **changes}.items() if value is not None}
    error = assert_error(team.manager["api"].post(team.path + "/invitation.json", json=body), 400)
    assert needle in error["message"]
    _nobody(api, "newbie")
    assert mailbox.messages == []


def test_without_a_mail_server_invitations_are_503(
    database_url: str, api: Api, team: Team, mailbox: Mailbox
) -> None:
    with serve(base_settings(), database_url) as plain:
        manager = api.as_keys(team.manager["keys"]["publicKey"], team.manager["keys"]["privateKey"])
        manager.base = plain.url
        error = assert_error(manager.post(team.path + "/invitation.json", json=_body()), 503)
        assert error["message"] == "mail delivery is not configured"
        answer = manager.gql(INVITE, {"project": team.project["id"], "input": _body()})
        assert answer["errors"][0]["extensions"]["code"] == "UNAVAILABLE", answer
    _nobody(api, "newbie")
    assert _member_names(api, team) == {"manny", "connie"}
    assert mailbox.messages == []


def test_a_mail_server_that_is_down_undoes_the_invitation(
    database_url: str, api: Api, team: Team, settings: Settings
) -> None:
    controller, port = _smtp(Mailbox())
    controller.stop()
    down = replace(settings, smtp=SmtpServer.from_url(f"smtp://127.0.0.1:{port}?timeout=5"))
    with serve(down, database_url) as running:
        manager = api.as_keys(team.manager["keys"]["publicKey"], team.manager["keys"]["privateKey"])
        manager.base = running.url
        error = assert_error(manager.post(team.path + "/invitation.json", json=_body()), 502)
        assert "mail server" in error["message"]
        answer = manager.gql(INVITE, {"project": team.project["id"], "input": _body()})
        assert answer["errors"][0]["extensions"]["code"] == "BAD_GATEWAY", answer
    _nobody(api, "newbie")
    assert _member_names(api, team) == {"manny", "connie"}
    # the username is free again: the same invitation goes through once mail works
    retried = team.manager["api"].post(team.path + "/invitation.json", json=_body())
    assert retried.status_code == 200, retried.text


def test_a_refused_recipient_undoes_the_invitation(api: Api, team: Team, mailbox: Mailbox) -> None:
    mailbox.refuse = True
    assert_error(team.manager["api"].post(team.path + "/invitation.json", json=_body()), 502)
    _nobody(api, "newbie")
    assert _member_names(api, team) == {"manny", "connie"}
    assert mailbox.messages == []


# --- settings --------------------------------------------------------------------------------


def test_mail_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env({
        "CYTOGATE_SMTP_URL": "smtp://mailer:p%40ss@mail.example.org:587?starttls=true",
        "CYTOGATE_PUBLIC_URL": "https://cyto.example.org/",
        "CYTOGATE_INVITATION_DAYS": "3",
    })  # fmt: skip
    assert settings.smtp == SmtpServer("mail.example.org", 587, "mailer", "p@ss", "starttls")
    assert "p@ss" not in repr(settings)
    assert settings.mail_from == "cytogate@cyto.example.org"
    assert settings.invitation_days == 3
    plain = Settings.from_env({})
    assert (plain.smtp, plain.mail_from, plain.invitation_days) == (None, "cytogate@localhost", 7)
    implicit = Settings.from_env({"CYTOGATE_SMTP_URL": "smtps://mail.example.org",
                                  "CYTOGATE_MAIL_FROM": "lab@example.org"})  # fmt: skip
    assert implicit.smtp == SmtpServer("mail.example.org", 465, tls="implicit")
    assert implicit.mail_from == "lab@example.org"
    assert Settings.from_env({"CYTOGATE_SMTP_URL": "smtp://m?starttls=false&timeout=2"}).smtp == (
        SmtpServer("m", 25, tls="off", timeout=2.0)
    )
    with_user = Settings.from_env({"CYTOGATE_SMTP_URL": "smtp://mailer:pw@m"}).smtp
    assert with_user is not None and with_user.tls == "starttls"  # credentials never in clear


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"CYTOGATE_SMTP_URL": "http://mail.example.org"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_SMTP_URL": "smtp://mail.example.org:99999"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_SMTP_URL": "smtp://:25"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_SMTP_URL": "smtp://m/path"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_SMTP_URL": "smtp://m?tls=yes"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_SMTP_URL": "smtps://m?starttls=true"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_SMTP_URL": "smtp://m?timeout=0"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_SMTP_URL": "smtp://m?timeout=600"}, "CYTOGATE_SMTP_URL"),
        ({"CYTOGATE_MAIL_FROM": "Cytogate <a@b.org>"}, "CYTOGATE_MAIL_FROM"),
        ({"CYTOGATE_MAIL_FROM": "nobody"}, "CYTOGATE_MAIL_FROM"),
        ({"CYTOGATE_INVITATION_DAYS": "0"}, "CYTOGATE_INVITATION_DAYS"),
        ({"CYTOGATE_INVITATION_DAYS": "soon"}, "CYTOGATE_INVITATION_DAYS"),
        ({"CYTOGATE_INVITATION_DAYS": "100000"}, "CYTOGATE_INVITATION_DAYS"),
    ],
)
def test_bad_mail_settings_fail_with_their_name(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)
