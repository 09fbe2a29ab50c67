"""REST routes of the software registry and of software in projects (README decision 9,
served as Cytomine did before 2024)."""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, items, page, single, within
from rest_compat.routes import Route
from rest_compat.shapes import domain

__all__ = ["ROUTES", "software_json", "software_project_json"]

software_json = domain("processing.Software")
software_project_json = domain("processing.SoftwareProject")

_software_command = command("software", "Software", software_json)
_link_command = command("softwareproject", "SoftwareProject", software_project_json)

ROUTES: Final = (
    Route("GET", "/api/software.json", "Softwares", page(software_json)),
    Route("POST", "/api/software.json", "SoftwareCreate", _software_command, body="input",
          command=True),
    Route("GET", "/api/software/{id:int}.json", "SoftwareShow", single(software_json)),
    Route("PUT", "/api/software/{id:int}.json", "SoftwareUpdate", _software_command,
          body="input", command=True),
    Route("DELETE", "/api/software/{id:int}.json", "SoftwareDelete", _software_command,
          command=True),
    Route("GET", "/api/softwareproject.json", "SoftwareProjects", page(software_project_json)),
    Route("POST", "/api/softwareproject.json", "SoftwareProjectCreate", _link_command,
          body="input", command=True),
    Route("GET", "/api/softwareproject/{id:int}.json", "SoftwareProjectShow",
          single(software_project_json)),
    Route("DELETE", "/api/softwareproject/{id:int}.json", "SoftwareProjectDelete",
          _link_command, command=True),
    Route("GET", "/api/project/{project:int}/softwareproject.json", "SoftwareProjectsOfProject",
          within("softwareProjects", items(software_project_json))),
    Route("GET", "/api/project/{project:int}/software.json", "SoftwaresOfProject",
          within("softwares", items(software_json))),
)  # fmt: skip
