"""Review of image-instance CRUD: blind-mode names through every route that carries them,
and what a write may name (contract images-annotations.md §2.6, core.md §8)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import add_image, make_project
from tests.harness import Api

pytestmark = pytest.mark.usefixtures("no_server_error_nor_redirect")

SECRET = "patient-4711-renamed"
FILE = "secret-file.svs"


@pytest.fixture
def blind(api: Api, make_user: Any, make_abstract_image: Any) -> dict[str, Any]:
    """A blind project with a manager and a contributor; the admin added an image under its
    real file name, the manager renamed it, and the contributor added (then renamed) one."""
    manager, contributor = make_user(), make_user()
    project = make_project(api, blindMode=True, admins=(manager["id"],),
                           users=(contributor["id"],))  # fmt: skip
    base = make_abstract_image(name=FILE)
    image = add_image(api, project["id"], base["id"])
    fetched = manager["api"].get(f"/api/imageinstance/{image['id']}.json").json()
    renamed = manager["api"].put(f"/api/imageinstance/{image['id']}.json",
                                 json={**fetched, "instanceFilename": SECRET})  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    return {"project": project, "image": image, "base": base, "manager": manager,
            "contributor": contributor}  # fmt: skip


def _leaks(answer: Any) -> bool:
    text = json.dumps(answer)
    return SECRET in text or FILE in text


def test_command_history_hides_blind_names_from_non_managers(blind):
    """The history's snapshots carry the instance's stored name: a contributor of a blind
    project must not read it there either."""
    project = blind["project"]["id"]
    contributor: Api = blind["contributor"]["api"]
    history = contributor.get(f"/api/project/{project}/commandhistory.json",
                              params={"fullData": "true"})  # fmt: skip
    assert history.status_code == 200, history.text
    assert any(row.get("serviceName") == "ImageInstanceService" for row in history.json())
    assert not _leaks(history.json())
    last = contributor.get(f"/api/project/{project}/last/10.json")
    assert last.status_code == 200 and not _leaks(last.json())
    graph = contributor.gql(
        "query($p: Long!) { commandHistory(projectId: $p) { nodes { command { data } } } }",
        {"p": project},
    )
    assert "errors" not in graph and not _leaks(graph)
    # the manager still sees what was done
    managed = blind["manager"]["api"].get(f"/api/project/{project}/commandhistory.json",
                                          params={"fullData": "true"})  # fmt: skip
    assert SECRET in json.dumps(managed.json())


def test_undo_answer_hides_blind_names_from_non_managers(blind, make_abstract_image):
    """Undoing one's own delete of an image a manager renamed answers the image's snapshot:
    without the name the project hides from the contributor."""
    contributor: Api = blind["contributor"]["api"]
    manager: Api = blind["manager"]["api"]
    base = make_abstract_image(contributor)
    image = add_image(contributor, blind["project"]["id"], base["id"])
    fetched = manager.get(f"/api/imageinstance/{image['id']}.json").json()
    renamed = manager.put(f"/api/imageinstance/{image['id']}.json",
                          json={**fetched, "instanceFilename": SECRET})  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    deleted = contributor.delete(f"/api/imageinstance/{image['id']}.json")
    assert deleted.status_code == 200 and not _leaks(deleted.json()), deleted.text
    undone = contributor.get("/api/command/undo.json")
    assert undone.status_code == 200, undone.text
    assert any("imageinstance" in item for item in undone.json()["collection"]), undone.text
    assert not _leaks(undone.json())
    assert manager.get(f"/api/imageinstance/{image['id']}.json").json()["instanceFilename"] == (
        str(base["id"]))  # fmt: skip


def _opened_in_projects(api: Api, user: dict[str, Any], make_abstract_image: Any,
                        count: int) -> list[int]:  # fmt: skip
    """`count` projects of `user`, one image each, which the user then opened (oldest first);
    the images' ids."""
    images = []
    for _ in range(count):
        project = make_project(api, users=(user["id"],))
        image = add_image(api, project["id"], make_abstract_image()["id"])
        opened = user["api"].post(f"/api/imageinstance/{image['id']}/consultation.json", json={})
        assert opened.status_code == 200, opened.text
        images.append(image["id"])
    return images


def _last_opened(api: Api, **params: Any) -> list[int]:
    response = api.get("/api/imageinstance/method/lastopened.json", params=params)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["collection"]]


@pytest.mark.identity_read_every_request
def test_last_opened_costs_the_same_whatever_the_number_of_projects(
    server, api, make_user, make_abstract_image
):
    """Checking each opened image's project one at a time was one statement per project."""
    user = make_user()
    images = _opened_in_projects(api, user, make_abstract_image, 2)
    with server.count_statements() as counter:
        assert _last_opened(user["api"], max=20) == images[::-1]
    small = counter.n
    images += _opened_in_projects(api, user, make_abstract_image, 6)
    with server.count_statements() as counter:
        assert _last_opened(user["api"], max=20) == images[::-1]
    assert counter.n == small


def test_last_opened_skips_unreadable_images_before_counting(api, make_user, make_abstract_image):
    """An image of a project the user left is skipped, and the next one fills its place."""
    user = make_user()
    kept, left = _opened_in_projects(api, user, make_abstract_image, 2)
    project = api.get(f"/api/imageinstance/{left}.json").json()["project"]
    removed = api.delete(f"/api/project/{project}/user/{user['id']}.json")
    assert removed.status_code == 200, removed.text
    assert _last_opened(user["api"], max=1) == [kept]
