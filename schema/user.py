"""Users, roles, credentials and sessions in the graph (contract core.md §2, §9.1–9.2)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import auth, project, storage, user
from resolvers.auth import SESSION_COOKIE
from resolvers.user import UserFields, roles_by_user, users_by_id
from resolvers.viewer import ADMIN, GUEST, SUPER_ADMIN, USER, Viewer, role_flags
from schema.annotation_nested import annotations_field
from schema.common import (
    Command,
    Connection,
    FilterInput,
    Info,
    Long,
    about,
    connection,
    to_filters,
)

if TYPE_CHECKING:
    from schema.project import Project
    from schema.storage import Storage

__all__ = ["UserMutation", "UserQuery"]


def _sees_private(info: Info, user_id: int) -> bool:
    viewer = info.context.viewer
    return viewer is not None and (viewer.id == user_id or viewer.is_admin)


def _is_self(info: Info, user_id: int) -> bool:
    """The caller is the user, with a credential that may see their keys (not a short-term
    token: `Viewer.read_only`)."""
    viewer = info.context.viewer
    return viewer is not None and viewer.id == user_id and not viewer.read_only


@strawberry.type(description="A global role (ROLE_USER, ROLE_ADMIN, ROLE_SUPER_ADMIN, ROLE_GUEST).")
class Role:
    id: Long
    authority: str = strawberry.field(description="Its name, such as ROLE_USER.")
    created: datetime | None


@strawberry.type(description="A person or a robot, with API keys.")
class User:
    id: Long
    created: datetime
    updated: datetime
    username: str = strawberry.field(description="The name to sign in with, unique in any case.")
    firstname: str = strawberry.field(description="First name.")
    lastname: str = strawberry.field(description="Last name.")
    language: str = strawberry.field(description="The language of its interface (EN, FR…).")
    is_developer: bool = strawberry.field(description="The web interface shows developer tools.")
    enabled: bool = strawberry.field(
        description="May sign in and call the API: an administrator locks and unlocks it."
    )
    origin: str | None = strawberry.field(
        description="Where the account came from (BOOTSTRAP, ADMINISTRATOR…)."
    )
    annotations = annotations_field("user", "this user drew")

    @strawberry.field(description="Always false: cytogate has no algorithm (job) users.")
    @staticmethod
    def algo() -> bool:
        return False

    @strawberry.field(description="Visible to the user and to administrators only.")
    @staticmethod
    def email(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return parent.email if _sees_private(info, parent.id) else None

    @strawberry.field(description="First and last name.")
    @staticmethod
    def name(parent: strawberry.Parent[Any]) -> str:
        return f"{parent.firstname} {parent.lastname}"

    @strawberry.field(description="`name (username)`, or the username when both are equal.")
    @staticmethod
    def full_name(parent: strawberry.Parent[Any]) -> str:
        name = f"{parent.firstname} {parent.lastname}"
        return parent.username if name == parent.username else f"{name} ({parent.username})"

    @strawberry.field(description="Only for the user themself.")
    @staticmethod
    def public_key(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return parent.public_key if _is_self(info, parent.id) else None

    @strawberry.field(description="Only for the user themself.")
    @staticmethod
    def private_key(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return parent.private_key if _is_self(info, parent.id) else None

    @strawberry.field(description="Only for the user themself.")
    @staticmethod
    def password_expired(parent: strawberry.Parent[Any], info: Info) -> bool | None:
        return parent.password_expired if _is_self(info, parent.id) else None

    @strawberry.field(description="The authorities of the user's real roles.")
    @staticmethod
    async def roles(parent: strawberry.Parent[Any], info: Info) -> list[str]:
        roles = await info.context.loader(roles_by_user).load(parent.id)
        return sorted(roles)

    @strawberry.field(description="The highest of the user's roles.")
    @staticmethod
    async def role(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return user.highest_role(await info.context.loader(roles_by_user).load(parent.id))

    @strawberry.field(description="Holds ROLE_ADMIN or ROLE_SUPER_ADMIN.")
    @staticmethod
    async def is_admin(parent: strawberry.Parent[Any], info: Info) -> bool:
        return role_flags(await info.context.loader(roles_by_user).load(parent.id))[0]

    @strawberry.field(description="Holds ROLE_USER and is not an admin.")
    @staticmethod
    async def is_user(parent: strawberry.Parent[Any], info: Info) -> bool:
        return role_flags(await info.context.loader(roles_by_user).load(parent.id))[1]

    @strawberry.field(description="Holds only ROLE_GUEST.")
    @staticmethod
    async def is_guest(parent: strawberry.Parent[Any], info: Info) -> bool:
        return role_flags(await info.context.loader(roles_by_user).load(parent.id))[2]


@strawberry.type(description="A role held by a user.")
class UserRole:
    id: Long
    created: datetime
    updated: datetime
    user_id: Long
    role_id: Long
    authority: str = strawberry.field(description="The role's name, such as ROLE_USER.")

    @strawberry.field(graphql_type=User)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.user_id)


@strawberry.type(description="The caller's roles: real (`admin`…) and active now (`…ByNow`).")
class AuthInfo:
    viewer: strawberry.Private[Viewer]

    @strawberry.field(graphql_type=User, description="You, as a user.")
    async def user(self, info: Info) -> Any:
        return await info.context.loader(users_by_id).load(self.viewer.id)

    @strawberry.field(description="The projects you are a member of, newest first.")
    async def projects(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> Connection[Annotated[Project, strawberry.lazy("schema.project")]]:
        page = await project.list_projects(
            info.context, limit=first, offset=offset, user_id=self.viewer.id
        )
        return connection(page)

    @strawberry.field(description="The storages you hold rights on.")
    async def storages(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> Connection[Annotated[Storage, strawberry.lazy("schema.storage")]]:
        page = await storage.list_storages(info.context, limit=first, offset=offset)
        return connection(page)

    @strawberry.field(description="Holds ROLE_ADMIN or ROLE_SUPER_ADMIN (exclusive flags).")
    def is_admin(self) -> bool:
        return role_flags(self.viewer.roles)[0]

    @strawberry.field(description="Holds ROLE_USER and is not an admin.")
    def is_user(self) -> bool:
        return role_flags(self.viewer.roles)[1]

    @strawberry.field(description="Holds only ROLE_GUEST.")
    def is_guest(self) -> bool:
        return role_flags(self.viewer.roles)[2]

    @strawberry.field(description="Acts as an admin now (super admin, or admin session open).")
    def admin_by_now(self) -> bool:
        return self.viewer.is_admin

    @strawberry.field(description="Holds ROLE_USER.")
    def user_by_now(self) -> bool:
        return USER in self.viewer.active_roles

    @strawberry.field(description="Holds ROLE_GUEST.")
    def guest_by_now(self) -> bool:
        return GUEST in self.viewer.active_roles

    @strawberry.field(description="True while an admin session is open.")
    def admin_session(self) -> bool:
        return self.viewer.admin_session and ADMIN in self.viewer.roles

    @strawberry.field(description="Impersonation is not offered: always false.")
    def is_switched(self) -> bool:
        return False

    @strawberry.field(description="Holds ROLE_SUPER_ADMIN.")
    def super_admin(self) -> bool:
        return SUPER_ADMIN in self.viewer.roles


@strawberry.type(description="An API key pair.")
class Keys:
    public_key: str = strawberry.field(
        description="The key HMAC requests name in `Authorization: CYTOMINE <publicKey>:…`."
    )
    private_key: str = strawberry.field(description="The secret key HMAC requests are signed with.")


@strawberry.type(description="A Cytomine HMAC signature computed for the caller.")
class Signature:
    signature: str = strawberry.field(
        description="The base64 HMAC-SHA1 of the request's canonical string, keyed by your "
        "private key."
    )
    public_key: str = strawberry.field(description="Your public key, to send with the signature.")


@strawberry.type(description="Tokens issued by a login.")
class LoginPayload:
    token: str = strawberry.field(description="A bearer token (`Authorization: Bearer …`).")
    short_term_token: str = strawberry.field(
        description="A bearer token for reads only, valid 300 s (for the URLs of images)."
    )
    expires: datetime = strawberry.field(description="When `token` stops working.")


@strawberry.type
class UserPayload:
    user: Any = strawberry.field(graphql_type=User)
    command: Command


@strawberry.type
class UserRolePayload:
    user_role: Any = strawberry.field(graphql_type=UserRole)
    command: Command


@strawberry.input(description="A user's writable fields. An update replaces them all.")
class UserInput:
    username: str | None = strawberry.field(
        default=None, description="The name to sign in with (required)."
    )
    firstname: str | None = strawberry.field(default=None, description="First name (required).")
    lastname: str | None = strawberry.field(default=None, description="Last name (required).")
    email: str | None = strawberry.field(
        default=None, description="One valid e-mail address (required)."
    )
    password: str | None = strawberry.field(
        default=None,
        description="At least 8 characters: required on create; on update, null or empty keeps "
        "the current one.",
    )
    language: str | None = strawberry.field(
        default=None,
        description="The language of its interface, as a code (EN, FR…) or an English name "
        "(FRENCH); EN if null.",
    )
    is_developer: bool | None = strawberry.field(
        default=None, description="Show developer tools in the web interface; false if null."
    )
    origin: str | None = strawberry.field(
        default=None,
        description="Where the account comes from, on create only; ADMINISTRATOR if null.",
    )
    enabled: bool | None = strawberry.field(
        default=None,
        description="Whether it may sign in: true if null on create; on update, only an "
        "administrator's value counts (null keeps it).",
    )
    public_key: str | None = strawberry.field(
        default=None, description='"" regenerates both keys on update.'
    )
    private_key: str | None = strawberry.field(
        default=None, description='"" regenerates both keys on update.'
    )

    def fields(self) -> UserFields:
        return UserFields(**dataclasses.asdict(self))


UserConnection = Connection[User]


def _keys(row: Any) -> Keys:
    return Keys(public_key=row.public_key, private_key=row.private_key)


@strawberry.type
class UserQuery:
    @strawberry.field(description="The caller, with real and active roles.")
    def viewer(self, info: Info) -> AuthInfo:
        return AuthInfo(viewer=info.context.require_viewer())

    @strawberry.field(graphql_type=User, description="A user by id or by username.")
    async def user(
        self,
        info: Info,
        id: Long | None = None,
        username: Annotated[
            str | None,
            about("The user's username, in any case; used when `id` and `publicKey` are null."),
        ] = None,
        public_key: Annotated[
            str | None, about("The user's public API key; wins over `id` and `username`.")
        ] = None,
    ) -> Any:
        if public_key is not None:
            return await user.user_by_public_key(info.context, public_key)
        return await user.get_user(info.context, id=id, username=username)

    @strawberry.field(description="Users; sort on any field, `fullName` or (`withRoles`) `role`.")
    async def users(
        self,
        info: Info,
        first: int | None = None,
        offset: int = 0,
        sort: str | None = None,
        order: str | None = None,
        filters: list[FilterInput] | None = None,
        with_roles: Annotated[
            bool, about("Lets `sort` be `role`, each user's highest role.")
        ] = False,
    ) -> UserConnection:
        page = await user.list_users(
            info.context,
            limit=first,
            offset=offset,
            sort=sort,
            order=order,
            filters=to_filters(filters),
            with_roles=with_roles,
        )
        return connection(page)

    @strawberry.field(
        description="A user's API keys (the caller's when no argument names one): the user "
        "themself or an administrator, and only a super administrator's for another super "
        "administrator; never with a short-term token."
    )
    async def user_keys(
        self,
        info: Info,
        id: Annotated[
            Long | None, about("The user's id; wins over `username` and `publicKey`.")
        ] = None,
        username: Annotated[
            str | None, about("The user's username, in any case; used when `id` is null.")
        ] = None,
        public_key: Annotated[
            str | None,
            about("The user's public key; used when `id` and `username` are null."),
        ] = None,
    ) -> Keys:
        row = await user.user_keys(info.context, id=id, username=username, public_key=public_key)
        return _keys(row)

    @strawberry.field(description="Sign a request description with the caller's private key.")
    async def signature(
        self,
        info: Info,
        method: Annotated[str, about("The request's HTTP verb, upper case as sent.")] = "GET",
        content_md5: Annotated[
            str, about("The request's Content-MD5 header; empty when it has none.")
        ] = "",
        content_type: Annotated[
            str, about("The request's exact Content-Type header; empty when it has none.")
        ] = "",
        date: Annotated[str, about("The request's exact Date header.")] = "",
        query_string: Annotated[
            str, about("The request's raw query string, without `?`; empty when it has none.")
        ] = "",
        forward_uri: Annotated[str, about("The request's path, such as /api/project.json.")] = "",
    ) -> Signature:
        viewer = info.context.require_viewer()
        row = await user.user_keys(info.context, id=viewer.id)
        resource = forward_uri + (f"?{query_string}" if query_string else "")
        canonical = f"{method}\n{content_md5}\n{content_type}\n{date}\n{resource}"
        return Signature(signature=auth.sign(row.private_key, canonical), public_key=row.public_key)

    @strawberry.field(graphql_type=list[Role], description="Every role, in bootstrap order.")
    async def roles(self, info: Info) -> Any:
        return await user.list_roles(info.context)

    @strawberry.field(graphql_type=Role)
    async def role(self, info: Info, id: Long) -> Any:
        return await user.get_role(info.context, id)

    @strawberry.field(graphql_type=list[UserRole], description="The roles a user holds.")
    async def user_roles(self, info: Info, user_id: Long) -> Any:
        return await user.list_user_roles(info.context, user_id)

    @strawberry.field(
        graphql_type=UserRole,
        description="A user's link to a role (NOT_FOUND unless the user holds it).",
    )
    async def user_role(self, info: Info, user_id: Long, role_id: Long) -> Any:
        return await user.get_user_role(info.context, user_id, role_id)

    @strawberry.field(graphql_type=Role | None, description="A user's highest role.")
    async def highest_role(self, info: Info, user_id: Long) -> Any:
        links = await user.list_user_roles(info.context, user_id)
        best = user.highest_role(frozenset(link.authority for link in links))
        return next(
            (link for link in await user.list_roles(info.context) if link.authority == best), None
        )


def _user_payload(changed: user.Changed) -> UserPayload:
    return UserPayload(user=changed.row, command=Command.of(changed.command))


def _user_role_payload(changed: user.Changed) -> UserRolePayload:
    return UserRolePayload(user_role=changed.row, command=Command.of(changed.command))


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Create a user (administrators).")
    async def user_create(self, info: Info, input: UserInput) -> UserPayload:
        return _user_payload(await user.create_user(info.context, input.fields()))

    @strawberry.mutation(description="Replace a user's profile (self or administrators).")
    async def user_update(self, info: Info, id: Long, input: UserInput) -> UserPayload:
        return _user_payload(await user.update_user(info.context, id, input.fields()))

    @strawberry.mutation(description="Delete a user (administrators).")
    async def user_delete(self, info: Info, id: Long) -> UserPayload:
        return _user_payload(await user.delete_user(info.context, id))

    @strawberry.mutation(description="Disable a user's credentials (administrators).")
    async def user_lock(
        self, info: Info, id: Annotated[Long, about("The id of the user to lock.")]
    ) -> UserPayload:
        return _user_payload(await user.set_user_enabled(info.context, id, False))

    @strawberry.mutation(description="Enable a locked user again (administrators).")
    async def user_unlock(
        self, info: Info, id: Annotated[Long, about("The id of the user to unlock.")]
    ) -> UserPayload:
        return _user_payload(await user.set_user_enabled(info.context, id, True))

    @strawberry.mutation(graphql_type=User, description="Change a password (self or admins).")
    async def user_password_change(
        self,
        info: Info,
        id: Annotated[Long, about("The id of the user whose password changes.")],
        password: Annotated[
            str | None, about("The new password, 8 to 1024 characters; null is refused.")
        ] = None,
    ) -> Any:
        return await user.set_password(info.context, id, password)

    @strawberry.mutation(description="Give the caller a new key pair.")
    async def user_keys_regenerate(self, info: Info) -> Keys:
        return _keys(await user.regenerate_keys(info.context))

    @strawberry.mutation(description="Grant a role to a user.")
    async def user_role_create(self, info: Info, user_id: Long, role_id: Long) -> UserRolePayload:
        return _user_role_payload(await user.add_user_role(info.context, user_id, role_id))

    @strawberry.mutation(description="Withdraw a role from a user (administrators).")
    async def user_role_delete(self, info: Info, user_id: Long, role_id: Long) -> UserRolePayload:
        return _user_role_payload(await user.remove_user_role(info.context, user_id, role_id))

    @strawberry.mutation(
        graphql_type=list[Role], description="Set a user's roles to the canonical set of a role."
    )
    async def user_roles_define(self, info: Info, user_id: Long, role_id: Long) -> Any:
        return await user.define_roles(info.context, user_id, role_id)

    @strawberry.mutation(
        description="Log in; with `session` the browser also gets a cookie. Too many failed "
        "tries of a username from an address (or from an address at all) make the next ones "
        "answer TOO_MANY_REQUESTS (HTTP 429, `retryAfter` seconds) for a while."
    )
    async def login(
        self,
        info: Info,
        username: Annotated[str, about("The username, in any case.")],
        password: Annotated[str, about("The user's password.")],
        remember_me: Annotated[
            bool,
            about(
                "Makes `token` last the server's long span (30 days by default) instead of "
                "its usual one (24 hours by default)."
            ),
        ] = False,
        session: Annotated[
            bool, about("Also sets `token` as an HTTP-only session cookie, for a browser.")
        ] = False,
    ) -> LoginPayload:
        tokens = await auth.login(info.context, username, password, remember_me)
        if session:
            info.context.cookies[SESSION_COOKIE] = tokens.token
        return LoginPayload(
            token=tokens.token, short_term_token=tokens.short_term_token, expires=tokens.expires
        )

    @strawberry.mutation(description="Revoke the token or session the caller used.")
    async def logout(self, info: Info) -> bool:
        await auth.logout(info.context, info.context.token)
        info.context.cookies[SESSION_COOKIE] = None
        return True

    @strawberry.mutation(
        description="Check the caller's own password; failures are limited as `login`'s are."
    )
    async def password_check(
        self,
        info: Info,
        password: Annotated[
            str | None, about("The password to check; null or empty fails.")
        ] = None,
    ) -> bool:
        await auth.check_password(info.context, password)
        return True

    @strawberry.mutation(description="Act as an administrator for a while (admins only).")
    async def admin_session_open(self, info: Info) -> AuthInfo:
        return AuthInfo(viewer=await auth.open_admin_session(info.context))

    @strawberry.mutation(description="Stop acting as an administrator.")
    async def admin_session_close(self, info: Info) -> AuthInfo:
        return AuthInfo(viewer=await auth.close_admin_session(info.context))
