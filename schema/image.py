"""Image instances and slice instances in the graph (contract images-annotations.md §2.6–§2.7,
§11): `project { images { slices abstractImage { uploadedFile storage } } }`.

Sources are the rows of resolvers/image/rows.py, which already carry what the abstract image and
its file give an instance; links to other objects go through DataLoaders. Names follow blind
mode (resolvers.image.image_names), so GraphQL and REST show the same thing to the same viewer.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final

import strawberry

from resolvers import image as images
from resolvers.abstract_image import (
    abstract_images_by_id,
    abstract_slices_by_id,
    apparent_channels,
    zoom_levels,
)
from resolvers.abstract_image import is_virtual as is_virtual_format
from resolvers.annotation.count import index_by_slice
from resolvers.crud import Changed
from resolvers.image import (
    FieldBounds,
    ImageInstanceFields,
    OpenedImage,
    SliceInstanceFields,
    image_instances_by_id,
    last_opened_by_image,
)
from resolvers.metadata_target import IMAGE_INSTANCE_CLASS, SLICE_INSTANCE_CLASS
from resolvers.pixels import PixelArgs, PixelKind, histogram_bounds
from resolvers.project import projects_by_id
from resolvers.track import tracks_by_image
from resolvers.user import users_by_id
from schema.activity import online_users_field, positions_field
from schema.annotation_nested import annotations_field
from schema.common import (
    Command,
    Connection,
    DateTimeBounds,
    FilterInput,
    Info,
    Long,
    connection,
    loaded,
    to_filters,
)
from schema.metadata import attached_files_field, description_field, properties_field
from schema.pixels import HistogramBounds, RequestFn, image_server_request_field
from schema.tag import tags_field
from schema.user import User

if TYPE_CHECKING:
    from schema.abstract_image import AbstractImage, AbstractSlice
    from schema.annotation_count import AnnotationIndex
    from schema.project import Project
    from schema.track import Track

__all__ = [
    "ImageInstance",
    "ImageInstanceConnection",
    "ImageMutation",
    "ImageQuery",
    "SliceInstance",
    "project_images",
]

ProjectType = Annotated["Project", strawberry.lazy("schema.project")]
AbstractImageType = Annotated["AbstractImage", strawberry.lazy("schema.abstract_image")]
AbstractSliceType = Annotated["AbstractSlice", strawberry.lazy("schema.abstract_image")]
ImageInstanceType = Annotated["ImageInstance", strawberry.lazy("schema.image")]
SliceInstanceType = Annotated["SliceInstance", strawberry.lazy("schema.image")]


@strawberry.enum(description="Where an image is in its review (images-annotations.md §3.9).")
class ReviewState(Enum):
    NONE = strawberry.enum_value(
        "NONE", description="No review has begun, or the one begun was cancelled."
    )
    IN_REVIEW = strawberry.enum_value(
        "IN_REVIEW", description="A reviewer has started its review and not yet stopped it."
    )
    VALIDATED = strawberry.enum_value(
        "VALIDATED", description="Its review was stopped: the image is validated."
    )


@strawberry.type(description="Physical sizes (µm per pixel), frame rate and magnification.")
class Calibration:
    physical_size_x: float | None
    physical_size_y: float | None
    physical_size_z: float | None
    fps: float | None
    magnification: int | None


_BOUNDS: Final = PixelArgs(PixelKind.CHANNEL_HISTOGRAM_BOUNDS)


async def _bounds(
    parent: Any, info: Info, request: RequestFn, *, sliced: bool
) -> list[HistogramBounds]:
    """The histogram bounds of the object, after the checks of its histogram routes."""
    described = await request(info.context, parent, _BOUNDS)
    found = await histogram_bounds(info.context, described, sliced=sliced)
    return [HistogramBounds.of(item) for item in found]


async def _image_of(parent: Any, info: Info) -> Any:
    return await info.context.found(image_instances_by_id, parent.image_id, "ImageInstance")


# What the viewer needs of an image instance or slice instance (PIXELS.md §2): both types
# declare these fields, each resolving them from its own row.
_THUMB_URL = "Its thumbnail's URL, longest side maxSize pixels."
_TILE_URL = ("The URL of its normalized tiles, with OpenLayers' {z}, {x} and {y} placeholders "
             "(an image: its reference plane's).")  # fmt: skip
_ZOOM_LEVELS = ("The normalized pyramid's zoom levels: 0 (the smallest) to zoomLevels − 1 (full "
                "resolution).")  # fmt: skip
_MAX_SIZE = strawberry.argument(description="The thumbnail's longest side, in pixels.")
_HISTOGRAM_BOUNDS = ("Per sample, the first and last non-empty intensity (the viewer's "
                     "intensity windows), from the built-in image server.")  # fmt: skip


@strawberry.type(description="One plane (channel, z, t) of an image instance: annotations are "
                 "drawn on it.")  # fmt: skip
class SliceInstance:
    id: Long
    created: datetime
    updated: datetime
    base_slice_id: Long
    image_id: Long
    project_id: Long
    uploaded_file_id: Long | None = strawberry.field(description="The base slice's file.")
    mime: str | None
    channel: int
    z_stack: int
    time: int
    rank: int = strawberry.field(description="channel + C·(zStack + Z·time).")
    channel_name: str | None
    channel_color: str | None
    z_name: str | None
    tags = tags_field(SLICE_INSTANCE_CLASS)
    properties = properties_field(SLICE_INSTANCE_CLASS)
    attached_files = attached_files_field(SLICE_INSTANCE_CLASS)
    description = description_field(SLICE_INSTANCE_CLASS)
    annotations = annotations_field("slice", "on this slice")

    @strawberry.field(description="The plane's file; null where the project hides names.")
    @staticmethod
    async def path(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return await images.slice_path(info.context, parent)

    image = loaded(image_instances_by_id, "image_id", graphql_type=ImageInstanceType)
    project = loaded(projects_by_id, "project_id", graphql_type=ProjectType)

    @strawberry.field(
        graphql_type=AbstractSliceType | None,
        description="The storage's plane; null where the project hides names (its file is "
        "named after the original).",
    )
    @staticmethod
    async def base_slice(parent: strawberry.Parent[Any], info: Info) -> Any:
        if await images.names_hidden(info.context, parent):
            return None
        return await info.context.loader(abstract_slices_by_id).load(parent.base_slice_id)

    @strawberry.field(
        graphql_type=list[Annotated["AnnotationIndex", strawberry.lazy("schema.annotation_count")]],
        description="Per user, the annotations drawn and reviewed on this plane.",
    )
    @staticmethod
    async def annotation_index(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(index_by_slice).load(parent.id)

    @strawberry.field(description=_THUMB_URL)
    @staticmethod
    def thumb_url(
        parent: strawberry.Parent[Any], info: Info, max_size: Annotated[int, _MAX_SIZE] = 512
    ) -> str:
        return images.thumb_url(info.context, parent.id, max_size, "sliceinstance")

    @strawberry.field(description=_TILE_URL)
    @staticmethod
    def tile_url_template(parent: strawberry.Parent[Any], info: Info) -> str:
        return images.tile_url_template(info.context, parent.id)

    @strawberry.field(description=_ZOOM_LEVELS)
    @staticmethod
    async def zoom_levels(parent: strawberry.Parent[Any], info: Info) -> int:
        return zoom_levels(await _image_of(parent, info)) + 1

    @strawberry.field(description="The normalized tiles' side, in pixels.")
    @staticmethod
    async def tile_size(parent: strawberry.Parent[Any], info: Info) -> int:
        return int((await _image_of(parent, info)).tile_size)

    @strawberry.field(description=_HISTOGRAM_BOUNDS)
    @staticmethod
    async def histogram_bounds(parent: strawberry.Parent[Any], info: Info) -> list[HistogramBounds]:
        return await _bounds(parent, info, images.slice_instance_request, sliced=True)

    image_server_request = image_server_request_field(images.slice_instance_request)


@strawberry.type(description="An abstract image placed in a project, with its own name, "
                 "calibration overrides, review state and annotation counters.")  # fmt: skip
class ImageInstance:
    id: Long
    created: datetime
    updated: datetime
    base_image_id: Long
    project_id: Long
    user_id: Long | None = strawberry.field(description="Who added the image to the project.")
    review_start: datetime | None = strawberry.field(description="When its review began.")
    review_stop: datetime | None = strawberry.field(
        description="When its review was validated (null while in review)."
    )
    review_user_id: Long | None
    content_type: str | None = strawberry.field(description="The file's format (SVS…).")
    width: int | None
    height: int | None
    depth: int
    duration: int
    channels: int = strawberry.field(description="Intrinsic channels (an RGB image has 1).")
    sample_per_pixel: int
    bit_per_sample: int
    colorspace: str | None
    tile_size: int
    tags = tags_field(IMAGE_INSTANCE_CLASS)
    properties = properties_field(IMAGE_INSTANCE_CLASS)
    attached_files = attached_files_field(IMAGE_INSTANCE_CLASS)
    description = description_field(IMAGE_INSTANCE_CLASS)
    positions = positions_field()
    online_users = online_users_field("image")
    annotations = annotations_field("image", "on this image")

    @strawberry.field(
        description="Its name in the project, else the original file name; in a blind project "
        "the base image's id, and null for those who do not manage it."
    )
    @staticmethod
    async def instance_filename(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return (await images.image_names(info.context, parent)).instance_filename

    @strawberry.field(description="The original file name (blind mode as instanceFilename).")
    @staticmethod
    async def original_filename(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return (await images.image_names(info.context, parent)).original_filename

    @strawberry.field(description="The base image's id in a blind project, else null.")
    @staticmethod
    async def blinded_name(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return (await images.image_names(info.context, parent)).blinded_name

    @strawberry.field(description="The original file name; null where the project hides names.")
    @staticmethod
    async def filename(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return (await images.image_names(info.context, parent)).filename

    @strawberry.field(description="The file's path; null where the project hides names.")
    @staticmethod
    async def path(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return (await images.image_names(info.context, parent)).path

    @strawberry.field(description="Channels × samples per pixel.")
    @staticmethod
    def extrinsic_channels(parent: strawberry.Parent[Any]) -> int:
        return apparent_channels(parent)

    @strawberry.field(description="How many halvings fit the image in one tile.")
    @staticmethod
    def zoom(parent: strawberry.Parent[Any]) -> int:
        return zoom_levels(parent)

    @strawberry.field(description="A virtual stack: its planes are files of their own.")
    @staticmethod
    def is_virtual(parent: strawberry.Parent[Any]) -> bool:
        return is_virtual_format(parent.content_type)

    @strawberry.field(
        graphql_type=Calibration,
        description="The calibration in effect: the instance's override when set and non-zero, "
        "else the abstract image's.",
    )
    @staticmethod
    def calibration(parent: strawberry.Parent[Any]) -> Any:
        return images.effective_calibration(parent)

    @strawberry.field(
        graphql_type=Calibration, description="The instance's own overrides (null: inherited)."
    )
    @staticmethod
    def calibration_override(parent: strawberry.Parent[Any]) -> Any:
        return images.stored_calibration(parent)

    @strawberry.field(description="Where its review stands: not begun, in review, validated.")
    @staticmethod
    def review_state(parent: strawberry.Parent[Any]) -> ReviewState:
        return ReviewState(images.review_state(parent))

    @strawberry.field(description="User annotations on the image.")
    @staticmethod
    def number_of_annotations(parent: strawberry.Parent[Any]) -> int:
        return int(parent.count_image_annotations)

    @strawberry.field(description="Always 0: algorithm annotations no longer exist.")
    @staticmethod
    def number_of_job_annotations() -> int:
        return 0

    @strawberry.field(description="Reviewed annotations on the image.")
    @staticmethod
    def number_of_reviewed_annotations(parent: strawberry.Parent[Any]) -> int:
        return int(parent.count_image_reviewed_annotations)

    @strawberry.field(description="The thumbnail's URL (its reference plane, maxSize pixels).")
    @staticmethod
    def thumb(
        parent: strawberry.Parent[Any],
        info: Info,
        max_size: Annotated[
            int | None,
            strawberry.argument(
                description="The thumbnail's longest side, in pixels; null leaves it out of the "
                "URL, which then gives 512."
            ),
        ] = 512,
    ) -> str:
        return images.thumb_url(info.context, parent.id, max_size)

    @strawberry.field(description=_THUMB_URL)
    @staticmethod
    def thumb_url(
        parent: strawberry.Parent[Any], info: Info, max_size: Annotated[int, _MAX_SIZE] = 512
    ) -> str:
        return images.thumb_url(info.context, parent.id, max_size)

    @strawberry.field(description=_TILE_URL)
    @staticmethod
    async def tile_url_template(parent: strawberry.Parent[Any], info: Info) -> str:
        piece = await images.reference_slice(info.context, parent)
        return images.tile_url_template(info.context, piece.id)

    @strawberry.field(description=_ZOOM_LEVELS)
    @staticmethod
    def zoom_levels(parent: strawberry.Parent[Any]) -> int:
        return zoom_levels(parent) + 1

    @strawberry.field(description=_HISTOGRAM_BOUNDS)
    @staticmethod
    async def histogram_bounds(parent: strawberry.Parent[Any], info: Info) -> list[HistogramBounds]:
        return await _bounds(parent, info, images.image_instance_request, sliced=False)

    @strawberry.field(description="The macro image's URL; null for a format without one.")
    @staticmethod
    def macro_url(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return images.macro_url(info.context, parent)

    @strawberry.field(description="When you last opened the image (null: never).")
    @staticmethod
    async def last_opened(parent: strawberry.Parent[Any], info: Info) -> datetime | None:
        viewer = info.context.require_viewer()
        if info.context.activity is not None:
            await info.context.activity.settle()
        return await info.context.loader(last_opened_by_image).load((viewer.id, parent.id))

    @strawberry.field(description="Whether you manage the image's project.")
    @staticmethod
    async def viewer_manages_project(parent: strawberry.Parent[Any], info: Info) -> bool:
        return await images.viewer_manages(info.context, parent.project_id)

    project = loaded(projects_by_id, "project_id", graphql_type=ProjectType)
    user = loaded(users_by_id, "user_id", graphql_type=User | None)
    review_user = loaded(users_by_id, "review_user_id", graphql_type=User | None)

    @strawberry.field(
        graphql_type=AbstractImageType | None,
        description="The storage's image; null where the project hides names.",
    )
    @staticmethod
    async def abstract_image(parent: strawberry.Parent[Any], info: Info) -> Any:
        if await images.names_hidden(info.context, parent):
            return None
        return await info.context.loader(abstract_images_by_id).load(parent.base_image_id)

    @strawberry.field(graphql_type=list[SliceInstance], description="By channel, z, time.")
    @staticmethod
    async def slices(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await images.slices_of(info.context, parent)

    @strawberry.field(
        graphql_type=SliceInstance,
        description="The median plane (images-annotations.md §2.4): BAD_USER_INPUT when the "
        "image has no plane, NOT_FOUND when the median plane is missing.",
    )
    @staticmethod
    async def reference_slice(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await images.reference_slice(info.context, parent)

    @strawberry.field(
        graphql_type=ImageInstanceType | None,
        description="The image of the project created just before this one (Cytomine's "
        "`next`, following the newest-first order).",
    )
    @staticmethod
    async def next(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await images.neighbour_of(info.context, parent, older=True)

    @strawberry.field(
        graphql_type=ImageInstanceType | None,
        description="The image of the project created just after this one.",
    )
    @staticmethod
    async def previous(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await images.neighbour_of(info.context, parent, older=False)

    @strawberry.field(
        graphql_type=list[Annotated["Track", strawberry.lazy("schema.track")]],
        description="Its tracks, by name.",
    )
    @staticmethod
    async def tracks(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(tracks_by_image).load(parent.id)

    image_server_request = image_server_request_field(images.image_instance_request)


ImageInstanceConnection = Connection[ImageInstance]


async def project_images(
    parent: strawberry.Parent[Any],
    info: Info,
    first: int | None = None,
    offset: int = 0,
    sort: str | None = None,
    order: str | None = None,
    filters: list[FilterInput] | None = None,
) -> ImageInstanceConnection:
    """The `images` of a project: one batched SELECT for every project of a query."""
    page = await images.list_project_images(
        info.context, parent.id, limit=first, offset=offset, sort=sort, order=order,
        filters=to_filters(filters), project=parent,
    )  # fmt: skip
    return connection(page)


@strawberry.type(description="An image you opened, and when.")
class OpenedImageInstance:
    date: datetime = strawberry.field(description="When you last opened it.")

    @strawberry.field(graphql_type=ImageInstance, description="The image.")
    @staticmethod
    def image(parent: strawberry.Parent[OpenedImage]) -> Any:
        return parent.image


@strawberry.type(description="A whole-number field's range and, for a few, its values.")
class IntValueRange:
    min: int | None
    max: int | None
    values: list[int] | None = strawberry.field(
        description="Its distinct values, smallest first; null for a field that does not list them."
    )


@strawberry.type(description="A decimal field's range and, for a few, its values.")
class FloatValueRange:
    min: float | None
    max: float | None
    values: list[float] | None = strawberry.field(
        description="Its distinct values, smallest first; null for a field that does not list them."
    )


@strawberry.type(description="A text field's range and, for a few, its values.")
class TextValueRange:
    min: str | None
    max: str | None
    values: list[str] | None = strawberry.field(
        description="Its distinct values, sorted; null for a field that does not list them."
    )


def _field(graphql_type: Any) -> Any:
    return strawberry.field(graphql_type=graphql_type)


@strawberry.type(description="Ranges of a project's image fields, for filter widgets (the "
                 "calibration fields are the stored overrides, as filters read them).")  # fmt: skip
class ImageInstanceBounds:
    created: Any = _field(DateTimeBounds)
    updated: Any = _field(DateTimeBounds)
    review_start: Any = _field(DateTimeBounds)
    review_stop: Any = _field(DateTimeBounds)
    magnification: Any = _field(IntValueRange)
    physical_size_x: Any = _field(FloatValueRange)
    physical_size_y: Any = _field(FloatValueRange)
    physical_size_z: Any = _field(FloatValueRange)
    fps: Any = _field(FloatValueRange)
    count_image_annotations: Any = _field(IntValueRange)
    count_image_job_annotations: Any = _field(IntValueRange)
    count_image_reviewed_annotations: Any = _field(IntValueRange)
    width: Any = _field(IntValueRange)
    height: Any = _field(IntValueRange)
    instance_filename: Any = _field(TextValueRange)
    format: Any = _field(TextValueRange)
    mime_type: Any = _field(TextValueRange)

    @classmethod
    def of(cls, found: dict[str, FieldBounds]) -> ImageInstanceBounds:
        """From the resolver's bounds, keyed by Cytomine's (camelCase) field names."""
        return cls(**{re.sub(r"([A-Z])", r"_\1", key).lower(): value
                      for key, value in found.items()})  # fmt: skip


def _utc(value: datetime | None) -> datetime | None:
    """A date without a zone is UTC."""
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


@strawberry.input(description="An image instance's writable fields; an update replaces them "
                  "(a value equal to what the image shows keeps what it stores).")  # fmt: skip
class ImageInstanceInput:
    base_image: Long | None = None
    project: Long | None = None
    instance_filename: str | None = strawberry.field(
        default=None, description="Its name in the project (null or blank: the original name)."
    )
    magnification: int | None = strawberry.field(
        default=None, description="Its magnification (null or 0: the abstract image's)."
    )
    physical_size_x: float | None = strawberry.field(
        default=None, description="µm per pixel along x (null or 0: the abstract image's)."
    )
    physical_size_y: float | None = strawberry.field(
        default=None, description="µm per pixel along y (null or 0: the abstract image's)."
    )
    physical_size_z: float | None = strawberry.field(
        default=None, description="µm between z-planes (null or 0: the abstract image's)."
    )
    resolution: float | None = strawberry.field(
        default=None, description="Legacy name of physicalSizeX."
    )
    fps: float | None = strawberry.field(
        default=None, description="Frames per second (null or 0: the abstract image's)."
    )
    review_start: datetime | None = strawberry.field(
        default=None, description="Without a zone: UTC (REST also takes epoch milliseconds)."
    )
    review_stop: datetime | None = strawberry.field(
        default=None, description="Without a zone: UTC (REST also takes epoch milliseconds)."
    )
    review_user: Long | None = None

    def fields(self) -> ImageInstanceFields:
        values = dataclasses.asdict(self)
        values["review_start"] = _utc(self.review_start)
        values["review_stop"] = _utc(self.review_stop)
        return ImageInstanceFields(**values)


@strawberry.input(description="A slice instance's fields, all required.")
class SliceInstanceInput:
    base_slice: Long | None = None
    image: Long | None = None
    project: Long | None = None

    def fields(self) -> SliceInstanceFields:
        return SliceInstanceFields(**dataclasses.asdict(self))


@strawberry.type
class ImageInstancePayload:
    image_instance: Any = strawberry.field(graphql_type=ImageInstance)
    command: Command


@strawberry.type
class SliceInstancePayload:
    slice_instance: Any = strawberry.field(graphql_type=SliceInstance)
    command: Command


def _image_payload(changed: Changed) -> ImageInstancePayload:
    return ImageInstancePayload(image_instance=changed.row, command=Command.of(changed.command))


def _slice_payload(changed: Changed) -> SliceInstancePayload:
    return SliceInstancePayload(slice_instance=changed.row, command=Command.of(changed.command))


@strawberry.type
class ImageQuery:
    @strawberry.field(graphql_type=ImageInstance, description="An image of a project you read.")
    async def image_instance(self, info: Info, id: Long) -> Any:
        return await images.get_image_instance(info.context, id)

    @strawberry.field(
        description="A project's images, newest first; `sort` takes instance, abstract-image "
        "and file fields, the counters and blindedName (NOT_SUPPORTED for others)."
    )
    async def image_instances(
        self,
        info: Info,
        project_id: Long,
        first: int | None = None,
        offset: int = 0,
        sort: str | None = None,
        order: str | None = None,
        filters: list[FilterInput] | None = None,
    ) -> ImageInstanceConnection:
        page = await images.list_project_images(
            info.context, project_id, limit=first, offset=offset, sort=sort, order=order,
            filters=to_filters(filters),
        )  # fmt: skip
        return connection(page)

    @strawberry.field(
        description="Every image of every project the user may read; only for yourself "
        "(`userId` 0 means you)."
    )
    async def user_image_instances(
        self,
        info: Info,
        user_id: Long,
        first: int | None = None,
        offset: int = 0,
        sort: str | None = None,
        order: str | None = None,
        filters: list[FilterInput] | None = None,
    ) -> ImageInstanceConnection:
        page = await images.list_user_images(
            info.context, user_id, limit=first, offset=offset, sort=sort, order=order,
            filters=to_filters(filters),
        )  # fmt: skip
        return connection(page)

    @strawberry.field(
        description="The instances of an abstract image in the projects you may read."
    )
    async def abstract_image_instances(
        self, info: Info, abstract_image_id: Long, first: int | None = None, offset: int = 0
    ) -> ImageInstanceConnection:
        page = await images.list_abstract_image_instances(
            info.context, abstract_image_id, limit=first, offset=offset
        )
        return connection(page)

    @strawberry.field(description="Ranges of a project's image fields.")
    async def image_instance_bounds(self, info: Info, project_id: Long) -> ImageInstanceBounds:
        return ImageInstanceBounds.of(await images.image_bounds(info.context, project_id))

    @strawberry.field(
        graphql_type=list[OpenedImageInstance],
        description="The images you opened last (default 5), newest first.",
    )
    async def last_opened_image_instances(self, info: Info, first: int | None = None) -> Any:
        return await images.last_opened_images(info.context, first)

    @strawberry.field(graphql_type=SliceInstance, description="A plane of an image you read.")
    async def slice_instance(self, info: Info, id: Long) -> Any:
        return await images.get_slice_instance(info.context, id)

    @strawberry.field(graphql_type=SliceInstance, description="An image's plane at (c, z, t).")
    async def slice_instance_at(
        self,
        info: Info,
        image_instance_id: Long,
        channel: Annotated[int, strawberry.argument(description="The plane's channel, from 0.")],
        z_stack: Annotated[int, strawberry.argument(description="The plane's z-plane, from 0.")],
        time: Annotated[int, strawberry.argument(description="The plane's time point, from 0.")],
    ) -> Any:
        return await images.get_slice_at(info.context, image_instance_id, channel, z_stack, time)


@strawberry.type
class ImageMutation:
    @strawberry.mutation(
        description="Add an abstract image to a project, with a slice instance per plane."
    )
    async def image_instance_create(
        self, info: Info, input: ImageInstanceInput
    ) -> ImageInstancePayload:
        return _image_payload(await images.create_image_instance(info.context, input.fields()))

    @strawberry.mutation(
        description="Rename, calibrate, review or move an image (its base image stays)."
    )
    async def image_instance_update(
        self, info: Info, id: Long, input: ImageInstanceInput
    ) -> ImageInstancePayload:
        changed = await images.update_image_instance(info.context, id, input.fields())
        return _image_payload(changed)

    @strawberry.mutation(description="Remove an image from its project, with its planes.")
    async def image_instance_delete(self, info: Info, id: Long) -> ImageInstancePayload:
        return _image_payload(await images.delete_image_instance(info.context, id))

    @strawberry.mutation(description="Add a plane to an image instance.")
    async def slice_instance_create(
        self, info: Info, input: SliceInstanceInput
    ) -> SliceInstancePayload:
        return _slice_payload(await images.create_slice_instance(info.context, input.fields()))

    @strawberry.mutation(description="Replace a slice instance's base slice, image, project.")
    async def slice_instance_update(
        self, info: Info, id: Long, input: SliceInstanceInput
    ) -> SliceInstancePayload:
        changed = await images.update_slice_instance(info.context, id, input.fields())
        return _slice_payload(changed)

    @strawberry.mutation(description="Remove a plane from an image instance.")
    async def slice_instance_delete(self, info: Info, id: Long) -> SliceInstancePayload:
        return _slice_payload(await images.delete_slice_instance(info.context, id))
