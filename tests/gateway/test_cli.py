"""The `cytogate` command for real: serve on the embedded cluster, stop on a signal, refuse a
second server on the same home, migrate and create users against a given DATABASE_URL."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from db.embedded import ClusterBusy, EmbeddedCluster
from gateway.cli import _LineFormatter

CYTOGATE = str(Path(sys.executable).with_name("cytogate"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_ping(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"cytogate exited early:\n{output}")
        try:
            if requests.get(url + "/server/ping", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError("cytogate did not answer /server/ping in time")


@pytest.fixture
def home():
    path = Path(tempfile.mkdtemp(prefix="cytogate-cli-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "CYTOGATE_HOME": str(home), **extra}


def test_serve_embedded_prints_keys_and_stops_on_sigterm(home):
    port = _free_port()
    process = subprocess.Popen(
        [CYTOGATE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_ping(f"http://127.0.0.1:{port}", process)
        second = subprocess.run(
            [CYTOGATE, "serve", "--port", str(_free_port())],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "already running" in second.stderr
        assert requests.get(f"http://127.0.0.1:{port}/server/ping", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "private key:" in output
    assert not (home / "pgdata" / "postmaster.pid").exists()


def test_second_cluster_on_same_home_is_refused_and_harms_nothing(home):
    first = EmbeddedCluster(home)
    first.start()
    try:
        with pytest.raises(ClusterBusy, match="already running"):
            EmbeddedCluster(home).start()
        assert (home / "pgdata" / "postmaster.pid").exists()
        attached = EmbeddedCluster(home)
        attached.start(attach=True)
        assert attached.url() == first.url()
    finally:
        first.stop()


def test_migrate_and_create_user_against_database_url(cluster):
    import asyncio

    url = asyncio.run(cluster.ensure_database("cli_target"))
    env = {**os.environ, "DATABASE_URL": url}
    migrated = subprocess.run([CYTOGATE, "migrate"], env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    refused = subprocess.run(
        [CYTOGATE, "create-user", "alice"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "super-administrator" in refused.stderr


def test_create_user_prints_working_keys(settings, database_url, server):
    env = {**os.environ, "DATABASE_URL": database_url}
    created = subprocess.run(
        [CYTOGATE, "create-user", "bob", "--admin"], env=env, capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    lines = dict(line.strip().split(":", 1) for line in created.stdout.splitlines() if ":" in line)
    from tests.harness import Api

    bob = Api(server.url, lines["public key"].strip(), lines["private key"].strip())
    body = bob.get("/api/user/current.json").json()
    assert body["username"] == "bob"
    assert body["admin"] is True
    assert body["adminByNow"] is False


def test_serve_embedded_survives_its_cluster_restarting(home):
    """PostgreSQL restarted under a running `cytogate serve`: the requests after it succeed
    (its pooled connections are found dead and replaced)."""
    from db.embedded import _run_as, find_bindir
    from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY, Api

    port = _free_port()
    keys = {"CYTOGATE_ADMIN_PUBLIC_KEY": ADMIN_PUBLIC_KEY,
            "CYTOGATE_ADMIN_PRIVATE_KEY": ADMIN_PRIVATE_KEY}  # fmt: skip
    process = subprocess.Popen(
        [CYTOGATE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(home, **keys), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait_for_ping(f"http://127.0.0.1:{port}", process)
        api = Api(f"http://127.0.0.1:{port}", ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        for _ in range(4):
            assert api.get("/api/user/current.json").status_code == 200
        owner = _run_as()
        subprocess.run(  # the new postmaster must not inherit a pipe: its log goes to a file
            [str(find_bindir() / "pg_ctl"), "-D", str(home / "pgdata"), "-m", "fast", "-w",
             "-l", str(home / "postgres.log"), "restart"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/",
            user=owner.pw_uid if owner else None, group=owner.pw_gid if owner else None,
            timeout=120,
        )  # fmt: skip
        statuses = [api.get("/api/user/current.json").status_code for _ in range(12)]
        assert statuses == [200] * 12
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


@pytest.mark.parametrize("created", [1_700_000_000.0, 1_700_000_000.9994, 1_700_000_001.25])
def test_log_lines_read_as_the_standard_formatter_writes_them(created):
    line = "%(asctime)s %(levelname)s %(name)s %(message)s"
    kept, standard = _LineFormatter(line), logging.Formatter(line)
    for at in (created, created + 0.5, created + 1.0, created):  # across seconds, and back
        record = logging.LogRecord("cytogate.access", logging.INFO, "", 0, "GET %s", ("/",), None)
        record.created, record.msecs = at, (at - int(at)) * 1000
        assert kept.format(record) == standard.format(record)
