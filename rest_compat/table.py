"""Every area's routes, in one table the bridge serves."""

from __future__ import annotations

from typing import Final

from rest_compat import (
    abstract_image,
    annotation,
    command,
    companion_file,
    image,
    ontology,
    pixels,
    project,
    software,
    storage,
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
    *command.ROUTES,
)
