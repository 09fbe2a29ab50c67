"""Metadata costs a fixed number of SQL statements whatever the number of objects and of their
properties, descriptions and files (DESIGN.md "GraphQL": every fan-out is backed by a
DataLoader)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.image.test_statements import insert_images
from tests.metadata.conftest import CLASSES
from tests.tag.test_statements import counted, insert_annotations, run

pytestmark = pytest.mark.identity_read_every_request

MAX_STATEMENTS = 12
#: (new projects, images per new project, properties per object) of the two rounds.
SIZES = ((2, 2, 1), (10, 20, 4))
NESTED = """{ projects(first: 20) { nodes { id properties { key value } description { data }
  attachedFiles { filename } images(first: 30) { nodes { id properties { key }
  description { data } attachedFiles { filename } slices { properties { key } } } } } } }"""
ANNOTATIONS = """query($p: Long!) { annotations(filter: {project: $p}, first: 1000) {
  nodes { id properties { key value } description { data } attachedFiles { size } } } }"""


def decorate(database_url: str, per_object: int) -> None:
    """Give every project, image instance, slice and user annotation `per_object` properties, a
    description and a file row."""

    async def work(conn: Any) -> None:
        for table, name in (("project", "Project"), ("image_instance", "ImageInstance"),
                            ("slice_instance", "SliceInstance"),
                            ("user_annotation", "UserAnnotation")):  # fmt: skip
            await conn.execute("DELETE FROM property WHERE domain_class_name = $1", CLASSES[name])
            await conn.execute(
                "INSERT INTO property (domain_class_name, domain_ident, key, value)"
                f" SELECT $1, o.id, 'k' || n, 'v' FROM {table} o, generate_series(1, $2) n",
                CLASSES[name], per_object,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO description (domain_class_name, domain_ident, data)"
                f" SELECT $1, o.id, 'd' FROM {table} o ON CONFLICT DO NOTHING", CLASSES[name],
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO attached_file (domain_class_name, domain_ident, filename, path, size,"
                " sha256, content_type)"
                f" SELECT $1, o.id, 'f.txt', 'attached/none/' || o.id || '-' || random(), 1, '',"
                f" 'text/plain' FROM {table} o", CLASSES[name],
            )  # fmt: skip

    run(database_url, work)


def test_metadata_of_objects_costs_the_same_whatever_the_numbers(server, api, database_url):
    found = []
    projects: list[int] = []
    for new_projects, images, per_object in SIZES:
        projects += insert_images(database_url, new_projects, images, slices=1)
        insert_annotations(database_url, projects[0], images * 5)
        decorate(database_url, per_object)
        graph, tree = counted(server, api.gql, NESTED)
        assert "errors" not in tree, tree["errors"]
        nodes = tree["data"]["projects"]["nodes"]
        assert len(nodes) == len(projects)
        assert all(len(node["properties"]) == per_object and node["description"]
                   for node in nodes)  # fmt: skip
        assert all(len(image["properties"]) == per_object and len(image["attachedFiles"]) >= 1
                   for node in nodes for image in node["images"]["nodes"])  # fmt: skip
        marks, drawn = counted(server, api.gql, ANNOTATIONS, {"p": projects[0]})
        assert all(len(n["properties"]) == per_object
                   for n in drawn["data"]["annotations"]["nodes"])  # fmt: skip
        listing, listed = counted(server, api.get, f"/api/project/{projects[0]}/property.json")
        assert listed.json()["size"] == per_object
        found.append((graph, marks, listing))
    print(f"statements (projects/images, annotations, REST listing): {found}")
    assert found[0] == found[1]
    assert all(0 < n <= MAX_STATEMENTS for n in found[0]), found
