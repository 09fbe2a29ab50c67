"""Ontologies, terms, relations and the term hierarchy (contract core.md §9.8–9.9,
images-annotations.md §5).

Decision 5: a term has at most one parent, in its own ontology, and the parent links never
form a cycle. Hierarchy changes lock the ontology row, so two writers cannot build a cycle
together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import BigInteger, Row, and_, delete, literal, or_, select
from sqlalchemy.orm import aliased

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import (
    AclEntry,
    AnnotationTerm,
    Ontology,
    Project,
    Relation,
    RelationTerm,
    ReviewedAnnotationTerm,
    SecUser,
    Term,
)
from resolvers.acl import (
    ADMINISTRATION,
    DELETE,
    READ,
    WRITE,
    entries_of,
    grant,
    require,
    require_recorded,
)
from resolvers.annotation.rules import stray_term
from resolvers.command import CommandInfo, CommandLog, Spec, register, update_logged
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import Conflict, Forbidden, InvalidInput, NotFound
from resolvers.listing import Page, fetch_page
from resolvers.project import project_access, reader_of
from resolvers.user import USER_COLUMNS

__all__ = [
    "ONTOLOGY",
    "RELATION_TERM",
    "TERM",
    "OntologyFields",
    "TermFields",
    "children_by_term",
    "create_ontology",
    "create_relation_term",
    "create_term",
    "delete_ontology",
    "delete_relation_term",
    "delete_term",
    "get_ontology",
    "get_relation",
    "get_relation_term",
    "get_term",
    "list_ontologies",
    "list_ontology_users",
    "list_relation_terms",
    "list_relations",
    "list_terms",
    "ontologies_by_id",
    "parent_by_term",
    "terms_by_id",
    "terms_by_ontology",
    "update_ontology",
    "update_term",
]

ONTOLOGY_TABLE: Final = table_of(Ontology)
TERM_TABLE: Final = table_of(Term)
LINK_TABLE: Final = table_of(RelationTerm)
PARENT: Final = "parent"


@dataclass(frozen=True, slots=True)
class OntologyFields:
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TermFields:
    """A term's writable fields; `parent` is honoured on create only (a PUT never drops a link)."""

    name: str | None = None
    color: str | None = None
    comment: str | None = None
    ontology: int | None = None
    parent: int | None = None


# --- specs: how commands of these domains are replayed ---------------------------------------


async def _may_write_ontology(ctx: Context, row: Mapping[str, Any]) -> None:
    await require_recorded(ctx, row, WRITE)


async def _may_write_term(ctx: Context, row: Mapping[str, Any]) -> None:
    """WRITE on the ontology the replay puts the term in, and, when the replay moves it out of
    another one, on that one too (as `update_term` asks for both)."""
    await require(ctx, row["ontology_id"], WRITE)
    current = await ctx.loader(terms_by_id).load(row["id"])
    if current is not None and current.ontology_id != row["ontology_id"]:
        await require(ctx, current.ontology_id, WRITE)


async def _may_write_link(ctx: Context, row: Mapping[str, Any]) -> None:
    term = await ctx.loader(terms_by_id).load(row["term1_id"])
    if term is not None:
        await require(ctx, term.ontology_id, WRITE)


def _link_message(row: Mapping[str, Any], verb: str) -> str:
    action = "is added" if verb == "added" else "is deleted"
    return f"Relation parent between Term {row['term1_id']} and Term {row['term2_id']} {action}"


ONTOLOGY: Final = register(
    Spec("Ontology", Ontology, lambda row: f"{row['id']} ({row['name']})",
         authorize=_may_write_ontology, acl=True)
)  # fmt: skip


