"""Fixtures of the project tests: a project with a manager, a contributor and an outsider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import make_project
from tests.harness import Api


@dataclass
class Team:
    """A project created by `manager` (so its creator and representative), with `contributor`
    as a member and `outsider` as a plain user outside it."""

    project: dict[str, Any]
    manager: dict[str, Any]
    contributor: dict[str, Any]
    outsider: dict[str, Any]

    @property
    def path(self) -> str:
        return f"/api/project/{self.project['id']}"


@pytest.fixture
def team(api: Api, make_user: Any) -> Team:
    manager = make_user("manny", firstname="Manny", lastname="Ger")
    contributor = make_user("connie", firstname="Connie", lastname="Tributor")
    outsider = make_user("otto", firstname="Otto", lastname="Side")
    project = make_project(manager["api"], "Team project", users=(contributor["id"],))
    return Team(project, manager, contributor, outsider)
