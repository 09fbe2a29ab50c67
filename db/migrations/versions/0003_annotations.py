"""Annotations (user and reviewed, with PostGIS geometries), their terms, tracks, comments and
the per-slice index; the triggers that keep every annotation counter exact.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:50:41.510481
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _counter_function(name: str, keys: str, updates: list[str]) -> str:
    """A statement-level trigger function applying the signed delta of the rows a statement
    inserted, deleted or moved (changed one of `keys`) to each counter, one `updates` block
    per counter, in key order so concurrent writers lock rows in the same order."""
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in keys.split(", "))
    old_keys = ", ".join(f"o.{k}" for k in keys.split(", "))
    new_keys = ", ".join(f"n.{k}" for k in keys.split(", "))
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
        delta text;
        r record;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            delta := 'SELECT 1 AS sign, {keys} FROM new_rows';
        ELSIF TG_OP = 'DELETE' THEN
            delta := 'SELECT -1 AS sign, {keys} FROM old_rows';
        ELSE
            delta := 'SELECT -1 AS sign, {old_keys} FROM old_rows o JOIN new_rows n USING (id)'
                     ' WHERE {changed}'
                     ' UNION ALL SELECT 1, {new_keys} FROM old_rows o JOIN new_rows n USING (id)'
                     ' WHERE {changed}';
        END IF;
        {"".join(updates)}
        RETURN NULL;
    END $fn$
    """


def _add(target: str, column: str, key: str, where: str = "id") -> str:
    """Add the delta summed by `key` to `target.column` (rows keyed by `where`)."""
    return f"""
        FOR r IN EXECUTE 'SELECT {key} AS k, sum(sign) AS n FROM (' || delta || ') d'
                         ' WHERE {key} IS NOT NULL GROUP BY {key} HAVING sum(sign) <> 0'
                         ' ORDER BY {key}' LOOP
            UPDATE {target} SET {column} = {column} + r.n WHERE {where} = r.k;
        END LOOP;"""


def _index(column: str, user: str) -> str:
    """Add the delta to the (user, slice) row of the annotation index, created when first
    needed (a removal only updates: the row may be gone with its slice)."""
    return f"""
        FOR r IN EXECUTE 'SELECT {user} AS u, slice_id AS s, sum(sign) AS n FROM (' || delta
                         || ') d GROUP BY {user}, slice_id HAVING sum(sign) <> 0'
                         ' ORDER BY {user}, slice_id' LOOP
            IF r.n > 0 THEN
                INSERT INTO annotation_index (user_id, slice_id, {column})
                VALUES (r.u, r.s, r.n)
                ON CONFLICT (user_id, slice_id)
                DO UPDATE SET {column} = annotation_index.{column} + EXCLUDED.{column};
            ELSE
                UPDATE annotation_index SET {column} = {column} + r.n
                WHERE user_id = r.u AND slice_id = r.s;
            END IF;
        END LOOP;"""