async def _terms_replayed(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """An undo/redo may give a term back an ontology it has since left: refused (400) when its
    links or the annotations carrying it stayed behind, as the edit would be."""
    await _terms_stay_in_place(conn, [row["id"] for row in rows])


async def _links_replayed(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """An undo/redo restoring links runs decision 5 on them, as creating them does: the terms
    may have changed ontology, or a reverse link been made, since they were recorded."""
    await _links_hold(conn, [row["id"] for row in rows])


TERM: Final = register(
    Spec("Term", Term, lambda row: f"{row['id']} ({row['name']})", authorize=_may_write_term,
         after_replay=_terms_replayed)
)  # fmt: skip
RELATION_TERM: Final = register(
    Spec("RelationTerm", RelationTerm, lambda row: str(row["id"]), message=_link_message,
         authorize=_may_write_link, after_replay=_links_replayed)
)  # fmt: skip


# --- batch loaders ---------------------------------------------------------------------------


_ONTOLOGIES: Final = Direct(select(*ONTOLOGY_TABLE.c).where(among_bound(Ontology.id)))
_TERMS: Final = Direct(select(*TERM_TABLE.c).where(among_bound(Term.id)))


async def ontologies_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _ONTOLOGIES, ids)


async def terms_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _TERMS, ids)


