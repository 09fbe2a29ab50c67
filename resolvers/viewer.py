"""`Viewer`: who is asking, with their real and active roles (contract core.md §7.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ROLE_ORDER", "Viewer", "role_flags"]

GUEST: Final = "ROLE_GUEST"
USER: Final = "ROLE_USER"
ADMIN: Final = "ROLE_ADMIN"
SUPER_ADMIN: Final = "ROLE_SUPER_ADMIN"

#: Bootstrap order of the roles: clients index `RoleCollection()[-1]` as ROLE_GUEST.
ROLE_ORDER: Final = (USER, ADMIN, SUPER_ADMIN, GUEST)
#: Highest first, for "the highest role" of a user.
ROLE_RANK: Final = (SUPER_ADMIN, ADMIN, USER, GUEST)


def role_flags(roles: frozenset[str]) -> tuple[bool, bool, bool]:
    """Cytomine's exclusive `(admin, user, guest)` flags of a role set."""
    admin = ADMIN in roles or SUPER_ADMIN in roles
    user = not admin and USER in roles
    guest = not admin and not user and GUEST in roles
    return admin, user, guest


@dataclass(frozen=True, slots=True)
class Viewer:
    """The authenticated caller. ROLE_ADMIN counts only inside an open admin session.

    `read_only`: authenticated by a short-term token (GET only, 300 s; the one browsers put in
    image URLs, so the likeliest to leak). Such a caller reads, but never the API keys, which
    would sign any write and outlive the token, nor a fresh token of its own.
    """

    id: int
    username: str
    roles: frozenset[str]
    admin_session: bool = False
    read_only: bool = False

    @property
    def active_roles(self) -> frozenset[str]:
        if ADMIN in self.roles and not (self.admin_session or SUPER_ADMIN in self.roles):
            return self.roles - {ADMIN}
        return self.roles

    @property
    def is_admin(self) -> bool:
        """Admin "by now": bypasses every ACL check."""
        active = self.active_roles
        return ADMIN in active or SUPER_ADMIN in active

    @property
    def is_user(self) -> bool:
        return self.is_admin or USER in self.roles

    @property
    def is_guest(self) -> bool:
        return self.is_user or GUEST in self.roles

    @property
    def holds_admin_role(self) -> bool:
        return ADMIN in self.roles or SUPER_ADMIN in self.roles
