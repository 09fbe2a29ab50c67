"""Configuration, read once from the environment into a frozen `Settings`.

Every variable is documented in README.md; a bad value fails at start-up with the variable's
name rather than somewhere deep in a request.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["ConfigError", "Settings", "SmtpServer"]

#: An address a mail server will take as a sender (no display name, no spaces).
_ADDRESS: Final = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
#: How the connection to the mail server is secured (see `SmtpServer`).
TlsMode = Literal["implicit", "starttls", "auto", "off"]
_STARTTLS: Final[Mapping[str, TlsMode]] = {
    "true": "starttls",
    "required": "starttls",
    "auto": "auto",
    "false": "off",
    "off": "off",
}


class ConfigError(ValueError):
    """A configuration variable has a value cytogate cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value else None


@dataclass(frozen=True)
class SmtpServer:
    """The mail server invitations are sent through, read from `CYTOGATE_SMTP_URL`.

    `smtp://[user[:password]@]host[:port][?starttls=auto|true|false][&timeout=seconds]`:
    port 25 by default; STARTTLS when the server offers it (`auto`, the default; with a user,
    `auto` means `true`), always (`true`: refuse a server that does not offer it) or never
    (`false`). `smtps://…` opens TLS at once (implicit TLS, port 465 by default). User and
    password are percent-decoded; the timeout is at most 120 seconds.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsMode = "auto"
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, name: str = "CYTOGATE_SMTP_URL") -> SmtpServer:
        """Parse `url`; a `ConfigError` naming `name` when it cannot be used."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ConfigError(f"{name} must be an smtp:// or smtps:// URL, not {parts.scheme!r}")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"{name} has a bad port") from None
        if not parts.hostname:
            raise ConfigError(f"{name} must name a host")
        if parts.path not in ("", "/") or parts.fragment:
            raise ConfigError(f"{name} takes no path: smtp://[user[:password]@]host[:port]")
        tls: TlsMode = "implicit" if parts.scheme == "smtps" else "auto"
        timeout = 30.0
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "starttls" and parts.scheme == "smtp" and value.lower() in _STARTTLS:
                tls = _STARTTLS[value.lower()]
            elif key == "timeout" and _positive(value):
                timeout = float(value)
            else:
                raise ConfigError(
                    f"{name}: unknown or bad option {key}={value!r} (smtp:// takes "
                    f"starttls=auto|true|false, both take timeout=<seconds> up to "
                    f"{MAX_SMTP_TIMEOUT:g})"
                )
        if tls == "auto" and parts.username:
            tls = "starttls"  # never send the credentials over a connection left in clear
        return cls(
            host=parts.hostname,
            port=port or (465 if tls == "implicit" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            tls=tls,
            timeout=timeout,
        )


#: The longest an SMTP step may take: an invitation holds its transaction open meanwhile.
MAX_SMTP_TIMEOUT: Final = 120.0


def _positive(text: str) -> bool:
    try:
        return 0 < float(text) <= MAX_SMTP_TIMEOUT
    except ValueError:
        return False


def _listed(env: Mapping[str, str], name: str) -> list[str]:
    """The comma-separated items of a variable, stripped, empty ones left out."""
    return [item for item in (part.strip() for part in (env.get(name) or "").split(",")) if item]


def _origins(env: Mapping[str, str], name: str = "CYTOGATE_CORS_ORIGINS") -> tuple[str, ...]:
    """Browser origins (`scheme://host[:port]`, comma-separated, any case) allowed to call the
    server from pages of other sites; `*` alone for any origin (then without cookies)."""
    trimmed = (origin.rstrip("/").lower() for origin in _listed(env, name))
    origins = tuple(dict.fromkeys(origin for origin in trimmed if origin))
    if "*" in origins:
        if len(origins) > 1:
            raise ConfigError(f"{name}: `*` allows every origin and stands alone")
        return origins
    for origin in origins:
        parts = urlsplit(origin)
        try:
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            raise ConfigError(f"{name}: {origin!r} has a bad port") from None
        if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path
                or parts.query or parts.fragment or "@" in parts.netloc):  # fmt: skip
            raise ConfigError(f"{name}: {origin!r} is not an origin (scheme://host[:port])")
    return origins