async def terms_by_ontology(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The terms of each ontology, by name."""
    stmt = select(*TERM_TABLE.c).where(among(Term.ontology_id, ids)).order_by(Term.name, Term.id)
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.ontology_id].append(row)
    return [grouped[key] for key in ids]


def _parent_links() -> Any:
    return (
        select(RelationTerm.term1_id, RelationTerm.term2_id)
        .join(Relation, Relation.id == RelationTerm.relation_id)
        .where(Relation.name == PARENT)
    )


async def parent_by_term(db: Lease, ids: list[int]) -> list[int | None]:
    """The parent term id of each term (None for a root)."""
    async with db.read() as conn:
        rows = (await conn.execute(_parent_links().where(among(RelationTerm.term2_id, ids)))).all()
    parents = {child: parent for parent, child in rows}
    return [parents.get(key) for key in ids]


async def children_by_term(db: Lease, ids: list[int]) -> list[list[Any]]:
    """The child terms of each term, by name."""
    stmt = (
        select(*TERM_TABLE.c, RelationTerm.term1_id.label("parent_id"))
        .join(RelationTerm, RelationTerm.term2_id == Term.id)
        .join(Relation, Relation.id == RelationTerm.relation_id)
        .where(Relation.name == PARENT, among(RelationTerm.term1_id, ids))
        .order_by(Term.name, Term.id)
    )
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    async with db.read() as conn:
        for row in await conn.execute(stmt):
            grouped[row.parent_id].append(row)
    return [grouped[key] for key in ids]


# --- checks ----------------------------------------------------------------------------------


def _required(value: str | None, name: str, limit: int = 255) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"Property {name} must be set")
    if len(value) > limit:
        raise InvalidInput(f"Property {name} is longer than {limit} characters")
    return value.strip()


async def _ontology(ctx: Context, ontology_id: int, permission: int) -> Any:
    ontology = await ctx.found(ontologies_by_id, ontology_id, "Ontology")
    await require(ctx, ontology_id, permission)
    return ontology


async def _term(ctx: Context, term_id: int, permission: int) -> Any:
    term = await ctx.found(terms_by_id, term_id, "Term")
    await require(ctx, term.ontology_id, permission)
    return term


# --- ontologies ------------------------------------------------------------------------------


async def get_ontology(ctx: Context, ontology_id: int) -> Any:
    """One ontology the caller may read."""
    ctx.require_guest()
    return await _ontology(ctx, ontology_id, READ)


def _readable_ontologies(reader: int | None) -> Any:
    stmt = select(*ONTOLOGY_TABLE.c)
    if reader is None:
        return stmt
    entries = entries_of(reader)
    used = select(Project.ontology_id).where(Project.id.in_(entries))
    return stmt.where(or_(Ontology.id.in_(entries), Ontology.id.in_(used)))


async def list_ontologies(ctx: Context, *, limit: int | None, offset: int = 0) -> Page[Any]:
    """The ontologies the caller may read: all for admins, else by ACL or project membership."""
    viewer = ctx.require_guest()
    stmt = _readable_ontologies(reader_of(viewer)).order_by(Ontology.name, Ontology.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def list_ontology_users(ctx: Context, ontology_id: int) -> Sequence[Any]:
    """The distinct members of the projects using the ontology, by username."""
    ctx.require_guest()
    await _ontology(ctx, ontology_id, READ)
    members = (
        select(AclEntry.user_id)
        .join(Project, Project.id == AclEntry.object_id)
        .where(Project.ontology_id == ontology_id)
    )
    stmt = select(*USER_COLUMNS).where(SecUser.id.in_(members)).order_by(SecUser.username)
    async with ctx.db.read() as conn:
        return (await conn.execute(stmt)).all()


async def create_ontology(ctx: Context, fields: OntologyFields) -> Changed:
    """Create an ontology owned by the caller, who gets ADMINISTRATION on it."""
    viewer = ctx.require_user()
    name = _required(fields.name, "name")
    async with ctx.db.transaction() as conn:
        with constraint_errors(f"Ontology {name} already exist!"):
            row = await insert_row(conn, Ontology, {"name": name, "user_id": viewer.id})
        await grant(conn, row.id, (viewer.id,), ADMINISTRATION)
        command = await CommandLog(conn, viewer).add(ONTOLOGY, row)
    return Changed(row, command)


async def update_ontology(ctx: Context, ontology_id: int, fields: OntologyFields) -> Changed:
    """Rename an ontology (WRITE); its creator never changes."""
    viewer = ctx.require_user()
    await _ontology(ctx, ontology_id, WRITE)
    name = _required(fields.name, "name")
    async with ctx.db.transaction() as conn:
        _, after, command = await update_logged(
            CommandLog(conn, viewer),
            ONTOLOGY,
            ontology_id,
            {"name": name},
            conflict=f"Ontology {name} already exist!",
        )
    return Changed(after, command)


async def delete_ontology(ctx: Context, ontology_id: int) -> Changed:
    """Delete an unused ontology with its terms and their links (DELETE permission)."""
    viewer = ctx.require_user()
    await _ontology(ctx, ontology_id, DELETE)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, Ontology, "Ontology", ontology_id)
        used = await conn.execute(select(Project.id).where(Project.ontology_id == ontology_id))
        if used.first() is not None:
            raise InvalidInput("Ontology is linked with project. Cannot delete ontology!")
        terms = (
            await conn.execute(select(*TERM_TABLE.c).where(Term.ontology_id == ontology_id))
        ).all()
        log = CommandLog(conn, viewer)
        await log.delete_many(RELATION_TERM, await _links_of(conn, [t.id for t in terms]))
        await log.delete_many(TERM, terms)
        command = await log.delete(ONTOLOGY, row)
        await conn.execute(delete(Ontology).where(Ontology.id == ontology_id))
    return Changed(row, command)


# --- terms -----------------------------------------------------------------------------------


async def get_term(ctx: Context, term_id: int) -> Any:
    ctx.require_guest()
    return await _term(ctx, term_id, READ)


async def list_terms(
    ctx: Context,
    *,
    ontology_id: int | None = None,
    project_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """Terms of an ontology, of a project's ontology, or (admins only) every term; by name."""
    viewer = ctx.require_guest()
    stmt = select(*TERM_TABLE.c).order_by(Term.name, Term.id)
    if project_id is not None:
        access = (await project_access(ctx, project_id)).require_read()
        ontology = access.row.ontology_id
        stmt = stmt.where(Term.ontology_id == ontology if ontology is not None else literal(False))
    elif ontology_id is not None:
        await _ontology(ctx, ontology_id, READ)
        stmt = stmt.where(Term.ontology_id == ontology_id)
    elif not viewer.is_admin:
        raise Forbidden("Only an administrator may list every term")
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


def _term_values(fields: TermFields) -> dict[str, Any]:
    if fields.ontology is None:
        raise InvalidInput("Ontology is mandatory: give the ontology of the term")
    comment = fields.comment
    if comment is not None and len(comment) > 10_000:
        raise InvalidInput("Property comment is longer than 10000 characters")
    return {
        "name": _required(fields.name, "name"),
        "color": _required(fields.color, "color", 64),
        "comment": comment,
        "ontology_id": fields.ontology,
    }


async def create_term(ctx: Context, fields: TermFields) -> Changed:
    """Create a term (WRITE on its ontology), under `parent` when one is given."""
    viewer = ctx.require_guest()
    values = _term_values(fields)
    await _ontology(ctx, values["ontology_id"], WRITE)
    async with ctx.db.transaction() as conn:
        log = CommandLog(conn, viewer)
        with constraint_errors(f"Term {values['name']} already exist in this ontology!"):
            row = await insert_row(conn, Term, values)
        command = await log.add(TERM, row)
        if fields.parent is not None:
            await _link(conn, log, fields.parent, row.id, printed=False)
    return Changed(row, command)


async def update_term(ctx: Context, term_id: int, fields: TermFields) -> Changed:
    """Replace a term's name, colour and comment (WRITE); moving it to another ontology is
    refused while it has a parent or children there, or annotations carry it (their project's
    ontology would no longer hold it). The term row is locked before the checks, which read
    after the move."""
    viewer = ctx.require_user()
    term = await _term(ctx, term_id, WRITE)
    values = _term_values(fields)
    if values["ontology_id"] != term.ontology_id:
        await _ontology(ctx, values["ontology_id"], WRITE)
    async with ctx.db.transaction() as conn:
        conflict = f"Term {values['name']} already exist in this ontology!"
        before, after, command = await update_logged(
            CommandLog(conn, viewer), TERM, term_id, values, conflict=conflict
        )
        if after.ontology_id != before.ontology_id:
            await _terms_stay_in_place(conn, [term_id])
    return Changed(after, command)


async def delete_term(ctx: Context, term_id: int) -> Changed:
    """Delete a term and its links (DELETE on the ontology); refused (400) while annotations
    of either kind carry it (§5.2). The lock on the term row holds back new links meanwhile."""
    viewer = ctx.require_user()
    await _term(ctx, term_id, DELETE)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, Term, "Term", term_id)
        for link in (AnnotationTerm, ReviewedAnnotationTerm):
            if (await conn.execute(select(link.id).where(link.term_id == term_id))).first():
                raise InvalidInput(f"Term {term_id} is linked with annotations: cannot delete it")
        log = CommandLog(conn, viewer)
        await log.delete_many(RELATION_TERM, await _links_of(conn, [term_id]))
        command = await log.delete(TERM, row)
        await conn.execute(delete(Term).where(Term.id == term_id))
    return Changed(row, command)


