"""Companion files in the graph (contract images-annotations.md §2.5, §9.3)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import companion_file
from resolvers.abstract_image import abstract_images_by_id
from resolvers.companion_file import CompanionFileFields
from resolvers.crud import Changed
from resolvers.storage import uploaded_file_status, uploaded_files_by_id
from schema.common import Command, Connection, Info, Long, connection
from schema.pixels import image_server_request_field
from schema.uploaded_file import UploadedFile
from schema.user import User

if TYPE_CHECKING:
    from schema.abstract_image import AbstractImage

__all__ = ["CompanionFile", "CompanionFileMutation", "CompanionFileQuery"]


async def _upload(info: Info, parent: Any) -> Any:
    if parent.uploaded_file_id is None:
        return None
    return await info.context.loader(uploaded_files_by_id).load(parent.uploaded_file_id)


@strawberry.type(description="An extra file of an abstract image (an HDF5 profile…).")
class CompanionFile:
    id: Long
    created: datetime
    updated: datetime
    image_id: Long
    uploaded_file_id: Long | None
    original_filename: str = strawberry.field(description="The name it was uploaded as.")
    filename: str = strawberry.field(description="Its file's name.")
    type: str = strawberry.field(description='"HDF5" marks a profile.')
    progress: int = strawberry.field(description="Its progress, in percent (0 to 100).")

    @strawberry.field(
        graphql_type=Annotated["AbstractImage", strawberry.lazy("schema.abstract_image")] | None
    )
    @staticmethod
    async def image(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(abstract_images_by_id).load(parent.image_id)

    @strawberry.field(graphql_type=UploadedFile | None)
    @staticmethod
    async def uploaded_file(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _upload(info, parent)

    @strawberry.field(description="Its uploaded file's path on the image server.")
    @staticmethod
    async def path(parent: strawberry.Parent[Any], info: Info) -> str | None:
        upload = await _upload(info, parent)
        return None if upload is None else str(upload.filename)

    @strawberry.field(description="Its uploaded file's status.")
    @staticmethod
    async def status(parent: strawberry.Parent[Any], info: Info) -> int | None:
        upload = await _upload(info, parent)
        return None if upload is None else int(upload.status)

    @strawberry.field(description="The name of its uploaded file's status.")
    @staticmethod
    async def status_text(parent: strawberry.Parent[Any], info: Info) -> str | None:
        upload = await _upload(info, parent)
        return None if upload is None else uploaded_file_status(upload.status)

    image_server_request = image_server_request_field(companion_file.companion_file_request)


@strawberry.input(description="A companion file's writable fields; an update replaces them.")
class CompanionFileInput:
    uploaded_file: Long | None = None
    image: Long | None = None
    original_filename: str | None = strawberry.field(
        default=None, description="The name it was uploaded as (null: its filename)."
    )
    filename: str | None = strawberry.field(
        default=None, description="Its file's name; required, not blank."
    )
    type: str | None = strawberry.field(
        default=None, description='Its kind; required, not blank ("HDF5" marks a profile).'
    )
    progress: int | None = strawberry.field(
        default=None, description="Its progress in percent, 0 to 100 (null: 0)."
    )

    def fields(self) -> CompanionFileFields:
        return CompanionFileFields(**dataclasses.asdict(self))


@strawberry.type
class CompanionFilePayload:
    companion_file: Any = strawberry.field(graphql_type=CompanionFile)
    command: Command


def _payload(changed: Changed) -> CompanionFilePayload:
    return CompanionFilePayload(companion_file=changed.row, command=Command.of(changed.command))


CompanionFileConnection = Connection[CompanionFile]


@strawberry.type
class CompanionFileQuery:
    @strawberry.field(graphql_type=CompanionFile)
    async def companion_file(self, info: Info, id: Long) -> Any:
        return await companion_file.get_companion_file(info.context, id)

    @strawberry.field(description="The companion files of an image or of an uploaded file.")
    async def companion_files(
        self,
        info: Info,
        abstract_image_id: Long | None = None,
        uploaded_file_id: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> CompanionFileConnection:
        page = await companion_file.list_companion_files(
            info.context, image_id=abstract_image_id, uploaded_file_id=uploaded_file_id,
            limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(graphql_type=User, description="Who uploaded it (NOT_FOUND: unknown).")
    async def companion_file_uploader(
        self,
        info: Info,
        id: Annotated[Long, strawberry.argument(description="The id of the companion file.")],
    ) -> Any:
        return await companion_file.get_companion_file_uploader(info.context, id)


@strawberry.type
class CompanionFileMutation:
    @strawberry.mutation(description="Attach a file to an abstract image.")
    async def companion_file_create(
        self, info: Info, input: CompanionFileInput
    ) -> CompanionFilePayload:
        return _payload(await companion_file.create_companion_file(info.context, input.fields()))

    @strawberry.mutation(description="Replace a companion file's fields.")
    async def companion_file_update(
        self, info: Info, id: Long, input: CompanionFileInput
    ) -> CompanionFilePayload:
        return _payload(
            await companion_file.update_companion_file(info.context, id, input.fields())
        )

    @strawberry.mutation(description="Delete a companion file.")
    async def companion_file_delete(self, info: Info, id: Long) -> CompanionFilePayload:
        return _payload(await companion_file.delete_companion_file(info.context, id))
