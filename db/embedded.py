"""The embedded PostgreSQL cluster cytogate runs when no `DATABASE_URL` is given.

The cluster lives under `CYTOGATE_HOME` (data in `pgdata/`, its log in `postgres.log`) and listens
only on a Unix socket in a private temporary directory, so nothing else on the machine can reach
it. PostgreSQL refuses to run as root; when cytogate runs as root the cluster runs as the
unprivileged `postgres` account that Debian's package creates. A file lock on the home keeps a
second server from starting on the same cluster; commands such as `cytogate migrate` attach to a
running server's cluster instead of starting their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg

__all__ = ["ClusterBusy", "EmbeddedCluster", "EmbeddedError", "find_bindir"]

log = logging.getLogger(__name__)

SUPERUSER = "cytogate"
DATABASE = "cytogate"
PORT = 5432


class EmbeddedError(RuntimeError):
    """The embedded cluster cannot be prepared; the message says what to do."""


class ClusterBusy(EmbeddedError):
    """Another cytogate process already runs the cluster of this home."""


def find_bindir() -> Path:
    """Locate PostgreSQL's server binaries: `pg_config --bindir`, then Debian's layout."""
    candidates: list[str] = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, check=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        path = Path(candidate)
        if (path / "postgres").is_file() and (path / "initdb").is_file():
            return path
    raise EmbeddedError(
        "PostgreSQL server binaries not found: run `make install` (it installs PostgreSQL and "
        "PostGIS from Debian's packages), or set DATABASE_URL to use another server."
    )


def _run_as() -> pwd.struct_passwd | None:
    """The account that must own and run the cluster: `postgres` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise EmbeddedError(
            "cytogate runs as root, and PostgreSQL refuses to: create the `postgres` account "
            "(Debian's postgresql package does) or run cytogate as an ordinary user."
        ) from None


