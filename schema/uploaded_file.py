"""Uploaded files in the graph: the file tree of a storage and what was made from each file
(contract images-annotations.md §2.1, §9.7)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import uploaded_file
from resolvers.abstract_image import abstract_images_by_uploaded_file, slices_by_uploaded_file
from resolvers.companion_file import companion_files_by_uploaded_file
from resolvers.crud import Changed
from resolvers.storage import is_archive, storages_by_id, uploaded_file_status, uploaded_files_by_id
from resolvers.uploaded_file import UploadedFileFields
from resolvers.user import users_by_id
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
from schema.pixels import image_server_request_field
from schema.storage import Storage
from schema.user import User

if TYPE_CHECKING:
    from schema.abstract_image import AbstractImage, AbstractSlice
    from schema.companion_file import CompanionFile

__all__ = [
    "UploadedFile",
    "UploadedFileConnection",
    "UploadedFileMutation",
    "UploadedFileQuery",
    "UploadedFileRoot",
]

AbstractImageType = Annotated["AbstractImage", strawberry.lazy("schema.abstract_image")]
AbstractSliceType = Annotated["AbstractSlice", strawberry.lazy("schema.abstract_image")]
CompanionFileType = Annotated["CompanionFile", strawberry.lazy("schema.companion_file")]


@strawberry.type(description="A file in a storage; archives and conversions have children.")
class UploadedFile:
    id: Long
    created: datetime
    updated: datetime
    user_id: Long = strawberry.field(description="The uploader.")
    storage_id: Long
    parent_id: Long | None
    original_filename: str = strawberry.field(description="The name it was uploaded as.")
    filename: str = strawberry.field(description="Its path under the image server's root.")
    ext: str = strawberry.field(description="Its extension (an import leaves it empty).")
    content_type: str = strawberry.field(description="The image server's format id (SVS…).")
    size: Long = strawberry.field(description="Bytes.")
    status: int = strawberry.field(description="Even < 100: in progress; even ≥ 100: done.")
    projects: list[Long] | None = strawberry.field(
        description="Projects the upload must be added to."
    )
    l_tree: str = strawberry.field(description="The id path from the root: 12.40.41.")

    @strawberry.field(description="The name of `status` (null for an unknown code).")
    @staticmethod
    def status_text(parent: strawberry.Parent[Any]) -> str | None:
        return uploaded_file_status(parent.status)

    @strawberry.field(description="The file's path under the image server's root.")
    @staticmethod
    def path(parent: strawberry.Parent[Any]) -> str:
        return str(parent.filename)

    @strawberry.field(description="An archive (ZIP, TAR…): its members are its children.")
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
        graphql_type=Annotated["UploadedFile", strawberry.lazy("schema.uploaded_file")] | None,
        description="The file it came from (an archive…); READ on that file's storage.",
    )
    @staticmethod
    async def parent(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.parent_id is None:
            return None
        return await uploaded_file.get_uploaded_file(info.context, parent.parent_id)

    @strawberry.field(
        graphql_type=Connection[Annotated["UploadedFile", strawberry.lazy("schema.uploaded_file")]],
        description="Its children (archive members, conversions), oldest first; READ on its "
        "storage (FORBIDDEN otherwise).",
    )
    @staticmethod
    async def children(
        parent: strawberry.Parent[Any], info: Info, first: int | None = None, offset: int = 0
    ) -> Any:
        page = await uploaded_file.children_of(info.context, parent, limit=first, offset=offset)
        return connection(page)

    @strawberry.field(
        graphql_type=list[AbstractImageType], description="The images made from it, oldest first."
    )
    @staticmethod
    async def abstract_images(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(abstract_images_by_uploaded_file).load(parent.id)

    @strawberry.field(graphql_type=list[AbstractSliceType], description="The planes it stores.")
    @staticmethod
    async def abstract_slices(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(slices_by_uploaded_file).load(parent.id)

    @strawberry.field(
        graphql_type=list[CompanionFileType],
        description="The companion files stored in it, oldest first.",
    )
    @staticmethod
    async def companion_files(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(companion_files_by_uploaded_file).load(parent.id)

    @strawberry.field(description="Its first image's thumbnail, else its first slice's.")
    @staticmethod
    async def thumb_url(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return await uploaded_file.file_thumb_url(info.context, parent)

    @strawberry.field(description="Its first image's macro image, when the format has one.")
    @staticmethod
    async def macro_url(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return await uploaded_file.file_macro_url(info.context, parent)

    image_server_request = image_server_request_field(uploaded_file.uploaded_file_request)


UploadedFileConnection = Connection[UploadedFile]


@strawberry.type(
    description="A row of a storage's page: a root file or an archive member, with its first "
    "image's size and, with tree details, its descendants' number and total size."
)
class UploadedFileRoot:
    id: Long
    created: datetime
    content_type: str = strawberry.field(description="The image server's format id (SVS…).")
    filename: str = strawberry.field(description="Its path under the image server's root.")
    original_filename: str = strawberry.field(description="The name it was uploaded as.")
    size: Long = strawberry.field(description="Bytes.")
    status: int = strawberry.field(
        description="Even < 100: in progress; even ≥ 100: done; odd: failed."
    )
    storage_id: Long
    user_id: Long
    width: int | None = strawberry.field(
        description="Its first image's width in pixels (null: no image)."
    )
    height: int | None = strawberry.field(
        description="Its first image's height in pixels (null: no image)."
    )
    magnification: int | None = strawberry.field(
        description="Its first image's objective magnification (null: no image or unknown)."
    )
    root_id: Long = strawberry.field(description="The root of its tree.")
    image_id: Long | None = strawberry.field(description="Its image, once deployed.")
    is_archive: bool = strawberry.field(
        description="Always false: the page lists the members of archives, not archives."
    )
    nb_children: Long | None = strawberry.field(description="Its descendants (tree details).")
    global_size: Long | None = strawberry.field(description="Its size and its descendants'.")

    @strawberry.field(description="Its image's thumbnail; null while `imageId` is.")
    @staticmethod
    def thumb_url(parent: strawberry.Parent[Any], info: Info) -> str | None:
        return uploaded_file.image_thumb_url(info.context, parent.image_id)

    @strawberry.field(graphql_type=UploadedFile | None, description="The file this row shows.")
    @staticmethod
    async def uploaded_file(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(uploaded_files_by_id).load(parent.id)


@strawberry.input(description="An uploaded file's writable fields; an update replaces them.")
class UploadedFileInput:
    user: Long | None = None
    storage: Long | None = None
    parent: Long | None = None
    original_filename: str | None = strawberry.field(
        default=None, description="The name it was uploaded as; required, not blank."
    )
    filename: str | None = strawberry.field(
        default=None, description="Its path under the image server's root; required, not blank."
    )
    ext: str | None = strawberry.field(default=None, description="Its extension (null: empty).")
    content_type: str | None = strawberry.field(
        default=None, description="The image server's format id, SVS… (null: empty)."
    )
    size: Long | None = strawberry.field(default=None, description="Bytes, not negative (null: 0).")
    status: int | None = strawberry.field(
        default=None, description="Its status code; any code is accepted (null: 0, UPLOADED)."
    )
    projects: list[Long] | None = None

    def fields(self) -> UploadedFileFields:
        return UploadedFileFields(**dataclasses.asdict(self))


@strawberry.type
class UploadedFilePayload:
    uploaded_file: Any = strawberry.field(graphql_type=UploadedFile)
    command: Command


def _payload(changed: Changed) -> UploadedFilePayload:
    return UploadedFilePayload(uploaded_file=changed.row, command=Command.of(changed.command))


@strawberry.type
class UploadedFileQuery:
    @strawberry.field(graphql_type=UploadedFile, description="A file of a storage you may read.")
    async def uploaded_file(self, info: Info, id: Long) -> Any:
        return await uploaded_file.get_uploaded_file(info.context, id)

    @strawberry.field(
        description="With `rootId`: that file's subtree by tree path. Else your uploads, or "
        "with `all` (administrators) everyone's; `parentId` and `onlyRoots` narrow them."
    )
    async def uploaded_files(
        self,
        info: Info,
        root_id: Annotated[
            Long | None,
            about(
                "Lists the file with this id and all its descendants, by tree path (`all`, "
                "`parentId`, `onlyRoots`, `sort` and `order` are then ignored)."
            ),
        ] = None,
        all: Annotated[
            bool,
            about("Lists every user's files in every storage (administrators only)."),
        ] = False,
        parent_id: Annotated[
            Long | None, about("Keeps only the children of the file with this id.")
        ] = None,
        only_roots: Annotated[bool, about("Keeps only the files without a parent.")] = False,
        sort: str | None = None,
        order: str | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> UploadedFileConnection:
        page = await uploaded_file.list_uploaded_files(
            info.context, root_id=root_id, every=all, parent_id=parent_id, only_roots=only_roots,
            sort=sort, order=order, limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)

    @strawberry.field(
        description="The storage page: root files and archive members of the storages you "
        "read, filtered and sorted on any of their columns."
    )
    async def uploaded_file_roots(
        self,
        info: Info,
        with_tree_details: Annotated[
            bool,
            about(
                "Counts each row's descendants (`nbChildren`) and their total size "
                "(`globalSize`); false leaves both null and answers sooner."
            ),
        ] = True,
        filters: list[FilterInput] | None = None,
        sort: str | None = None,
        order: str | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> Connection[UploadedFileRoot]:
        page = await uploaded_file.list_uploaded_file_roots(
            info.context, tree_details=with_tree_details, filters=to_filters(filters),
            sort=sort, order=order, limit=first, offset=offset,
        )  # fmt: skip
        return connection(page)


@strawberry.type
class UploadedFileMutation:
    @strawberry.mutation(description="Register an uploaded file (WRITE on its storage).")
    async def uploaded_file_create(
        self, info: Info, input: UploadedFileInput
    ) -> UploadedFilePayload:
        return _payload(await uploaded_file.create_uploaded_file(info.context, input.fields()))

    @strawberry.mutation(description="Replace a file's fields (status, size, format, path…).")
    async def uploaded_file_update(
        self, info: Info, id: Long, input: UploadedFileInput
    ) -> UploadedFilePayload:
        return _payload(await uploaded_file.update_uploaded_file(info.context, id, input.fields()))

    @strawberry.mutation(
        description="Delete a root file with its subtree and the images, slices and companion "
        "files made from them (FORBIDDEN while a project uses one)."
    )
    async def uploaded_file_delete(self, info: Info, id: Long) -> UploadedFilePayload:
        return _payload(await uploaded_file.delete_uploaded_file(info.context, id))
