"""Password hashing with argon2id at the configured cost, run off the event loop (it is
deliberately slow).

The cost (`CYTOGATE_ARGON2_TIME_COST`, `CYTOGATE_ARGON2_MEMORY_KIB`) is a setting so a
deployment can tune it to its hardware; hashes carry their own parameters, so changing it keeps
every stored password valid.
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from settings import Settings

__all__ = ["hash_password", "verify_password"]


def _hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(time_cost=settings.argon2_time_cost,
                          memory_cost=settings.argon2_memory_kib)  # fmt: skip


@cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """Verified against when a user has no password, so timing does not reveal that."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib).hash("cytogate-none")


async def hash_password(settings: Settings, password: str) -> str:
    return await asyncio.to_thread(_hasher(settings).hash, password)


async def verify_password(settings: Settings, stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; the same work whether or not a hash exists."""
    hasher = _hasher(settings)

    def check() -> bool:
        known = stored or _dummy_hash(settings.argon2_time_cost, settings.argon2_memory_kib)
        try:
            return hasher.verify(known, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
