"""Every area's routes, in one table the bridge serves."""

from __future__ import annotations

from typing import Final

from rest_compat import abstract_image, ontology, project, storage, user
from rest_compat.routes import Route

__all__ = ["ROUTES"]

ROUTES: Final[tuple[Route, ...]] = (
    *user.ROUTES,
    *project.ROUTES,
    *ontology.ROUTES,
    *storage.ROUTES,
    *abstract_image.ROUTES,
)