# --- relations and the hierarchy -------------------------------------------------------------


async def list_relations(ctx: Context) -> Sequence[Any]:
    ctx.require_guest()
    async with ctx.db.read() as conn:
        return (await conn.execute(select(*table_of(Relation).c).order_by(Relation.id))).all()


async def get_relation(ctx: Context, relation_id: int) -> Any:
    ctx.require_guest()
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(select(*table_of(Relation).c).where(Relation.id == relation_id))
        ).first()
    if row is None:
        raise NotFound("Relation", relation_id)
    return row


async def _relation_id(conn: Connection, relation_id: int | None) -> int:
    if relation_id is not None:
        found = await conn.execute(select(Relation.id).where(Relation.id == relation_id))
        if found.first() is None:
            raise NotFound("Relation", relation_id)
        return relation_id
    return int(
        (await conn.execute(select(Relation.id).where(Relation.name == PARENT))).scalar_one()
    )


async def _links_of(conn: Connection, term_ids: list[int]) -> list[Row[Any]]:
    """Every link touching the terms (either end)."""
    if not term_ids:
        return []
    stmt = select(*LINK_TABLE.c).where(
        or_(RelationTerm.term1_id.in_(term_ids), RelationTerm.term2_id.in_(term_ids))
    )
    return list((await conn.execute(stmt.order_by(RelationTerm.id))).all())


