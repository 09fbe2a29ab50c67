"""Bad input to the tag and tag-association routes and to the tag filters: a clear 4xx JSON
error, nothing changed, never a 5xx (DESIGN.md "Security")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import assert_error
from tests.tag.conftest import CLASSES

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

HUGE = 99999999999999999999999


def cases(scene: dict[str, Any], tag: dict[str, Any], link: dict[str, Any]) -> list[Any]:
    """(method, path, request keywords, status) for each bad request."""
    t, project = tag["id"], scene["project"]["id"]
    on_project = f"/api/domain/{CLASSES['Project']}/{project}/tag_domain_association.json"
    return [
        ("POST", "/api/tag.json", {"data": "{not json"}, 400),
        ("POST", "/api/tag.json", {"data": ""}, 400),
        ("POST", "/api/tag.json", {"json": "a string"}, 400),
        ("POST", "/api/tag.json", {"json": {}}, 400),
        ("POST", "/api/tag.json", {"json": {"name": "   "}}, 400),
        ("POST", "/api/tag.json", {"json": {"name": None}}, 400),
        ("POST", "/api/tag.json", {"json": {"name": {"x": 1}}}, 400),
        ("POST", "/api/tag.json", {"json": {"name": ["x"]}}, 400),
        ("POST", "/api/tag.json", {"json": {"name": "n" * 300}}, 400),
        ("POST", "/api/tag.json", {"json": {"name": "x\u0000y"}}, 400),
        ("POST", "/api/tag.json", {"json": {"name": "KEPT"}}, 409),
        ("PUT", f"/api/tag/{t}.json", {"json": {"id": t + 1, "name": "x"}}, 400),
        ("PUT", f"/api/tag/{t}.json", {"json": {}}, 400),
        ("PUT", f"/api/tag/{t}.json", {"data": "[1, 2]"}, 400),
        ("PUT", "/api/tag/999999999.json", {"json": {"name": "x"}}, 404),
        ("PUT", f"/api/tag/{HUGE}.json", {"json": {"name": "x"}}, 400),
        ("GET", f"/api/tag/{HUGE}.json", {}, 400),
        ("GET", "/api/tag/999999999.json", {}, 404),
        ("DELETE", "/api/tag/999999999.json", {}, 404),
        ("GET", "/api/tag.json", {"params": {"max": -1}}, 400),
        ("GET", "/api/tag.json", {"params": {"offset": "abc"}}, 400),
        ("GET", "/api/tag.json", {"params": {"id[equals]": "abc"}}, 400),
        ("POST", on_project, {"json": {}}, 400),
        ("POST", on_project, {"json": {"tag": "abc"}}, 400),
        ("POST", on_project, {"json": {"tag": 999999999}}, 400),
        ("POST", on_project, {"json": {"tag": HUGE}}, 400),
        ("POST", on_project, {"json": {"tag": {"id": t}}}, 400),
        ("POST", on_project, {"json": {"tag": t}}, 409),
        ("POST", on_project, {"json": {"tag": t, "domainIdent": project + 1}}, 400),
        ("POST", "/api/domain/Nonsense/1/tag_domain_association.json", {"json": {"tag": t}},
         400),
        ("POST", "/api/domain/Project/999999999/tag_domain_association.json",
         {"json": {"tag": t}}, 404),
        ("POST", f"/api/domain/{CLASSES['Project']}/999999999/tag_domain_association.json",
         {"json": {"tag": t}}, 404),
        ("POST", f"/api/domain/{CLASSES['Project']}/{HUGE}/tag_domain_association.json",
         {"json": {"tag": t}}, 400),
        ("POST", "/api/tag_domain_association.json", {"json": {"tag": t}}, 400),
        ("POST", "/api/tag_domain_association.json",
         {"json": {"tag": t, "domainClassName": CLASSES["Project"]}}, 400),
        ("POST", "/api/tag_domain_association.json",
         {"json": {"tag": t, "domainClassName": ["x"], "domainIdent": project}}, 400),
        ("POST", "/api/tag_domain_association.json",
         {"json": {"tag": t, "domainClassName": "be.cytomine.domain.security.User",
                   "domainIdent": project}}, 400),
        ("POST", "/api/tag_domain_association.json", {"json": [{"tag": t}]}, 400),
        ("GET", "/api/domain/nonsense/1/tag_domain_association.json", {}, 400),
        ("GET", "/api/tag_domain_association/999999999.json", {}, 404),
        ("GET", f"/api/tag_domain_association/{HUGE}.json", {}, 400),
        ("DELETE", "/api/tag_domain_association/999999999.json", {}, 404),
        ("PUT", f"/api/tag_domain_association/{link['id']}.json", {"json": {"tag": t}}, 405),
        ("GET", "/api/tag_domain_association.json", {"params": {"tag[in]": "1,x"}}, 400),
        ("GET", "/api/tag_domain_association.json", {"params": {"domainIdent[gte]": "x"}}, 400),
        ("GET", "/api/tag_domain_association.json", {"params": {"max": "many"}}, 400),
        ("GET", "/api/project.json", {"params": {"tag[in]": "red"}}, 400),
        ("GET", f"/api/project/{project}/imageinstance.json", {"params": {"tag[in]": "x"}}, 400),
        ("GET", "/api/annotation.json", {"params": {"project": project, "tag": "x"}}, 400),
        ("GET", "/api/annotation.json", {"params": {"project": project, "tags": 999999999}}, 404),
        ("GET", "/api/annotation.json", {"params": {"project": project, "tag": HUGE}}, 400),
    ]  # fmt: skip


def test_bad_input_is_a_4xx_and_changes_nothing(api, scene, make_tag, put_tag):
    tag = make_tag(api, "kept")
    link = put_tag(api, "Project", scene["project"]["id"], tag["id"])
    for method, path, keywords, status in cases(scene, tag, link):
        assert_error(api.request(method, path, **keywords), status)
    assert [t["name"] for t in api.get("/api/tag.json").json()["collection"]] == ["kept"]
    listed = api.get("/api/tag_domain_association.json").json()["collection"]
    assert listed == [link]


def test_graphql_bad_input_is_an_error_with_a_code(api, make_tag):
    tag = make_tag(api)
    for document, variables in (
        ("mutation { tagCreate(input: {name: 12}) { tag { id } } }", {}),
        ("mutation($id: Long!) { tagUpdate(id: $id, input: {name: \"\"}) { tag { id } } }",
         {"id": tag["id"]}),
        ('mutation { tagAssociationCreate(input: {tag: 1, domainClassName: "x", '
         "domainIdent: 1}) { tagAssociation { id } } }", {}),
        ('{ tags(filters: [{field: "id", op: "in", value: "a,b"}]) { totalCount } }', {}),
    ):  # fmt: skip
        answer = api.gql(document, variables)
        assert answer.get("errors"), answer
        code = answer["errors"][0].get("extensions", {}).get("code")
        assert code in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), answer
    assert api.get(f"/api/tag/{tag['id']}.json").json()["name"] == tag["name"]
