"""Pixel routes reuse their checks (rest_compat/pixels.py, `Route.reuse`): a viewer's next tiles
of a slice run no SQL statement, and a write of this process to what the checks read (a
membership, the image, the viewer's keys or roles) counts from the very next tile."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from db.engine import Lease
from resolvers.context import Context
from tests.factories import add_image, imported, make_project
from tests.harness import Server, assert_error
from tests.imaging.pictures import pyramid_tiff

pytestmark = pytest.mark.usefixtures("no_unexpected_server_error")


@pytest.fixture(scope="module")
def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pyramid_tiff(tmp_path_factory.mktemp("tiles") / "slide.tif", 1200, 900)


@pytest.fixture
def slide(api: Any, make_user: Any, slide_file: Path) -> dict[str, Any]:
    """A project with a contributor, a pyramid in it, its reference slice's tile URL."""
    member = make_user()
    project = make_project(api, users=(member["id"],))
    _, instance, piece = imported(api, slide_file, project["id"])
    tile = f"/api/sliceinstance/{piece['id']}/normalized-tile/zoom/{{}}/tx/{{}}/ty/0.jpg"
    return {"member": member, "project": project, "instance": instance, "tile": tile}


def test_next_tiles_of_a_slice_run_no_statement(server: Server, slide):
    viewer = slide["member"]["api"]
    assert viewer.get(slide["tile"].format(3, 0)).status_code == 200
    with server.count_statements() as counted:
        for tx in (1, 2, 3):
            answer = viewer.get(slide["tile"].format(3, tx))
            assert answer.status_code == 200, answer.text
            assert answer.headers["Content-Type"] == "image/jpeg"
    assert counted.n == 0


def test_tiles_leave_no_reference_cycle_behind(slide):
    """A tile's request, context and lease are freed when it ends, not left in a cycle for the
    garbage collector (whose pauses stall every request of the process)."""
    viewer = slide["member"]["api"]
    assert viewer.get(slide["tile"].format(3, 0)).status_code == 200
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for tx in (1, 2, 3):
            assert viewer.get(slide["tile"].format(3, tx)).status_code == 200
        gc.collect()
        left = [type(found).__name__ for found in gc.garbage
                if isinstance(found, web.Request | Context | Lease)]  # fmt: skip
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


def test_out_of_range_tiles_stay_400_when_checks_are_reused(slide):
    viewer = slide["member"]["api"]
    assert viewer.get(slide["tile"].format(3, 0)).status_code == 200
    assert_error(viewer.get(slide["tile"].format(3, 9)), 400)
    assert_error(viewer.get(slide["tile"].format(4, 0)), 400)


def test_removed_member_loses_the_tiles_at_once(api, slide):
    viewer, tile = slide["member"]["api"], slide["tile"].format(2, 0)
    assert viewer.get(tile).status_code == 200
    removed = api.delete(f"/api/project/{slide['project']['id']}/user/{slide['member']['id']}.json")
    assert removed.status_code == 200, removed.text
    assert_error(viewer.get(tile), 403)


def test_deleted_image_has_no_tiles_at_once(api, slide):
    tile = slide["tile"].format(2, 0)
    assert api.get(tile).status_code == 200
    assert api.delete(f"/api/imageinstance/{slide['instance']['id']}.json").status_code == 200
    assert_error(api.get(tile), 404)


def test_regenerated_keys_stop_opening_tiles_at_once(slide):
    viewer, tile = slide["member"]["api"], slide["tile"].format(2, 1)
    assert viewer.get(tile).status_code == 200
    assert viewer.post("/api/user/current/keys").status_code == 200
    assert_error(viewer.get(tile), 401)


def test_locked_user_stops_opening_tiles_at_once(api, slide):
    viewer, tile = slide["member"]["api"], slide["tile"].format(2, 1)
    assert viewer.get(tile).status_code == 200
    assert api.post(f"/api/user/{slide['member']['id']}/lock.json").status_code == 200
    assert_error(viewer.get(tile), 401)


def test_an_image_added_elsewhere_keeps_its_own_checks(api, make_user, slide):
    """Reused checks are per viewer and object: a stranger asking right after a member is
    refused, and the same image in another project answers for its own members."""
    stranger = make_user()["api"]
    tile = slide["tile"].format(2, 0)
    assert slide["member"]["api"].get(tile).status_code == 200
    assert_error(stranger.get(tile), 403)
    other = make_project(api)
    again = add_image(api, other["id"], slide["instance"]["baseImage"])
    assert api.get(f"/api/imageinstance/{again['id']}/thumb.jpg").status_code == 200
