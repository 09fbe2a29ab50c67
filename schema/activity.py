"""Activity in the graph (contract core.md §9.1, §9.16–§9.19): `project { connections(user:)
consultations onlineUsers }`, `imageInstance { positions onlineUsers }`, the histories, counts,
frequencies and resumes, and the mutations recording activity.

The fields on projects, images and members come from the factories here, each backed by a
DataLoader, so a list of projects or images with their activity costs the same number of
statements whatever its length. Records are written in batches (resolvers/activity/recorder.py):
a mutation answers the record as it will be stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import activity
from resolvers.activity import (
    PositionFields,
    member_activity_by_key,
    online_users_by_image,
    online_users_by_project,
)
from resolvers.image import image_instances_by_id, thumb_url
from resolvers.project import projects_by_id
from resolvers.user import users_by_id
from schema.common import Connection, Info, Long, about, connection
from schema.user import User

if TYPE_CHECKING:
    from schema.image import ImageInstance
    from schema.project import Project

__all__ = [
    "ActivityMutation",
    "ActivityQuery",
    "AnnotationAction",
    "ImageConsultation",
    "Position",
    "ProjectConnection",
    "connections_field",
    "consultations_field",
    "member_activity_field",
    "online_users_field",
    "positions_field",
]

ImageType = Annotated["ImageInstance", strawberry.lazy("schema.image")]
ProjectType = Annotated["Project", strawberry.lazy("schema.project")]


def _since(records: str) -> Any:
    return about(f"Counts only the {records} from this moment on; null: no lower bound.")


def _until(records: str) -> Any:
    return about(f"Counts only the {records} up to this moment; null: no upper bound.")


async def _user(parent: Any, info: Info) -> Any:
    return await info.context.loader(users_by_id).load(parent.user_id)


async def _image(parent: Any, info: Info) -> Any:
    return await info.context.loader(image_instances_by_id).load(parent.image_id)


async def _project(parent: Any, info: Info) -> Any:
    return await info.context.loader(projects_by_id).load(parent.project_id)


def _number(value: float) -> str:
    """A coordinate as WKT writes it: integral values without a decimal part."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def location_wkt(corners: list[float]) -> str:
    """A viewport as a closed WKT polygon: top-left, top-right, bottom-right, bottom-left."""
    points = [f"{_number(corners[i])} {_number(corners[i + 1])}" for i in range(0, 8, 2)]
    return f"POLYGON (({', '.join([*points, points[0]])}))"