COUNTERS = {
    "user_annotation": _counter_function(
        "cytogate_count_user_annotations", "image_id, project_id, user_id, slice_id",
        [_add("image_instance", "count_image_annotations", "image_id"),
         _add("project", "count_annotations", "project_id"),
         _index("count_annotation", "user_id")],
    ),
    "reviewed_annotation": _counter_function(
        "cytogate_count_reviewed_annotations",
        "image_id, project_id, review_user_id, slice_id, parent_ident",
        [_add("image_instance", "count_image_reviewed_annotations", "image_id"),
         _add("project", "count_reviewed_annotations", "project_id"),
         _index("count_reviewed_annotation", "review_user_id"),
         _add("user_annotation", "count_reviewed_annotations", "parent_ident")],
    ),
    "shared_annotation": _counter_function(
        "cytogate_count_comments", "user_annotation_id", [_add("user_annotation", "count_comments", "user_annotation_id")],
    ),
}  # fmt: skip
FUNCTIONS = {
    "user_annotation": "cytogate_count_user_annotations",
    "reviewed_annotation": "cytogate_count_reviewed_annotations",
    "shared_annotation": "cytogate_count_comments",
}
TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}
TRIGGERS = [
    *COUNTERS.values(),
    *(
        f"CREATE TRIGGER {table}_count_{event} AFTER {event.upper()} ON {table} "
        f"{transition} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTIONS[table]}()"
        for table in COUNTERS
        for event, transition in TRANSITIONS.items()
    ),
]
DROP_TRIGGERS = [
    *(
        f"DROP TRIGGER {table}_count_{event} ON {table}"
        for table in COUNTERS
        for event in TRANSITIONS
    ),
    *(f"DROP FUNCTION {function}()" for function in FUNCTIONS.values()),
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "track",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("color", sa.String(length=64), nullable=True),
        sa.Column("image_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_instance.id"],
            name=op.f("fk_track_image_id_image_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_track_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track")),
        sa.UniqueConstraint("image_id", "name", name=op.f("uq_track_image_id_name")),
    )
    op.create_index(op.f("ix_track_project_id"), "track", ["project_id"], unique=False)
    op.create_table(
        "annotation_index",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("slice_id", sa.BigInteger(), nullable=False),
        sa.Column("count_annotation", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("count_reviewed_annotation", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["slice_id"],
            ["slice_instance.id"],
            name=op.f("fk_annotation_index_slice_id_slice_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_annotation_index_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "slice_id", name=op.f("pk_annotation_index")),
    )
    op.create_index(
        op.f("ix_annotation_index_slice_id"), "annotation_index", ["slice_id"], unique=False
    )
    op.create_table(
        "reviewed_annotation",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("review_user_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_ident", sa.BigInteger(), nullable=True),
        sa.Column("parent_class_name", sa.String(length=128), nullable=True),
        sa.Column("status", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("slice_id", sa.BigInteger(), nullable=False),
        sa.Column("image_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "location",
            geoalchemy2.types.Geometry(
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("wkt_location", sa.Text(), nullable=False),
        sa.Column("geometry_compression", sa.Float(), server_default="0", nullable=False),
        sa.Column("area", sa.Float(), nullable=False),
        sa.Column("area_unit", sa.SmallInteger(), nullable=False),
        sa.Column("perimeter", sa.Float(), nullable=False),
        sa.Column("perimeter_unit", sa.SmallInteger(), nullable=False),
        sa.Column("centroid_x", sa.Float(), nullable=False),
        sa.Column("centroid_y", sa.Float(), nullable=False),
        sa.Column("count_comments", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_instance.id"],
            name=op.f("fk_reviewed_annotation_image_id_image_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_reviewed_annotation_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_user_id"],
            ["sec_user.id"],
            name=op.f("fk_reviewed_annotation_review_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slice_id"],
            ["slice_instance.id"],
            name=op.f("fk_reviewed_annotation_slice_id_slice_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_reviewed_annotation_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewed_annotation")),
    )
    op.create_index(
        "ix_reviewed_annotation_image_id_id",
        "reviewed_annotation",
        ["image_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_reviewed_annotation_location",
        "reviewed_annotation",
        ["location"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_reviewed_annotation_project_id_id",
        "reviewed_annotation",
        ["project_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_reviewed_annotation_review_user_id"),
        "reviewed_annotation",
        ["review_user_id"],
        unique=False,
    )
    op.create_index(
        "ix_reviewed_annotation_slice_id_id",
        "reviewed_annotation",
        ["slice_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_reviewed_annotation_user_id"), "reviewed_annotation", ["user_id"], unique=False
    )
    op.create_index(
        "uq_reviewed_annotation_parent_ident", "reviewed_annotation", ["parent_ident"], unique=True
    )
    op.create_table(
        "user_annotation",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "count_reviewed_annotations", sa.BigInteger(), server_default="0", nullable=False
        ),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("slice_id", sa.BigInteger(), nullable=False),
        sa.Column("image_id", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "location",
            geoalchemy2.types.Geometry(
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("wkt_location", sa.Text(), nullable=False),
        sa.Column("geometry_compression", sa.Float(), server_default="0", nullable=False),
        sa.Column("area", sa.Float(), nullable=False),
        sa.Column("area_unit", sa.SmallInteger(), nullable=False),
        sa.Column("perimeter", sa.Float(), nullable=False),
        sa.Column("perimeter_unit", sa.SmallInteger(), nullable=False),
        sa.Column("centroid_x", sa.Float(), nullable=False),
        sa.Column("centroid_y", sa.Float(), nullable=False),
        sa.Column("count_comments", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_instance.id"],
            name=op.f("fk_user_annotation_image_id_image_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_user_annotation_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slice_id"],
            ["slice_instance.id"],
            name=op.f("fk_user_annotation_slice_id_slice_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_user_annotation_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_annotation")),
    )
    op.create_index(
        "ix_user_annotation_image_id_id",
        "user_annotation",
        ["image_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_user_annotation_location",
        "user_annotation",
        ["location"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_user_annotation_project_id_id",
        "user_annotation",
        ["project_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_user_annotation_slice_id_id",
        "user_annotation",
        ["slice_id", sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_user_annotation_user_id"), "user_annotation", ["user_id"], unique=False
    )
    op.create_table(
        "annotation_term",
        sa.Column("user_annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("term_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["term.id"],
            name=op.f("fk_annotation_term_term_id_term"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_annotation_id"],
            ["user_annotation.id"],
            name=op.f("fk_annotation_term_user_annotation_id_user_annotation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sec_user.id"],
            name=op.f("fk_annotation_term_user_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_term")),
    )
    op.create_index(
        op.f("ix_annotation_term_term_id"), "annotation_term", ["term_id"], unique=False
    )
    op.create_index(
        op.f("ix_annotation_term_user_id"), "annotation_term", ["user_id"], unique=False
    )
    op.create_index(
        "uq_annotation_term_annotation_term_user",
        "annotation_term",
        ["user_annotation_id", "term_id", "user_id"],
        unique=True,
    )
    op.create_table(
        "annotation_track",
        sa.Column("annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("annotation_class_name", sa.String(length=128), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("slice_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["user_annotation.id"],
            name=op.f("fk_annotation_track_annotation_id_user_annotation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slice_id"],
            ["slice_instance.id"],
            name=op.f("fk_annotation_track_slice_id_slice_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["track.id"],
            name=op.f("fk_annotation_track_track_id_track"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_track")),
        sa.UniqueConstraint(
            "annotation_id", "track_id", name=op.f("uq_annotation_track_annotation_id_track_id")
        ),
        sa.UniqueConstraint(
            "track_id", "slice_id", name=op.f("uq_annotation_track_track_id_slice_id")
        ),
    )
    op.create_index(
        op.f("ix_annotation_track_annotation_id"),
        "annotation_track",
        ["annotation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_annotation_track_slice_id"), "annotation_track", ["slice_id"], unique=False
    )
    op.create_table(
        "reviewed_annotation_term",
        sa.Column("reviewed_annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("term_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_annotation_id"],
            ["reviewed_annotation.id"],
            name=op.f("fk_reviewed_annotation_term_reviewed_annotation_id_reviewed_annotation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["term.id"],
            name=op.f("fk_reviewed_annotation_term_term_id_term"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewed_annotation_term")),
        sa.UniqueConstraint(
            "reviewed_annotation_id",
            "term_id",
            name=op.f("uq_reviewed_annotation_term_reviewed_annotation_id_term_id"),
        ),
    )
    op.create_index(
        op.f("ix_reviewed_annotation_term_term_id"),
        "reviewed_annotation_term",
        ["term_id"],
        unique=False,
    )
    op.create_table(
        "shared_annotation",
        sa.Column("user_annotation_id", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.BigInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("receivers", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cytomine_id_seq')"),
            nullable=False,
        ),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["sec_user.id"],
            name=op.f("fk_shared_annotation_sender_id_sec_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_annotation_id"],
            ["user_annotation.id"],
            name=op.f("fk_shared_annotation_user_annotation_id_user_annotation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_annotation")),
    )
    op.create_index(
        op.f("ix_shared_annotation_user_annotation_id"),
        "shared_annotation",
        ["user_annotation_id"],
        unique=False,
    )
    # ### end Alembic commands ###
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index(op.f("ix_shared_annotation_user_annotation_id"), table_name="shared_annotation")
    op.drop_table("shared_annotation")
    op.drop_index(
        op.f("ix_reviewed_annotation_term_term_id"), table_name="reviewed_annotation_term"
    )
    op.drop_table("reviewed_annotation_term")
    op.drop_index(op.f("ix_annotation_track_slice_id"), table_name="annotation_track")
    op.drop_index(op.f("ix_annotation_track_annotation_id"), table_name="annotation_track")
    op.drop_table("annotation_track")
    op.drop_index("uq_annotation_term_annotation_term_user", table_name="annotation_term")
    op.drop_index(op.f("ix_annotation_term_user_id"), table_name="annotation_term")
    op.drop_index(op.f("ix_annotation_term_term_id"), table_name="annotation_term")
    op.drop_table("annotation_term")
    op.drop_index(op.f("ix_user_annotation_user_id"), table_name="user_annotation")
    op.drop_index("ix_user_annotation_slice_id_id", table_name="user_annotation")
    op.drop_index("ix_user_annotation_project_id_id", table_name="user_annotation")
    op.drop_index(
        "ix_user_annotation_location", table_name="user_annotation", postgresql_using="gist"
    )
    op.drop_index("ix_user_annotation_image_id_id", table_name="user_annotation")
    op.drop_table("user_annotation")
    op.drop_index("uq_reviewed_annotation_parent_ident", table_name="reviewed_annotation")
    op.drop_index(op.f("ix_reviewed_annotation_user_id"), table_name="reviewed_annotation")
    op.drop_index("ix_reviewed_annotation_slice_id_id", table_name="reviewed_annotation")
    op.drop_index(op.f("ix_reviewed_annotation_review_user_id"), table_name="reviewed_annotation")
    op.drop_index("ix_reviewed_annotation_project_id_id", table_name="reviewed_annotation")
    op.drop_index(
        "ix_reviewed_annotation_location", table_name="reviewed_annotation", postgresql_using="gist"
    )
    op.drop_index("ix_reviewed_annotation_image_id_id", table_name="reviewed_annotation")
    op.drop_table("reviewed_annotation")
    op.drop_index(op.f("ix_annotation_index_slice_id"), table_name="annotation_index")
    op.drop_table("annotation_index")
    op.drop_index(op.f("ix_track_project_id"), table_name="track")
    op.drop_table("track")
    # ### end Alembic commands ###
