"""Abstract images and slices in the graph (contract images-annotations.md §2.3–§2.4)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers import abstract_image
from resolvers.abstract_image import (
    AbstractImageFields,
    AbstractSliceFields,
    abstract_images_by_id,
    slices_by_abstract_image,
)
from resolvers.crud import Changed
from resolvers.storage import uploaded_files_by_id
from schema.common import Command, Info, Long
from schema.storage import UploadedFile

__all__ = ["AbstractImage", "AbstractImageMutation", "AbstractImageQuery", "AbstractSlice"]


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


@strawberry.type(description="A physical image of a storage: dimensions, calibration, format.")
class AbstractImage:
    id: Long
    created: datetime
    updated: datetime
    uploaded_file_id: Long | None
    user_id: Long | None = strawberry.field(description="The uploader.")
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

    @strawberry.field(graphql_type=UploadedFile | None)
    @staticmethod
    async def uploaded_file(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.uploaded_file_id is None:
            return None
        return await info.context.loader(uploaded_files_by_id).load(parent.uploaded_file_id)

    @strawberry.field(graphql_type=list[AbstractSlice], description="By channel, z, time.")
    @staticmethod
    async def slices(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(slices_by_abstract_image).load(parent.id)


@strawberry.input(description="An abstract image's writable fields; an update replaces them.")
class AbstractImageInput:
    uploaded_file: Long | None = None
    original_filename: str | None = None
    width: int | None = None
    height: int | None = None
    depth: int | None = None
    duration: int | None = None
    channels: int | None = None
    sample_per_pixel: int | None = None
    bit_per_sample: int | None = None
    physical_size_x: float | None = None
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    resolution: float | None = strawberry.field(
        default=None, description="Legacy name of physicalSizeX."
    )
    fps: float | None = None
    magnification: int | None = None
    colorspace: str | None = None
    tile_size: int | None = None

    def fields(self) -> AbstractImageFields:
        return AbstractImageFields(**dataclasses.asdict(self))


@strawberry.input(description="An abstract slice's writable fields.")
class AbstractSliceInput:
    image: Long | None = None
    uploaded_file: Long | None = None
    mime: str | None = None
    channel: int | None = None
    z_stack: int | None = None
    time: int | None = None
    channel_name: str | None = None
    channel_color: str | None = None
    z_name: str | None = None

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


def _image_payload(changed: Changed) -> AbstractImagePayload:
    return AbstractImagePayload(abstract_image=changed.row, command=Command.of(changed.command))


def _slice_payload(changed: Changed) -> AbstractSlicePayload:
    return AbstractSlicePayload(abstract_slice=changed.row, command=Command.of(changed.command))


@strawberry.type
class AbstractImageQuery:
    @strawberry.field(graphql_type=AbstractImage)
    async def abstract_image(self, info: Info, id: Long) -> Any:
        return await abstract_image.get_abstract_image(info.context, id)

    @strawberry.field(graphql_type=AbstractSlice)
    async def abstract_slice(self, info: Info, id: Long) -> Any:
        return await abstract_image.get_abstract_slice(info.context, id)


@strawberry.type
class AbstractImageMutation:
    @strawberry.mutation(description="Describe a physical image of an uploaded file.")
    async def abstract_image_create(
        self, info: Info, input: AbstractImageInput
    ) -> AbstractImagePayload:
        return _image_payload(
            await abstract_image.create_abstract_image(info.context, input.fields())
        )

    @strawberry.mutation(description="Add a plane; existing instances get it too.")
    async def abstract_slice_create(
        self, info: Info, input: AbstractSliceInput
    ) -> AbstractSlicePayload:
        return _slice_payload(
            await abstract_image.create_abstract_slice(info.context, input.fields())
        )
