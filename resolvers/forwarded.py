"""Who called and which address they called, seen through the reverse proxies in front.

A proxy (nginx, Traefik, a lab's TLS terminator) forwards the caller's address in
`X-Forwarded-For` and the scheme and host the caller typed in `X-Forwarded-Proto` and
`X-Forwarded-Host`. Anyone can send those headers, so they count only when the peer is one of
the proxies `CYTOGATE_TRUSTED_PROXIES` names; otherwise the connection's own address, scheme
and `Host` are the answer.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from aiohttp import web

    from settings import Settings

__all__ = ["Networks", "caller_address", "public_origin", "public_url"]

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]

#: A host as a URL may carry it: a name or IPv4 address, or a bracketed IPv6 one, and a port.
_HOST: Final = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def _among(address: str, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _behind_proxy(request: web.Request, proxies: Networks) -> bool:
    return bool(proxies) and _among(request.remote or "", proxies)


def _hops(request: web.Request, header: str) -> list[str]:
    """The values of a header a chain of proxies appends to, nearest proxy's last."""
    joined = ",".join(request.headers.getall(header, ()))
    return [hop.strip() for hop in joined.split(",") if hop.strip()]


def caller_address(request: web.Request, proxies: Networks) -> str:
    """The caller's address: behind trusted proxies, the nearest one `X-Forwarded-For` names
    that is not itself a proxy (what the caller claims further left counts for nothing)."""
    peer = request.remote or "unknown"
    if not _behind_proxy(request, proxies):
        return peer
    for hop in reversed(_hops(request, "X-Forwarded-For")):
        if not _among(hop, proxies):
            return hop
    return peer


def public_origin(request: web.Request, proxies: Networks) -> str:
    """`scheme://host[:port]` as the caller addressed the server, for absolute links: behind a
    trusted proxy, the scheme and host the proxy forwarded (a value that is not a scheme or a
    host is ignored), else the connection's own."""
    scheme, host = request.scheme, request.host
    if _behind_proxy(request, proxies):
        schemes = _hops(request, "X-Forwarded-Proto")
        if schemes and schemes[-1].lower() in ("http", "https"):
            scheme = schemes[-1].lower()
        hosts = _hops(request, "X-Forwarded-Host")
        if hosts and _HOST.fullmatch(hosts[-1]):
            host = hosts[-1]
    return f"{scheme}://{host}"


def public_url(request: web.Request, settings: Settings) -> str:
    """The base of the absolute links the server gives out: `CYTOGATE_PUBLIC_URL` when set,
    else the origin the caller addressed (`public_origin`)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return public_origin(request, settings.trusted_proxies)
