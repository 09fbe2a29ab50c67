"""A batch of new annotations is counted once, after its last statement.

The user annotation counters (per image, per project, per user and slice) were kept by a
statement-level trigger that built its delta as dynamic SQL, planned anew at every statement:
about 1 ms a statement, paid by each of the steps a bulk create writes in. The counting is now
one function of the rows' keys, `cytogate_add_user_annotations`, in static SQL (planned once a
session), which the trigger calls with the keys of its transition tables, and which a bulk
create calls once with every key of its batch: while the transaction-local setting
`cytogate.counted_by_batch` is `on`, the trigger leaves inserted rows to that call. Counters
are still updated in key order (images, projects, then the per-user index), so concurrent
writers lock rows in the same order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:40:00
"""

from __future__ import annotations

from alembic import op

from db.migrate import earlier_revision

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ADD = """
CREATE FUNCTION cytogate_add_user_annotations(
    signs int[], images bigint[], projects bigint[], users bigint[], slices bigint[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT d.image_id AS k, sum(d.sign) AS n
             FROM unnest(signs, images) AS d(sign, image_id) WHERE d.image_id IS NOT NULL
             GROUP BY d.image_id HAVING sum(d.sign) <> 0 ORDER BY d.image_id LOOP
        UPDATE image_instance SET count_image_annotations = count_image_annotations + r.n
        WHERE id = r.k;
    END LOOP;
    FOR r IN SELECT d.project_id AS k, sum(d.sign) AS n
             FROM unnest(signs, projects) AS d(sign, project_id) WHERE d.project_id IS NOT NULL
             GROUP BY d.project_id HAVING sum(d.sign) <> 0 ORDER BY d.project_id LOOP
        UPDATE project SET count_annotations = count_annotations + r.n WHERE id = r.k;
    END LOOP;
    FOR r IN SELECT d.user_id AS u, d.slice_id AS s, sum(d.sign) AS n
             FROM unnest(signs, users, slices) AS d(sign, user_id, slice_id)
             GROUP BY d.user_id, d.slice_id HAVING sum(d.sign) <> 0
             ORDER BY d.user_id, d.slice_id LOOP
        IF r.n > 0 THEN
            INSERT INTO annotation_index (user_id, slice_id, count_annotation)
            VALUES (r.u, r.s, r.n)
            ON CONFLICT (user_id, slice_id)
            DO UPDATE SET count_annotation = annotation_index.count_annotation
                                             + EXCLUDED.count_annotation;
        ELSE
            UPDATE annotation_index SET count_annotation = count_annotation + r.n
            WHERE user_id = r.u AND slice_id = r.s;
        END IF;
    END LOOP;
END $$
"""

COUNT = """
CREATE OR REPLACE FUNCTION cytogate_count_user_annotations() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    signs int[];
    images bigint[];
    projects bigint[];
    users bigint[];
    slices bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF current_setting('cytogate.counted_by_batch', true) = 'on' THEN
            RETURN NULL;
        END IF;
        SELECT array_agg(1), array_agg(image_id), array_agg(project_id), array_agg(user_id),
               array_agg(slice_id)
        INTO signs, images, projects, users, slices FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(-1), array_agg(image_id), array_agg(project_id), array_agg(user_id),
               array_agg(slice_id)
        INTO signs, images, projects, users, slices FROM old_rows;
    ELSE
        SELECT array_agg(d.sign), array_agg(d.image_id), array_agg(d.project_id),
               array_agg(d.user_id), array_agg(d.slice_id)
        INTO signs, images, projects, users, slices
        FROM (
            SELECT -1 AS sign, o.image_id, o.project_id, o.user_id, o.slice_id
            FROM old_rows o JOIN new_rows n USING (id)
            WHERE (o.image_id, o.project_id, o.user_id, o.slice_id)
                  IS DISTINCT FROM (n.image_id, n.project_id, n.user_id, n.slice_id)
            UNION ALL
            SELECT 1, n.image_id, n.project_id, n.user_id, n.slice_id
            FROM old_rows o JOIN new_rows n USING (id)
            WHERE (o.image_id, o.project_id, o.user_id, o.slice_id)
                  IS DISTINCT FROM (n.image_id, n.project_id, n.user_id, n.slice_id)
        ) AS d;
    END IF;
    PERFORM cytogate_add_user_annotations(signs, images, projects, users, slices);
    RETURN NULL;
END $$
"""


def _previous() -> str:
    """The trigger function as revision 0003 made it (generated there)."""
    made: str = earlier_revision("0003_annotations.py").COUNTERS["user_annotation"]
    return made.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    op.execute(ADD)
    op.execute(COUNT)


def downgrade() -> None:
    op.execute(_previous())
    op.execute(
        "DROP FUNCTION cytogate_add_user_annotations(int[], bigint[], bigint[], bigint[], bigint[])"
    )
