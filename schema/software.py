"""The software registry and the software offered in projects (README decision 9)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import software
from resolvers.crud import Changed
from resolvers.project import projects_by_id
from resolvers.software import SoftwareFields, SoftwareProjectFields, softwares_by_id
from resolvers.user import users_by_id
from schema.common import Command, Connection, Info, Long, connection
from schema.user import User

if TYPE_CHECKING:
    from schema.project import Project

__all__ = ["Software", "SoftwareMutation", "SoftwareProject", "SoftwareQuery"]

ProjectType = Annotated["Project", strawberry.lazy("schema.project")]


@strawberry.type(
    description="An analysis program known to the server (running it is out of scope)."
)
class Software:
    id: Long
    created: datetime
    updated: datetime
    name: str
    software_version: str | None = strawberry.field(description="Its version, free text.")
    deprecated: bool = strawberry.field(description="Marked as deprecated (informative only).")
    execute_command: str | None = strawberry.field(
        description="The command line that runs it (stored only: nothing runs it here)."
    )
    pulling_command: str | None = strawberry.field(
        description="The command that fetches it, such as a container pull (stored only)."
    )
    source_path: str | None = strawberry.field(
        description="Where its sources or files are (stored only)."
    )
    user_id: Long | None = strawberry.field(description="Who registered it.")

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.user_id is None:
            return None
        return await info.context.loader(users_by_id).load(parent.user_id)


async def _software_of(parent: Any, info: Info) -> Any:
    return await info.context.loader(softwares_by_id).load(parent.software_id)


@strawberry.type(description="Software offered in a project.")
class SoftwareProject:
    id: Long
    created: datetime
    updated: datetime
    project_id: Long
    software_id: Long

    @strawberry.field(graphql_type=Software | None)
    @staticmethod
    async def software(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _software_of(parent, info)

    @strawberry.field(graphql_type=ProjectType | None)
    @staticmethod
    async def project(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(projects_by_id).load(parent.project_id)

    @strawberry.field(description="The software's name.")
    @staticmethod
    async def name(parent: strawberry.Parent[Any], info: Info) -> str | None:
        found = await _software_of(parent, info)
        return None if found is None else str(found.name)

    @strawberry.field(description="The software's version.")
    @staticmethod
    async def software_version(parent: strawberry.Parent[Any], info: Info) -> str | None:
        found = await _software_of(parent, info)
        return None if found is None else found.software_version


@strawberry.input(description="A software's writable fields; an update replaces them all.")
class SoftwareInput:
    name: str | None = None
    software_version: str | None = strawberry.field(
        default=None, description="Its version, free text."
    )
    deprecated: bool | None = strawberry.field(
        default=None, description="Marked as deprecated (null: false)."
    )
    execute_command: str | None = strawberry.field(
        default=None, description="The command line that runs it (stored only)."
    )
    pulling_command: str | None = strawberry.field(
        default=None, description="The command that fetches it, such as a container pull."
    )
    source_path: str | None = strawberry.field(
        default=None, description="Where its sources or files are."
    )

    def fields(self) -> SoftwareFields:
        return SoftwareFields(**dataclasses.asdict(self))


@strawberry.input(description="Which software to offer in which project.")
class SoftwareProjectInput:
    software: Long | None = None
    project: Long | None = None

    def fields(self) -> SoftwareProjectFields:
        return SoftwareProjectFields(**dataclasses.asdict(self))


@strawberry.type
class SoftwarePayload:
    software: Any = strawberry.field(graphql_type=Software)
    command: Command


@strawberry.type
class SoftwareProjectPayload:
    software_project: Any = strawberry.field(graphql_type=SoftwareProject)
    command: Command


SoftwareConnection = Connection[Software]
SoftwareProjectConnection = Connection[SoftwareProject]


def _payload(changed: Changed) -> SoftwarePayload:
    return SoftwarePayload(software=changed.row, command=Command.of(changed.command))


def _link_payload(changed: Changed) -> SoftwareProjectPayload:
    return SoftwareProjectPayload(software_project=changed.row, command=Command.of(changed.command))


@strawberry.type
class SoftwareQuery:
    @strawberry.field(graphql_type=Software)
    async def software(self, info: Info, id: Long) -> Any:
        return await software.get_software(info.context, id)

    @strawberry.field(description="The whole registry, by name.")
    async def softwares(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> SoftwareConnection:
        return connection(await software.list_softwares(info.context, limit=first, offset=offset))

    @strawberry.field(graphql_type=SoftwareProject, description="For members of its project.")
    async def software_project(self, info: Info, id: Long) -> Any:
        return await software.get_software_project(info.context, id)

    @strawberry.field(description="The software offered in the projects you may read.")
    async def software_projects(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> SoftwareProjectConnection:
        page = await software.list_software_projects(info.context, limit=first, offset=offset)
        return connection(page)


@strawberry.type
class SoftwareMutation:
    @strawberry.mutation(description="Register software; you become its creator.")
    async def software_create(self, info: Info, input: SoftwareInput) -> SoftwarePayload:
        return _payload(await software.create_software(info.context, input.fields()))

    @strawberry.mutation(description="Replace a software's fields (its creator or admins).")
    async def software_update(self, info: Info, id: Long, input: SoftwareInput) -> SoftwarePayload:
        return _payload(await software.update_software(info.context, id, input.fields()))

    @strawberry.mutation(description="Remove software and its project associations.")
    async def software_delete(self, info: Info, id: Long) -> SoftwarePayload:
        return _payload(await software.delete_software(info.context, id))

    @strawberry.mutation(description="Offer software in a project (its managers).")
    async def software_project_create(
        self, info: Info, input: SoftwareProjectInput
    ) -> SoftwareProjectPayload:
        changed = await software.create_software_project(info.context, input.fields())
        return _link_payload(changed)

    @strawberry.mutation(description="Withdraw software from a project (its managers).")
    async def software_project_delete(self, info: Info, id: Long) -> SoftwareProjectPayload:
        return _link_payload(await software.delete_software_project(info.context, id))
