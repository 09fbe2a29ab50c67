"""User annotations: create (with terms and tracks), read, update, delete (contract
images-annotations.md §3.1–§3.5, §3.11).

An annotation itself is four modules, re-exported here: `rows` (tables, columns, batch
loaders), `rules` (undo/redo specs, the checks before a write), `reads` and `writes` (what the
schema calls). What comes with annotations has modules of its own, imported by their path and
not re-exported (some build on `resolvers.review`, which builds on this package): `listing`
(filtered listings), `cluster`, `comment`, `count`, `included`, `report`, `term` and `tool`.
`resolvers.annotation_upkeep` (annotations kept right when what they lie on changes) stays
beside the package: the image modules call it, and a module inside the package would import
the whole package, which imports the image modules.
"""

from resolvers.annotation.reads import get_annotation
from resolvers.annotation.rows import (
    ANNOTATION_COLUMNS,
    UNDATED,
    annotations_by_id,
    distinct_term_ids,
    terms_by_annotation,
    tracks_by_annotation,
    undated_terms_by_annotation,
)
from resolvers.annotation.rules import (
    ANNOTATION_TERM,
    USER_ANNOTATION,
    AnnotationFields,
    check_terms,
)
from resolvers.annotation.writes import (
    Created,
    create_annotation,
    delete_annotation,
    update_annotation,
)

__all__ = [
    "ANNOTATION_COLUMNS",
    "ANNOTATION_TERM",
    "UNDATED",
    "USER_ANNOTATION",
    "AnnotationFields",
    "Created",
    "annotations_by_id",
    "check_terms",
    "create_annotation",
    "delete_annotation",
    "distinct_term_ids",
    "get_annotation",
    "terms_by_annotation",
    "tracks_by_annotation",
    "undated_terms_by_annotation",
    "update_annotation",
]
