"""The project image counter follows only images that changed project.

Every annotation write updates its image's counters, and the image's own statement-level
trigger then ran two UPDATEs of the project (count the old rows out, the new rows in) that
changed nothing but took the project row's lock, so writers of a project's different images
queued behind each other. An UPDATE now counts only the rows whose project changed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COUNT_IMAGES = """
CREATE OR REPLACE FUNCTION cytogate_count_images() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE project SET count_images = count_images + moved.n
        FROM (
            SELECT project_id, sum(sign) AS n FROM (
                SELECT o.project_id, -1 AS sign FROM old_rows o JOIN new_rows n USING (id)
                WHERE o.project_id IS DISTINCT FROM n.project_id
                UNION ALL
                SELECT n.project_id, 1 FROM old_rows o JOIN new_rows n USING (id)
                WHERE o.project_id IS DISTINCT FROM n.project_id
            ) AS d GROUP BY project_id
        ) AS moved
        WHERE project.id = moved.project_id AND moved.n <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE project SET count_images = count_images - gone.n
        FROM (SELECT project_id, count(*) AS n FROM old_rows GROUP BY project_id) AS gone
        WHERE project.id = gone.project_id;
    ELSE
        UPDATE project SET count_images = count_images + came.n
        FROM (SELECT project_id, count(*) AS n FROM new_rows GROUP BY project_id) AS came
        WHERE project.id = came.project_id;
    END IF;
    RETURN NULL;
END $$
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION cytogate_count_images() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE project SET count_images = count_images - gone.n
        FROM (SELECT project_id, count(*) AS n FROM old_rows GROUP BY project_id) AS gone
        WHERE project.id = gone.project_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE project SET count_images = count_images + came.n
        FROM (SELECT project_id, count(*) AS n FROM new_rows GROUP BY project_id) AS came
        WHERE project.id = came.project_id;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(COUNT_IMAGES)


def downgrade() -> None:
    op.execute(PREVIOUS)
