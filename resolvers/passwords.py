"""Password hashing with argon2id at the configured cost, run off the event loop (it is
deliberately slow) in a pool of one thread per core: a flood of sign-ins queues there, never
takes more than the machine's cores, and leaves the default executor to everyone else.

The cost (`CYTOGATE_ARGON2_TIME_COST`, `CYTOGATE_ARGON2_MEMORY_KIB`) is a setting so a
deployment can tune it to its hardware; hashes carry their own parameters, so changing it keeps
every stored password valid.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Final, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from settings import Settings

__all__ = ["hash_password", "verify_password"]

T = TypeVar("T")
_POOL: Final = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="argon2")


async def _off_loop(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_POOL, work)


def _hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(time_cost=settings.argon2_time_cost,
                          memory_cost=settings.argon2_memory_kib)  # fmt: skip


@cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """Verified against when a user has no password, so timing does not reveal that."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib).hash("cytogate-none")


async def hash_password(settings: Settings, password: str) -> str:
    hasher = _hasher(settings)
    return await _off_loop(lambda: hasher.hash(password))


async def verify_password(settings: Settings, stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; the same work whether or not a hash exists."""
    hasher = _hasher(settings)

    def check() -> bool:
        known = stored or _dummy_hash(settings.argon2_time_cost, settings.argon2_memory_kib)
        try:
            return hasher.verify(known, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await _off_loop(check)
