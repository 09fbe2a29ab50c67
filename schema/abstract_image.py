"""Abstract images and slices in the graph (contract images-annotations.md §2.3–§2.4)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import abstract_image
from resolvers.abstract_image import (
    AbstractImageFields,
    AbstractSliceFields,
    abstract_images_by_id,
    apparent_channels,
    dimensions,
    image_file,
    is_virtual,
    macro_url,
    slice_path,
    slice_rank,
    slices_by_abstract_image,
    zoom_levels,
)
from resolvers.companion_file import companion_files_by_image
from resolvers.crud import Changed
from resolvers.metadata_target import ABSTRACT_IMAGE_CLASS
from resolvers.pixels import pixel_url
from resolvers.storage import storages_by_id, uploaded_files_by_id
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
from schema.metadata import attached_files_field, description_field, properties_field
from schema.pixels import image_server_request_field
from schema.storage import Storage
from schema.tag import tags_field
from schema.uploaded_file import UploadedFile
from schema.user import User

if TYPE_CHECKING:
    from schema.companion_file import CompanionFile

__all__ = ["AbstractImage", "AbstractImageMutation", "AbstractImageQuery", "AbstractSlice"]

CompanionFileType = Annotated["CompanionFile", strawberry.lazy("schema.companion_file")]


@strawberry.type(description="One plane (channel, z, t) of an abstract image.")
class AbstractSlice:
    id: Long
    created: datetime
    updated: datetime
    image_id: Long
    uploaded_file_id: Long | None
    mime: str | None
    channel: int
    z_stack: int
    time: int
    channel_name: str | None
    channel_color: str | None
    z_name: str | None

    @strawberry.field(
        graphql_type=Annotated["AbstractImage", strawberry.lazy("schema.abstract_image")] | None
    )
    @staticmethod
    async def image(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(abstract_images_by_id).load(parent.image_id)

    @strawberry.field(graphql_type=UploadedFile | None)
    @staticmethod
    async def uploaded_file(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.uploaded_file_id is None:
            return None
        return await info.context.loader(uploaded_files_by_id).load(parent.uploaded_file_id)

    @strawberry.field(description="Its file on the image server (a virtual stack: the image's).")
    @staticmethod
    async def path(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return await slice_path(info.context, parent)

    @strawberry.field(description="channel + C·(zStack + Z·time) in its image's C×Z×T planes.")
    @staticmethod
    async def rank(parent: strawberry.Parent[Any], info: Info) -> int | None:
        image = await info.context.loader(abstract_images_by_id).load(parent.image_id)
        return None if image is None else slice_rank(parent, image)

    image_server_request = image_server_request_field(abstract_image.abstract_slice_request)


@strawberry.type(description="A physical image of a storage: dimensions, calibration, format.")
class AbstractImage:
    id: Long
    created: datetime
    updated: datetime
    uploaded_file_id: Long | None
    user_id: Long | None = strawberry.field(description="Who created it.")
    original_filename: str
    width: int | None
    height: int | None
    depth: int
    duration: int
    channels: int = strawberry.field(description="Intrinsic channels (an RGB image has 1).")
    sample_per_pixel: int
    bit_per_sample: int
    physical_size_x: float | None = strawberry.field(description="µm per pixel.")
    physical_size_y: float | None
    physical_size_z: float | None
    fps: float | None
    magnification: int | None
    colorspace: str | None
    tile_size: int
    tags = tags_field(ABSTRACT_IMAGE_CLASS)
    properties = properties_field(ABSTRACT_IMAGE_CLASS)
    attached_files = attached_files_field(ABSTRACT_IMAGE_CLASS)
    description = description_field(ABSTRACT_IMAGE_CLASS)

    @strawberry.field(description="Its name: the original file name.")
    @staticmethod
    def filename(parent: strawberry.Parent[Any]) -> str:
        return str(parent.original_filename)

    @strawberry.field(description="Its file's path under the image server's root.")
    @staticmethod
    async def path(parent: strawberry.Parent[Any], info: Info) -> str | None:
        upload = await image_file(info.context, parent)
        return None if upload is None else str(upload.filename)

    @strawberry.field(description="Its file's format (the image server's id: SVS, NDPI…).")
    @staticmethod
    async def content_type(parent: strawberry.Parent[Any], info: Info) -> str | None:
        upload = await image_file(info.context, parent)
        return None if upload is None else str(upload.content_type)

    @strawberry.field(description="A virtual stack: its planes are files of their own.")
    @staticmethod
    async def is_virtual(parent: strawberry.Parent[Any], info: Info) -> bool:
        upload = await image_file(info.context, parent)
        return upload is not None and is_virtual(upload.content_type)

    @strawberry.field(description='"XY", then C, Z, T for the axes with several planes.')
    @staticmethod
    def dimensions(parent: strawberry.Parent[Any]) -> str:
        return dimensions(parent)

    @strawberry.field(description="How many times it halves before it fits one tile.")
    @staticmethod
    def zoom(parent: strawberry.Parent[Any]) -> int:
        return zoom_levels(parent)

    @strawberry.field(description="Channels × samples per pixel.")
    @staticmethod
    def extrinsic_channels(parent: strawberry.Parent[Any]) -> int:
        return apparent_channels(parent)

    @strawberry.field(description="Channels × samples per pixel: what a viewer shows.")
    @staticmethod
    def apparent_channels(parent: strawberry.Parent[Any]) -> int:
        return apparent_channels(parent)

    @strawberry.field(description="Its thumbnail (512 px).")
    @staticmethod
    def thumb_url(parent: strawberry.Parent[Any], info: Info) -> str:
        return pixel_url(info.context, "abstractimage", parent.id, "thumb.png?maxSize=512")

    @strawberry.field(description="Its preview (1024 px).")
    @staticmethod
    def preview_url(parent: strawberry.Parent[Any], info: Info) -> str:
        return pixel_url(info.context, "abstractimage", parent.id, "thumb.png?maxSize=1024")

    @strawberry.field(description="Its macro image; null for a format without one.")
    @staticmethod
    async def macro_url(parent: strawberry.Parent[Any], info: Info) -> str | None:
        upload = await image_file(info.context, parent)
        content_type = None if upload is None else upload.content_type
        return macro_url(info.context, "abstractimage", parent.id, content_type)

    @strawberry.field(
        description="In a list asked with `projectId`: whether that project holds it."
    )
    @staticmethod
    def in_project(parent: strawberry.Parent[Any]) -> bool:
        return bool(getattr(parent, "in_project", False))

    @strawberry.field(graphql_type=UploadedFile | None)
    @staticmethod
    async def uploaded_file(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await image_file(info.context, parent)

    @strawberry.field(graphql_type=Storage | None, description="The storage holding its file.")
    @staticmethod
    async def storage(parent: strawberry.Parent[Any], info: Info) -> Any:
        upload = await image_file(info.context, parent)
        return (
            None
            if upload is None
            else await info.context.loader(storages_by_id).load(upload.storage_id)
        )

    @strawberry.field(graphql_type=User | None, description="Who uploaded its file.")
    @staticmethod
    async def uploader(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await abstract_image.image_uploader(info.context, parent)

    @strawberry.field(graphql_type=list[AbstractSlice], description="By channel, z, time.")
    @staticmethod
    async def slices(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(slices_by_abstract_image).load(parent.id)

    @strawberry.field(graphql_type=list[CompanionFileType], description="Oldest first.")
    @staticmethod
    async def companion_files(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(companion_files_by_image).load(parent.id)

    @strawberry.field(description="Legacy: its URLs on the image server (none without one).")
    @staticmethod
    async def image_server_urls(parent: strawberry.Parent[Any], info: Info) -> list[str]:
        return await abstract_image.image_server_urls(info.context, parent)

    image_server_request = image_server_request_field(abstract_image.abstract_image_request)


@strawberry.input(description="An abstract image's writable fields; an update replaces them.")
class AbstractImageInput:
    uploaded_file: Long | None = None
    original_filename: str | None = strawberry.field(
        default=None, description="The name of the file it was uploaded as; required, not blank."
    )
    width: int | None = strawberry.field(
        default=None, description="Its width in pixels, at full resolution (at least 1)."
    )
    height: int | None = strawberry.field(
        default=None, description="Its height in pixels, at full resolution (at least 1)."
    )
    depth: int | None = strawberry.field(
        default=None, description="How many z-planes it has (null: 1)."
    )
    duration: int | None = strawberry.field(
        default=None, description="How many time points it has (null: 1)."
    )
    channels: int | None = strawberry.field(
        default=None, description="Intrinsic channels; an RGB image has 1 (null: 1)."
    )
    sample_per_pixel: int | None = strawberry.field(
        default=None, description="Samples per pixel, 3 for RGB (null: 1)."
    )
    bit_per_sample: int | None = strawberry.field(
        default=None, description="Bits per sample (null: 8)."
    )
    physical_size_x: float | None = strawberry.field(
        default=None, description="µm per pixel along x, positive (null: unknown)."
    )
    physical_size_y: float | None = strawberry.field(
        default=None, description="µm per pixel along y, positive (null: unknown)."
    )
    physical_size_z: float | None = strawberry.field(
        default=None, description="µm between z-planes, positive (null: unknown)."
    )
    resolution: float | None = strawberry.field(
        default=None, description="Legacy name of physicalSizeX; wins when both are given."
    )
    fps: float | None = strawberry.field(
        default=None, description="Frames per second of its time points, positive (null: unknown)."
    )
    magnification: int | None = strawberry.field(
        default=None, description="The objective magnification it was scanned at (at least 1)."
    )
    colorspace: str | None = strawberry.field(
        default=None, description="Its colour space (legacy free text)."
    )
    tile_size: int | None = strawberry.field(
        default=None, description="The side of its tiles, in pixels (null: 256)."
    )

    def fields(self) -> AbstractImageFields:
        return AbstractImageFields(**dataclasses.asdict(self))


@strawberry.input(description="An abstract slice's writable fields; an update replaces them.")
class AbstractSliceInput:
    image: Long | None = None
    uploaded_file: Long | None = None
    mime: str | None = strawberry.field(
        default=None,
        description="Its format, one of Cytomine's MIME types (openslide/svs, image/pyrtiff…).",
    )
    channel: int | None = strawberry.field(
        default=None, description="Its channel, from 0 (null: 0)."
    )
    z_stack: int | None = strawberry.field(
        default=None, description="Its z-plane, from 0 (null: 0)."
    )
    time: int | None = strawberry.field(
        default=None, description="Its time point, from 0 (null: 0)."
    )
    channel_name: str | None = strawberry.field(default=None, description="Its channel's name.")
    channel_color: str | None = strawberry.field(
        default=None, description="Its channel's display colour, as #rrggbb."
    )
    z_name: str | None = strawberry.field(default=None, description="Its z-plane's name.")

    def fields(self) -> AbstractSliceFields:
        return AbstractSliceFields(**dataclasses.asdict(self))


@strawberry.type
class AbstractImagePayload:
    abstract_image: Any = strawberry.field(graphql_type=AbstractImage)
    command: Command


@strawberry.type
class AbstractSlicePayload:
    abstract_slice: Any = strawberry.field(graphql_type=AbstractSlice)
    command: Command


def _plane(part: str) -> Any:
    return about(f"With `abstractImageId`: the slice's {part}, from 0 (ignored with `id`).")


def _image_payload(changed: Changed) -> AbstractImagePayload:
    return AbstractImagePayload(abstract_image=changed.row, command=Command.of(changed.command))


def _slice_payload(changed: Changed) -> AbstractSlicePayload:
    return AbstractSlicePayload(abstract_slice=changed.row, command=Command.of(changed.command))


AbstractImageConnection = Connection[AbstractImage]
AbstractSliceConnection = Connection[AbstractSlice]


@strawberry.type
class AbstractImageQuery:
    @strawberry.field(
        graphql_type=AbstractImage,
        description="An image you may read, by id or as the first image of an uploaded file.",
    )
    async def abstract_image(
        self, info: Info, id: Long | None = None, uploaded_file_id: Long | None = None
    ) -> Any:
        return await abstract_image.get_abstract_image(
            info.context, id, uploaded_file_id=uploaded_file_id
        )

    @strawberry.field(
        description="The images of the storages you read, newest first; `projectId` sets "
        "`inProject`, `unused` keeps those without instance or companion file."
    )
    async def abstract_images(
        self,
        info: Info,
        project_id: Long | None = None,
        unused: Annotated[
            bool, about("Keeps only the images with neither an instance nor a companion file.")
        ] = False,
        filters: list[FilterInput] | None = None,
        sort: str | None = None,
        order: str | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> AbstractImageConnection:
        page = await abstract_image.list_abstract_images(
            info.context, project_id=project_id, unused=unused, filters=to_filters(filters),
            sort=sort, order=order, limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(graphql_type=User, description="Who uploaded an image (NOT_FOUND: unknown).")
    async def abstract_image_uploader(
        self, info: Info, id: Annotated[Long, about("The id of the abstract image.")]
    ) -> Any:
        return await abstract_image.get_abstract_image_uploader(info.context, id)

    @strawberry.field(
        graphql_type=AbstractSlice,
        description="A slice, by id or by its image and plane (channel, zStack, time).",
    )
    async def abstract_slice(
        self,
        info: Info,
        id: Long | None = None,
        abstract_image_id: Long | None = None,
        channel: Annotated[int, _plane("channel")] = 0,
        z_stack: Annotated[int, _plane("z-plane")] = 0,
        time: Annotated[int, _plane("time point")] = 0,
    ) -> Any:
        return await abstract_image.get_abstract_slice(
            info.context, id, image_id=abstract_image_id, channel=channel, z_stack=z_stack,
            time=time,
        )  # fmt: skip

    @strawberry.field(description="The slices of an image, or stored in an uploaded file.")
    async def abstract_slices(
        self,
        info: Info,
        abstract_image_id: Long | None = None,
        uploaded_file_id: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> AbstractSliceConnection:
        page = await abstract_image.list_abstract_slices(
            info.context, image_id=abstract_image_id, uploaded_file_id=uploaded_file_id,
            limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(graphql_type=User, description="Who uploaded a slice (NOT_FOUND: unknown).")
    async def abstract_slice_uploader(
        self, info: Info, id: Annotated[Long, about("The id of the abstract slice.")]
    ) -> Any:
        return await abstract_image.get_abstract_slice_uploader(info.context, id)


@strawberry.type
class AbstractImageMutation:
    @strawberry.mutation(description="Describe a physical image of an uploaded file.")
    async def abstract_image_create(
        self, info: Info, input: AbstractImageInput
    ) -> AbstractImagePayload:
        return _image_payload(
            await abstract_image.create_abstract_image(info.context, input.fields())
        )

    @strawberry.mutation(
        description="Replace an image's fields; a calibration change follows into the "
        "instances that copied the old value."
    )
    async def abstract_image_update(
        self, info: Info, id: Long, input: AbstractImageInput
    ) -> AbstractImagePayload:
        return _image_payload(
            await abstract_image.update_abstract_image(info.context, id, input.fields())
        )

    @strawberry.mutation(description="Delete an image and its slices (FORBIDDEN while used).")
    async def abstract_image_delete(self, info: Info, id: Long) -> AbstractImagePayload:
        return _image_payload(await abstract_image.delete_abstract_image(info.context, id))

    @strawberry.mutation(
        description="Refresh an image's fields from the image server's reading of its file "
        "(`deep`: its slices' channels too); true even when the file could not be read, as "
        "Cytomine answers."
    )
    async def abstract_image_properties_extract(
        self,
        info: Info,
        id: Annotated[Long, about("The id of the abstract image.")],
        deep: Annotated[
            bool,
            about(
                "Also refreshes each channel's name and colour on its slices (from an external "
                "image server only)."
            ),
        ] = False,
    ) -> bool:
        await abstract_image.extract_abstract_image_properties(info.context, id, deep)
        return True

    @strawberry.mutation(description="Add a plane; existing instances get it too.")
    async def abstract_slice_create(
        self, info: Info, input: AbstractSliceInput
    ) -> AbstractSlicePayload:
        return _slice_payload(
            await abstract_image.create_abstract_slice(info.context, input.fields())
        )

    @strawberry.mutation(description="Replace a slice's fields.")
    async def abstract_slice_update(
        self, info: Info, id: Long, input: AbstractSliceInput
    ) -> AbstractSlicePayload:
        return _slice_payload(
            await abstract_image.update_abstract_slice(info.context, id, input.fields())
        )

    @strawberry.mutation(description="Delete a slice (FORBIDDEN while a project uses it).")
    async def abstract_slice_delete(self, info: Info, id: Long) -> AbstractSlicePayload:
        return _slice_payload(await abstract_image.delete_abstract_slice(info.context, id))
