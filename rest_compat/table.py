"""Every area's routes, in one table the bridge serves."""

from __future__ import annotations

from typing import Final

from rest_compat import ontology, project, user
from rest_compat.routes import Route

__all__ = ["ROUTES"]

ROUTES: Final[tuple[Route, ...]] = (*user.ROUTES, *project.ROUTES, *ontology.ROUTES)