def _networks(
    env: Mapping[str, str], name: str = "CYTOGATE_TRUSTED_PROXIES"
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Addresses or networks (CIDR), comma-separated, of the reverse proxies in front."""
    found = []
    for item in _listed(env, name):
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an address or network") from None
    return tuple(found)


def _mail_from(env: Mapping[str, str], public_url: str | None) -> str:
    """`CYTOGATE_MAIL_FROM`, by default cytogate@ the public URL's host (else localhost)."""
    value = _opt(env, "CYTOGATE_MAIL_FROM")
    if value is None:
        host = urlsplit(public_url).hostname if public_url else None
        return f"cytogate@{host or 'localhost'}"
    if not _ADDRESS.match(value):
        raise ConfigError(f"CYTOGATE_MAIL_FROM must be a bare e-mail address, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """What the process was configured with (see README.md, "Settings")."""

    database_url: str | None = None
    home: Path = Path(".cytogate")
    host: str = "0.0.0.0"
    port: int = 8080
    public_url: str | None = None
    image_server_url: str | None = None
    admin_username: str = "admin"
    admin_password: str | None = None
    admin_public_key: str | None = None
    admin_private_key: str | None = None
    hmac_max_skew: int = 900
    public_path_prefix: str = ""
    admin_session_minutes: int = 120
    token_hours: int = 24
    remember_me_days: int = 30
    max_body_bytes: int = 16 * 1024 * 1024
    header_timeout: int = 20
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5000
    graphql_max_page: int = 1000
    graphql_max_rows: int = 50_000
    pool_size: int = 10
    pool_timeout: int = 10
    statement_timeout: int = 60
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    sign_in_failures: int = 10
    sign_in_failures_per_address: int = 100
    sign_in_window: int = 900
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    smtp: SmtpServer | None = None
    mail_from: str = "cytogate@localhost"
    invitation_days: int = 7
    data_dir: Path | None = None
    attached_max_bytes: int = 1024 * 1024 * 1024
    activity_days: int = 0
    images_dir: Path = Path(".cytogate/images")
    upload_max_bytes: int = 50 * 1024**3
    render_threads: int = 4
    import_workers: int = 1
    pixel_cache_bytes: int = 256 * 1024 * 1024
    pixel_check_seconds: int = 5
    auth_cache_seconds: int = 5
    pixel_concurrency: int = 1
    pixel_yield_ms: int = 50
    version: str = field(default="0.1.0")

    @property
    def data_root(self) -> Path:
        """Where files are kept (attached files under `attached/`): `CYTOGATE_DATA_DIR`, by
        default `data/` under `CYTOGATE_HOME`."""
        return self.data_dir if self.data_dir is not None else self.home / "data"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        url = _opt(env, "DATABASE_URL")
        if url is not None and not url.startswith("postgresql"):
            raise ConfigError(f"DATABASE_URL must be a postgresql:// URL, not {url!r}")
        public_url = _opt(env, "CYTOGATE_PUBLIC_URL")
        smtp_url = _opt(env, "CYTOGATE_SMTP_URL")
        invitation_days = _int(env, "CYTOGATE_INVITATION_DAYS", 7, minimum=1)
        if invitation_days > 366:
            raise ConfigError(
                f"CYTOGATE_INVITATION_DAYS must be at most 366, not {invitation_days}"
            )
        data_dir = _opt(env, "CYTOGATE_DATA_DIR")
        home = Path(env.get("CYTOGATE_HOME") or ".cytogate")
        cores = min(8, os.cpu_count() or 2)
        return cls(
            database_url=url,
            home=home,
            host=env.get("CYTOGATE_HOST") or "0.0.0.0",
            port=_int(env, "CYTOGATE_PORT", 8080, minimum=0),
            public_url=public_url,
            image_server_url=_opt(env, "CYTOGATE_IMAGE_SERVER_URL"),
            admin_username=env.get("CYTOGATE_ADMIN_USERNAME") or "admin",
            admin_password=_opt(env, "CYTOGATE_ADMIN_PASSWORD"),
            admin_public_key=_opt(env, "CYTOGATE_ADMIN_PUBLIC_KEY"),
            admin_private_key=_opt(env, "CYTOGATE_ADMIN_PRIVATE_KEY"),
            hmac_max_skew=_int(env, "CYTOGATE_HMAC_MAX_SKEW", 900),
            public_path_prefix=(env.get("CYTOGATE_PUBLIC_PATH_PREFIX") or "").rstrip("/"),
            admin_session_minutes=_int(env, "CYTOGATE_ADMIN_SESSION_MINUTES", 120, minimum=1),
            token_hours=_int(env, "CYTOGATE_TOKEN_HOURS", 24, minimum=1),
            remember_me_days=_int(env, "CYTOGATE_REMEMBER_ME_DAYS", 30, minimum=1),
            max_body_bytes=_int(env, "CYTOGATE_MAX_BODY_BYTES", 16 * 1024 * 1024, minimum=1024),
            header_timeout=_int(env, "CYTOGATE_HEADER_TIMEOUT_SECONDS", 20, minimum=0),
            graphql_max_depth=_int(env, "CYTOGATE_GRAPHQL_MAX_DEPTH", 12, minimum=2),
            graphql_max_aliases=_int(env, "CYTOGATE_GRAPHQL_MAX_ALIASES", 30, minimum=1),
            graphql_max_tokens=_int(env, "CYTOGATE_GRAPHQL_MAX_TOKENS", 5000, minimum=100),
            graphql_max_page=_int(env, "CYTOGATE_GRAPHQL_MAX_PAGE", 1000, minimum=1),
            graphql_max_rows=_int(env, "CYTOGATE_GRAPHQL_MAX_ROWS", 50_000, minimum=1),
            pool_size=_int(env, "CYTOGATE_DB_POOL_SIZE", 10, minimum=1),
            pool_timeout=_int(env, "CYTOGATE_DB_POOL_TIMEOUT", 10, minimum=1),
            statement_timeout=_int(env, "CYTOGATE_STATEMENT_TIMEOUT", 60),
            argon2_time_cost=_int(env, "CYTOGATE_ARGON2_TIME_COST", 3, minimum=1),
            argon2_memory_kib=_int(env, "CYTOGATE_ARGON2_MEMORY_KIB", 65536, minimum=32),
            sign_in_failures=_int(env, "CYTOGATE_SIGN_IN_FAILURES", 10, minimum=1),
            sign_in_failures_per_address=_int(
                env, "CYTOGATE_SIGN_IN_FAILURES_PER_ADDRESS", 100, minimum=1
            ),
            sign_in_window=_int(env, "CYTOGATE_SIGN_IN_WINDOW_SECONDS", 900, minimum=1),
            cors_origins=_origins(env),
            trusted_proxies=_networks(env),
            smtp=SmtpServer.from_url(smtp_url) if smtp_url else None,
            mail_from=_mail_from(env, public_url),
            invitation_days=invitation_days,
            data_dir=Path(data_dir) if data_dir else None,
            attached_max_bytes=_int(
                env, "CYTOGATE_ATTACHED_MAX_BYTES", 1024 * 1024 * 1024, minimum=1
            ),
            activity_days=_int(env, "CYTOGATE_ACTIVITY_DAYS", 0),
            images_dir=Path(env.get("CYTOGATE_IMAGES_DIR") or home / "images"),
            upload_max_bytes=_int(env, "CYTOGATE_UPLOAD_MAX_MB", 50 * 1024, minimum=1) * 1024**2,
            render_threads=_int(env, "CYTOGATE_RENDER_THREADS", cores * 2, minimum=1),
            import_workers=_int(env, "CYTOGATE_IMPORT_WORKERS", 1, minimum=1),
            pixel_cache_bytes=_int(env, "CYTOGATE_PIXEL_CACHE_MB", 256) * 1024**2,
            pixel_check_seconds=_int(env, "CYTOGATE_PIXEL_CHECK_SECONDS", 5),
            auth_cache_seconds=_int(env, "CYTOGATE_AUTH_CACHE_SECONDS", 5),
            pixel_concurrency=_int(env, "CYTOGATE_PIXEL_CONCURRENCY", 1, minimum=1),
            pixel_yield_ms=_int(env, "CYTOGATE_PIXEL_YIELD_MS", 50),
        )
