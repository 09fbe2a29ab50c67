"""Projects in the graph (contract core.md §9.3–9.6)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import project
from resolvers.crud import Changed
from resolvers.ontology import ontologies_by_id
from resolvers.project import ProjectFields
from schema.common import Command, Connection, FilterInput, Info, Long, connection, to_filters

if TYPE_CHECKING:
    from schema.ontology import Ontology

__all__ = ["Project", "ProjectMode", "ProjectMutation", "ProjectQuery"]


@strawberry.enum(description="How members other than managers may edit (core.md §7.4).")
class ProjectMode(Enum):
    CLASSIC = "CLASSIC"
    RESTRICTED = "RESTRICTED"
    READ_ONLY = "READ_ONLY"


@strawberry.type(description="A collaborative workspace: images, an ontology, members.")
class Project:
    id: Long
    created: datetime
    updated: datetime
    name: str
    ontology_id: Long | None
    creator_id: Long | None
    blind_mode: bool
    are_images_downloadable: bool
    is_closed: bool
    hide_users_layers: bool
    hide_admins_layers: bool

    @strawberry.field
    @staticmethod
    def mode(parent: strawberry.Parent[Any]) -> ProjectMode:
        return ProjectMode(parent.mode)

    @strawberry.field
    @staticmethod
    def is_read_only(parent: strawberry.Parent[Any]) -> bool:
        return bool(parent.mode == ProjectMode.READ_ONLY.value)

    @strawberry.field
    @staticmethod
    def is_restricted(parent: strawberry.Parent[Any]) -> bool:
        return bool(parent.mode == ProjectMode.RESTRICTED.value)

    @strawberry.field(description="Image instances in the project (kept exact on every write).")
    @staticmethod
    def number_of_images(parent: strawberry.Parent[Any]) -> int:
        return int(parent.count_images)

    @strawberry.field(description="User annotations in the project.")
    @staticmethod
    def number_of_annotations(parent: strawberry.Parent[Any]) -> int:
        return int(parent.count_annotations)

    @strawberry.field(description="Reviewed annotations in the project.")
    @staticmethod
    def number_of_reviewed_annotations(parent: strawberry.Parent[Any]) -> int:
        return int(parent.count_reviewed_annotations)

    @strawberry.field(description="Always 0: algorithm annotations no longer exist.")
    @staticmethod
    def number_of_job_annotations() -> int:
        return 0

    @strawberry.field(description="Always 0, as in Cytomine.")
    @staticmethod
    def number_of_slides() -> int:
        return 0

    @strawberry.field(graphql_type=Annotated["Ontology", strawberry.lazy("schema.ontology")] | None)
    @staticmethod
    async def ontology(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.ontology_id is None:
            return None
        return await info.context.loader(ontologies_by_id).load(parent.ontology_id)

    @strawberry.field
    @staticmethod
    async def ontology_name(parent: strawberry.Parent[Any], info: Info) -> str | None:
        if parent.ontology_id is None:
            return None
        ontology = await info.context.loader(ontologies_by_id).load(parent.ontology_id)
        return None if ontology is None else str(ontology.name)


@strawberry.input(description="A project's writable fields. An update replaces them all.")
class ProjectInput:
    name: str | None = None
    ontology: Long | None = None
    mode: ProjectMode | None = strawberry.field(
        default=None, description="Wins over isReadOnly and isRestricted when given."
    )
    is_read_only: bool | None = None
    is_restricted: bool | None = None
    blind_mode: bool | None = None
    are_images_downloadable: bool | None = None
    is_closed: bool | None = None
    hide_users_layers: bool | None = None
    hide_admins_layers: bool | None = None
    users: list[Long] | None = strawberry.field(
        default=None, description="Contributors: on update, replaces them (you stay)."
    )
    admins: list[Long] | None = strawberry.field(
        default=None, description="Managers: on update, replaces them (you stay)."
    )
    representatives: list[Long] | None = strawberry.field(
        default=None, description="On update, replaces the representatives."
    )

    def fields(self) -> ProjectFields:
        values = dataclasses.asdict(self)
        values["mode"] = self.mode.value if self.mode is not None else None
        return ProjectFields(**values)


@strawberry.type
class ProjectPayload:
    project: Any = strawberry.field(graphql_type=Project)
    command: Command


ProjectConnection = Connection[Project]


def _payload(changed: Changed) -> ProjectPayload:
    return ProjectPayload(project=changed.row, command=Command.of(changed.command))


@strawberry.type
class ProjectQuery:
    @strawberry.field(graphql_type=Project, description="A project the caller may read.")
    async def project(self, info: Info, id: Long) -> Any:
        return await project.get_project(info.context, id)

    @strawberry.field(
        description="The projects you may read (all for administrators), newest first; "
        "`userId` keeps those the user is a member of, `ontologyId` those using it."
    )
    async def projects(
        self,
        info: Info,
        first: int | None = None,
        offset: int = 0,
        sort: str | None = None,
        order: str | None = None,
        filters: list[FilterInput] | None = None,
        user_id: Long | None = None,
        ontology_id: Long | None = None,
    ) -> ProjectConnection:
        page = await project.list_projects(
            info.context, limit=first, offset=offset, sort=sort, order=order,
            filters=to_filters(filters), user_id=user_id, ontology_id=ontology_id,
        )  # fmt: skip
        return connection(page)


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(description="Create a project: you manage and represent it.")
    async def project_create(self, info: Info, input: ProjectInput) -> ProjectPayload:
        return _payload(await project.create_project(info.context, input.fields()))

    @strawberry.mutation(description="Replace a project's fields (managers).")
    async def project_update(self, info: Info, id: Long, input: ProjectInput) -> ProjectPayload:
        return _payload(await project.update_project(info.context, id, input.fields()))

    @strawberry.mutation(description="Delete a project and its images; cannot be undone.")
    async def project_delete(self, info: Info, id: Long) -> ProjectPayload:
        return _payload(await project.delete_project(info.context, id))

    @strawberry.mutation(description="Add a contributor, or a manager (managers only).")
    async def project_member_add(
        self, info: Info, project_id: Long, user_id: Long, manager: bool = False
    ) -> bool:
        await project.add_member(info.context, project_id, user_id, manager=manager)
        return True

    @strawberry.mutation(
        description="Remove a member from the project, or (`manager`) only their manager role. "
        "Managers may remove anyone; anyone may remove themself."
    )
    async def project_member_remove(
        self, info: Info, project_id: Long, user_id: Long, manager: bool = False
    ) -> bool:
        await project.remove_member(info.context, project_id, user_id, manager=manager)
        return True
