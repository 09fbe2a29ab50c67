"""Tags in the graph (contract core.md §9.14–§9.15): `project { tags { name } }`, the tags
themselves and their associations with projects, images, slices, tracks and annotations.

`tags_field` gives the taggable types their `tags`, batched by one DataLoader keyed by (class
name, id), so a list of projects or images costs the same number of statements whatever its
length.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers import tag as tags
from resolvers.crud import Changed
from resolvers.tag import tags_by_domain, tags_by_id
from resolvers.user import users_by_id
from schema.common import Command, Connection, FilterInput, Info, Long, connection, to_filters
from schema.user import User

__all__ = ["Tag", "TagDomainAssociation", "TagMutation", "TagQuery", "tags_field"]


@strawberry.type(description="A label put on projects, images and annotations; its name is "
                 "unique whatever its case.")  # fmt: skip
class Tag:
    id: Long
    created: datetime
    updated: datetime
    name: str
    user_id: Long | None = strawberry.field(description="Who created it.")
    creator_name: str | None = strawberry.field(description="Its creator's username.")

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        if parent.user_id is None:
            return None
        return await info.context.loader(users_by_id).load(parent.user_id)


@strawberry.type(description="A tag put on one object, named by its Java class and its id.")
class TagDomainAssociation:
    id: Long
    created: datetime
    updated: datetime
    tag_id: Long
    tag_name: str = strawberry.field(description="Its tag's name.")
    domain_class_name: str = strawberry.field(
        description='The object\'s class, e.g. "be.cytomine.domain.project.Project".'
    )
    domain_ident: Long = strawberry.field(description="The object's id.")

    @strawberry.field(graphql_type=Tag | None)
    @staticmethod
    async def tag(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(tags_by_id).load(parent.tag_id)


def tags_field(class_name: str) -> Any:
    """The `tags` field of a taggable type whose objects are of `class_name`: its tags by name,
    batched for every object of a query."""

    async def resolve(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(tags_by_domain).load((class_name, parent.id))

    return strawberry.field(resolver=resolve, graphql_type=list[Tag], description="Its tags.")


@strawberry.input(description="A tag's writable field; an update replaces it.")
class TagInput:
    name: str | None = strawberry.field(default=None, description="Required.")


@strawberry.input(description="Put a tag on an object.")
class TagAssociationInput:
    tag: Long | None = None
    domain_class_name: str | None = strawberry.field(
        default=None,
        description="Project, ImageInstance, AbstractImage, SliceInstance, Track, UserAnnotation "
        "or ReviewedAnnotation (Java class name; AnnotationDomain finds an annotation of either "
        "kind).",
    )
    domain_ident: Long | None = strawberry.field(default=None, description="The object's id.")


@strawberry.type
class TagPayload:
    tag: Any = strawberry.field(graphql_type=Tag)
    command: Command


@strawberry.type
class TagAssociationPayload:
    tag_association: Any = strawberry.field(graphql_type=TagDomainAssociation)
    command: Command


TagConnection = Connection[Tag]
TagDomainAssociationConnection = Connection[TagDomainAssociation]


def _tag_payload(changed: Changed) -> TagPayload:
    return TagPayload(tag=changed.row, command=Command.of(changed.command))


def _association_payload(changed: Changed) -> TagAssociationPayload:
    return TagAssociationPayload(tag_association=changed.row, command=Command.of(changed.command))


@strawberry.type
class TagQuery:
    @strawberry.field(graphql_type=Tag)
    async def tag(self, info: Info, id: Long) -> Any:
        return await tags.get_tag(info.context, id)

    @strawberry.field(description="Every tag, by name; filters on id, name, user, created.")
    async def tags(
        self,
        info: Info,
        first: int | None = None,
        offset: int = 0,
        filters: list[FilterInput] | None = None,
    ) -> TagConnection:
        page = await tags.list_tags(
            info.context, filters=to_filters(filters), limit=first, offset=offset
        )
        return connection(page)

    @strawberry.field(graphql_type=TagDomainAssociation)
    async def tag_association(
        self,
        info: Info,
        id: Annotated[
            Long, strawberry.argument(description="The id of the tag's association with an object.")
        ],
    ) -> Any:
        return await tags.get_association(info.context, id)

    @strawberry.field(
        description="The associations of one object (give its class and id), oldest first; "
        "else every association whose object you may read, by class name descending. Both "
        "filter on tag, domainIdent and domainClassName."
    )
    async def tag_associations(
        self,
        info: Info,
        domain_class_name: str | None = None,
        domain_ident: Long | None = None,
        filters: list[FilterInput] | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> TagDomainAssociationConnection:
        if domain_class_name is None and domain_ident is None:
            page = await tags.list_associations(
                info.context, filters=to_filters(filters), limit=first, offset=offset
            )
        else:
            page = await tags.list_domain_associations(
                info.context, domain_class_name, domain_ident, filters=to_filters(filters),
                limit=first, offset=offset,
            )  # fmt: skip
        return connection(page)


@strawberry.type
class TagMutation:
    @strawberry.mutation(description="Create a tag; its name is unique whatever its case.")
    async def tag_create(self, info: Info, input: TagInput) -> TagPayload:
        return _tag_payload(await tags.create_tag(info.context, input.name))

    @strawberry.mutation(
        description="Rename a tag (its creator or an administrator; a tag in use: an "
        "administrator)."
    )
    async def tag_update(self, info: Info, id: Long, input: TagInput) -> TagPayload:
        return _tag_payload(await tags.update_tag(info.context, id, input.name))

    @strawberry.mutation(description="Delete a tag with its associations.")
    async def tag_delete(self, info: Info, id: Long) -> TagPayload:
        return _tag_payload(await tags.delete_tag(info.context, id))

    @strawberry.mutation(description="Put a tag on an object; CONFLICT when it is already there.")
    async def tag_association_create(
        self, info: Info, input: TagAssociationInput
    ) -> TagAssociationPayload:
        changed = await tags.create_association(
            info.context, input.tag, input.domain_class_name, input.domain_ident
        )
        return _association_payload(changed)

    @strawberry.mutation(description="Take a tag off an object.")
    async def tag_association_delete(
        self,
        info: Info,
        id: Annotated[
            Long, strawberry.argument(description="The id of the association to remove.")
        ],
    ) -> TagAssociationPayload:
        return _association_payload(await tags.delete_association(info.context, id))
