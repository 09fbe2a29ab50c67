"""Image instances and slice instances over raw HTTP: exact JSON, blind mode, calibration,
review, neighbours, reference slices, counters, every listing mode with its sorts and filters,
and the pixel endpoints (contract images-annotations.md §2.6–§2.7, §2.10, §9.4–§9.5)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.factories import add_image, make_project
from tests.harness import Api
from tests.image.conftest import run_sql

IMAGE_CLASS = "be.cytomine.domain.image.ImageInstance"
SLICE_CLASS = "be.cytomine.domain.image.SliceInstance"
IMAGE_KEYS = {
    "class", "id", "created", "updated", "baseImage", "project", "user", "instanceFilename",
    "originalFilename", "blindedName", "filename", "path", "contentType", "width", "height",
    "depth", "duration", "channels", "extrinsicChannels", "physicalSizeX", "physicalSizeY",
    "physicalSizeZ", "fps", "magnification", "zoom", "tileSize", "isVirtual", "bitPerSample",
    "samplePerPixel", "colorspace", "reviewStart", "reviewStop", "reviewUser", "reviewed",
    "inReview", "numberOfAnnotations", "numberOfJobAnnotations", "numberOfReviewedAnnotations",
    "thumb", "preview", "macroURL",
}  # fmt: skip
SLICE_KEYS = {
    "class", "id", "created", "updated", "uploadedFile", "project", "baseSlice", "image", "path",
    "mime", "channel", "zStack", "time", "rank", "channelName", "channelColor", "zName",
}  # fmt: skip
LIST_KEYS = {"collection", "offset", "perPage", "size", "totalPages"}
NAMES = ("instanceFilename", "originalFilename", "blindedName", "filename", "path")


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def listed(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    body = ok(api.get(path, params=params))
    assert set(body) == LIST_KEYS
    return body["collection"]  # type: ignore[no-any-return]


def image_ids(api: Api, project: int, **params: Any) -> list[int]:
    return [i["id"] for i in listed(api, f"/api/project/{project}/imageinstance.json", **params)]


def is_epoch_ms(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and abs(int(value) / 1000 - time.time()) < 600


def number_of_images(api: Api, project: int) -> int:
    return int(ok(api.get(f"/api/project/{project}.json"))["numberOfImages"])


@pytest.fixture
def project(api: Api) -> dict[str, Any]:
    return make_project(api)


# --- create and read ---------------------------------------------------------------------------


def test_image_create_returns_exact_command_envelope_and_domain_json(
    api, server, project, make_abstract_image
):
    base = make_abstract_image(slices=2, name="CMU-1.svs")
    me = ok(api.get("/api/user/current.json"))
    response = api.post("/api/imageinstance.json",
                        json={"baseImage": base["id"], "project": project["id"]})  # fmt: skip
    body = ok(response)
    image = body["imageinstance"]
    assert set(body) == {"message", "printMessage", "callback", "command", "imageinstance"}
    assert body["callback"] == {"method": "be.cytomine.AddImageInstanceCommand",
                                "imageinstanceID": str(image["id"])}  # fmt: skip
    assert body["printMessage"] is True and isinstance(body["command"], int)
    assert set(image) == IMAGE_KEYS
    assert image["class"] == IMAGE_CLASS
    assert is_epoch_ms(image["created"]) and image["updated"] == image["created"]
    assert (image["baseImage"], image["project"], image["user"]) == (
        base["id"], project["id"], me["id"])  # fmt: skip
    assert image["instanceFilename"] == image["originalFilename"] == "CMU-1.svs"
    assert image["filename"] == "CMU-1.svs" and image["blindedName"] is None
    assert image["path"] == base["uploadedFile"]["filename"]
    assert (image["contentType"], image["width"], image["height"]) == ("SVS", 46000, 32914)
    assert (image["depth"], image["duration"], image["channels"]) == (2, 1, 1)
    assert (image["samplePerPixel"], image["extrinsicChannels"], image["bitPerSample"]) == (3, 3, 8)
    assert (image["zoom"], image["tileSize"], image["isVirtual"]) == (8, 256, False)
    assert (image["physicalSizeX"], image["physicalSizeY"], image["physicalSizeZ"]) == (
        0.499, 0.499, None)  # fmt: skip
    assert (image["magnification"], image["fps"], image["colorspace"]) == (20, None, None)
    assert (image["reviewStart"], image["reviewStop"], image["reviewUser"]) == (None, None, None)
    assert (image["reviewed"], image["inReview"]) == (False, False)
    assert (image["numberOfAnnotations"], image["numberOfJobAnnotations"],
            image["numberOfReviewedAnnotations"]) == (0, 0, 0)  # fmt: skip
    base_url = f"{server.url}/api/imageinstance/{image['id']}"
    assert image["thumb"] == f"{base_url}/thumb.png?maxSize=512"
    assert image["preview"] == f"{base_url}/thumb.png?maxSize=1024"
    assert image["macroURL"] == f"{base_url}/associated/macro.png?maxWidth=512"
    assert ok(api.get(f"/api/imageinstance/{image['id']}.json")) == image


def test_image_create_makes_one_slice_instance_per_abstract_slice(
    api, project, make_abstract_image
):
    base = make_abstract_image(planes=[(0, 0, 0), (0, 1, 0), (0, 0, 1)])
    image = add_image(api, project["id"], base["id"])
    slices = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    assert [(s["channel"], s["zStack"], s["time"]) for s in slices] == [
        (0, 0, 0), (0, 0, 1), (0, 1, 0)]  # fmt: skip
    assert [s["rank"] for s in slices] == [0, 2, 1]  # channel + C·(z + Z·t), C=1, Z=2
    first = slices[0]
    assert set(first) == SLICE_KEYS and first["class"] == SLICE_CLASS
    assert (first["image"], first["project"]) == (image["id"], project["id"])
    assert first["baseSlice"] == base["slices"][0]["id"]
    assert first["uploadedFile"] == base["uploadedFile"]["id"]
    assert first["path"] == base["uploadedFile"]["filename"]
    assert first["mime"] == "openslide/svs"
    assert ok(api.get(f"/api/sliceinstance/{first['id']}.json")) == first


def test_image_create_macro_url_null_for_a_format_without_macro(api, project, make_abstract_image):
    base = make_abstract_image(content_type="PNG")
    image = add_image(api, project["id"], base["id"])
    assert image["macroURL"] is None and image["contentType"] == "PNG"


def test_image_create_duplicate_in_project_is_409(api, project, make_abstract_image):
    base = make_abstract_image()
    add_image(api, project["id"], base["id"])
    again = api.post("/api/imageinstance.json",
                     json={"baseImage": base["id"], "project": project["id"]})  # fmt: skip
    assert again.status_code == 409, again.text
    assert again.json()["success"] is False and isinstance(again.json()["errors"], str)
    assert number_of_images(api, project["id"]) == 1


@pytest.mark.parametrize("missing", ["baseImage", "project"])
def test_image_create_missing_reference_is_400(api, project, make_abstract_image, missing):
    body = {"baseImage": make_abstract_image()["id"], "project": project["id"]}
    del body[missing]
    response = api.post("/api/imageinstance.json", json=body)
    assert response.status_code == 400, response.text
    assert missing in response.json()["message"]


@pytest.mark.parametrize("unknown", ["baseImage", "project"])
def test_image_create_unknown_reference_is_400(api, project, make_abstract_image, unknown):
    body = {"baseImage": make_abstract_image()["id"], "project": project["id"], unknown: 987654}
    response = api.post("/api/imageinstance.json", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"{unknown} was not found with id: 987654"


def test_image_show_unknown_id_is_404(api):
    response = api.get("/api/imageinstance/987654.json")
    assert response.status_code == 404
    assert response.json()["errors"] == {
        "message": "ImageInstance not found with filters : {id=987654}"
    }


def test_project_number_of_images_exact_after_creates_and_deletes(api, make_abstract_image):
    first, second = make_project(api), make_project(api)
    bases = [make_abstract_image() for _ in range(3)]
    images = [add_image(api, first["id"], base["id"]) for base in bases]
    add_image(api, second["id"], bases[0]["id"])
    assert (number_of_images(api, first["id"]), number_of_images(api, second["id"])) == (3, 1)
    ok(api.delete(f"/api/imageinstance/{images[1]['id']}.json"))
    assert (number_of_images(api, first["id"]), number_of_images(api, second["id"])) == (2, 1)
    moved = ok(api.get(f"/api/imageinstance/{images[2]['id']}.json"))
    ok(api.put(f"/api/imageinstance/{moved['id']}.json", json={**moved, "project": second["id"]}))
    assert (number_of_images(api, first["id"]), number_of_images(api, second["id"])) == (1, 2)


# --- update ------------------------------------------------------------------------------------


def test_image_update_renames_and_calibrates(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    body = {**image, "instanceFilename": "renamed", "physicalSizeX": 0.25, "magnification": 40}
    response = ok(api.put(f"/api/imageinstance/{image['id']}.json", json=body))
    assert response["callback"]["method"] == "be.cytomine.EditImageInstanceCommand"
    after = response["imageinstance"]
    assert after["instanceFilename"] == "renamed" and after["originalFilename"] != "renamed"
    assert (after["physicalSizeX"], after["physicalSizeY"], after["magnification"]) == (
        0.25, 0.499, 40)  # fmt: skip
    assert ok(api.get(f"/api/imageinstance/{image['id']}.json")) == after


def test_image_update_resolution_is_physical_size_x(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    body = {"project": project["id"], "resolution": 0.75}
    after = ok(api.put(f"/api/imageinstance/{image['id']}.json", json=body))["imageinstance"]
    assert after["physicalSizeX"] == 0.75


def test_image_update_zero_or_absent_calibration_inherits_the_abstract_image(
    api, project, make_abstract_image
):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    body = {"project": project["id"], "physicalSizeX": 0.1, "magnification": 10, "fps": 2.5}
    after = ok(api.put(f"/api/imageinstance/{image['id']}.json", json=body))["imageinstance"]
    assert (after["physicalSizeX"], after["magnification"], after["fps"]) == (0.1, 10, 2.5)
    body = {"project": project["id"], "physicalSizeX": 0, "magnification": 0}
    after = ok(api.put(f"/api/imageinstance/{image['id']}.json", json=body))["imageinstance"]
    assert (after["physicalSizeX"], after["magnification"], after["fps"]) == (0.499, 20, None)


def test_image_update_resending_fetched_json_stores_nothing(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    after = ok(api.put(f"/api/imageinstance/{image['id']}.json", json=image))["imageinstance"]
    assert after == {**image, "updated": after["updated"]}
    stored = api.gql(
        "query($id: Long!) { imageInstance(id: $id) { calibrationOverride { "
        "physicalSizeX physicalSizeY magnification } } }",
        {"id": image["id"]},
    )
    assert stored["data"]["imageInstance"]["calibrationOverride"] == {
        "physicalSizeX": None, "physicalSizeY": None, "magnification": None}  # fmt: skip


def test_image_update_resending_a_long_original_name_is_fine_but_a_long_rename_400(
    api, project, make_abstract_image
):
    long_name = "n" * 300 + ".svs"
    image = add_image(api, project["id"], make_abstract_image(name=long_name)["id"])
    assert ok(api.put(f"/api/imageinstance/{image['id']}.json", json=image))
    response = api.put(f"/api/imageinstance/{image['id']}.json",
                       json={**image, "instanceFilename": "m" * 300})  # fmt: skip
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "field, value",
    [("physicalSizeX", -1), ("physicalSizeY", -0.5), ("physicalSizeZ", "-2"), ("fps", -3),
     ("magnification", -20), ("physicalSizeX", "Infinity"), ("resolution", -1)],
)  # fmt: skip
def test_image_update_invalid_calibration_is_400_and_changes_nothing(
    api, project, make_abstract_image, field, value
):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    response = api.put(f"/api/imageinstance/{image['id']}.json", json={**image, field: value})
    assert response.status_code == 400, response.text
    assert ok(api.get(f"/api/imageinstance/{image['id']}.json")) == image


def test_image_update_review_fields_drive_in_review_and_reviewed(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    me = ok(api.get("/api/user/current.json"))
    start = str(int(time.time() * 1000) - 60_000)
    body = {**image, "reviewStart": start, "reviewUser": me["id"]}
    after = ok(api.put(f"/api/imageinstance/{image['id']}.json", json=body))["imageinstance"]
    assert (after["reviewStart"], after["reviewUser"], after["reviewStop"]) == (
        start, me["id"], None)  # fmt: skip
    assert (after["inReview"], after["reviewed"]) == (True, False)
    again = ok(api.put(f"/api/imageinstance/{image['id']}.json", json=after))["imageinstance"]
    assert again["reviewStop"] is None and again["inReview"] is True  # not the Java bug
    stop = str(int(time.time() * 1000))
    done = ok(api.put(f"/api/imageinstance/{image['id']}.json",
                      json={**after, "reviewStop": stop}))["imageinstance"]  # fmt: skip
    assert (done["reviewStop"], done["inReview"], done["reviewed"]) == (stop, False, True)


@pytest.mark.parametrize(
    "review",
    [{"reviewUser": "me"}, {"reviewStart": "1718000000000"},
     {"reviewStop": "1718000000000"},
     {"reviewStart": "1718000000000", "reviewUser": "me", "reviewStop": "1717000000000"},
     {"reviewStart": "1718000000000", "reviewUser": 987654},
     {"reviewStart": "yesterday", "reviewUser": "me"}],
)  # fmt: skip
def test_image_update_bad_review_data_is_400_and_changes_nothing(
    api, project, make_abstract_image, review
):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    me = ok(api.get("/api/user/current.json"))["id"]
    body = {**image, **{k: me if v == "me" else v for k, v in review.items()}}
    response = api.put(f"/api/imageinstance/{image['id']}.json", json=body)
    assert response.status_code == 400, response.text
    assert ok(api.get(f"/api/imageinstance/{image['id']}.json")) == image


def test_image_update_other_base_image_is_400(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    other = make_abstract_image()
    response = api.put(f"/api/imageinstance/{image['id']}.json",
                       json={**image, "baseImage": other["id"]})  # fmt: skip
    assert response.status_code == 400, response.text


def test_image_update_move_to_a_project_holding_it_is_409(api, make_abstract_image):
    first, second = make_project(api), make_project(api)
    base = make_abstract_image()
    image = add_image(api, first["id"], base["id"])
    add_image(api, second["id"], base["id"])
    response = api.put(f"/api/imageinstance/{image['id']}.json",
                       json={**image, "project": second["id"]})  # fmt: skip
    assert response.status_code == 409, response.text


def test_image_update_move_takes_its_slices_and_undo_brings_them_back(api, make_abstract_image):
    first, second = make_project(api), make_project(api)
    image = add_image(api, first["id"], make_abstract_image(slices=2)["id"])
    moved = ok(api.put(f"/api/imageinstance/{image['id']}.json",
                       json={**image, "project": second["id"]}))["imageinstance"]  # fmt: skip
    assert moved["project"] == second["id"]
    slices = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    assert {s["project"] for s in slices} == {second["id"]}
    ok(api.get("/api/command/undo.json"))
    slices = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    assert {s["project"] for s in slices} == {first["id"]}
    assert ok(api.get(f"/api/imageinstance/{image['id']}.json"))["project"] == first["id"]


# --- delete ------------------------------------------------------------------------------------


def test_image_delete_removes_slices_and_undo_restores_both(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image(slices=3)["id"])
    slices = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    body = ok(api.delete(f"/api/imageinstance/{image['id']}.json"))
    assert body["callback"]["method"] == "be.cytomine.DeleteImageInstanceCommand"
    assert body["imageinstance"] == image
    assert api.get(f"/api/imageinstance/{image['id']}.json").status_code == 404
    assert api.get(f"/api/sliceinstance/{slices[0]['id']}.json").status_code == 404
    assert number_of_images(api, project["id"]) == 0
    ok(api.get("/api/command/undo.json"))
    assert ok(api.get(f"/api/imageinstance/{image['id']}.json")) == image
    assert listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json") == slices
    assert number_of_images(api, project["id"]) == 1


def test_image_delete_unknown_is_404(api):
    assert api.delete("/api/imageinstance/987654.json").status_code == 404


def test_image_create_undo_removes_image_and_slices(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image(slices=2)["id"])
    slices = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    ok(api.get("/api/command/undo.json"))
    assert api.get(f"/api/imageinstance/{image['id']}.json").status_code == 404
    assert api.get(f"/api/sliceinstance/{slices[1]['id']}.json").status_code == 404
    ok(api.get("/api/command/redo.json"))
    assert listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json") == slices


# --- neighbours and reference slice --------------------------------------------------------------


def test_image_next_and_previous_follow_creation_order(api, project, make_abstract_image):
    images = [add_image(api, project["id"], make_abstract_image()["id"]) for _ in range(3)]
    add_image(api, make_project(api)["id"], make_abstract_image()["id"])  # another project
    middle = images[1]["id"]
    assert ok(api.get(f"/api/imageinstance/{middle}/next.json"))["id"] == images[0]["id"]
    assert ok(api.get(f"/api/imageinstance/{middle}/previous.json"))["id"] == images[2]["id"]
    assert ok(api.get(f"/api/imageinstance/{images[0]['id']}/next.json")) == {}
    assert ok(api.get(f"/api/imageinstance/{images[2]['id']}/previous.json")) == {}
    full = ok(api.get(f"/api/imageinstance/{images[0]['id']}/previous.json"))
    assert full == ok(api.get(f"/api/imageinstance/{middle}.json"))
    assert api.get("/api/imageinstance/987654/next.json").status_code == 404


def test_image_reference_slice_is_the_median_plane(api, project, make_abstract_image):
    planes = [(c, z, t) for c in range(3) for z in range(4) for t in range(2)]
    image = add_image(api, project["id"], make_abstract_image(planes=planes)["id"])
    reference = ok(api.get(f"/api/imageinstance/{image['id']}/sliceinstance/reference.json"))
    assert (reference["channel"], reference["zStack"], reference["time"]) == (1, 2, 1)
    assert set(reference) == SLICE_KEYS and reference["image"] == image["id"]


def test_image_reference_slice_without_slices_is_400_and_missing_median_404(
    api, project, make_abstract_image
):
    bare = add_image(api, project["id"], make_abstract_image(planes=[])["id"])
    response = api.get(f"/api/imageinstance/{bare['id']}/sliceinstance/reference.json")
    assert response.status_code == 400, response.text
    sparse = make_abstract_image(planes=[(0, 0, 0), (1, 0, 0), (0, 1, 0)])
    image = add_image(api, project["id"], sparse["id"])
    response = api.get(f"/api/imageinstance/{image['id']}/sliceinstance/reference.json")
    assert response.status_code == 404, response.text
    missing = api.get("/api/imageinstance/987654/sliceinstance/reference.json")
    assert missing.status_code == 404


# --- blind mode ----------------------------------------------------------------------------------


@pytest.fixture
def blind(api: Api, make_user: Any, make_abstract_image: Any) -> dict[str, Any]:
    """A blind project with a manager and a contributor, and one renamed image in it."""
    manager, contributor = make_user(), make_user()
    project = make_project(api, blindMode=True, admins=(manager["id"],),
                           users=(contributor["id"],))  # fmt: skip
    base = make_abstract_image(name="secret-name.svs")
    image = add_image(api, project["id"], base["id"], instanceFilename="renamed")
    return {"project": project, "base": base, "image": image, "manager": manager,
            "contributor": contributor}  # fmt: skip


def test_blind_image_names_are_the_base_image_id_for_managers(blind):
    image, base = blind["image"], blind["base"]
    shown = ok(blind["manager"]["api"].get(f"/api/imageinstance/{image['id']}.json"))
    blinded = str(base["id"])
    assert (shown["instanceFilename"], shown["originalFilename"], shown["blindedName"]) == (
        blinded, blinded, blinded)  # fmt: skip
    assert shown["filename"] == "secret-name.svs"
    assert shown["path"] == base["uploadedFile"]["filename"]


def test_blind_image_names_are_hidden_from_contributors_everywhere(blind):
    image, project = blind["image"], blind["project"]
    actor = blind["contributor"]["api"]
    expected = {"instanceFilename": None, "originalFilename": None, "blindedName":
                str(blind["base"]["id"]), "filename": None, "path": None}  # fmt: skip
    shown = ok(actor.get(f"/api/imageinstance/{image['id']}.json"))
    assert {key: shown[key] for key in NAMES} == expected
    row = listed(actor, f"/api/project/{project['id']}/imageinstance.json")[0]
    assert {key: row[key] for key in NAMES} == expected
    light = listed(actor, f"/api/project/{project['id']}/imageinstance.json", light="true")
    assert light == [{"id": image["id"], "instanceFilename": None,
                      "blindedName": str(blind["base"]["id"])}]  # fmt: skip
    slices = listed(actor, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    assert slices[0]["path"] is None
    tree = ok(actor.get(f"/api/project/{project['id']}/imageinstance.json", params={"tree": 1}))
    assert tree["children"][0]["title"] is None


def test_blind_name_filter_matches_the_base_image_id_and_real_name_only_for_managers(
    blind, make_abstract_image, api
):
    project = blind["project"]["id"]
    add_image(api, project, make_abstract_image(name="other.svs")["id"])
    path = f"/api/project/{project}/imageinstance.json"
    base_id = str(blind["base"]["id"])
    for who in ("manager", "contributor"):
        actor = blind[who]["api"]
        assert image_ids(actor, project, **{"name[ilike]": "secret"}) == []
        assert image_ids(actor, project, **{"instanceFilename[equals]": base_id}) == [
            blind["image"]["id"]]  # fmt: skip
        assert [i["id"] for i in listed(actor, path, **{"blindedName[equals]": base_id})] == [
            blind["image"]["id"]]  # fmt: skip
    by_real_name = {"blindedName[ilike]": "renamed"}
    assert image_ids(blind["manager"]["api"], project, **by_real_name) == [blind["image"]["id"]]
    assert image_ids(blind["contributor"]["api"], project, **by_real_name) == []


def test_blind_renaming_by_a_contributor_keeps_the_name(blind):
    image = blind["image"]
    actor = blind["contributor"]["api"]
    fetched = ok(actor.get(f"/api/imageinstance/{image['id']}.json"))
    ok(actor.put(f"/api/imageinstance/{image['id']}.json", json=fetched))
    manager = blind["manager"]["api"]
    fetched = ok(manager.get(f"/api/imageinstance/{image['id']}.json"))
    ok(manager.put(f"/api/imageinstance/{image['id']}.json", json=fetched))
    project = blind["project"]
    unblinded = {**project, "blindMode": False}
    ok(manager.put(f"/api/project/{project['id']}.json", json=unblinded))
    assert ok(manager.get(f"/api/imageinstance/{image['id']}.json"))["instanceFilename"] == (
        "renamed")  # fmt: skip


# --- listings ------------------------------------------------------------------------------------


@pytest.fixture
def gallery(api, database_url, project, make_abstract_image) -> dict[str, Any]:
    """Four images with different sizes, names, formats and counters, created in this order."""
    specs = [("beta.svs", 500, "SVS", 3, 1), ("alpha.ndpi", 2000, "NDPI", 0, 0),
             ("gamma.svs", 300, "SVS", 2, 2), ("delta.png", 1000, "PNG", 5, 0)]  # fmt: skip
    images = []
    for name, width, content_type, counted, reviewed in specs:
        base = make_abstract_image(name=name, width=width, content_type=content_type)
        image = add_image(api, project["id"], base["id"])
        run_sql(database_url, "UPDATE image_instance SET count_image_annotations = $1, "
                "count_image_reviewed_annotations = $2 WHERE id = $3",
                counted, reviewed, image["id"])  # fmt: skip
        images.append(image)
    ids = {spec[0]: image["id"] for spec, image in zip(specs, images, strict=True)}
    return {"project": project["id"], "images": images, "ids": ids}


def test_image_listing_default_is_newest_first_with_exact_rows(api, gallery):
    rows = listed(api, f"/api/project/{gallery['project']}/imageinstance.json")
    assert [row["id"] for row in rows] == [i["id"] for i in reversed(gallery["images"])]
    row = rows[0]
    assert set(row) == IMAGE_KEYS | {"projectBlind", "projectName"}
    assert row["projectBlind"] is None and row["projectName"] is None
    assert row["numberOfAnnotations"] == 5
    shown = ok(api.get(f"/api/imageinstance/{row['id']}.json"))
    assert {k: v for k, v in row.items() if k in IMAGE_KEYS} == shown


def test_image_listing_pages_in_sql_with_exact_size(api, gallery):
    path = f"/api/project/{gallery['project']}/imageinstance.json"
    body = ok(api.get(path, params={"max": 3, "offset": 0}))
    assert (len(body["collection"]), body["size"], body["totalPages"]) == (3, 4, 2)
    body = ok(api.get(path, params={"max": 3, "offset": 3}))
    assert (len(body["collection"]), body["size"], body["offset"]) == (1, 4, 3)
    body = ok(api.get(path, params={"max": 3, "offset": 10}))
    assert (body["collection"], body["size"]) == ([], 4)


SORTS = (
    ("width", "asc", ["gamma.svs", "beta.svs", "delta.png", "alpha.ndpi"]),
    ("instanceFilename", "asc", ["alpha.ndpi", "beta.svs", "delta.png", "gamma.svs"]),
    ("originalFilename", "desc", ["gamma.svs", "delta.png", "beta.svs", "alpha.ndpi"]),
    ("numberOfAnnotations", "desc", ["delta.png", "beta.svs", "gamma.svs", "alpha.ndpi"]),
    ("countImageReviewedAnnotations", "desc", ["gamma.svs", "beta.svs", "delta.png", "alpha.ndpi"]),
    ("contentType", "asc", ["alpha.ndpi", "delta.png", "beta.svs", "gamma.svs"]),
    ("blindedName", "asc", ["beta.svs", "alpha.ndpi", "gamma.svs", "delta.png"]),
    ("created", "asc", ["beta.svs", "alpha.ndpi", "gamma.svs", "delta.png"]),
)


def test_image_listing_sorts(api, gallery):
    for sort, order, expected in SORTS:
        ids = image_ids(api, gallery["project"], sort=sort, order=order)
        assert ids == [gallery["ids"][name] for name in expected], (sort, order)


def test_image_listing_unknown_sort_is_501_and_bad_order_400(api, gallery):
    path = f"/api/project/{gallery['project']}/imageinstance.json"
    response = api.get(path, params={"sort": "shoeSize"})
    assert response.status_code == 501, response.text
    assert api.get(path, params={"sort": "width", "order": "sideways"}).status_code == 400


FILTERS = (
    ({"width[lte]": "500"}, {"beta.svs", "gamma.svs"}),
    ({"numberOfAnnotations[gte]": "2", "numberOfAnnotations[lte]": "4"}, {"beta.svs", "gamma.svs"}),
    ({"name[ilike]": "ALPHA"}, {"alpha.ndpi"}),
    ({"instanceFilename[like]": "*ta.*"}, {"beta.svs", "delta.png"}),
    ({"contentType[in]": "NDPI,PNG"}, {"alpha.ndpi", "delta.png"}),
    ({"numberOfReviewedAnnotations[equals]": "0"}, {"alpha.ndpi", "delta.png"}),
    ({"width[equals]": "1000"}, {"delta.png"}),
    ({"tag[in]": "1,2"}, set()),  # untagged images; tests/tag filters tagged ones
    ({"imageGroup[in]": "3"}, {"alpha.ndpi", "beta.svs", "gamma.svs", "delta.png"}),
    ({"reviewStart[equals]": "null"}, {"alpha.ndpi", "beta.svs", "gamma.svs", "delta.png"}),
)


def test_image_listing_filters(api, gallery):
    for filters, expected in FILTERS:
        ids = set(image_ids(api, gallery["project"], **filters))
        assert ids == {gallery["ids"][name] for name in expected}, filters


def test_image_listing_filters_on_base_image_and_stored_calibration(api, gallery):
    target = gallery["images"][2]
    ids = image_ids(api, gallery["project"], **{"baseImage[equals]": str(target["baseImage"])})
    assert ids == [target["id"]]
    ok(api.put(f"/api/imageinstance/{target['id']}.json",
               json={**target, "magnification": 40}))  # fmt: skip
    assert image_ids(api, gallery["project"], **{"magnification[equals]": "40"}) == [target["id"]]
    assert image_ids(api, gallery["project"], **{"magnification[equals]": "20"}) == []


def test_image_listing_light_tree_activity_and_image_group_modes(api, gallery):
    path = f"/api/project/{gallery['project']}/imageinstance.json"
    light = listed(api, path, light="true")
    assert light[0] == {"id": gallery["ids"]["delta.png"], "instanceFilename": "delta.png",
                        "blindedName": None}  # fmt: skip
    tree = ok(api.get(path, params={"tree": "true", "max": 2, "offset": 1}))
    project = ok(api.get(f"/api/project/{gallery['project']}.json"))
    assert {k: v for k, v in tree.items() if k != "children"} == {
        "id": project["id"], "key": project["id"], "title": project["name"],
        "name": project["name"], "isFolder": True, "hideCheckbox": True, "size": 4}  # fmt: skip
    assert tree["children"] == [
        {"id": gallery["ids"][n], "key": gallery["ids"][n], "title": n, "isFolder": False,
         "children": []} for n in ("gamma.svs", "alpha.ndpi")]  # fmt: skip
    activity = listed(api, path, withLastActivity="true", max=2, offset=1)
    assert [row["id"] for row in activity] == [gallery["ids"]["gamma.svs"],
                                              gallery["ids"]["alpha.ndpi"]]  # fmt: skip
    assert all("lastActivity" not in row for row in activity)  # no consultations exist yet
    grouped = listed(api, path, withImageGroup="true")
    assert all(row["imageGroup"] is None for row in grouped) and len(grouped) == 4


def test_image_listing_unknown_project_404_and_stranger_403(api, gallery, make_user):
    assert api.get("/api/project/987654/imageinstance.json").status_code == 404
    stranger = make_user()["api"]
    response = stranger.get(f"/api/project/{gallery['project']}/imageinstance.json")
    assert response.status_code == 403


def test_abstract_image_instances_lists_readable_projects_only(api, make_user, make_abstract_image):
    owner = make_user()
    base = make_abstract_image(owner=owner["api"])
    mine, theirs = make_project(owner["api"]), make_project(api)
    in_mine = add_image(owner["api"], mine["id"], base["id"])
    in_theirs = add_image(api, theirs["id"], base["id"])
    path = f"/api/abstractimage/{base['id']}/imageinstance.json"
    assert {i["id"] for i in listed(api, path)} == {in_mine["id"], in_theirs["id"]}
    assert [i["id"] for i in listed(owner["api"], path)] == [in_mine["id"]]
    assert make_user()["api"].get(path).status_code == 403
    assert api.get("/api/abstractimage/987654/imageinstance.json").status_code == 404


def test_image_bounds(api, gallery):
    target = gallery["images"][0]
    ok(api.put(f"/api/imageinstance/{target['id']}.json",
               json={**target, "magnification": 40, "physicalSizeX": 0.25}))  # fmt: skip
    bounds = ok(api.get(f"/api/project/{gallery['project']}/bounds/imageinstance.json"))
    assert set(bounds) == {
        "created", "updated", "reviewStart", "reviewStop", "magnification", "physicalSizeX",
        "physicalSizeY", "physicalSizeZ", "fps", "countImageAnnotations",
        "countImageJobAnnotations", "countImageReviewedAnnotations", "width", "height",
        "instanceFilename", "format", "mimeType"}  # fmt: skip
    assert bounds["width"] == {"min": 300, "max": 2000}
    assert bounds["countImageAnnotations"] == {"min": 0, "max": 5}
    assert bounds["magnification"] == {"min": 40, "max": 40, "list": [40]}
    assert bounds["physicalSizeX"] == {"min": 0.25, "max": 0.25, "list": [0.25]}
    assert bounds["format"] == {"min": "NDPI", "max": "SVS", "list": ["NDPI", "PNG", "SVS"]}
    assert bounds["mimeType"] == bounds["format"]
    assert bounds["instanceFilename"] == {"min": "alpha.ndpi", "max": "gamma.svs"}
    assert bounds["reviewStart"] == {"min": None, "max": None}
    created = [int(i["created"]) for i in gallery["images"]]
    assert bounds["created"] == {"min": min(created), "max": max(created)}


def test_last_opened_images_is_empty_without_consultations(api, gallery):
    body = ok(api.get("/api/imageinstance/method/lastopened.json", params={"max": 3}))
    assert body == {"collection": [], "offset": 0, "perPage": 0, "size": 0, "totalPages": 0}


def test_user_images_are_raw_rows_of_readable_projects_for_oneself_only(
    api, make_user, make_abstract_image
):
    member = make_user()
    shared = make_project(api, users=(member["id"],))
    hidden = make_project(api)
    image = add_image(api, shared["id"], make_abstract_image(name="mine.svs")["id"])
    add_image(api, hidden["id"], make_abstract_image()["id"])
    rows = listed(member["api"], f"/api/user/{member['id']}/imageinstance.json")
    assert [row["id"] for row in rows] == [image["id"]]
    row = rows[0]
    assert isinstance(row["created"], int) and row["created"] == int(image["created"])
    assert (row["baseImage"], row["baseImageId"], row["project"], row["projectId"]) == (
        image["baseImage"], image["baseImage"], shared["id"], shared["id"])  # fmt: skip
    assert (row["projectName"], row["projectBlind"], row["userProjectManager"]) == (
        shared["name"], False, False)  # fmt: skip
    assert (row["instanceFilename"], row["countImageAnnotations"], row["reviewUser"]) == (
        "mine.svs", 0, None)  # fmt: skip
    assert row["magnification"] is None  # the stored override, not the effective value
    assert member["api"].get(f"/api/user/{ok(api.get('/api/user/current.json'))['id']}"
                             "/imageinstance.json").status_code == 403  # fmt: skip
    sorted_rows = listed(api, f"/api/user/{ok(api.get('/api/user/current.json'))['id']}"
                         "/imageinstance.json", sort="instanceFilename", order="asc")  # fmt: skip
    assert len(sorted_rows) == 2 and sorted_rows[0]["userProjectManager"] is True


def test_user_images_light_zero_is_me_and_hides_names_in_blind_projects(
    api, make_user, make_abstract_image
):
    member = make_user()
    blind = make_project(api, blindMode=True, users=(member["id"],))
    open_ = make_project(api, users=(member["id"],))
    hidden = add_image(api, blind["id"], make_abstract_image(name="b.svs")["id"])
    shown = add_image(api, open_["id"], make_abstract_image(name="a.svs")["id"])
    rows = listed(member["api"], "/api/user/0/imageinstance/light.json")
    assert rows == [  # by name: the blinded name (an id) sorts before letters
        {"id": hidden["id"], "project": blind["id"], "projectName": blind["name"],
         "blindedName": str(hidden["baseImage"])},
        {"id": shown["id"], "project": open_["id"], "projectName": open_["name"],
         "instanceFilename": "a.svs"},
    ]  # fmt: skip
    assert member["api"].get("/api/user/1/imageinstance/light.json").status_code == 403


# --- slice instances -----------------------------------------------------------------------------


def test_slice_instance_create_update_delete(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image(slices=2)["id"])
    first, second = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    body = ok(api.delete(f"/api/sliceinstance/{second['id']}.json"))
    assert body["callback"]["method"] == "be.cytomine.DeleteSliceInstanceCommand"
    assert body["sliceinstance"] == second
    assert api.get(f"/api/sliceinstance/{second['id']}.json").status_code == 404
    payload = {"baseSlice": second["baseSlice"], "image": image["id"], "project": project["id"]}
    made = ok(api.post("/api/sliceinstance.json", json=payload))
    assert made["callback"] == {"method": "be.cytomine.AddSliceInstanceCommand",
                                "sliceinstanceID": str(made["sliceinstance"]["id"])}  # fmt: skip
    again = made["sliceinstance"]
    assert {k: again[k] for k in ("baseSlice", "image", "zStack", "rank")} == {
        k: second[k] for k in ("baseSlice", "image", "zStack", "rank")}  # fmt: skip
    duplicate = api.post("/api/sliceinstance.json", json=payload)
    assert duplicate.status_code == 409, duplicate.text
    swap = api.put(f"/api/sliceinstance/{again['id']}.json",
                   json={**again, "baseSlice": first["baseSlice"]})  # fmt: skip
    assert swap.status_code == 409, swap.text
    edited = ok(api.put(f"/api/sliceinstance/{again['id']}.json", json=again))
    assert edited["callback"]["method"] == "be.cytomine.EditSliceInstanceCommand"


@pytest.mark.parametrize("wrong", ["baseSlice", "image", "project"])
def test_slice_instance_create_inconsistent_or_missing_is_400(
    api, project, make_abstract_image, wrong
):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    other = add_image(api, make_project(api)["id"], make_abstract_image()["id"])
    piece = listed(api, f"/api/imageinstance/{other['id']}/sliceinstance.json")[0]
    good = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")[0]
    body = {"baseSlice": good["baseSlice"], "image": image["id"], "project": project["id"]}
    body[wrong] = {"baseSlice": piece["baseSlice"], "image": other["id"],
                   "project": other["project"]}[wrong]  # fmt: skip
    assert api.post("/api/sliceinstance.json", json=body).status_code == 400
    del body[wrong]
    assert api.post("/api/sliceinstance.json", json=body).status_code == 400


def test_slice_instance_at_plane_and_404(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image(planes=[(0, 0, 0), (1, 2, 3)])["id"])
    found = ok(api.get(f"/api/imageinstance/{image['id']}/1/2/3/sliceinstance.json"))
    assert (found["channel"], found["zStack"], found["time"]) == (1, 2, 3)
    assert api.get(f"/api/imageinstance/{image['id']}/1/1/1/sliceinstance.json").status_code == 404
    assert api.get("/api/imageinstance/987654/0/0/0/sliceinstance.json").status_code == 404
    assert api.get("/api/sliceinstance/987654.json").status_code == 404


def test_new_abstract_slice_reaches_existing_instances(api, project, make_abstract_image):
    base = make_abstract_image(slices=1)
    image = add_image(api, project["id"], base["id"])
    piece = {"image": base["id"], "uploadedFile": base["uploadedFile"]["id"], "zStack": 1}
    ok(api.post("/api/abstractslice.json", json=piece))
    slices = listed(api, f"/api/imageinstance/{image['id']}/sliceinstance.json")
    assert [s["zStack"] for s in slices] == [0, 1]


def test_a_consultation_source_feeds_last_opened_and_last_activity(
    api, monkeypatch, project, make_abstract_image, make_user
):
    """Consultations are activity, not built yet; a source plugged into CONSULTATION_SOURCES
    (here: "everyone opened the images they added, when they added them") is all the last
    opened list and `lastActivity` need."""
    from sqlalchemy import select

    from db.models import ImageInstance
    from resolvers.image import rows as image_rows

    def added(user_id: int) -> Any:
        return select(
            ImageInstance.id.label("image_id"), ImageInstance.created.label("date")
        ).where(ImageInstance.user_id == user_id)

    monkeypatch.setattr(image_rows, "CONSULTATION_SOURCES", (added,))
    member = make_user()
    shared = make_project(api, users=(member["id"],))
    mine = [add_image(api, project["id"], make_abstract_image()["id"]) for _ in range(3)]
    theirs = add_image(member["api"], shared["id"], make_abstract_image(owner=member["api"])["id"])
    opened = listed(api, "/api/imageinstance/method/lastopened.json", max=2)
    assert [row["id"] for row in opened] == [mine[2]["id"], mine[1]["id"]]
    assert opened[0] == {"id": mine[2]["id"], "date": int(mine[2]["created"]),
                         "thumb": mine[2]["thumb"].split("?")[0],
                         "instanceFilename": mine[2]["instanceFilename"],
                         "project": project["id"]}  # fmt: skip
    rows = listed(api, f"/api/project/{shared['id']}/imageinstance.json", withLastActivity="true")
    assert "lastActivity" not in rows[0]  # the admin never opened the member's image
    rows = listed(member["api"], f"/api/project/{shared['id']}/imageinstance.json",
                  withLastActivity="true")  # fmt: skip
    assert rows[0]["id"] == theirs["id"] and rows[0]["lastActivity"] == int(theirs["created"])
    assert api.delete(f"/api/project/{shared['id']}/user/{member['id']}.json").status_code == 200
    assert listed(member["api"], "/api/imageinstance/method/lastopened.json") == []
