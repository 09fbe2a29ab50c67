"""Ontologies, terms, relation kinds and the term hierarchy (contract images-annotations.md §5)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, IdMixin, TimestampMixin

__all__ = ["Ontology", "Relation", "RelationTerm", "Term"]


class Ontology(IdMixin, TimestampMixin, Base):
    """A vocabulary of terms; its name is unique across the server."""

    __tablename__ = "ontology"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("sec_user.id", ondelete="SET NULL"), index=True
    )


class Term(IdMixin, TimestampMixin, Base):
    """A class annotations are labelled with; unique by name within its ontology."""

    __tablename__ = "term"
    __table_args__ = (UniqueConstraint("ontology_id", "name"),)

    ontology_id: Mapped[int] = mapped_column(ForeignKey("ontology.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    color: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)


class Relation(IdMixin, TimestampMixin, Base):
    """A kind of link between terms; only `parent` exists (seeded by the migration)."""

    __tablename__ = "relation"

    name: Mapped[str] = mapped_column(String(64), unique=True)


class RelationTerm(IdMixin, TimestampMixin, Base):
    """`term1` is the parent of `term2` (for the `parent` relation).

    Decision 5: one parent per term, same ontology, no cycles; the partial index makes the
    single-parent rule hold under concurrent writers too.
    """

    __tablename__ = "relation_term"
    __table_args__ = (
        UniqueConstraint("relation_id", "term1_id", "term2_id"),
        Index("uq_relation_term_single_parent", "relation_id", "term2_id", unique=True),
    )

    relation_id: Mapped[int] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"))
    term1_id: Mapped[int] = mapped_column(ForeignKey("term.id", ondelete="CASCADE"), index=True)
    term2_id: Mapped[int] = mapped_column(ForeignKey("term.id", ondelete="CASCADE"), index=True)
