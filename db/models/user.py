"""Users, roles, role links, admin sessions and login tokens (core.md §2, §7.1, §9.1–9.2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["AdminSession", "AuthToken", "SecRole", "SecUser", "SecUserSecRole", "SignInFailure"]


class SecUser(IdMixin, TimestampMixin, Base):
    """A person or robot that signs requests with its API keys."""

    __tablename__ = "sec_user"
    __table_args__ = (
        Index("uq_sec_user_username_lower", func.lower(text("username")), unique=True),
    )

    username: Mapped[str] = mapped_column(String(255))
    firstname: Mapped[str] = mapped_column(String(255))
    lastname: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), server_default="EN")
    is_developer: Mapped[bool] = mapped_column(server_default="false")
    enabled: Mapped[bool] = mapped_column(server_default="true")
    origin: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_expired: Mapped[bool] = mapped_column(server_default="false")
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    private_key: Mapped[str] = mapped_column(String(64))


class SecRole(IdMixin, Base):
    """One of ROLE_USER, ROLE_ADMIN, ROLE_SUPER_ADMIN, ROLE_GUEST (created at bootstrap)."""

    __tablename__ = "sec_role"

    authority: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime | None] = mapped_column(server_default=func.now())


class SecUserSecRole(IdMixin, TimestampMixin, Base):
    """A user holds a role."""

    __tablename__ = "sec_user_sec_role"
    __table_args__ = (UniqueConstraint("sec_user_id", "sec_role_id"),)

    sec_user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"))
    sec_role_id: Mapped[int] = mapped_column(ForeignKey("sec_role.id", ondelete="CASCADE"))


class AdminSession(Base):
    """An open admin session: ROLE_ADMIN is active for the user until `expires` (decision 3)."""

    __tablename__ = "admin_session"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("sec_user.id", ondelete="CASCADE"), primary_key=True
    )
    opened: Mapped[datetime] = mapped_column(server_default=func.now())
    expires: Mapped[datetime]


class AuthToken(Base):
    """A bearer token or browser session issued by the login endpoint; stored only as a hash."""

    __tablename__ = "auth_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("sec_user.id", ondelete="CASCADE"), index=True)
    get_only: Mapped[bool] = mapped_column(server_default="false")
    created: Mapped[datetime] = mapped_column(server_default=func.now())
    expires: Mapped[datetime]


class SignInFailure(Base):
    """A failed sign-in, or one being checked: the username tried (lower-cased), the address
    it came from, when. Too many in a window make sign-ins wait (resolvers/sign_in_limit.py);
    the rows are kept in the database so every gateway process counts the same ones."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_address_created", "address", "created"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
