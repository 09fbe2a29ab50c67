"""Inviting someone new to a project (contract core.md §9.3, `POST /project/{id}/invitation.json`):
an account is created for them, they join the project as a contributor, and an e-mail gives them
a sign-in token to choose a password with.

The account follows the rules of user creation (§9.1) and is recorded as its add command; its
password is a random secret nobody knows, so the token is the only way in until they set one.
The token is stored only as its hash, like every login token. The e-mail is sent before the
transaction commits: when the mail server cannot take it, the account, the membership and the
token are rolled back, so no one is left with an account they were never told about.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from resolvers.acl import CONTRIBUTOR, grant
from resolvers.auth import issue_token
from resolvers.command import CommandLog
from resolvers.context import Context
from resolvers.crud import Changed
from resolvers.errors import Unavailable
from resolvers.mail import mail_server, send_mail
from resolvers.project_access import project_access
from resolvers.user import UserFields, insert_user, new_user_values, users_by_id

__all__ = ["InvitationFields", "invite_to_project"]


@dataclass(frozen=True, slots=True)
class InvitationFields:
    """Who to invite, with Cytomine's names: `name` is the username, `mail` the address."""

    name: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    mail: str | None = None


async def invite_to_project(ctx: Context, project_id: int, fields: InvitationFields) -> Changed:
    """Create an account for someone new, make them a contributor of the project and e-mail
    them a sign-in token valid `CYTOGATE_INVITATION_DAYS` days; project managers only.

    Raises:
        NotFound: the project does not exist.
        Forbidden: the caller does not manage the project.
        Unavailable: no mail server or no public URL is configured (nothing is checked or
            changed further).
        InvalidInput: a field is missing or the address is not valid.
        Conflict: the username belongs to a user (e-mail addresses need not be unique, as
            for user creation, so an invitation never tells whether one has an account).
        BadGateway: the mail server failed; nothing is kept.
    """
    access = (await project_access(ctx, project_id)).require_change()
    mail_server(ctx.settings)
    if ctx.settings.public_url is None:
        # The request's own Host would do for links elsewhere, but here the caller would choose
        # where the invitee is told to send their token and password.
        raise Unavailable("invitations need CYTOGATE_PUBLIC_URL, the address e-mails point to")
    values = await new_user_values(
        ctx.settings,
        UserFields(username=fields.name, firstname=fields.firstname, lastname=fields.lastname,
                   email=fields.mail, password=secrets.token_urlsafe(48)),
    )  # fmt: skip
    inviter = await ctx.loader(users_by_id).load(access.viewer.id)
    lifetime = timedelta(days=ctx.settings.invitation_days)
    expires = datetime.now(UTC) + lifetime
    async with ctx.db.transaction() as conn:
        # Recorded in the history but kept off the undo stack: the e-mail cannot be unsent.
        changed = await insert_user(CommandLog(conn, access.viewer, undoable=False), values)
        user = changed.row
        await grant(conn, project_id, (user.id,), CONTRIBUTOR)
        token = await issue_token(conn, user.id, lifetime)
        letter = _letter(ctx.settings.public_url, inviter, access.row.name, user, token, expires)
        await send_mail(ctx.settings, user.email, f"Invitation to {access.row.name}", letter)
    return changed


def _letter(
    server: str, inviter: Any, project: str, user: Any, token: str, expires: datetime
) -> str:
    """The invitation's text: who invites whom where, the token and how to use it."""
    by = f"{inviter.firstname} {inviter.lastname} ({inviter.username})" if inviter else "Someone"
    until = expires.strftime("%Y-%m-%d %H:%M UTC")
    return f"""Hello {user.firstname} {user.lastname},

{by} invited you to the project "{project}" on the Cytomine server {server}.
An account was created for you: your username is {user.username}.

To sign in, use this token until {until}:

    {token}

1. Send it with your requests in the header
       Authorization: Bearer {token}
2. Choose your password with
       PUT {server}/api/user/{user.id}/password.json
   and the JSON body {{"password": "<your new password>"}} (8 characters or more).
   The GraphQL endpoint {server}/graphql takes the same header; there, the mutation
   userPasswordChange(id: {user.id}, password: "...") does the same.
3. From then on, sign in with your username and password (POST {server}/api/authenticate,
   or the login mutation on {server}/graphql).

If you did not expect this invitation, you can ignore this e-mail.
"""