async def _link(
    conn: Connection,
    log: CommandLog,
    parent_id: int,
    child_id: int,
    relation_id: int | None = None,
    *,
    printed: bool = True,
) -> tuple[Row[Any], CommandInfo]:
    """Make `child_id` a child of `parent_id`, enforcing decision 5 under the ontology lock."""
    if parent_id == child_id:
        raise InvalidInput("A term cannot be its own parent")
    terms = await _link_ends(conn, parent_id, child_id, locked=False)
    ontology_id = terms[parent_id].ontology_id
    await lock_row(conn, Ontology, "Ontology", ontology_id)
    # read again, now holding them: a term moved meanwhile is seen, and cannot move until
    # the link is in (the move's check then sees it)
    terms = await _link_ends(conn, parent_id, child_id, locked=True)
    if terms[parent_id].ontology_id != ontology_id:
        raise Conflict(f"Term {parent_id} changed ontology meanwhile: try again")
    if terms[child_id].ontology_id != ontology_id:
        raise InvalidInput("Both terms must belong to the same ontology")
    relation = await _relation_id(conn, relation_id)
    existing = (
        await conn.execute(
            select(RelationTerm.term1_id).where(
                RelationTerm.relation_id == relation, RelationTerm.term2_id == child_id
            )
        )
    ).first()
    if existing is not None and existing.term1_id == parent_id:
        raise Conflict(f"Relation term {parent_id} -> {child_id} already exist!")
    if existing is not None:
        raise InvalidInput(f"Term {child_id} already has a parent: a term has at most one parent")
    if child_id in await _ancestors(conn, parent_id, relation):
        raise InvalidInput(f"Term {child_id} is an ancestor of term {parent_id}: no cycles")
    values = {"relation_id": relation, "term1_id": parent_id, "term2_id": child_id}
    with constraint_errors(f"Relation term {parent_id} -> {child_id} already exist!"):
        row = await insert_row(conn, RelationTerm, values)
    return row, await log.add(RELATION_TERM, row, printed=printed)


async def _link_ends(
    conn: Connection, parent_id: int, child_id: int, *, locked: bool
) -> dict[int, Row[Any]]:
    """The two terms of a link to be, by id (`locked`: FOR SHARE, so neither moves nor goes
    before the transaction ends); an unknown one is a 400."""
    stmt = select(*TERM_TABLE.c).where(Term.id.in_([parent_id, child_id])).order_by(Term.id)
    if locked:
        stmt = stmt.with_for_update(read=True)
    terms = {row.id: row for row in await conn.execute(stmt)}
    for term_id in (parent_id, child_id):
        if term_id not in terms:
            raise InvalidInput(f"term was not found with id: {term_id}")
    return terms


async def _crossing_link(conn: Connection, *where: Any) -> bool:
    """Whether one of the links `where` selects joins terms of two ontologies (decision 5)."""
    up, down = aliased(Term), aliased(Term)
    crossing = (
        select(RelationTerm.id)
        .join(up, up.id == RelationTerm.term1_id)
        .join(down, down.id == RelationTerm.term2_id)
        .where(*where, up.ontology_id != down.ontology_id)
        .limit(1)
    )
    return (await conn.execute(crossing)).first() is not None


async def _terms_stay_in_place(conn: Connection, term_ids: list[int]) -> None:
    """400 when one of the terms (just moved to another ontology) left behind a link to a term
    of its former ontology, or an annotation of a project using that ontology: decision 5 and
    §5.2 (an annotation's terms are those of its project's ontology) must hold after a move."""
    ends = or_(among(RelationTerm.term1_id, term_ids), among(RelationTerm.term2_id, term_ids))
    if await _crossing_link(conn, ends):
        raise InvalidInput("A term with a parent or children cannot change ontology")
    for link in (AnnotationTerm, ReviewedAnnotationTerm):
        term_id = await stray_term(conn, link, among(link.term_id, term_ids))
        if term_id is not None:
            raise InvalidInput(
                f"Term {term_id} is on annotations of projects using its ontology: "
                "it cannot change ontology"
            )


async def _links_hold(conn: Connection, link_ids: list[int]) -> None:
    """400 unless the links (just inserted) join terms of one ontology and close no cycle;
    their ontologies are locked first, as `_link` locks them, so that checks see each other."""
    ends = (
        select(Term.ontology_id)
        .join(RelationTerm, or_(RelationTerm.term1_id == Term.id, RelationTerm.term2_id == Term.id))
        .where(among(RelationTerm.id, link_ids))
    )
    await conn.execute(
        select(Ontology.id).where(among(Ontology.id, ends)).order_by(Ontology.id).with_for_update()
    )
    if await _crossing_link(conn, among(RelationTerm.id, link_ids)):
        raise InvalidInput("Both terms must belong to the same ontology")
    # from each link's parent upwards: reaching the link's child again is a cycle
    walk = (
        select(
            RelationTerm.term2_id.label("origin"),
            RelationTerm.term1_id.label("id"),
            RelationTerm.relation_id.label("relation"),
        )
        .where(among(RelationTerm.id, link_ids))
        .cte("walk", recursive=True)
    )
    step = select(walk.c.origin, RelationTerm.term1_id, walk.c.relation).join(
        walk, and_(RelationTerm.term2_id == walk.c.id, RelationTerm.relation_id == walk.c.relation)
    )
    tree = walk.union(step)
    cycle = select(tree.c.origin).where(tree.c.id == tree.c.origin).limit(1)
    found = (await conn.execute(cycle)).first()
    if found is not None:
        raise InvalidInput(f"Term {found.origin} would be its own ancestor: no cycles")


