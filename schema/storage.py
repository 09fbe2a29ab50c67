"""Storages and their members in the graph (contract core.md §9.7)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import storage, uploaded_file
from resolvers.crud import Changed
from resolvers.storage import StorageFields, storages_by_id
from resolvers.user import users_by_id
from schema.common import Command, Connection, Info, Long, connection
from schema.user import User

if TYPE_CHECKING:
    from schema.uploaded_file import UploadedFile

__all__ = ["Storage", "StorageMutation", "StorageQuery"]


async def _users(info: Info, ids: list[int]) -> list[Any]:
    """The users of `ids` (resolvers.storage cannot load users: resolvers.user imports it)."""
    users = await info.context.loader(users_by_id).load_many(ids)
    return [user for user in users if user is not None]


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

    @strawberry.field(
        graphql_type=Connection[Annotated["UploadedFile", strawberry.lazy("schema.uploaded_file")]],
        description="Its files, newest first; `onlyRoots`: those without a parent. READ on the "
        "storage (FORBIDDEN otherwise).",
    )
    @staticmethod
    async def uploaded_files(
        parent: strawberry.Parent[Any],
        info: Info,
        first: int | None = None,
        offset: int = 0,
        only_roots: Annotated[
            bool, strawberry.argument(description="Keeps only the files without a parent.")
        ] = False,
    ) -> Any:
        page = await uploaded_file.files_of_storage(
            info.context, parent.id, limit=first, offset=offset, only_roots=only_roots
        )
        return connection(page)

    @strawberry.field(
        graphql_type=list[User],
        description="Who holds rights on it, by username; READ on it (FORBIDDEN otherwise).",
    )
    @staticmethod
    async def members(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await _users(info, await storage.list_storage_members(info.context, parent.id))


@strawberry.input(description="A storage's writable fields; only administrators set the owner.")
class StorageInput:
    name: str | None = None
    user: Long | None = strawberry.field(default=None, description="The owner (client 3).")
    user_id: Long | None = strawberry.field(default=None, description="The owner (client 4).")

    def fields(self) -> StorageFields:
        return StorageFields(**dataclasses.asdict(self))


@strawberry.type
class StoragePayload:
    storage: Any = strawberry.field(graphql_type=Storage)
    command: Command


def _payload(changed: Changed) -> StoragePayload:
    return StoragePayload(storage=changed.row, command=Command.of(changed.command))


StorageConnection = Connection[Storage]


@strawberry.type
class StorageQuery:
    @strawberry.field(description="The storages you hold rights on; `all` (admins): every one.")
    async def storages(
        self,
        info: Info,
        all: Annotated[
            bool,
            strawberry.argument(
                description="Lists every storage for an administrator; ignored for anyone else."
            ),
        ] = False,
        first: int | None = None,
        offset: int = 0,
    ) -> StorageConnection:
        page = await storage.list_storages(info.context, every=all, limit=first, offset=offset)
        return connection(page)

    @strawberry.field(graphql_type=Storage, description="A storage you may read.")
    async def storage(self, info: Info, id: Long) -> Any:
        return await storage.get_storage(info.context, id)

    @strawberry.field(graphql_type=list[User], description="Who holds rights on a storage.")
    async def storage_members(self, info: Info, storage_id: Long) -> Any:
        return await _users(info, await storage.list_storage_members(info.context, storage_id))


@strawberry.type(description="A user's rights on a storage, as a change left them.")
class StorageMembership:
    storage_id: Long
    user_id: Long

    @strawberry.field(graphql_type=Storage)
    async def storage(self, info: Info) -> Any:
        return await info.context.found(storages_by_id, int(self.storage_id), "Storage")

    @strawberry.field(graphql_type=User)
    async def user(self, info: Info) -> Any:
        return await info.context.found(users_by_id, int(self.user_id), "User")


@strawberry.type
class StorageMutation:
    @strawberry.mutation(description="Create a storage; you own it unless an admin says who.")
    async def storage_create(self, info: Info, input: StorageInput) -> StoragePayload:
        return _payload(await storage.create_storage(info.context, input.fields()))

    @strawberry.mutation(description="Rename a storage (administrators: change its owner).")
    async def storage_update(self, info: Info, id: Long, input: StorageInput) -> StoragePayload:
        return _payload(await storage.update_storage(info.context, id, input.fields()))

    @strawberry.mutation(description="Delete a storage that holds no file.")
    async def storage_delete(self, info: Info, id: Long) -> StoragePayload:
        return _payload(await storage.delete_storage(info.context, id))

    @strawberry.mutation(description="Give a user READ and WRITE on a storage.")
    async def storage_member_add(
        self, info: Info, storage_id: Long, user_id: Long
    ) -> StorageMembership:
        await storage.add_storage_member(info.context, storage_id, user_id)
        return StorageMembership(storage_id=storage_id, user_id=user_id)

    @strawberry.mutation(
        description="Withdraw a user's rights on a storage (anyone may leave; the owner stays)."
    )
    async def storage_member_remove(
        self, info: Info, storage_id: Long, user_id: Long
    ) -> StorageMembership:
        await storage.remove_storage_member(info.context, storage_id, user_id)
        return StorageMembership(storage_id=storage_id, user_id=user_id)