@dataclass
class EmbeddedCluster:
    """The cluster under `home`: start it (or attach to a running one), give its URL, stop it."""

    home: Path
    database: str = DATABASE
    #: False trades crash safety for speed (fsync off): for throw-away clusters such as tests'.
    durable: bool = True
    _lock: IO[str] | None = field(default=None, init=False, repr=False)
    _socket_dir: Path | None = field(default=None, init=False)
    _owned: bool = field(default=False, init=False)

    @property
    def data_dir(self) -> Path:
        return self.home / "pgdata"

    def url(self, database: str | None = None) -> str:
        """The SQLAlchemy URL of `database` (default: the main one) in this cluster."""
        if self._socket_dir is None:
            raise EmbeddedError("the embedded cluster is not running")
        return (
            f"postgresql+asyncpg://{SUPERUSER}@/{database or self.database}?host={self._socket_dir}"
        )

    def start(self, *, attach: bool = False) -> None:
        """Start the cluster, initialising it first if needed.

        With `attach`, a cluster already run by another cytogate process on this home is reused;
        without it, that situation raises `ClusterBusy`.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        self.home = self.home.resolve()
        lock = (self.home / "cytogate.lock").open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            if attach:
                self._socket_dir = self._running_socket_dir()
                return
            raise ClusterBusy(
                f"another cytogate server is already running on {self.home} "
                "(CYTOGATE_HOME); stop it first or choose another CYTOGATE_HOME"
            ) from None
        self._lock = lock
        try:
            self._start_owned()
        except BaseException:
            self.stop()
            raise

    def _start_owned(self) -> None:
        bindir = find_bindir()
        owner = _run_as()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bindir, owner)
        self._stop_stale(bindir, owner)
        self._socket_dir = Path(tempfile.mkdtemp(prefix="cytogate-pg-"))
        if owner is not None:
            os.chown(self._socket_dir, owner.pw_uid, owner.pw_gid)
        log_file = self.home / "postgres.log"
        if owner is not None and not log_file.exists():
            log_file.touch()
            os.chown(log_file, owner.pw_uid, owner.pw_gid)
        self._launch(bindir, owner)
        self._owned = True

    def _launch(self, bindir: Path, owner: pwd.struct_passwd | None) -> None:
        """Start the postmaster on this cluster's socket directory."""
        options = f"-k {self._socket_dir} -c listen_addresses='' -p {PORT} -c fsync=on"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._pg(
            bindir, owner, "pg_ctl", "-D", str(self.data_dir), "-o", options,
            "-l", str(self.home / "postgres.log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def pause(self) -> None:
        """Stop the postmaster of a cluster this process runs, keeping its socket directory
        and the home's lock, so that `resume` brings it back at the same URLs (what a
        PostgreSQL restart looks like to a running server)."""
        if not self._owned:
            raise EmbeddedError("only the process that started the cluster may pause it")
        self._pg(find_bindir(), _run_as(), "pg_ctl", "-D", str(self.data_dir), "-m", "fast",
                 "-w", "stop")  # fmt: skip

    def resume(self) -> None:
        """Start again a cluster `pause` stopped."""
        if not self._owned:
            raise EmbeddedError("only the process that started the cluster may resume it")
        self._launch(find_bindir(), _run_as())

    def _initdb(self, bindir: Path, owner: pwd.struct_passwd | None) -> None:
        log.info("initialising the embedded PostgreSQL cluster in %s", self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            self._check_reachable(owner)
            os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        self.data_dir.chmod(0o700)
        self._pg(
            bindir, owner, "initdb", "-D", str(self.data_dir), "-U", SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions",
        )  # fmt: skip

    def _check_reachable(self, owner: pwd.struct_passwd) -> None:
        """Let the `postgres` account enter the home; fail clearly when a parent stops it."""
        self.home.chmod(self.home.stat().st_mode | 0o001)
        for parent in reversed(self.home.parents):
            mode = parent.stat().st_mode
            if parent.stat().st_uid != owner.pw_uid and not mode & 0o001:
                raise EmbeddedError(
                    f"the `postgres` account cannot enter {parent}; choose a CYTOGATE_HOME it can "
                    "reach (every parent directory needs o+x), e.g. under /var/tmp"
                )

    def _stop_stale(self, bindir: Path, owner: pwd.struct_passwd | None) -> None:
        """Stop a postmaster left running by a cytogate that died without cleaning up."""
        if (self.data_dir / "postmaster.pid").exists():
            with contextlib.suppress(EmbeddedError):
                self._pg(bindir, owner, "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w",
                         "stop")  # fmt: skip

    def _running_socket_dir(self) -> Path:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            return Path(lines[4])
        except (OSError, IndexError):
            raise ClusterBusy(
                f"another cytogate process holds {self.home} but its cluster is not up yet; "
                "try again in a moment"
            ) from None

    def _pg(self, bindir: Path, owner: pwd.struct_passwd | None, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(bindir / program), *args],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            extra_groups=[] if owner else None,
        )
        if result.returncode != 0:
            raise EmbeddedError(
                f"{program} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
                f" — see {self.home / 'postgres.log'}"
            )

    async def ensure_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create database `name` (from `template` if given) unless it exists; return its URL."""
        name = name or self.database
        conn = await asyncpg.connect(
            host=str(self._socket_dir), user=SUPERUSER, database="postgres"
        )
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                clause = f' TEMPLATE "{template}"' if template else ""
                await conn.execute(f'CREATE DATABASE "{name}"{clause}')
        finally:
            await conn.close()
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        """Drop database `name` if it exists, ending the sessions still connected to it."""
        conn = await asyncpg.connect(
            host=str(self._socket_dir), user=SUPERUSER, database="postgres"
        )
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def stop(self) -> None:
        """Stop the cluster if this process started it, and release the home."""
        if self._owned:
            self._owned = False
            with contextlib.suppress(EmbeddedError):
                self._pg(find_bindir(), _run_as(), "pg_ctl", "-D", str(self.data_dir), "-m",
                         "fast", "-w", "stop")  # fmt: skip
        if self._lock is not None:
            if self._socket_dir is not None:
                shutil.rmtree(self._socket_dir, ignore_errors=True)
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
        self._socket_dir = None
