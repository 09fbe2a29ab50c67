"""Tag fixes: a guest writes no metadata on a project, whatever manager rights they still hold
(core.md §7.1, §7.5: "properties / description / tags on the project: guest ✘")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_project
from tests.harness import assert_error
from tests.tag.conftest import CLASSES

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")


def test_a_guest_holding_manager_rights_puts_no_tag_nor_property_on_the_project(
    api, make_user, make_tag, put_tag
):
    owner, guest = make_user(), make_user()
    project = make_project(owner["api"], admins=(guest["id"],))["id"]
    roles = {r["authority"]: r["id"] for r in api.get("/api/role.json").json()["collection"]}
    assert api.put(f"/api/user/{guest['id']}/role/{roles['ROLE_GUEST']}/define.json").ok
    tags = f"/api/domain/{CLASSES['Project']}/{project}/tag_domain_association.json"
    properties = f"/api/domain/{CLASSES['Project']}/{project}/property.json"
    kept = put_tag(api, "Project", project, make_tag(api)["id"])
    answers: dict[str, Any] = {
        "tag": guest["api"].post(tags, json={"tag": make_tag(api)["id"]}),
        "untag": guest["api"].delete(f"/api/tag_domain_association/{kept['id']}.json"),
        "property": guest["api"].post(properties, json={"key": "k", "value": "v"}),
    }
    for response in answers.values():
        assert_error(response, 403)
    assert [link["id"] for link in api.get(tags).json()["collection"]] == [kept["id"]]
    assert api.get(properties).json()["collection"] == []
    # the guest still reads them
    assert guest["api"].get(tags).status_code == 200
