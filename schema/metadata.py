"""Properties, attached files and descriptions in the graph (contract core.md §9.10–§9.13):
`project { properties { key value } attachedFiles { filename url } description { data } }`.

`properties_field`, `attached_files_field` and `description_field` give every type that can
carry metadata its fields, each batched by one DataLoader keyed by (class name, id): a list of
objects with their metadata costs the same number of statements whatever its length. Files are
uploaded as multipart requests (the `Upload` scalar) and downloaded from `AttachedFile.url`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers import metadata
from resolvers.crud import Changed
from resolvers.metadata import (
    AttachedFileFields,
    DescriptionFields,
    FileDownload,
    PropertyFields,
    attached_files_by_domain,
    descriptions_by_domain,
    properties_by_domain,
)
from resolvers.user import users_by_id
from schema.common import Command, Connection, Info, Long, Upload, connection
from schema.user import User

__all__ = [
    "AttachedFile",
    "Description",
    "MetadataMutation",
    "MetadataQuery",
    "Property",
    "attached_files_field",
    "description_field",
    "properties_field",
]

_DOMAIN_CLASS = (
    "The object's class: its Java class name (be.cytomine.domain.project.Project…), the "
    "simple name (Project, ImageInstance, AbstractImage, SliceInstance, Track, UserAnnotation, "
    "ReviewedAnnotation) or AnnotationDomain / annotation for an annotation of either kind."
)


@strawberry.type(description="A key/value pair on an object; keys may repeat.")
class Property:
    id: Long
    created: datetime
    updated: datetime
    domain_class_name: str = strawberry.field(description="The object's Java class name.")
    domain_ident: Long = strawberry.field(description="The object's id.")
    key: str = strawberry.field(description="Its key (several may share it on one object).")
    value: str = strawberry.field(description="Its value, as text.")


@strawberry.type(description="The rich text (HTML) of an object; at most one per object.")
class Description:
    id: Long
    created: datetime
    updated: datetime
    domain_class_name: str = strawberry.field(description="The object's Java class name.")
    domain_ident: Long = strawberry.field(description="The object's id.")
    data: str = strawberry.field(description="Its HTML text.")


@strawberry.type(description="A file attached to an object.")
class AttachedFile:
    id: Long
    created: datetime
    updated: datetime
    domain_class_name: str = strawberry.field(description="The object's Java class name.")
    domain_ident: Long = strawberry.field(description="The object's id.")
    filename: str = strawberry.field(description="The name the file was sent with.")
    key: str | None = strawberry.field(description="An optional label of the file (null: none).")
    size: Long = strawberry.field(description="Bytes.")
    sha256: str = strawberry.field(description="The hex SHA-256 of the bytes.")
    content_type: str = strawberry.field(description="The type its download is sent with.")
    user_id: Long | None = strawberry.field(description="Who uploaded it.")

    @strawberry.field(description="Where to download it (signed like any API call).")
    @staticmethod
    def url(parent: strawberry.Parent[Any]) -> str:
        return f"/api/attachedfile/{parent.id}/download"

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.user_id is None:
            return None
        return await info.context.loader(users_by_id).load(parent.user_id)


@strawberry.type(description="Where an attached file's bytes are: for the REST download only.")
class AttachedFileDownload:
    filename: str = strawberry.field(description="The name the download takes.")
    content_type: str = strawberry.field(description="The type the download is sent with.")
    size: Long = strawberry.field(description="Bytes.")
    sha256: str = strawberry.field(description="The hex SHA-256 of the bytes.")
    path: str = strawberry.field(description="The file's absolute path on the server's disk.")

    @classmethod
    def of(cls, found: FileDownload) -> AttachedFileDownload:
        return cls(filename=found.filename, content_type=found.content_type,
                   size=Long(found.size), sha256=found.sha256, path=str(found.path))  # fmt: skip


@strawberry.type(description="A property key used on annotations, with the author asked for.")
class PropertyKey:
    key: str = strawberry.field(description="A property key found on the annotations.")
    user_id: Long | None


@strawberry.type(description="The centre of an annotation carrying a property.")
class AnnotationPropertyPosition:
    annotation_id: Long
    x: float = strawberry.field(description="The x of the annotation's centroid, in pixels.")
    y: float = strawberry.field(description="The y of the annotation's centroid, in pixels.")
    value: str = strawberry.field(description="The property's value on that annotation.")


def properties_field(class_name: str) -> Any:
    """The `properties` field of a type whose objects are of `class_name`: oldest first,
    batched for every object of a query."""

    async def resolve(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(properties_by_domain).load((class_name, parent.id))

    return strawberry.field(
        resolver=resolve, graphql_type=list[Property], description="Its properties."
    )


def attached_files_field(class_name: str) -> Any:
    """The `attachedFiles` field of a type whose objects are of `class_name`."""

    async def resolve(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(attached_files_by_domain).load((class_name, parent.id))

    return strawberry.field(
        resolver=resolve, graphql_type=list[AttachedFile], description="Its attached files."
    )


def description_field(class_name: str) -> Any:
    """The `description` field of a type whose objects are of `class_name` (null: none)."""

    async def resolve(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(descriptions_by_domain).load((class_name, parent.id))

    return strawberry.field(
        resolver=resolve, graphql_type=Description | None, description="Its description."
    )


# --- inputs and payloads ---------------------------------------------------------------------


@strawberry.input(description="A property; an update replaces its key and value.")
class PropertyInput:
    domain_class_name: str | None = strawberry.field(default=None, description=_DOMAIN_CLASS)
    domain_ident: Long | None = strawberry.field(
        default=None,
        description="The id of the object it belongs to, whose class `domainClassName` names "
        "(an update cannot change it).",
    )
    key: str | None = strawberry.field(default=None, description="Required, not blank.")
    value: str | None = strawberry.field(default=None, description="Required, not blank.")

    def fields(self) -> PropertyFields:
        return PropertyFields(self.domain_class_name, self.domain_ident, self.key, self.value)


@strawberry.input(description="An object's description.")
class DescriptionInput:
    domain_class_name: str | None = strawberry.field(default=None, description=_DOMAIN_CLASS)
    domain_ident: Long | None = strawberry.field(
        default=None,
        description="The id of the object it belongs to, whose class `domainClassName` names.",
    )
    data: str | None = strawberry.field(default=None, description="Required, not blank.")

    def fields(self) -> DescriptionFields:
        return DescriptionFields(self.domain_class_name, self.domain_ident, self.data)


@strawberry.input(description="A file to attach, sent as a part of a multipart request.")
class AttachedFileInput:
    domain_class_name: str | None = strawberry.field(default=None, description=_DOMAIN_CLASS)
    domain_ident: Long | None = strawberry.field(
        default=None,
        description="The id of the object it belongs to, whose class `domainClassName` names.",
    )
    file: Upload | None = strawberry.field(
        default=None, description="The file: a part of the multipart request; required, not empty."
    )
    filename: str | None = strawberry.field(
        default=None, description="Its name; by default the name its part was sent with."
    )
    key: str | None = strawberry.field(
        default=None, description="An optional label of the file (blank: none)."
    )

    def fields(self) -> AttachedFileFields:
        return AttachedFileFields(self.domain_class_name, self.domain_ident, self.filename,
                                  self.key)  # fmt: skip


@strawberry.type
class PropertyPayload:
    property: Any = strawberry.field(graphql_type=Property)
    command: Command


@strawberry.type
class DescriptionPayload:
    description: Any = strawberry.field(graphql_type=Description)
    command: Command


@strawberry.type
class AttachedFilePayload:
    attached_file: Any = strawberry.field(graphql_type=AttachedFile)
    command: Command | None = strawberry.field(
        description="Null for an upload, which is no command (core.md §8.1)."
    )


PropertyConnection = Connection[Property]
DescriptionConnection = Connection[Description]
AttachedFileConnection = Connection[AttachedFile]


def _property_payload(changed: Changed) -> PropertyPayload:
    return PropertyPayload(property=changed.row, command=Command.of(changed.command))


def _description_payload(changed: Changed) -> DescriptionPayload:
    return DescriptionPayload(description=changed.row, command=Command.of(changed.command))


# --- roots -----------------------------------------------------------------------------------


@strawberry.type
class MetadataQuery:
    @strawberry.field(
        graphql_type=Property,
        description="One property; with an object named, NOT_FOUND unless it is that object's.",
    )
    async def property(
        self,
        info: Info,
        id: Long,
        domain_class_name: str | None = None,
        domain_ident: Long | None = None,
    ) -> Any:
        return await metadata.get_property(info.context, id, domain_class_name, domain_ident)

    @strawberry.field(
        graphql_type=Property,
        description="The object's property with that key (the oldest when several share it).",
    )
    async def property_by_key(
        self,
        info: Info,
        domain_class_name: str,
        domain_ident: Long,
        key: Annotated[
            str, strawberry.argument(description="The property's key (case-sensitive).")
        ],
    ) -> Any:
        return await metadata.get_property_by_key(
            info.context, domain_class_name, domain_ident, key
        )

    @strawberry.field(description="The object's properties, oldest first.")
    async def properties(
        self,
        info: Info,
        domain_class_name: str,
        domain_ident: Long,
        first: int | None = None,
        offset: int = 0,
    ) -> PropertyConnection:
        page = await metadata.list_properties(
            info.context, domain_class_name, domain_ident, limit=first, offset=offset
        )
        return connection(page)

    @strawberry.field(
        description="The property keys of a project's or an image's annotations (both layers); "
        "with `withUser`, one per key and author."
    )
    async def annotation_property_keys(
        self,
        info: Info,
        project: Long | None = None,
        image: Long | None = None,
        with_user: Annotated[
            bool,
            strawberry.argument(
                description="Gives each key once per annotation author (`userId`) rather than "
                "once in all."
            ),
        ] = False,
    ) -> list[PropertyKey]:
        found = await metadata.annotation_property_keys(
            info.context, project, image, with_user=with_user
        )
        return [
            PropertyKey(key=item.key, user_id=None if item.user_id is None else Long(item.user_id))
            for item in found
        ]

    @strawberry.field(description="The property keys of a project's images.")
    async def image_property_keys(self, info: Info, project: Long) -> list[str]:
        return await metadata.image_property_keys(info.context, project)

    @strawberry.field(
        description="The centres of a user's annotations on an image carrying the property "
        "`key` (within `bbox`: minX,minY,maxX,maxY), with its value."
    )
    async def annotation_property_positions(
        self,
        info: Info,
        user: Long,
        image: Long,
        key: Annotated[
            str,
            strawberry.argument(
                description="The key of the property the annotations carry (case-sensitive)."
            ),
        ],
        bbox: Annotated[
            str | None,
            strawberry.argument(
                description="Keeps the annotations that intersect this box, minX,minY,maxX,maxY "
                "in the image's pixels; null keeps them all."
            ),
        ] = None,
    ) -> list[AnnotationPropertyPosition]:
        found = await metadata.annotation_property_positions(info.context, user, image, key,
                                                             bbox)  # fmt: skip
        return [
            AnnotationPropertyPosition(
                annotation_id=Long(p.annotation_id), x=p.x, y=p.y, value=p.value
            )
            for p in found
        ]

    @strawberry.field(graphql_type=Description, description="The object's description.")
    async def description(self, info: Info, domain_class_name: str, domain_ident: Long) -> Any:
        return await metadata.get_description(info.context, domain_class_name, domain_ident)

    @strawberry.field(description="Every description (administrators), oldest first.")
    async def descriptions(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> DescriptionConnection:
        return connection(await metadata.list_descriptions(info.context, limit=first,
                                                           offset=offset))  # fmt: skip

    @strawberry.field(graphql_type=AttachedFile)
    async def attached_file(self, info: Info, id: Long) -> Any:
        return await metadata.get_attached_file(info.context, id)

    @strawberry.field(
        description="The attached files of one object (give its class and id), else every "
        "attached file (administrators); oldest first."
    )
    async def attached_files(
        self,
        info: Info,
        domain_class_name: str | None = None,
        domain_ident: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> AttachedFileConnection:
        page = await metadata.list_attached_files(
            info.context, domain_class_name, domain_ident, limit=first, offset=offset
        )
        return connection(page)

    @strawberry.field(
        description="Where an attached file is on disk: answered to the REST download route "
        "only (FORBIDDEN here: download from `AttachedFile.url`)."
    )
    async def attached_file_download(self, info: Info, id: Long) -> AttachedFileDownload:
        return AttachedFileDownload.of(await metadata.attached_file_download(info.context, id))


@strawberry.type
class MetadataMutation:
    @strawberry.mutation(description="Put a property on an object (keys may repeat).")
    async def property_create(self, info: Info, input: PropertyInput) -> PropertyPayload:
        return _property_payload(await metadata.create_property(info.context, input.fields()))

    @strawberry.mutation(
        description="Replace a property's key and value; with an object named, NOT_FOUND "
        "unless the property is that object's. Its object never changes."
    )
    async def property_update(
        self,
        info: Info,
        id: Long,
        input: PropertyInput,
        domain_class_name: str | None = None,
        domain_ident: Long | None = None,
    ) -> PropertyPayload:
        changed = await metadata.update_property(
            info.context, id, input.fields(), domain_class_name, domain_ident
        )
        return _property_payload(changed)

    @strawberry.mutation(description="Take a property off its object.")
    async def property_delete(
        self,
        info: Info,
        id: Long,
        domain_class_name: str | None = None,
        domain_ident: Long | None = None,
    ) -> PropertyPayload:
        changed = await metadata.delete_property(info.context, id, domain_class_name,
                                                 domain_ident)  # fmt: skip
        return _property_payload(changed)

    @strawberry.mutation(description="Give an object its description; CONFLICT if it has one.")
    async def description_create(self, info: Info, input: DescriptionInput) -> DescriptionPayload:
        changed = await metadata.create_description(info.context, input.fields())
        return _description_payload(changed)

    @strawberry.mutation(description="Replace an object's description text.")
    async def description_update(self, info: Info, input: DescriptionInput) -> DescriptionPayload:
        changed = await metadata.update_description(info.context, input.fields())
        return _description_payload(changed)

    @strawberry.mutation(description="Remove an object's description.")
    async def description_delete(
        self, info: Info, domain_class_name: str, domain_ident: Long
    ) -> DescriptionPayload:
        changed = await metadata.delete_description(info.context, domain_class_name,
                                                    domain_ident)  # fmt: skip
        return _description_payload(changed)

    @strawberry.mutation(
        description="Attach a file (a multipart request's part) to an object. Not a command: "
        "an upload is not undone."
    )
    async def attached_file_create(
        self, info: Info, input: AttachedFileInput
    ) -> AttachedFilePayload:
        row = await metadata.create_attached_file(info.context, input.fields(), input.file)
        return AttachedFilePayload(attached_file=row, command=None)

    @strawberry.mutation(description="Delete an attached file (undo brings it back).")
    async def attached_file_delete(self, info: Info, id: Long) -> AttachedFilePayload:
        changed = await metadata.delete_attached_file(info.context, id)
        return AttachedFilePayload(attached_file=changed.row,
                                   command=Command.of(changed.command))  # fmt: skip
