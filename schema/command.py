"""Commands in the graph: the history of changes, deleted objects, undo and redo (contract
core.md §8)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from resolvers import command
from resolvers.command import Replayed, commands_by_id, scrub
from resolvers.context import Context
from resolvers.image import blind_snapshot
from schema.common import Connection, Info, Long, connection

__all__ = ["CommandMutation", "CommandQuery"]


@strawberry.type(description="A recorded create, edit or delete, with the snapshot undo uses.")
class CommandRecord:
    id: Long
    created: datetime
    updated: datetime
    type: str = strawberry.field(description="ADD, EDIT or DELETE.")
    domain: str = strawberry.field(description="Cytomine's simple class name of the object.")
    service_name: str = strawberry.field(
        description="Cytomine's service for the domain, such as ProjectService."
    )
    action_message: str = strawberry.field(
        description='What the change did and who did it, e.g. "Project 412 (Demo) added by jdoe".'
    )
    user_id: Long
    project_id: Long | None
    print_message: bool = strawberry.field(
        description="False for a change made as part of another: it has no history entry."
    )
    transaction_id: Long | None

    @strawberry.field(
        description="The snapshot (edits: previous and new), credentials removed and names "
        "hidden as the project hides them from you."
    )
    @staticmethod
    async def data(parent: strawberry.Parent[Any], info: Info) -> JSON:
        return await blind_snapshot(info.context, scrub(parent.data))  # type: ignore[no-any-return]


@strawberry.type(description="One entry of a project's history (prefix UNDO/REDO for replays).")
class HistoryEntry:
    id: Long
    created: datetime
    message: str = strawberry.field(
        description='What the change did, e.g. "Project 412 (Demo) edited".'
    )
    prefix_action: str = strawberry.field(
        description='"" for the change itself, UNDO or REDO for a replay of it.'
    )
    user_id: Long
    project_id: Long | None
    command_id: Long

    @strawberry.field(graphql_type=CommandRecord | None)
    @staticmethod
    async def command(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(commands_by_id).load(parent.command_id)


@strawberry.type(description="A command undone or redone: what was done to which object.")
class ReplayedCommand:
    command_id: Long
    action: str = strawberry.field(description="What the replay did: ADD, EDIT or DELETE.")
    domain: str = strawberry.field(description="Cytomine's simple class name of the object.")
    message: str = strawberry.field(
        description='What the replay did, e.g. "Project 412 (Demo) deleted" (the domain alone '
        "when the command covered many objects)."
    )
    object_id: Long
    data: JSON = strawberry.field(description="The object's snapshot, credentials removed.")

    @classmethod
    async def of(cls, ctx: Context, replayed: Replayed) -> ReplayedCommand:
        """The replayed command, its snapshot shown as the history shows it to the caller."""
        return cls(
            command_id=Long(replayed.command_id),
            action=replayed.action,
            domain=replayed.domain,
            message=replayed.message,
            object_id=Long(replayed.data["id"]),
            data=await blind_snapshot(ctx, scrub(replayed.data)),
        )


HistoryConnection = Connection[HistoryEntry]
CommandConnection = Connection[CommandRecord]


@strawberry.type
class CommandQuery:
    @strawberry.field(
        description="History entries, newest first: of a project (READ), or of every project "
        "you are a member of. `after`/`before` are exclusive bounds."
    )
    async def command_history(
        self,
        info: Info,
        project_id: Long | None = None,
        user_id: Long | None = None,
        after: Annotated[
            datetime | None,
            strawberry.argument(
                description="Only the entries made after this moment, to the millisecond."
            ),
        ] = None,
        before: Annotated[
            datetime | None,
            strawberry.argument(
                description="Only the entries made before this moment, to the millisecond."
            ),
        ] = None,
        first: int | None = None,
        offset: int = 0,
    ) -> HistoryConnection:
        page = await command.list_history(
            info.context, project_id=project_id, user_id=user_id, after=after, before=before,
            limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(description="Delete commands (administrators): `domain` is a service stem.")
    async def deleted_commands(
        self,
        info: Info,
        domain: Annotated[
            str | None,
            strawberry.argument(
                description="Only the deletions of one service stem, in any case (project for "
                "ProjectService); null: all of them."
            ),
        ] = None,
        after: Annotated[
            datetime | None,
            strawberry.argument(description="Only the deletions made after this moment."),
        ] = None,
        first: int | None = None,
        offset: int = 0,
    ) -> CommandConnection:
        page = await command.list_deleted(
            info.context, domain=domain, after=after, limit=first, offset=offset
        )
        return connection(page)


@strawberry.type
class CommandMutation:
    @strawberry.mutation(
        description="Undo your latest change (all commands of its mutation), or the latest one "
        "holding `commandId`. Permissions are checked again; an empty list: nothing to undo."
    )
    async def undo(self, info: Info, command_id: Long | None = None) -> list[ReplayedCommand]:
        done = await command.undo(info.context, command_id)
        return [await ReplayedCommand.of(info.context, r) for r in done]

    @strawberry.mutation(description="Redo your latest undone change (or the one of `commandId`).")
    async def redo(self, info: Info, command_id: Long | None = None) -> list[ReplayedCommand]:
        done = await command.redo(info.context, command_id)
        return [await ReplayedCommand.of(info.context, r) for r in done]
