"""HTTP the parser refuses is answered in JSON, and a request head must arrive in time.

Raw bytes over a socket to a real server: a malformed request line, header or chunked body is
a 400 in the contract's error shape (core.md §5.1) on a connection then closed, never aiohttp's
text page; a connection that trickles its head (slowloris) is closed after
`CYTOGATE_HEADER_TIMEOUT_SECONDS`, with a 408 when part of a request came, while an idle
keep-alive connection and a slow body are left alone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests

from settings import Settings
from tests.conftest import base_settings
from tests.harness import Server

#: The header timeout of this file's servers, in seconds (a test waits a few of them).
TIMEOUT = 1
CYTOGATE = str(Path(sys.executable).with_name("cytogate"))


@pytest.fixture
def settings() -> Settings:
    return replace(base_settings(), header_timeout=TIMEOUT)


@dataclass
class Answer:
    """One HTTP answer read off a socket, and whether the server closed the connection after."""

    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool

    def json(self) -> Any:
        return json.loads(self.body)


class Link:
    """A raw connection to a server, with a buffered reader of its answers (pipelined answers
    may come in one packet)."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.stream = self.sock.makefile("rb")

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *_: object) -> None:
        self.stream.close()
        self.sock.close()

    def read_answer(self, *, check_closed: bool = True) -> Answer:
        """Read one answer (its body delimited by Content-Length); then whether EOF follows."""
        status_line = self.stream.readline()
        assert status_line, "the connection closed without an answer"
        headers = {}
        while (line := self.stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.stream.read(int(headers["content-length"]))
        closed = False
        if check_closed:
            self.sock.settimeout(3)
            try:
                closed = self.stream.read(1) == b""
            except (TimeoutError, ConnectionResetError):
                closed = False
        return Answer(int(status_line.split()[1]), headers, body, closed)


def _exchange(base: str, *parts: bytes, pause: float = 0.0) -> Answer:
    """Send `parts` (with `pause` seconds between them) on a new connection, read the answer."""
    with Link(base) as link:
        for index, part in enumerate(parts):
            if index and pause:
                time.sleep(pause)
            link.sock.sendall(part)
        return link.read_answer()


def _assert_json_error(answer: Answer, status: int) -> dict[str, Any]:
    """`answer` is the error `status` in Cytomine's shape, and the connection was closed."""
    assert answer.status == status, answer
    assert answer.headers["content-type"].startswith("application/json"), answer
    body = answer.json()
    assert isinstance(body["message"], str) and body["message"], body
    assert body["errors"] == {"message": body["message"]}, body
    assert body["errorValues"] == {}, body
    assert answer.headers.get("connection", "").lower() == "close", answer
    assert answer.closed, answer
    return body  # type: ignore[no-any-return]


MALFORMED = {
    "bad method token": b"G@T /server/ping HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad version": b"GET /server/ping HTTP/9.x\r\nHost: x\r\n\r\n",
    "header without a colon": b"GET /server/ping HTTP/1.1\r\nHost x\r\n\r\n",
    "header over the size limit": (
        b"GET /server/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
    ),
    "too many headers": b"GET /server/ping HTTP/1.1\r\n"
    + b"".join(b"X-H%d: 1\r\n" % n for n in range(200))
    + b"\r\n",
    "bad chunk size": (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    ),
    "conflicting content-length": (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    ),
    "content-length with chunked": (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    ),
    "non-ascii request target": "GET /api/é.json HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "not http at all": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 32,
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_request_is_a_json_400_and_closes(server: Server, raw: bytes) -> None:
    _assert_json_error(_exchange(server.url, raw), 400)


def _chunked_head(path: bytes) -> bytes:
    """A POST's head and a first good chunk."""
    return (
        b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n2\r\n{"\r\n' % path
    )


BAD_CHUNK = b"zz\r\nquery\r\n0\r\n\r\n"


def test_bad_chunk_after_the_head_is_a_400_not_a_hang(server: Server) -> None:
    """The head and a good chunk first, a bad chunk size later: the handler already reading
    the body is told, answers 400 in its surface's shape and the connection closes."""
    answer = _exchange(server.url, _chunked_head(b"/graphql"), BAD_CHUNK, pause=0.5)
    assert answer.status == 400, answer
    assert answer.headers["content-type"].startswith("application/json"), answer
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST", answer
    assert "chunk size" in error["message"], answer
    assert answer.closed, answer


def test_bad_chunk_after_the_answer_closes_the_connection(server: Server) -> None:
    """Answered before its body (401 to anonymous): the bad chunk ends the connection."""
    answer = _exchange(server.url, _chunked_head(b"/api/project.json"), BAD_CHUNK, pause=0.5)
    assert answer.status == 401, answer
    assert answer.closed, answer


def test_good_requests_keep_the_connection(server: Server) -> None:
    """One after the other, then two pipelined in one packet: all answered, nothing closed."""
    ping = b"GET /server/ping HTTP/1.1\r\nHost: x\r\n\r\n"
    with Link(server.url) as link:
        for sent in (ping, ping, ping * 2):
            link.sock.sendall(sent)
            for _ in range(sent.count(ping)):
                answer = link.read_answer(check_closed=False)
                assert answer.status == 200, answer
                assert answer.headers.get("connection", "").lower() != "close", answer


def test_a_trickled_head_is_answered_408_and_closed(server: Server) -> None:
    """Slowloris: a byte of the head every half second never finishes it in time."""
    started = time.monotonic()
    with Link(server.url) as link:
        link.sock.sendall(b"GET /server/ping HTTP/1.1\r\n")
        answer = None
        for byte in b"X-Slow: " + b"a" * 40:
            try:
                link.sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            link.sock.settimeout(0.5)
            try:
                peek = link.sock.recv(1, socket.MSG_PEEK)
            except TimeoutError:
                continue
            link.sock.settimeout(10)
            if peek:
                answer = link.read_answer()
            break
    took = time.monotonic() - started
    assert answer is not None, "the trickled head was never cut"
    _assert_json_error(answer, 408)
    assert TIMEOUT <= took < TIMEOUT + 6, took


def test_a_partial_head_then_silence_is_answered_408(server: Server) -> None:
    with Link(server.url) as link:
        link.sock.sendall(b"GET /server/ping HTTP/1.1\r\nHo")
        _assert_json_error(link.read_answer(), 408)


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server: Server) -> None:
    started = time.monotonic()
    with Link(server.url) as link:
        assert link.sock.recv(1024) == b""
    assert time.monotonic() - started < TIMEOUT + 6


def test_an_idle_keep_alive_connection_outlives_the_header_timeout(server: Server) -> None:
    with Link(server.url) as link:
        link.sock.sendall(b"GET /server/ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert link.read_answer(check_closed=False).status == 200
        time.sleep(TIMEOUT * 2.5)
        link.sock.sendall(b"GET /server/ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert link.read_answer(check_closed=False).status == 200


def test_a_slow_body_is_not_cut(server: Server) -> None:
    """The head in time, then a body trickled over several header timeouts: answered."""
    body = json.dumps({"query": "{ __typename }"}).encode()
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    pieces = [body[i : i + 4] for i in range(0, len(body), 4)]
    with Link(server.url) as link:
        link.sock.sendall(head)
        for piece in pieces:
            time.sleep(TIMEOUT * 3 / len(pieces))
            link.sock.sendall(piece)
        answer = link.read_answer(check_closed=False)
    assert answer.status == 200, answer
    assert answer.json()["data"] == {"__typename": "Query"}


def test_the_header_timeout_is_a_setting() -> None:
    assert Settings.from_env({}).header_timeout == 20
    assert Settings.from_env({"CYTOGATE_HEADER_TIMEOUT_SECONDS": "3"}).header_timeout == 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[str]:
    """`cytogate serve` itself over the test's database, with a short header timeout."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CYTOGATE_HOME": str(tmp_path),
        "CYTOGATE_HEADER_TIMEOUT_SECONDS": str(TIMEOUT),
    }
    process = subprocess.Popen(
        [CYTOGATE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if requests.get(base + "/server/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "cytogate serve did not answer in time"
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output


def test_cytogate_serve_is_hardened_too(served: str) -> None:
    _assert_json_error(_exchange(served, MALFORMED["header without a colon"]), 400)
    with Link(served) as link:
        link.sock.sendall(b"GET /server/ping HTTP/1.1\r\nHo")
        _assert_json_error(link.read_answer(), 408)
