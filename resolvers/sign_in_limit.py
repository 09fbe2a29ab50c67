"""How many wrong passwords a caller may try: a password is the one credential that can be
guessed (API keys and tokens are long random strings), and each guess costs an argon2 check.

Every password check (a sign-in, `security_check`) is first recorded as a failure of the
username from the caller's address; a success deletes that username's failures from that
address. Once `CYTOGATE_SIGN_IN_FAILURES` of them lie in the window
(`CYTOGATE_SIGN_IN_WINDOW_SECONDS`), or `CYTOGATE_SIGN_IN_FAILURES_PER_ADDRESS` from the
address whatever the username, the next checks answer 429 with the seconds until the oldest
leaves the window, without checking the password. Counting and recording hold a lock on the
address, so concurrent guesses cannot all pass a count none of them has reached yet. The
address is the caller's, read through trusted proxies (resolvers/forwarded.py); an IPv6 one
counts by its /64, which one host holds whole (`_counted_address`).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import delete, func, insert, select

from db.engine import Database
from db.models import SignInFailure
from resolvers.context import Context
from resolvers.errors import TooManyRequests
from resolvers.forwarded import caller_address

__all__ = ["Attempt", "begin_attempt", "prune_sign_in_failures", "succeeded"]

#: The first key of the advisory locks on addresses (the second is the address's hash).
_LOCK_CLASS: Final = 7_340_002
#: The prefix an IPv6 host is given whole (RFC 6177), and may send from any address of.
_IPV6_HOST_PREFIX: Final = 64


@dataclass(frozen=True, slots=True)
class Attempt:
    """A password check under way, counted as a failure until it succeeds."""

    username: str
    address: str


def _counted_address(address: str) -> str:
    """What failures from `address` count under: an IPv6 address's /64, since a host holds the
    whole prefix and could take a fresh address for every guess (and so pass every limit); an
    IPv4-mapped IPv6 address's IPv4 one; any other text as it is (at most 64 characters)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, _IPV6_HOST_PREFIX), strict=False))
    return str(ip)


def _address(ctx: Context) -> str:
    request = ctx.request
    if request is None:
        return "unknown"
    return _counted_address(caller_address(request, ctx.settings.trusted_proxies))


async def begin_attempt(ctx: Context, username: str) -> Attempt:
    """Record a check of `username`'s password from the caller's address; TooManyRequests
    when too many failed in the window."""
    attempt = Attempt(username.lower()[:255], _address(ctx))
    settings = ctx.settings
    f = SignInFailure
    mine = f.username == attempt.username
    counts = select(
        func.count().filter(mine), func.count(), func.min(f.created).filter(mine),
        func.min(f.created), func.now(),
    ).where(f.address == attempt.address,
            f.created > func.now() - timedelta(seconds=settings.sign_in_window))  # fmt: skip
    async with ctx.db.transaction() as conn:
        await conn.execute(
            select(func.pg_advisory_xact_lock(_LOCK_CLASS, func.hashtext(attempt.address)))
        )
        pair, everyone, pair_oldest, oldest, now = (await conn.execute(counts)).one()
        if pair >= settings.sign_in_failures:
            start = pair_oldest
        elif everyone >= settings.sign_in_failures_per_address:
            start = oldest
        else:
            start = None
            await conn.execute(
                insert(SignInFailure).values(username=attempt.username, address=attempt.address)
            )
    if start is not None:
        wait = settings.sign_in_window - (now - start).total_seconds()
        raise TooManyRequests(
            "Too many failed sign-ins: try again later", retry_after=max(1, math.ceil(wait))
        )
    return attempt


async def succeeded(ctx: Context, attempt: Attempt) -> None:
    """The password was right: forget the username's failures from that address."""
    async with ctx.db.transaction() as conn:
        await conn.execute(
            delete(SignInFailure).where(
                SignInFailure.username == attempt.username,
                SignInFailure.address == attempt.address,
            )
        )


async def prune_sign_in_failures(db: Database, window: int) -> int:
    """Forget the failures older than the window (the upkeep's chore); returns how many."""
    async with db.transaction() as conn:
        gone = await conn.execute(
            delete(SignInFailure).where(
                SignInFailure.created < func.now() - timedelta(seconds=window)
            )
        )
    return int(gone.rowcount)