async def _ancestors(conn: Connection, term_id: int, relation_id: int) -> set[int]:
    """The term's ancestors along `relation_id`, itself included."""
    base = select(literal(term_id, BigInteger).label("id")).cte("up", recursive=True)
    step = (
        select(RelationTerm.term1_id)
        .join(base, RelationTerm.term2_id == base.c.id)
        .where(RelationTerm.relation_id == relation_id)
    )
    tree = base.union(step)
    return set((await conn.execute(select(tree.c.id))).scalars())


async def create_relation_term(
    ctx: Context, term1: int | None, term2: int | None, relation_id: int | None = None
) -> Changed:
    """Link term2 (child) under term1 (parent): WRITE on their ontology."""
    viewer = ctx.require_guest()
    if term1 is None or term2 is None:
        raise InvalidInput("term1 and term2 are mandatory")
    for term_id in (term1, term2):
        term = await ctx.loader(terms_by_id).load(term_id)
        if term is None:
            raise InvalidInput(f"term was not found with id: {term_id}")
        await require(ctx, term.ontology_id, WRITE)
    async with ctx.db.transaction() as conn:
        row, command = await _link(conn, CommandLog(conn, viewer), term1, term2, relation_id)
    return Changed(row, command)


async def _find_link(conn: Connection, relation_id: int | None, term1: int, term2: int) -> Row[Any]:
    relation = await _relation_id(conn, relation_id)
    row = (
        await conn.execute(
            select(*LINK_TABLE.c).where(
                RelationTerm.relation_id == relation,
                RelationTerm.term1_id == term1,
                RelationTerm.term2_id == term2,
            )
        )
    ).first()
    if row is None:
        raise NotFound("RelationTerm", f"relation={relation}, term1={term1}, term2={term2}", "key")
    return row


async def get_relation_term(ctx: Context, relation_id: int | None, term1: int, term2: int) -> Any:
    """The link between two terms; 404 when either term or the link is missing."""
    ctx.require_guest()
    for term_id in (term1, term2):
        await _term(ctx, term_id, READ)
    async with ctx.db.read() as conn:
        return await _find_link(conn, relation_id, term1, term2)


async def delete_relation_term(
    ctx: Context, relation_id: int | None, term1: int, term2: int
) -> Changed:
    """Remove a link (DELETE on term1's ontology)."""
    viewer = ctx.require_guest()
    await _term(ctx, term1, DELETE)
    await _term(ctx, term2, READ)
    async with ctx.db.transaction() as conn:
        row = await _find_link(conn, relation_id, term1, term2)
        command = await CommandLog(conn, viewer).delete(RELATION_TERM, row)
        await conn.execute(delete(RelationTerm).where(RelationTerm.id == row.id))
    return Changed(row, command)


async def list_relation_terms(
    ctx: Context, term_id: int, position: int | None = None
) -> Sequence[Any]:
    """Links where the term is parent (position 1), child (2), or either (None)."""
    ctx.require_guest()
    await _term(ctx, term_id, READ)
    if position == 1:
        where = RelationTerm.term1_id == term_id
    elif position == 2:
        where = RelationTerm.term2_id == term_id
    elif position is None:
        where = or_(RelationTerm.term1_id == term_id, RelationTerm.term2_id == term_id)
    else:
        raise NotFound("RelationTerm position", position)
    async with ctx.db.read() as conn:
        return (
            await conn.execute(select(*LINK_TABLE.c).where(where).order_by(RelationTerm.id))
        ).all()
