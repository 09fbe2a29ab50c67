"""Ontologies, terms and their hierarchy in the graph (contract core.md §9.8–9.9,
images-annotations.md §5)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import ontology
from resolvers.crud import Changed
from resolvers.ontology import (
    OntologyFields,
    TermFields,
    children_by_term,
    ontologies_by_id,
    parent_by_term,
    terms_by_id,
    terms_by_ontology,
)
from resolvers.project import projects_by_ontology, reader_of
from resolvers.user import users_by_id
from schema.annotation_nested import annotations_field
from schema.common import Command, Connection, Info, Long, connection
from schema.user import User

if TYPE_CHECKING:
    from schema.project import Project

__all__ = ["Ontology", "OntologyMutation", "OntologyQuery", "Term"]

ProjectType = Annotated["Project", strawberry.lazy("schema.project")]


@strawberry.type(description="A term of an ontology: a class annotations are labelled with.")
class Term:
    id: Long
    created: datetime
    updated: datetime
    name: str
    color: str = strawberry.field(description="Its display colour, such as #FF0000.")
    comment: str | None = strawberry.field(description="A free note about it.")
    ontology_id: Long
    annotations = annotations_field("term", "carrying this term")

    @strawberry.field(
        graphql_type=Annotated["Ontology", strawberry.lazy("schema.ontology")],
        description="The ontology it belongs to.",
    )
    @staticmethod
    async def ontology(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(ontologies_by_id).load(parent.ontology_id)

    @strawberry.field(description="The parent term's id (decision 5: at most one parent).")
    @staticmethod
    async def parent_id(parent: strawberry.Parent[Any], info: Info) -> Long | None:
        found = await info.context.loader(parent_by_term).load(parent.id)
        return None if found is None else Long(found)

    @strawberry.field(
        graphql_type=Annotated["Term", strawberry.lazy("schema.ontology")] | None,
        description="Its parent term.",
    )
    @staticmethod
    async def parent(parent: strawberry.Parent[Any], info: Info) -> Any:
        found = await info.context.loader(parent_by_term).load(parent.id)
        return None if found is None else await info.context.loader(terms_by_id).load(found)

    @strawberry.field(
        graphql_type=list[Annotated["Term", strawberry.lazy("schema.ontology")]],
        description="The child terms, by name.",
    )
    @staticmethod
    async def children(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(children_by_term).load(parent.id)


@strawberry.type(description="A vocabulary of terms, unique by name across the server.")
class Ontology:
    id: Long
    created: datetime
    updated: datetime
    name: str
    user_id: Long | None = strawberry.field(description="The creator.")

    @strawberry.field(graphql_type=User | None)
    @staticmethod
    async def user(parent: strawberry.Parent[Any], info: Info) -> Any:
        return (
            None
            if parent.user_id is None
            else await info.context.loader(users_by_id).load(parent.user_id)
        )

    @strawberry.field(graphql_type=list[Term], description="Every term, by name.")
    @staticmethod
    async def terms(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(terms_by_ontology).load(parent.id)

    @strawberry.field(graphql_type=list[Term], description="The terms without a parent, by name.")
    @staticmethod
    async def root_terms(parent: strawberry.Parent[Any], info: Info) -> Any:
        terms = await info.context.loader(terms_by_ontology).load(parent.id)
        parents = await info.context.loader(parent_by_term).load_many([t.id for t in terms])
        return [term for term, up in zip(terms, parents, strict=True) if up is None]

    @strawberry.field(
        graphql_type=list[ProjectType], description="The projects using it that you may read."
    )
    @staticmethod
    async def projects(parent: strawberry.Parent[Any], info: Info) -> Any:
        reader = reader_of(info.context.require_viewer())
        return await info.context.loader(projects_by_ontology).load((reader, parent.id))


@strawberry.type(description="A kind of link between terms; only `parent` exists.")
class Relation:
    id: Long
    created: datetime
    updated: datetime
    name: str


#: A link's two ends, as the root fields reading and writing links name them.
_PARENT = "The id of the parent term."
_CHILD = "The id of the child term."
_PARENT_NEEDED = "The id of the parent term (required: BAD_USER_INPUT when absent)."
_CHILD_NEEDED = "The id of the child term (required: BAD_USER_INPUT when absent)."


@strawberry.type(description="`term1` is the parent of `term2`.")
class RelationTerm:
    id: Long
    created: datetime
    updated: datetime
    relation_id: Long
    term1_id: Long
    term2_id: Long

    @strawberry.field(graphql_type=Term | None)
    @staticmethod
    async def term1(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(terms_by_id).load(parent.term1_id)

    @strawberry.field(graphql_type=Term | None)
    @staticmethod
    async def term2(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(terms_by_id).load(parent.term2_id)


@strawberry.input(description="An ontology's writable fields.")
class OntologyInput:
    name: str | None = None

    def fields(self) -> OntologyFields:
        return OntologyFields(**dataclasses.asdict(self))


@strawberry.input(description="A term's writable fields; an update replaces them all.")
class TermInput:
    name: str | None = None
    color: str | None = strawberry.field(
        default=None, description="Its display colour, such as #FF0000 (required)."
    )
    comment: str | None = strawberry.field(
        default=None, description="A free note about it, at most 10 000 characters."
    )
    ontology: Long | None = None
    parent: Long | None = strawberry.field(
        default=None, description="On create only: also link the new term under this one."
    )

    def fields(self) -> TermFields:
        return TermFields(**dataclasses.asdict(self))


@strawberry.type
class OntologyPayload:
    ontology: Any = strawberry.field(graphql_type=Ontology)
    command: Command


@strawberry.type
class TermPayload:
    term: Any = strawberry.field(graphql_type=Term)
    command: Command


@strawberry.type
class RelationTermPayload:
    relation_term: Any = strawberry.field(graphql_type=RelationTerm)
    command: Command


OntologyConnection = Connection[Ontology]
TermConnection = Connection[Term]


@strawberry.type
class OntologyQuery:
    @strawberry.field(graphql_type=Ontology)
    async def ontology(self, info: Info, id: Long) -> Any:
        return await ontology.get_ontology(info.context, id)

    @strawberry.field(description="The ontologies you may read, by name.")
    async def ontologies(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> OntologyConnection:
        page = await ontology.list_ontologies(info.context, limit=first, offset=offset)
        return connection(page)

    @strawberry.field(graphql_type=list[User], description="Members of projects using it.")
    async def ontology_users(self, info: Info, ontology_id: Long) -> Any:
        return await ontology.list_ontology_users(info.context, ontology_id)

    @strawberry.field(graphql_type=Term)
    async def term(self, info: Info, id: Long) -> Any:
        return await ontology.get_term(info.context, id)

    @strawberry.field(
        description="Terms of an ontology or of a project's ontology; without either, every "
        "term (administrators)."
    )
    async def terms(
        self,
        info: Info,
        ontology_id: Long | None = None,
        project_id: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> TermConnection:
        page = await ontology.list_terms(
            info.context, ontology_id=ontology_id, project_id=project_id, limit=first, offset=offset
        )
        return connection(page)

    @strawberry.field(
        graphql_type=list[Relation], description="Every kind of link between terms, by id."
    )
    async def relations(self, info: Info) -> Any:
        return await ontology.list_relations(info.context)

    @strawberry.field(graphql_type=Relation)
    async def relation(self, info: Info, id: Long) -> Any:
        return await ontology.get_relation(info.context, id)

    @strawberry.field(graphql_type=RelationTerm, description="The link term1 → term2.")
    async def relation_term(
        self,
        info: Info,
        term1: Annotated[Long, strawberry.argument(description=_PARENT)],
        term2: Annotated[Long, strawberry.argument(description=_CHILD)],
        relation_id: Long | None = None,
    ) -> Any:
        return await ontology.get_relation_term(info.context, relation_id, term1, term2)

    @strawberry.field(
        graphql_type=list[RelationTerm],
        description="Links of a term: as parent (position 1), child (2) or either.",
    )
    async def relation_terms(
        self,
        info: Info,
        term_id: Long,
        position: Annotated[
            int | None,
            strawberry.argument(
                description="1: the links where the term is the parent; 2: where it is the "
                "child; absent: both (any other value is NOT_FOUND)."
            ),
        ] = None,
    ) -> Any:
        return await ontology.list_relation_terms(info.context, term_id, position)


def _ontology_payload(changed: Changed) -> OntologyPayload:
    return OntologyPayload(ontology=changed.row, command=Command.of(changed.command))


def _term_payload(changed: Changed) -> TermPayload:
    return TermPayload(term=changed.row, command=Command.of(changed.command))


def _link_payload(changed: Changed) -> RelationTermPayload:
    return RelationTermPayload(relation_term=changed.row, command=Command.of(changed.command))


@strawberry.type
class OntologyMutation:
    @strawberry.mutation(description="Create an ontology; you administer it.")
    async def ontology_create(self, info: Info, input: OntologyInput) -> OntologyPayload:
        return _ontology_payload(await ontology.create_ontology(info.context, input.fields()))

    @strawberry.mutation(description="Rename an ontology.")
    async def ontology_update(self, info: Info, id: Long, input: OntologyInput) -> OntologyPayload:
        return _ontology_payload(await ontology.update_ontology(info.context, id, input.fields()))

    @strawberry.mutation(description="Delete an ontology no project uses, with its terms.")
    async def ontology_delete(self, info: Info, id: Long) -> OntologyPayload:
        return _ontology_payload(await ontology.delete_ontology(info.context, id))

    @strawberry.mutation(
        description="Create a term in an ontology you may edit, under `parent` when given."
    )
    async def term_create(self, info: Info, input: TermInput) -> TermPayload:
        return _term_payload(await ontology.create_term(info.context, input.fields()))

    @strawberry.mutation(description="Replace a term's fields (its parent link stays).")
    async def term_update(self, info: Info, id: Long, input: TermInput) -> TermPayload:
        return _term_payload(await ontology.update_term(info.context, id, input.fields()))

    @strawberry.mutation(description="Delete a term and its links.")
    async def term_delete(self, info: Info, id: Long) -> TermPayload:
        return _term_payload(await ontology.delete_term(info.context, id))

    @strawberry.mutation(
        description="Make term2 a child of term1. Both must be in one ontology; a term has at "
        "most one parent and links never form a cycle (BAD_USER_INPUT otherwise)."
    )
    async def relation_term_create(
        self, info: Info,
        term1: Annotated[Long | None, strawberry.argument(description=_PARENT_NEEDED)] = None,
        term2: Annotated[Long | None, strawberry.argument(description=_CHILD_NEEDED)] = None,
        relation_id: Long | None = None,
    ) -> RelationTermPayload:  # fmt: skip
        changed = await ontology.create_relation_term(info.context, term1, term2, relation_id)
        return _link_payload(changed)

    @strawberry.mutation(description="Remove the link term1 → term2.")
    async def relation_term_delete(
        self,
        info: Info,
        term1: Annotated[Long, strawberry.argument(description=_PARENT)],
        term2: Annotated[Long, strawberry.argument(description=_CHILD)],
        relation_id: Long | None = None,
    ) -> RelationTermPayload:
        changed = await ontology.delete_relation_term(info.context, relation_id, term1, term2)
        return _link_payload(changed)
