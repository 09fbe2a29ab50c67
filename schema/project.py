"""Projects in the graph: members and their roles, representatives, default layers, the
software they offer (contract core.md §9.3–9.6, README decision 9)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from resolvers import project
from resolvers.crud import Changed
from resolvers.listing import Filter
from resolvers.metadata_target import PROJECT_CLASS
from resolvers.ontology import ontologies_by_id
from resolvers.project import (
    DefaultLayerFields,
    InvitationFields,
    MembershipChange,
    OpenedProject,
    ProjectExtras,
    ProjectFields,
    RepresentativeFields,
    projects_by_id,
)
from resolvers.report import ReportFormat
from resolvers.software import project_software_projects, project_softwares
from resolvers.user import users_by_id
from schema.activity import (
    connections_field,
    consultations_field,
    member_activity_field,
    online_users_field,
)
from schema.annotation_nested import annotations_field
from schema.common import (
    Command,
    Connection,
    DateTimeBounds,
    FilterInput,
    Info,
    IntBounds,
    Long,
    StringBounds,
    about,
    connection,
    to_filters,
)
from schema.image import project_images
from schema.metadata import attached_files_field, description_field, properties_field
from schema.report import ReportFileFields
from schema.tag import tags_field
from schema.user import User, UserConnection

if TYPE_CHECKING:
    from schema.ontology import Ontology
    from schema.software import Software, SoftwareProject

__all__ = [
    "Project",
    "ProjectDefaultLayer",
    "ProjectMember",
    "ProjectMode",
    "ProjectMutation",
    "ProjectQuery",
    "ProjectRepresentativeUser",
    "ProjectRole",
]

SoftwareType = Annotated["Software", strawberry.lazy("schema.software")]
SoftwareProjectType = Annotated["SoftwareProject", strawberry.lazy("schema.software")]
ProjectType = Annotated["Project", strawberry.lazy("schema.project")]


@strawberry.enum(description="How members other than managers may edit (core.md §7.4).")
class ProjectMode(Enum):
    CLASSIC = strawberry.enum_value(
        "CLASSIC",
        description="Every member may add content and change or delete anyone's.",
    )
    RESTRICTED = strawberry.enum_value(
        "RESTRICTED",
        description="Contributors may add content but change or delete only their own "
        "(the annotations they drew, the images they added).",
    )
    READ_ONLY = strawberry.enum_value(
        "READ_ONLY", description="Only managers may add, change or delete content."
    )


@strawberry.enum(description="A member's highest role in a project (core.md §7.3).")
class ProjectRole(Enum):
    CONTRIBUTOR = strawberry.enum_value(
        "contributor", description="A member who does not manage the project."
    )
    MANAGER = strawberry.enum_value(
        "manager", description="A member who manages the project (ADMINISTRATION on it)."
    )
    REPRESENTATIVE = strawberry.enum_value(
        "representative", description="One of the project's contact persons (usually a manager)."
    )


@strawberry.enum(description="How a user relates to the projects listed for them.")
class ProjectRelation(Enum):
    MEMBER = strawberry.enum_value(
        "MEMBER", description="The projects the user is a member of, contributor or manager."
    )
    MANAGER = strawberry.enum_value("MANAGER", description="The projects the user manages.")
    CREATOR = strawberry.enum_value("CREATOR", description="The projects the user created.")


@strawberry.type(description="The caller's roles in a project.")
class CurrentUserRoles:
    admin: bool = strawberry.field(description="The caller manages the project.")
    representative: bool = strawberry.field(description="The caller represents the project.")


@strawberry.type(description="A member of a project with their role there.")
class ProjectMember:
    @strawberry.field(
        description="Their highest role there: representative, else manager, else contributor."
    )
    @staticmethod
    def role(parent: strawberry.Parent[Any]) -> ProjectRole:
        return ProjectRole(parent.role)

    @strawberry.field(graphql_type=User, description="The member.")
    @staticmethod
    def user(parent: strawberry.Parent[Any]) -> Any:
        return parent

    last_image = member_activity_field(
        "last_image_id", Long | None, "The image they consulted last in the project."
    )
    last_image_name = member_activity_field(
        "last_image_name", str | None, "That image's name as the project shows it."
    )
    last_connection = member_activity_field(
        "last_connection", datetime | None, "When they last opened the project."
    )
    number_connections = member_activity_field(
        "frequency", int, "How many times they opened the project."
    )


ProjectMemberConnection = Connection[ProjectMember]


@strawberry.type(description="A report of a project's members, as its file holds it.")
class ProjectMemberReport(ReportFileFields):
    @strawberry.field(description="The header of the report's table.")
    def columns(self) -> list[str]:
        return list(project.MEMBER_REPORT_COLUMNS)

    @strawberry.field(
        description="The members with their role, by username; a page of `first` (default "
        "100, at most the GraphQL page cap) as every GraphQL list."
    )
    async def members(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> ProjectMemberConnection:
        page = await project.project_members(
            info.context, self.file.project.id, limit=first, offset=offset, sort="username",
            order="asc",
        )  # fmt: skip
        return connection(page)


async def _project_of(parent: Any, info: Info) -> Any:
    return await info.context.loader(projects_by_id).load(parent.project_id)


async def _user_of(parent: Any, info: Info) -> Any:
    return await info.context.loader(users_by_id).load(parent.user_id)


@strawberry.type(description="A contact person of a project; a project keeps at least one.")
class ProjectRepresentativeUser:
    id: Long
    created: datetime
    updated: datetime
    project_id: Long
    user_id: Long

    @strawberry.field(graphql_type=ProjectType | None)
    @staticmethod
    async def project(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _project_of(parent, info)

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _user_of(parent, info)


@strawberry.type(description="A member's annotation layer the viewer shows or hides by default.")
class ProjectDefaultLayer:
    id: Long
    created: datetime
    updated: datetime
    project_id: Long
    user_id: Long
    hide_by_default: bool = strawberry.field(
        description="True: the viewer hides the member's layer at first; false: it shows it."
    )

    @strawberry.field(graphql_type=ProjectType | None)
    @staticmethod
    async def project(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _project_of(parent, info)

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _user_of(parent, info)


@strawberry.type(description="A collaborative workspace: images, an ontology, members.")
class Project:
    id: Long
    created: datetime
    updated: datetime
    name: str
    ontology_id: Long | None
    creator_id: Long | None
    blind_mode: bool = strawberry.field(
        description="Image names hidden from its contributors (the images' ids shown instead)."
    )
    are_images_downloadable: bool = strawberry.field(
        description="Contributors may download its images (managers always may)."
    )
    is_closed: bool = strawberry.field(description="Marked closed; nothing enforces it.")
    hide_users_layers: bool = strawberry.field(
        description="Contributors' annotations hidden from the other contributors."
    )
    hide_admins_layers: bool = strawberry.field(
        description="Managers' annotations hidden from contributors."
    )
    images = strawberry.field(
        resolver=project_images,
        description="Its images, newest first; sort and filters as `imageInstances`.",
    )
    tags = tags_field(PROJECT_CLASS)
    properties = properties_field(PROJECT_CLASS)
    attached_files = attached_files_field(PROJECT_CLASS)
    description = description_field(PROJECT_CLASS)
    connections = connections_field()
    consultations = consultations_field()
    online_users = online_users_field("project")
    annotations = annotations_field("project", "of this project")

    @strawberry.field(
        description="Who may change what: CLASSIC (every member), RESTRICTED (contributors "
        "their own annotations and images only), READ_ONLY (managers only)."
    )
    @staticmethod
    def mode(parent: strawberry.Parent[Any]) -> ProjectMode:
        return ProjectMode(parent.mode)

    @strawberry.field(description="`mode` is READ_ONLY.")
    @staticmethod
    def is_read_only(parent: strawberry.Parent[Any]) -> bool:
        return bool(parent.mode == ProjectMode.READ_ONLY.value)

    @strawberry.field(description="`mode` is RESTRICTED.")
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

    @strawberry.field(
        graphql_type=Annotated["Ontology", strawberry.lazy("schema.ontology")] | None,
        description="The terms its annotations take.",
    )
    @staticmethod
    async def ontology(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.ontology_id is None:
            return None
        return await info.context.loader(ontologies_by_id).load(parent.ontology_id)

    @strawberry.field(description="Its ontology's name.")
    @staticmethod
    async def ontology_name(parent: strawberry.Parent[Any], info: Info) -> str | None:
        if parent.ontology_id is None:
            return None
        ontology = await info.context.loader(ontologies_by_id).load(parent.ontology_id)
        return None if ontology is None else str(ontology.name)

    @strawberry.field(description="How many members the project has.")
    @staticmethod
    async def members_count(parent: strawberry.Parent[Any], info: Info) -> int:
        return await project.members_count(info.context, parent)

    @strawberry.field(description="When the newest entry of the project's history was written.")
    @staticmethod
    async def last_activity(parent: strawberry.Parent[Any], info: Info) -> datetime | None:
        return await project.last_activity(info.context, parent)

    @strawberry.field(description="Whether you manage and whether you represent the project.")
    @staticmethod
    async def current_user_roles(parent: strawberry.Parent[Any], info: Info) -> CurrentUserRoles:
        admin, representative = await project.current_user_roles(info.context, parent)
        return CurrentUserRoles(admin=admin, representative=representative)

    @strawberry.field(
        description="The members with their role; newest user first. Sort on user fields, "
        "`projectRole`, `fullName`, `lastImageName`, `lastConnection` or `frequency`; "
        "filter on them (`projectRole` in, `fullName` ilike, `status` equals online); "
        "`online` keeps those connected in the last 300 s."
    )
    @staticmethod
    async def members(
        parent: strawberry.Parent[Any],
        info: Info,
        first: int | None = None,
        offset: int = 0,
        sort: str | None = None,
        order: str | None = None,
        filters: list[FilterInput] | None = None,
        online: Annotated[
            bool, about("Keeps only the members connected to the project in the last 300 s.")
        ] = False,
    ) -> ProjectMemberConnection:
        chosen = to_filters(filters)
        if online:
            chosen.append(Filter("status", "equals", "online"))
        page = await project.project_members(
            info.context, parent.id, limit=first, offset=offset, sort=sort, order=order,
            filters=chosen,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(description="The managers (ADMINISTRATION on the project).")
    @staticmethod
    async def managers(
        parent: strawberry.Parent[Any], info: Info, first: int | None = None, offset: int = 0
    ) -> UserConnection:
        page = await project.project_members(
            info.context, parent.id, limit=first, offset=offset, managers_only=True
        )
        return connection(page)

    @strawberry.field(
        graphql_type=list[ProjectRepresentativeUser],
        description="Its contact persons, oldest first.",
    )
    @staticmethod
    async def representatives(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await project.project_representatives(info.context, parent.id)

    @strawberry.field(graphql_type=User | None, description="Who created the project.")
    @staticmethod
    async def creator(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await project.project_creator(info.context, parent.id)

    @strawberry.field(
        graphql_type=list[ProjectDefaultLayer],
        description="The members' layers the viewer shows or hides by default, oldest first.",
    )
    @staticmethod
    async def default_layers(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await project.project_default_layers(info.context, parent.id)

    @strawberry.field(
        graphql_type=list[User],
        description="The members whose annotation layers you may see (hideUsersLayers, "
        "hideAdminsLayers), yours included.",
    )
    @staticmethod
    async def user_layers(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await project.user_layers(info.context, parent.id)

    @strawberry.field(
        graphql_type=list[SoftwareProjectType],
        description="Its links to the software it offers, oldest first.",
    )
    @staticmethod
    async def software_projects(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await project_software_projects(info.context, parent.id)

    @strawberry.field(graphql_type=list[SoftwareType], description="Software offered, by name.")
    @staticmethod
    async def softwares(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await project_softwares(info.context, parent.id)


@strawberry.type(description="Smallest and largest values over the projects you may read.")
class ProjectBounds:
    created: DateTimeBounds
    updated: DateTimeBounds
    mode: StringBounds
    name: StringBounds
    number_of_annotations: IntBounds
    number_of_job_annotations: IntBounds
    number_of_reviewed_annotations: IntBounds
    number_of_images: IntBounds
    members: IntBounds | None = strawberry.field(description="Only with `withMembersCount`.")


@strawberry.type(description="A project in your last-opened list.")
class LastOpenedProject:
    project_id: Long
    date: datetime = strawberry.field(
        description="When you last opened it (when `opened` is false, when it was created)."
    )
    opened: bool = strawberry.field(
        description="False: the project only completes the list as a recent creation."
    )

    @strawberry.field(graphql_type=ProjectType | None)
    async def project(self, info: Info) -> Any:
        return await info.context.loader(projects_by_id).load(self.project_id)

    @classmethod
    def of(cls, row: OpenedProject) -> LastOpenedProject:
        return cls(project_id=Long(row.project_id), date=row.date, opened=row.opened)


@strawberry.type(description="A user's membership of a project, as a change left it.")
class ProjectMembership:
    project_id: Long
    user_id: Long
    manager: bool = strawberry.field(description="The change was to the manager role.")

    @strawberry.field(graphql_type=ProjectType)
    async def project(self, info: Info) -> Any:
        return await info.context.found(projects_by_id, int(self.project_id), "Project")

    @strawberry.field(graphql_type=User)
    async def user(self, info: Info) -> Any:
        return await info.context.found(users_by_id, int(self.user_id), "User")


@strawberry.type(description="What a multi-user membership change did.")
class ProjectMembersPayload:
    project_id: Long
    done: list[Long] = strawberry.field(description="The users added or removed.")
    failed: list[Long] = strawberry.field(description="Well-formed ids naming no user.")
    malformed: list[str] = strawberry.field(description="Ids that are not numbers.")

    @classmethod
    def of(cls, change: MembershipChange) -> ProjectMembersPayload:
        return cls(project_id=Long(change.project_id), done=[Long(i) for i in change.done],
                   failed=[Long(i) for i in change.failed], malformed=change.malformed)  # fmt: skip


@strawberry.input(description="A project's writable fields. An update replaces them all.")
class ProjectInput:
    name: str | None = None
    ontology: Long | None = None
    mode: ProjectMode | None = strawberry.field(
        default=None, description="Wins over isReadOnly and isRestricted when given."
    )
    is_read_only: bool | None = strawberry.field(
        default=None, description="Without `mode`: true makes it READ_ONLY."
    )
    is_restricted: bool | None = strawberry.field(
        default=None,
        description="Without `mode`, unless isReadOnly: true makes it RESTRICTED, else CLASSIC.",
    )
    blind_mode: bool | None = strawberry.field(
        default=None, description="Hide image names from its contributors; false if null."
    )
    are_images_downloadable: bool | None = strawberry.field(
        default=None, description="Let contributors download its images; false if null."
    )
    is_closed: bool | None = strawberry.field(
        default=None, description="Mark it closed (nothing enforces it); false if null."
    )
    hide_users_layers: bool | None = strawberry.field(
        default=None,
        description="Hide contributors' annotations from the other contributors; false if null.",
    )
    hide_admins_layers: bool | None = strawberry.field(
        default=None, description="Hide managers' annotations from contributors; false if null."
    )
    users: list[Long] | None = strawberry.field(
        default=None, description="Contributors: on update, replaces them (you stay)."
    )
    admins: list[Long] | None = strawberry.field(
        default=None, description="Managers: on update, replaces them (you stay)."
    )
    representatives: list[Long] | None = strawberry.field(
        default=None, description="On update, replaces the representatives."
    )
    force_ontology_update: bool | None = strawberry.field(
        default=None,
        description="On update, lets an ontology change delete the terms users put on the "
        "project's annotations (reviewed terms still refuse it).",
    )

    def fields(self) -> ProjectFields:
        values = dataclasses.asdict(self)
        values["mode"] = self.mode.value if self.mode is not None else None
        return ProjectFields(**values)


@strawberry.input(description="Someone new to invite to a project, with Cytomine's names.")
class ProjectInvitationInput:
    name: str | None = strawberry.field(default=None, description="Their username.")
    firstname: str | None = strawberry.field(default=None, description="Their first name.")
    lastname: str | None = strawberry.field(default=None, description="Their last name.")
    mail: str | None = strawberry.field(default=None, description="Their e-mail address.")

    def fields(self) -> InvitationFields:
        return InvitationFields(**dataclasses.asdict(self))


@strawberry.input(description="A default layer: the project, a member, shown or hidden.")
class ProjectDefaultLayerInput:
    project: Long | None = None
    user: Long | None = None
    hide_by_default: bool | None = strawberry.field(
        default=None, description="Hide the member's layer at first; false if null."
    )

    def fields(self) -> DefaultLayerFields:
        return DefaultLayerFields(**dataclasses.asdict(self))


@strawberry.input(description="A representative: the project and one of its members.")
class ProjectRepresentativeUserInput:
    project: Long | None = None
    user: Long | None = None

    def fields(self) -> RepresentativeFields:
        return RepresentativeFields(**dataclasses.asdict(self))


@strawberry.type
class ProjectPayload:
    project: Any = strawberry.field(graphql_type=Project)
    command: Command


@strawberry.type(description="An invitation: the user created (and its command).")
class ProjectInvitationPayload:
    user: Any = strawberry.field(graphql_type=User)
    command: Command
    project_id: Long

    @strawberry.field(graphql_type=ProjectType | None)
    async def project(self, info: Info) -> Any:
        return await _project_of(self, info)


@strawberry.type
class ProjectDefaultLayerPayload:
    project_default_layer: Any = strawberry.field(graphql_type=ProjectDefaultLayer)
    command: Command


@strawberry.type
class ProjectRepresentativeUserPayload:
    project_representative_user: Any = strawberry.field(graphql_type=ProjectRepresentativeUser)
    command: Command


ProjectConnection = Connection[Project]


def _payload(changed: Changed) -> ProjectPayload:
    return ProjectPayload(project=changed.row, command=Command.of(changed.command))


def _layer_payload(changed: Changed) -> ProjectDefaultLayerPayload:
    return ProjectDefaultLayerPayload(
        project_default_layer=changed.row, command=Command.of(changed.command)
    )


def _representative_payload(changed: Changed) -> ProjectRepresentativeUserPayload:
    return ProjectRepresentativeUserPayload(
        project_representative_user=changed.row, command=Command.of(changed.command)
    )


def _bounds(found: dict[str, project.Bounds]) -> ProjectBounds:
    def pair(kind: Any, key: str) -> Any:
        return kind(min=found[key].min, max=found[key].max)

    return ProjectBounds(
        created=pair(DateTimeBounds, "created"),
        updated=pair(DateTimeBounds, "updated"),
        mode=pair(StringBounds, "mode"),
        name=pair(StringBounds, "name"),
        number_of_annotations=pair(IntBounds, "numberOfAnnotations"),
        number_of_job_annotations=pair(IntBounds, "numberOfJobAnnotations"),
        number_of_reviewed_annotations=pair(IntBounds, "numberOfReviewedAnnotations"),
        number_of_images=pair(IntBounds, "numberOfImages"),
        members=pair(IntBounds, "members") if "members" in found else None,
    )


@strawberry.type
class ProjectQuery:
    @strawberry.field(graphql_type=Project, description="A project the caller may read.")
    async def project(self, info: Info, id: Long) -> Any:
        return await project.get_project(info.context, id)

    @strawberry.field(
        description="The projects you may read (all for administrators), newest first; "
        "`userId` keeps those the user is a member of, `ontologyId` those using it. The "
        "`with…` flags let you sort and filter on membersCount, lastActivity, currentUserRole."
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
        with_members_count: Annotated[
            bool,
            about("Computes `membersCount` in the list's query: `sort` and `filters` may use it."),
        ] = False,
        with_last_activity: Annotated[
            bool,
            about("Computes `lastActivity` in the list's query: `sort` and `filters` may use it."),
        ] = False,
        with_current_user_roles: Annotated[
            bool,
            about(
                "Computes your role in each project in the list's query: `sort` and `filters` "
                "may use `currentUserRole` (manager or contributor)."
            ),
        ] = False,
    ) -> ProjectConnection:
        extras = ProjectExtras(with_members_count, with_last_activity, with_current_user_roles)
        page = await project.list_projects(
            info.context, limit=first, offset=offset, sort=sort, order=order,
            filters=to_filters(filters), user_id=user_id, ontology_id=ontology_id, extras=extras,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(description="A report of a project's members (csv, xls, xlsx or pdf).")
    async def project_member_report(
        self,
        info: Info,
        project_id: Long,
        format: Annotated[
            ReportFormat, about("The file's format: CSV, XLS, XLSX or PDF (GEOJSON is refused).")
        ],
    ) -> ProjectMemberReport:
        file = await project.member_report(info.context, project_id, format)
        return ProjectMemberReport(file=file)

    @strawberry.field(description="Bounds of the project fields, for list filters.")
    async def project_bounds(
        self,
        info: Info,
        with_members_count: Annotated[
            bool, about("Also gives the range of the projects' member counts (`members`).")
        ] = False,
    ) -> ProjectBounds:
        found = await project.project_bounds(info.context, with_members_count=with_members_count)
        return _bounds(found)

    @strawberry.field(
        description="The projects a user is a member of, manages or created, by name "
        "(the user themself or an administrator)."
    )
    async def user_projects(
        self,
        info: Info,
        user_id: Long,
        relation: Annotated[
            ProjectRelation, about("Which of the user's projects: member of, managed or created.")
        ] = ProjectRelation.MEMBER,
        first: int | None = None,
        offset: int = 0,
    ) -> ProjectConnection:
        page = await project.list_user_projects(
            info.context,
            user_id,
            cast("project.ProjectRelation", relation.value),
            limit=first,
            offset=offset,
        )
        return connection(page)

    @strawberry.field(description="Your last opened projects, newest first (default 5).")
    async def last_opened_projects(
        self, info: Info, first: int | None = None
    ) -> list[LastOpenedProject]:
        rows = await project.last_opened_projects(info.context, first)
        return [LastOpenedProject.of(row) for row in rows]

    @strawberry.field(graphql_type=ProjectDefaultLayer, description="In `projectId` when given.")
    async def project_default_layer(
        self, info: Info, id: Long, project_id: Long | None = None
    ) -> Any:
        return await project.get_default_layer(info.context, id, project_id)

    @strawberry.field(
        graphql_type=ProjectRepresentativeUser, description="In `projectId` if given."
    )
    async def project_representative_user(
        self, info: Info, id: Long, project_id: Long | None = None
    ) -> Any:
        return await project.get_representative(info.context, id, project_id)


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
        self,
        info: Info,
        project_id: Long,
        user_id: Long,
        manager: Annotated[
            bool,
            about("Makes them a manager rather than a contributor; rights they already hold stay."),
        ] = False,
    ) -> ProjectMembership:
        await project.add_member(info.context, project_id, user_id, manager=manager)
        return ProjectMembership(project_id=project_id, user_id=user_id, manager=manager)

    @strawberry.mutation(
        description="Remove a member from the project, or (`manager`) only their manager role. "
        "Managers may remove anyone; anyone may remove themself."
    )
    async def project_member_remove(
        self,
        info: Info,
        project_id: Long,
        user_id: Long,
        manager: Annotated[
            bool,
            about(
                "Withdraws only their manager role (they stay a contributor) rather than their "
                "membership."
            ),
        ] = False,
    ) -> ProjectMembership:
        await project.remove_member(info.context, project_id, user_id, manager=manager)
        return ProjectMembership(project_id=project_id, user_id=user_id, manager=manager)

    @strawberry.mutation(
        description="Add several contributors (managers); ids naming no user, or that are not "
        "numbers, are reported and the others added."
    )
    async def project_members_add(
        self,
        info: Info,
        project_id: Long,
        user_ids: Annotated[
            list[strawberry.ID],
            about(
                "The ids of the users to add (1 to 1000); those that name no user or are not "
                "numbers are reported, not refused."
            ),
        ],
    ) -> ProjectMembersPayload:
        change = await project.add_members(info.context, project_id, [str(i) for i in user_ids])
        return ProjectMembersPayload.of(change)

    @strawberry.mutation(
        description="Invite someone new (managers): creates their account, makes them a "
        "contributor and e-mails them a sign-in token to set a password with. UNAVAILABLE "
        "without a mail server, BAD_GATEWAY (nothing kept) when it fails."
    )
    async def project_invite(
        self, info: Info, project_id: Long, input: ProjectInvitationInput
    ) -> ProjectInvitationPayload:
        changed = await project.invite_to_project(info.context, project_id, input.fields())
        return ProjectInvitationPayload(
            user=changed.row, command=Command.of(changed.command), project_id=project_id
        )

    @strawberry.mutation(description="Remove several members (managers, or yourself).")
    async def project_members_remove(
        self,
        info: Info,
        project_id: Long,
        user_ids: Annotated[
            list[strawberry.ID],
            about(
                "The ids of the members to remove (1 to 1000); those that name no user or are "
                "not numbers are reported, not refused."
            ),
        ],
    ) -> ProjectMembersPayload:
        change = await project.remove_members(info.context, project_id, [str(i) for i in user_ids])
        return ProjectMembersPayload.of(change)

    @strawberry.mutation(description="Show or hide a member's layer by default (managers).")
    async def project_default_layer_create(
        self, info: Info, input: ProjectDefaultLayerInput
    ) -> ProjectDefaultLayerPayload:
        return _layer_payload(await project.create_default_layer(info.context, input.fields()))

    @strawberry.mutation(description="Replace a default layer (managers); in `projectId` if given.")
    async def project_default_layer_update(
        self, info: Info, id: Long, input: ProjectDefaultLayerInput, project_id: Long | None = None
    ) -> ProjectDefaultLayerPayload:
        changed = await project.update_default_layer(info.context, id, input.fields(), project_id)
        return _layer_payload(changed)

    @strawberry.mutation(description="Remove a default layer (managers); in `projectId` if given.")
    async def project_default_layer_delete(
        self, info: Info, id: Long, project_id: Long | None = None
    ) -> ProjectDefaultLayerPayload:
        return _layer_payload(await project.delete_default_layer(info.context, id, project_id))

    @strawberry.mutation(description="Make a member a representative of the project (managers).")
    async def project_representative_user_create(
        self, info: Info, input: ProjectRepresentativeUserInput
    ) -> ProjectRepresentativeUserPayload:
        changed = await project.create_representative(info.context, input.fields())
        return _representative_payload(changed)

    @strawberry.mutation(
        description="Remove a representative by id, or by project and user (managers); "
        "the last one stays."
    )
    async def project_representative_user_delete(
        self,
        info: Info,
        id: Long | None = None,
        project_id: Long | None = None,
        user_id: Long | None = None,
    ) -> ProjectRepresentativeUserPayload:
        changed = await project.delete_representative(
            info.context, row_id=id, project_id=project_id, user_id=user_id
        )
        return _representative_payload(changed)