@strawberry.type(
    name="PersistentProjectConnection",
    description="A user opening a project (`ProjectConnection` names a page of projects).",
)
class ProjectConnection:
    id: Long
    created: datetime
    user_id: Long
    project_id: Long
    os: str | None = strawberry.field(description="The operating system the client reported.")
    browser: str | None = strawberry.field(description="The browser the client reported.")
    browser_version: str | None = strawberry.field(
        description="The browser's version the client reported."
    )
    time: Long | None = strawberry.field(
        description="Milliseconds of activity: the gaps under 30 s between the user's pings, "
        "up to the next connection (or now); null on a record just made."
    )
    count_viewed_images: int | None = strawberry.field(
        description="Distinct images opened meanwhile."
    )
    count_created_annotations: int | None = strawberry.field(
        description="Annotations the user drew in the project meanwhile."
    )
    online: bool | None = strawberry.field(
        description="True on the open, newest connection of a user online in the project."
    )

    @strawberry.field(description="Always null: a connection is never updated.")
    @staticmethod
    def updated() -> datetime | None:
        return None

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _user(parent, info)

    @strawberry.field(graphql_type=ProjectType | None)
    @staticmethod
    async def project(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _project(parent, info)


@strawberry.type(description="A user opening an image (PersistentImageConsultation).")
class ImageConsultation:
    id: Long
    created: datetime
    user_id: Long
    image_id: Long
    project_id: Long
    project_connection_id: Long | None = strawberry.field(
        description="The user's connection to the project then."
    )
    mode: str | None = strawberry.field(
        description='How the image was opened, as the client put it (free text, e.g. "view").'
    )
    image_name: str | None = strawberry.field(
        description="The image's name then, as its project showed it; the base image's id "
        "while the project is blind."
    )
    time: Long | None = strawberry.field(
        description="Milliseconds of activity: the gaps under 15 s between the user's positions "
        "on the image until their next consultation of it; null while this one is the last."
    )
    count_created_annotations: int | None = strawberry.field(
        description="Annotations the user drew on the image in the same span; null when `time` is."
    )

    @strawberry.field(description="The image's thumbnail (512 pixels).")
    @staticmethod
    def image_thumb(parent: strawberry.Parent[Any], info: Info) -> str:
        return thumb_url(info.context, parent.image_id, 512)

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _user(parent, info)

    @strawberry.field(graphql_type=ImageType | None)
    @staticmethod
    async def image(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _image(parent, info)


@strawberry.type(description="A user's viewport on a slice of an image (PersistentUserPosition).")
class Position:
    id: Long
    created: datetime
    updated: datetime
    user_id: Long
    image_id: Long
    slice_id: Long
    project_id: Long
    zoom: int = strawberry.field(description="The viewer's zoom level.")
    rotation: float = strawberry.field(description="The viewer's rotation, as it sent it.")
    broadcast: bool = strawberry.field(description="Shared with the users following its user.")
    x: float = strawberry.field(description="The x of the viewport's centre.")
    y: float = strawberry.field(description="The y of the viewport's centre.")

    @strawberry.field(description="The viewport as a WKT polygon (top-left corner first).")
    @staticmethod
    def location(parent: strawberry.Parent[Any]) -> str:
        return location_wkt(list(parent.corners))

    @strawberry.field(description="The corners as [x, y] pairs, top-left first.")
    @staticmethod
    def corners(parent: strawberry.Parent[Any]) -> list[list[float]]:
        values = list(parent.corners)
        return [values[i : i + 2] for i in range(0, 8, 2)]

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _user(parent, info)

    @strawberry.field(graphql_type=ImageType | None)
    @staticmethod
    async def image(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _image(parent, info)


@strawberry.type(description="How often one viewport was seen on an image.")
class PositionSummary:
    image_id: Long
    zoom: int = strawberry.field(description="The viewer's zoom level.")
    rotation: float = strawberry.field(description="The viewer's rotation, as it sent it.")
    frequency: int = strawberry.field(description="How many positions had this viewport.")

    @strawberry.field(description="The corners as [x, y] pairs, top-left first.")
    @staticmethod
    def location(parent: strawberry.Parent[Any]) -> list[list[float]]:
        values = list(parent.corners)
        return [values[i : i + 2] for i in range(0, 8, 2)]


@strawberry.type(description="Something a user did to an annotation in the viewer.")
class AnnotationAction:
    id: Long
    created: datetime
    user_id: Long
    image_id: Long
    slice_id: Long
    project_id: Long
    action: str = strawberry.field(description='Free text, e.g. "select".')
    annotation_ident: Long = strawberry.field(
        description="The id of the annotation acted on (a user or a reviewed annotation)."
    )
    annotation_class_name: str = strawberry.field(
        description="The annotation's Cytomine class (be.cytomine.domain.ontology."
        "UserAnnotation or ReviewedAnnotation)."
    )
    annotation_creator_id: Long | None

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _user(parent, info)


@strawberry.type(description="A number of connections: of a user, or in a period from `time`.")
class ConnectionFrequency:
    frequency: float = strawberry.field(
        description="How many connections; in `averageConnections`, their share (0 to 1)."
    )
    user_id: Long | None
    time: datetime | None = strawberry.field(
        description="The start of the hour, day or week counted (in `averageConnections`, "
        "the first one in the list's range); null on counts per user."
    )


@strawberry.type(description="A user's latest connection to a project.")
class LastConnection:
    user_id: Long
    created: datetime


@strawberry.type(description="The image a user consulted last in a project.")
class LastImage:
    user_id: Long
    created: datetime
    image_id: Long
    image_name: str | None = strawberry.field(
        description="The image's name as the project shows it now (blind: the base image's id)."
    )


@strawberry.type(description="A user's consultations of one image, summed up.")
class ConsultationResume:
    project_id: Long
    user_id: Long
    image_id: Long
    image_name: str | None = strawberry.field(
        description="The image's name as the project shows it now (blind: the base image's id)."
    )
    first: datetime = strawberry.field(description="When the user first opened the image.")
    last: datetime = strawberry.field(description="When the user last opened the image.")
    frequency: int = strawberry.field(description="How many times the user opened the image.")
    time: Long = strawberry.field(description="Milliseconds of activity in all.")
    count_created_annotations: int = strawberry.field(
        description="Annotations the user drew on the image during these consultations."
    )

    @strawberry.field(description="The image's thumbnail.")
    @staticmethod
    def image_thumb(parent: strawberry.Parent[Any], info: Info) -> str:
        return thumb_url(info.context, parent.image_id, None)


@strawberry.type(description="Where an online user looks.")
class OnlinePosition:
    image_id: Long
    slice_id: Long
    image_name: str | None = strawberry.field(
        description="The image's name as the project showed it then; the base image's id while "
        "the project is blind."
    )
    date: datetime = strawberry.field(
        description="When the user's newest position on that slice was recorded."
    )


@strawberry.type(description="A user online in a project, with where they look.")
class OnlineUser:
    user_id: Long
    positions: list[OnlinePosition] = strawberry.field(
        description="The slices they looked at in the last 30 s, newest first; empty when they "
        "are only connected."
    )

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _user(parent, info)


@strawberry.type(description="A member of a project and what they last did there.")
class UserActivity:
    last_image_id: Long | None
    last_image_name: str | None = strawberry.field(
        description="The name of the image they consulted last, as the project shows it."
    )
    last_connection: datetime | None = strawberry.field(
        description="When they last opened the project; null if they never did."
    )
    frequency: int = strawberry.field(description="How many times they opened the project.")
    user: User = strawberry.field(description="The member.")


@strawberry.type(description="A user's activity in a project, summed up.")
class ActivityResume:
    first_connection: datetime | None = strawberry.field(
        description="When the user first opened the project; null if they never did."
    )
    last_connection: datetime | None = strawberry.field(
        description="When the user last opened the project; null if they never did."
    )
    total_annotations: int = strawberry.field(
        description="How many of the project's user annotations are the user's."
    )
    total_connections: int = strawberry.field(
        description="How many times the user opened the project."
    )
    total_consultations: int = strawberry.field(
        description="How many times the user opened one of its images."
    )
    total_annotation_selections: int = strawberry.field(description='Annotation actions "select".')


ProjectConnectionConnection = Connection[ProjectConnection]
ImageConsultationConnection = Connection[ImageConsultation]
PositionConnection = Connection[Position]
AnnotationActionConnection = Connection[AnnotationAction]


# --- fields of other types -------------------------------------------------------------------


def connections_field() -> Any:
    """`Project.connections(user:)`: a page of the project's connections (managers)."""

    async def resolve(
        parent: strawberry.Parent[Any],
        info: Info,
        user: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> ProjectConnectionConnection:
        page = await activity.list_connections(info.context, parent.id, user, limit=first,
                                               offset=offset)  # fmt: skip
        return connection(page)

    return strawberry.field(
        resolver=resolve,
        description="Who opened the project (one user, when given), newest first; its managers "
        "only.",
    )


def consultations_field() -> Any:
    """`Project.consultations`: a page of a user's image consultations in the project."""

    async def resolve(
        parent: strawberry.Parent[Any],
        info: Info,
        user: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> ImageConsultationConnection:
        user_id = info.context.require_viewer().id if user is None else user
        page = await activity.list_consultations(info.context, parent.id, user_id,
                                                 limit=first, offset=offset)  # fmt: skip
        return connection(page)

    return strawberry.field(
        resolver=resolve,
        description="The images a user (by default you) opened in the project, newest first; "
        "another user's: managers only.",
    )


def online_users_field(kind: str) -> Any:
    """`onlineUsers` of a project (`kind` "project": a position in the last 30 s or a ping in
    the last 300 s) or of an image ("image": a position in the last 30 s)."""
    batch = online_users_by_project if kind == "project" else online_users_by_image

    async def resolve(parent: strawberry.Parent[Any], info: Info) -> Any:
        if info.context.activity is not None:
            await info.context.activity.settle()
        ids = await info.context.loader(batch).load(parent.id)
        users = await info.context.loader(users_by_id).load_many(ids)
        return [user for user in users if user is not None]

    if kind == "image":
        window = "looking at it in the last 30 s"
    else:
        window = "looking at one of its images in the last 30 s, or pinging it in the last 300 s"
    return strawberry.field(
        resolver=resolve, graphql_type=list[User], description=f"The users {window}, by id."
    )


def positions_field() -> Any:
    """`ImageInstance.positions`: a page of the viewports seen on the image (managers)."""

    async def resolve(
        parent: strawberry.Parent[Any],
        info: Info,
        user: Long | None = None,
        slice: Long | None = None,
        after_than: datetime | None = None,
        before_than: datetime | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> PositionConnection:
        page = await activity.list_positions(
            info.context, image_id=parent.id, slice_id=slice, user_id=user, after=after_than,
            before=before_than, limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    return strawberry.field(
        resolver=resolve,
        description="The viewports users had on the image, newest first; its project's "
        "managers only.",
    )


def member_activity_field(attribute: str, graphql_type: Any, description: str) -> Any:
    """A field of a project member read from what they last did in the project."""

    async def resolve(parent: strawberry.Parent[Any], info: Info) -> Any:
        if info.context.activity is not None:
            await info.context.activity.settle()
        found = await info.context.loader(member_activity_by_key).load(
            (parent.project_id, parent.id)
        )
        return getattr(found, attribute)

    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description)


# --- inputs and payloads ---------------------------------------------------------------------


@strawberry.input(description="Opening a project.")
class ProjectConnectionInput:
    project: Long
    os: str | None = strawberry.field(
        default=None, description="Your operating system (free text, at most 255 characters)."
    )
    browser: str | None = strawberry.field(
        default=None, description="Your browser (free text, at most 255 characters)."
    )
    browser_version: str | None = strawberry.field(
        default=None, description="Your browser's version (free text, at most 255 characters)."
    )


@strawberry.input(description="Opening an image.")
class ImageConsultationInput:
    image: Long
    mode: str | None = strawberry.field(default=None, description='Free text, e.g. "view".')


@strawberry.input(description="A viewport on an image (its reference slice) or on a slice.")
class PositionInput:
    image: Long | None = None
    slice: Long | None = None
    top_left_x: float | None = strawberry.field(
        default=None, description="The x of the viewport's top-left corner, in pixels; 0 if null."
    )
    top_left_y: float | None = strawberry.field(
        default=None, description="The y of the viewport's top-left corner, in pixels; 0 if null."
    )
    top_right_x: float | None = strawberry.field(
        default=None, description="The x of the viewport's top-right corner, in pixels; 0 if null."
    )
    top_right_y: float | None = strawberry.field(
        default=None, description="The y of the viewport's top-right corner, in pixels; 0 if null."
    )
    bottom_right_x: float | None = strawberry.field(
        default=None,
        description="The x of the viewport's bottom-right corner, in pixels; 0 if null.",
    )
    bottom_right_y: float | None = strawberry.field(
        default=None,
        description="The y of the viewport's bottom-right corner, in pixels; 0 if null.",
    )
    bottom_left_x: float | None = strawberry.field(
        default=None,
        description="The x of the viewport's bottom-left corner, in pixels; 0 if null.",
    )
    bottom_left_y: float | None = strawberry.field(
        default=None,
        description="The y of the viewport's bottom-left corner, in pixels; 0 if null.",
    )
    zoom: int | None = strawberry.field(
        default=None, description="The viewer's zoom level, from 0 to 100; 0 if null."
    )
    rotation: float | None = strawberry.field(
        default=None, description="The viewer's rotation, kept as sent; 0 if null."
    )
    broadcast: bool | None = strawberry.field(
        default=None, description="Share it with the users following you; false if null."
    )

    def fields(self) -> PositionFields:
        return PositionFields(
            self.top_left_x, self.top_left_y, self.top_right_x, self.top_right_y,
            self.bottom_right_x, self.bottom_right_y, self.bottom_left_x, self.bottom_left_y,
            self.zoom, self.rotation, self.broadcast,
        )  # fmt: skip


@strawberry.input(description="Something done to an annotation of either kind.")
class AnnotationActionInput:
    annotation_ident: Long | None = strawberry.field(
        default=None, description="The id of the annotation, user or reviewed (required)."
    )
    action: str | None = strawberry.field(
        default=None,
        description='What you did to it, e.g. "select" (required, at most 255 characters).',
    )


@strawberry.type
class ProjectConnectionPayload:
    project_connection: Any = strawberry.field(graphql_type=ProjectConnection)


@strawberry.type
class ImageConsultationPayload:
    image_consultation: Any = strawberry.field(graphql_type=ImageConsultation)


@strawberry.type
class PositionPayload:
    position: Any = strawberry.field(graphql_type=Position)


@strawberry.type
class AnnotationActionPayload:
    annotation_action: Any = strawberry.field(graphql_type=AnnotationAction)


def _frequencies(found: list[activity.Frequency]) -> list[ConnectionFrequency]:
    return [ConnectionFrequency(frequency=f.frequency,
                                user_id=None if f.user_id is None else Long(f.user_id),
                                time=f.time) for f in found]  # fmt: skip


# --- roots -----------------------------------------------------------------------------------


@strawberry.type
class ActivityQuery:
    @strawberry.field(description="A project's connections (one user's), newest first; managers.")
    async def project_connections(
        self,
        info: Info,
        project: Long,
        user: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> ProjectConnectionConnection:
        page = await activity.list_connections(info.context, project, user, limit=first,
                                               offset=offset)  # fmt: skip
        return connection(page)

    @strawberry.field(
        graphql_type=list[LastConnection],
        description="Each user's latest connection to a project; managers.",
    )
    async def last_connections(self, info: Info, project: Long, user: Long | None = None) -> Any:
        return await activity.last_connections(info.context, project, user)

    @strawberry.field(
        description="Connections per user of a project (managers); with `heatmap`, per hour; "
        "with a `period` (hour, day, week), a histogram from `afterThan`. Without a project, "
        "every project's histogram (administrators)."
    )
    async def connection_frequency(
        self,
        info: Info,
        project: Long | None = None,
        user: Long | None = None,
        period: Annotated[
            str | None,
            about(
                "Counts per hour, day or week (weeks from Sunday) rather than per user; "
                "required without a project."
            ),
        ] = None,
        heatmap: Annotated[
            bool,
            about("Counts per hour from `afterThan` (`period` and `beforeThan` are then ignored)."),
        ] = False,
        after_than: datetime | None = None,
        before_than: datetime | None = None,
    ) -> list[ConnectionFrequency]:
        found = await activity.connection_frequency(
            info.context, project_id=project, user_id=user, period=period, heatmap=heatmap,
            after=after_than, before=before_than,
        )  # fmt: skip
        return _frequencies(found)

    @strawberry.field(
        description="The share of connections in each hour of the day, day of the month or "
        "week of the year (`period`)."
    )
    async def average_connections(
        self,
        info: Info,
        period: Annotated[
            str | None,
            about(
                "Required: hour, day or week, for the shares of each hour of the day, day of "
                "the month or week of the year."
            ),
        ] = None,
        project: Long | None = None,
        user: Long | None = None,
        after_than: datetime | None = None,
        before_than: datetime | None = None,
    ) -> list[ConnectionFrequency]:
        found = await activity.average_connections(
            info.context, period=period, project_id=project, user_id=user, after=after_than,
            before=before_than,
        )  # fmt: skip
        return _frequencies(found)

    @strawberry.field(description="How many connections to a project between two dates.")
    async def project_connection_count(
        self,
        info: Info,
        project: Long,
        start_date: Annotated[datetime | None, _since("connections")] = None,
        end_date: Annotated[datetime | None, _until("connections")] = None,
    ) -> int:
        return await activity.count_connections(info.context, project, start_date, end_date)

    @strawberry.field(description="The images opened during one project connection; managers.")
    async def project_connection_consultations(
        self,
        info: Info,
        id: Annotated[Long, about("The id of the project connection.")],
        first: int | None = None,
        offset: int = 0,
    ) -> ImageConsultationConnection:
        page = await activity.connection_consultations(info.context, id, limit=first,
                                                       offset=offset)  # fmt: skip
        return connection(page)

    @strawberry.field(description="A user's image consultations in a project, newest first.")
    async def image_consultations(
        self, info: Info, project: Long, user: Long, first: int | None = None, offset: int = 0
    ) -> ImageConsultationConnection:
        page = await activity.list_consultations(info.context, project, user, limit=first,
                                                 offset=offset)  # fmt: skip
        return connection(page)

    @strawberry.field(
        graphql_type=list[ConsultationResume],
        description="A user's consulted images in a project, one row each, newest first "
        "(oneself or managers).",
    )
    async def distinct_image_consultations(self, info: Info, project: Long, user: Long) -> Any:
        return await activity.distinct_consultations(info.context, project, user)

    @strawberry.field(
        graphql_type=list[ConsultationResume],
        description="Per image, a user's consultations in a project summed up (READ).",
    )
    async def image_consultation_resume(self, info: Info, project: Long, user: Long) -> Any:
        return await activity.consultation_resume(info.context, project, user)

    @strawberry.field(graphql_type=list[LastImage],
                      description="The image each user consulted last in a project.")  # fmt: skip
    async def last_images(self, info: Info, project: Long) -> Any:
        return await activity.last_images(info.context, project)

    @strawberry.field(description="How many image consultations in a project between two dates.")
    async def image_consultation_count(
        self,
        info: Info,
        project: Long,
        start_date: Annotated[datetime | None, _since("consultations")] = None,
        end_date: Annotated[datetime | None, _until("consultations")] = None,
    ) -> int:
        return await activity.count_consultations(info.context, project, start_date, end_date)

    @strawberry.field(
        graphql_type=Position | None,
        description="A user's newest position on an image in the last 60 s (only broadcast "
        "ones, on one slice); asking for another's follows them.",
    )
    async def last_position(
        self,
        info: Info,
        image: Long,
        user: Long,
        broadcast: Annotated[
            bool, about("Considers only the positions the user broadcast (shared with followers).")
        ] = False,
        slice: Long | None = None,
    ) -> Any:
        return await activity.last_position(info.context, image, user, broadcast=broadcast,
                                            slice_id=slice)  # fmt: skip

    @strawberry.field(description="The positions on an image or a slice, newest first; managers.")
    async def positions(
        self,
        info: Info,
        image: Long | None = None,
        slice: Long | None = None,
        user: Long | None = None,
        after_than: datetime | None = None,
        before_than: datetime | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> PositionConnection:
        page = await activity.list_positions(
            info.context, image_id=image, slice_id=slice, user_id=user, after=after_than,
            before=before_than, limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(
        graphql_type=list[PositionSummary],
        description="The viewports seen on an image, each with how often; managers.",
    )
    async def position_summary(
        self,
        info: Info,
        image: Long | None = None,
        slice: Long | None = None,
        user: Long | None = None,
        after_than: datetime | None = None,
        before_than: datetime | None = None,
    ) -> Any:
        return await activity.position_summary(
            info.context, image_id=image, slice_id=slice, user_id=user, after=after_than,
            before=before_than,
        )  # fmt: skip

    @strawberry.field(graphql_type=Position, description="One position record; managers.")
    async def position(self, info: Info, id: Long) -> Any:
        return await activity.get_position(info.context, id)

    @strawberry.field(description="Who looked at an image (a slice) in the last 30 s, by id.")
    async def image_online_users(
        self,
        info: Info,
        image: Long,
        slice: Long | None = None,
        broadcast: Annotated[
            bool, about("Considers only broadcast positions (shared with followers).")
        ] = False,
    ) -> list[Long]:
        found = await activity.online_on_image(info.context, image, slice_id=slice,
                                               broadcast=broadcast)  # fmt: skip
        return [Long(user) for user in found]

    @strawberry.field(description="Who followed a user's position on an image in the last 30 s.")
    async def position_followers(self, info: Info, image: Long, user: Long) -> list[Long]:
        return [Long(u) for u in await activity.position_followers(info.context, image, user)]

    @strawberry.field(graphql_type=list[OnlineUser],
                      description="The users online in a project and where they look.")  # fmt: skip
    async def project_online_users(self, info: Info, project: Long) -> Any:
        return await activity.online_in_project(info.context, project)

    @strawberry.field(graphql_type=AnnotationAction, description="One action; managers.")
    async def annotation_action(self, info: Info, id: Long) -> Any:
        return await activity.get_action(info.context, id)

    @strawberry.field(description="The actions on an image or a slice, oldest first; managers.")
    async def annotation_actions(
        self,
        info: Info,
        image: Long | None = None,
        slice: Long | None = None,
        user: Long | None = None,
        after_than: datetime | None = None,
        before_than: datetime | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> AnnotationActionConnection:
        page = await activity.list_actions(
            info.context, image_id=image, slice_id=slice, user_id=user, after=after_than,
            before=before_than, limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(description="How many annotation actions in a project between two dates.")
    async def annotation_action_count(
        self,
        info: Info,
        project: Long,
        start_date: Annotated[datetime | None, _since("actions")] = None,
        end_date: Annotated[datetime | None, _until("actions")] = None,
    ) -> int:
        return await activity.count_actions(info.context, project, start_date, end_date)

    @strawberry.field(description="Every member of a project with what they last did there.")
    async def users_activity(self, info: Info, project: Long) -> list[UserActivity]:
        found = await activity.users_activity(info.context, project)
        return [
            UserActivity(
                user=user,
                last_image_id=None if done.last_image_id is None else Long(done.last_image_id),
                last_image_name=done.last_image_name,
                last_connection=done.last_connection,
                frequency=done.frequency,
            )
            for user, done in found
        ]

    @strawberry.field(
        graphql_type=ActivityResume,
        description="A user's activity in a project (oneself or managers).",
    )
    async def user_activity_resume(self, info: Info, project: Long, user: Long) -> Any:
        return await activity.activity_resume(info.context, project, user)

    @strawberry.field(
        graphql_type=list[User],
        description="Users around a user: of a project (connected in the last 300 s, or all "
        "its members when `offline`), else sharing a project with them.",
    )
    async def friends(
        self,
        info: Info,
        user: Long,
        project: Long | None = None,
        offline: Annotated[
            bool,
            about(
                "Also lists the users not connected in the last 300 s: every member of the "
                "project, or every user sharing a project with the user."
            ),
        ] = False,
    ) -> Any:
        ids = await activity.friends(info.context, user, project_id=project, offline=offline)
        users = await info.context.loader(users_by_id).load_many(ids)
        return [found for found in users if found is not None]


@strawberry.type
class ActivityMutation:
    @strawberry.mutation(description="Record that you opened a project (not a command).")
    async def project_connection_create(
        self, info: Info, input: ProjectConnectionInput
    ) -> ProjectConnectionPayload:
        record = await activity.record_project_connection(
            info.context, input.project, input.os, input.browser, input.browser_version
        )
        return ProjectConnectionPayload(project_connection=record)

    @strawberry.mutation(description="Record that you opened an image (not a command).")
    async def image_consultation_create(
        self, info: Info, input: ImageConsultationInput
    ) -> ImageConsultationPayload:
        record = await activity.record_consultation(info.context, input.image, input.mode)
        return ImageConsultationPayload(image_consultation=record)

    @strawberry.mutation(description="Record your viewport on an image (not a command).")
    async def position_create(self, info: Info, input: PositionInput) -> PositionPayload:
        record = await activity.record_position(
            info.context, input.fields(), image_id=input.image, slice_id=input.slice
        )
        return PositionPayload(position=record)

    @strawberry.mutation(description="Record what you did to an annotation (not a command).")
    async def annotation_action_create(
        self, info: Info, input: AnnotationActionInput
    ) -> AnnotationActionPayload:
        record = await activity.record_annotation_action(info.context, input.annotation_ident,
                                                         input.action)  # fmt: skip
        return AnnotationActionPayload(annotation_action=record)
