"""What the benchmarks share: the admin keys they sign with, a `cytogate serve` process of its
own over a given database, and the bench cluster's home."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Final

import asyncpg

from settings import Settings

__all__ = [
    "BASE",
    "HOME",
    "PRIVATE_KEY",
    "PUBLIC_KEY",
    "bench_settings",
    "connected",
    "listening",
    "server",
    "server_process",
    "signed",
]

#: Where the benchmarks keep their cluster and generated databases (ignored by git).
HOME: Final = Path(__file__).parent / ".data"
PUBLIC_KEY: Final = "b3nch000-0000-4000-8000-000000000001"
PRIVATE_KEY: Final = "b3nch000-0000-4000-8000-000000000002"
BASE: Final = "http://127.0.0.1"


def bench_settings() -> Settings:
    return Settings(admin_public_key=PUBLIC_KEY, admin_private_key=PRIVATE_KEY)


def signed(
    method: str,
    content_type: str = "",
    public_key: str = PUBLIC_KEY,
    private_key: str = PRIVATE_KEY,
) -> dict[str, str]:
    """Headers of a request signed as client 4.x signs (core.md §2.1)."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    canonical = f"{method}\n\n{content_type}\n{date}"
    digest = hmac.new(private_key.encode(), canonical.encode(), hashlib.sha1).digest()
    headers = {"date": date, "authorization": f"CYTOMINE {public_key}:"
               f"{base64.b64encode(digest).decode()}"}  # fmt: skip
    if content_type:
        headers["content-type"] = content_type
    return headers


@asynccontextmanager
async def connected(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """One asyncpg connection to `dsn` (a `postgresql://` URL), closed after the block."""
    conn = await asyncpg.connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str, environment: Mapping[str, str] | None = None) -> Iterator[str]:
    """`cytogate serve` over the database at `url`, in a process of its own; its base URL."""
    with server_process(url, environment) as (base, _):
        yield base


@contextmanager
def server_process(
    url: str, environment: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`server`, with its process (for a benchmark that reads the server's memory)."""
    env = {"DATABASE_URL": url, "CYTOGATE_ADMIN_PUBLIC_KEY": PUBLIC_KEY,
           "CYTOGATE_ADMIN_PRIVATE_KEY": PRIVATE_KEY, **(environment or {})}  # fmt: skip
    command = ["-m", "gateway.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    with listening(command, env) as found:
        yield found


@contextmanager
def listening(
    arguments: list[str], environment: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """This Python running `arguments` (where `{port}` is replaced by a free port) in a process
    of its own, once it accepts connections on that port: its base URL and the process."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, *(argument.format(port=port) for argument in arguments)],
        env={**os.environ, **(environment or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"{BASE}:{port}"
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"{arguments} ended before it listened") from None
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{arguments} did not listen")
        yield base, process
    finally:
        process.terminate()
        process.wait(30)
