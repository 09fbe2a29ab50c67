"""Every area's routes, in one table the bridge serves."""

from __future__ import annotations

from typing import Final

from rest_compat import (
    abstract_image,
    activity,
    annotation,
    annotation_cluster,
    annotation_comment,
    annotation_count,
    annotation_included,
    annotation_report,
    annotation_term,
    annotation_tool,
    command,
    companion_file,
    image,
    metadata,
    ontology,
    pixels,
    project,
    review,
    software,
    storage,
    tag,
    track,
    uploaded_file,
    user,
)
from rest_compat.routes import Route

__all__ = ["ROUTES"]

ROUTES: Final[tuple[Route, ...]] = (
    *user.ROUTES,
    *project.ROUTES,
    *software.ROUTES,
    *ontology.ROUTES,
    *storage.ROUTES,
    *uploaded_file.ROUTES,
    *abstract_image.ROUTES,
    *companion_file.ROUTES,
    *pixels.ROUTES,
    *image.ROUTES,
    *annotation.ROUTES,
    *review.ROUTES,
    *annotation_term.ROUTES,
    *annotation_tool.ROUTES,
    *annotation_included.ROUTES,
    *annotation_cluster.ROUTES,
    *annotation_report.ROUTES,
    *annotation_comment.ROUTES,
    *annotation_count.ROUTES,
    *track.ROUTES,
    *tag.ROUTES,
    *metadata.ROUTES,
    *activity.ROUTES,
    *command.ROUTES,
)
