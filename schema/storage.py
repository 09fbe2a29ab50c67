"""Storages and uploaded files in the graph (contract core.md §9.7, images-annotations.md
§2.1)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers import storage
from resolvers.crud import Changed
from resolvers.storage import (
    UploadedFileFields,
    is_archive,
    storages_by_id,
    uploaded_file_status,
    uploaded_files_by_id,
)
from resolvers.user import users_by_id
from schema.common import Command, Connection, Info, Long, connection
from schema.user import User

__all__ = ["Storage", "StorageMutation", "StorageQuery", "UploadedFile"]


@strawberry.type(description="A place files are uploaded to; its owner and members may use it.")
class Storage:
    id: Long
    created: datetime
    updated: datetime
    name: str
    user_id: Long = strawberry.field(description="The owner.")

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.user_id)


@strawberry.type(description="A file in a storage; archives and conversions have children.")
class UploadedFile:
    id: Long
    created: datetime
    updated: datetime
    user_id: Long
    storage_id: Long
    parent_id: Long | None
    original_filename: str
    filename: str
    ext: str
    content_type: str = strawberry.field(description="The image server's format id (SVS…).")
    size: Long = strawberry.field(description="Bytes.")
    status: int = strawberry.field(description="Even < 100: in progress; even ≥ 100: done.")
    projects: list[Long] | None = strawberry.field(
        description="Projects the upload must be added to."
    )

    @strawberry.field(description="The name of `status` (null for an unknown code).")
    @staticmethod
    def status_text(parent: strawberry.Parent[Any]) -> str | None:
        return uploaded_file_status(parent.status)

    @strawberry.field(description="The file's path under the image server's root.")
    @staticmethod
    def path(parent: strawberry.Parent[Any]) -> str:
        return str(parent.filename)

    @strawberry.field
    @staticmethod
    def is_archive(parent: strawberry.Parent[Any]) -> bool:
        return is_archive(parent.content_type)

    @strawberry.field(graphql_type=Storage | None)
    @staticmethod
    async def storage(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(storages_by_id).load(parent.storage_id)

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(users_by_id).load(parent.user_id)

    @strawberry.field(
        graphql_type=Annotated["UploadedFile", strawberry.lazy("schema.storage")] | None
    )
    @staticmethod
    async def parent(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.parent_id is None:
            return None
        return await info.context.loader(uploaded_files_by_id).load(parent.parent_id)


@strawberry.input(description="An uploaded file's writable fields; an update replaces them.")
class UploadedFileInput:
    user: Long | None = None
    storage: Long | None = None
    parent: Long | None = None
    original_filename: str | None = None
    filename: str | None = None
    ext: str | None = None
    content_type: str | None = None
    size: Long | None = None
    status: int | None = None
    projects: list[Long] | None = None

    def fields(self) -> UploadedFileFields:
        return UploadedFileFields(**dataclasses.asdict(self))


@strawberry.type
class UploadedFilePayload:
    uploaded_file: Any = strawberry.field(graphql_type=UploadedFile)
    command: Command


def _file_payload(changed: Changed) -> UploadedFilePayload:
    return UploadedFilePayload(uploaded_file=changed.row, command=Command.of(changed.command))


StorageConnection = Connection[Storage]


@strawberry.type
class StorageQuery:
    @strawberry.field(description="The storages you hold rights on; `all` (admins): every one.")
    async def storages(
        self, info: Info, all: bool = False, first: int | None = None, offset: int = 0
    ) -> StorageConnection:
        page = await storage.list_storages(info.context, every=all, limit=first, offset=offset)
        return connection(page)

    @strawberry.field(graphql_type=Storage, description="A storage you may read.")
    async def storage(self, info: Info, id: Long) -> Any:
        return await storage.get_storage(info.context, id)

    @strawberry.field(graphql_type=UploadedFile, description="A file of a storage you may read.")
    async def uploaded_file(self, info: Info, id: Long) -> Any:
        return await storage.get_uploaded_file(info.context, id)


@strawberry.type
class StorageMutation:
    @strawberry.mutation(description="Register an uploaded file (WRITE on its storage).")
    async def uploaded_file_create(
        self, info: Info, input: UploadedFileInput
    ) -> UploadedFilePayload:
        return _file_payload(await storage.create_uploaded_file(info.context, input.fields()))
