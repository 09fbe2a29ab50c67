"""Abstract images, abstract slices, companion files, image servers and the pixel endpoints over
raw HTTP (contract images-annotations.md §2.3–§2.5, §2.9–§2.10, §9.1–§9.3, §9.6; decision 8)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from tests.harness import Api, serve
from tests.storage.conftest import (
    COMPANION_CLASS,
    IMAGE_CLASS,
    SLICE_CLASS,
    companion,
    image,
    me,
    own_storage,
    place,
    plane,
    run_sql,
    slide,
    upload,
)

IMAGE_KEYS = {
    "class",
    "id",
    "created",
    "updated",
    "filename",
    "originalFilename",
    "uploadedFile",
    "path",
    "contentType",
    "width",
    "height",
    "depth",
    "duration",
    "channels",
    "extrinsicChannels",
    "apparentChannels",
    "dimensions",
    "physicalSizeX",
    "physicalSizeY",
    "physicalSizeZ",
    "fps",
    "zoom",
    "tileSize",
    "isVirtual",
    "magnification",
    "bitPerSample",
    "samplePerPixel",
    "colorspace",
    "thumb",
    "preview",
    "macroURL",
    "inProject",
}
SLICE_KEYS = {
    "class",
    "id",
    "created",
    "updated",
    "image",
    "uploadedFile",
    "mime",
    "channel",
    "zStack",
    "time",
    "channelName",
    "channelColor",
    "zName",
    "path",
    "rank",
}
COMPANION_KEYS = {
    "class",
    "id",
    "created",
    "updated",
    "uploadedFile",
    "image",
    "originalFilename",
    "filename",
    "type",
    "progress",
    "path",
    "status",
    "statusText",
}


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["collection"]]


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


# --- abstract images -------------------------------------------------------------------------


def test_abstract_image_create_returns_exact_json_with_computed_fields(api, storage_id):
    file = upload(api, storage_id, originalFilename="CMU-1.svs")
    response = api.post(
        "/api/abstractimage.json",
        json={
            "originalFilename": "CMU-1.svs",
            "uploadedFile": file["id"],
            "width": 46000,
            "height": 32914,
            "channels": 1,
            "samplePerPixel": 3,
            "physicalSizeX": 0.499,
            "physicalSizeY": 0.499,
            "magnification": 20,
            "bitPerSample": 8,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    picture = body["abstractimage"]
    assert body["callback"] == {
        "method": "be.cytomine.AddAbstractImageCommand",
        "abstractimageID": str(picture["id"]),
    }
    assert body["message"] == f"AbstractImage {picture['id']} (CMU-1.svs) added"
    assert set(picture) == IMAGE_KEYS
    base = f"{api.base}/api/abstractimage/{picture['id']}"
    assert picture == {
        "class": IMAGE_CLASS,
        "id": picture["id"],
        "created": picture["created"],
        "updated": picture["updated"],
        "filename": "CMU-1.svs",
        "originalFilename": "CMU-1.svs",
        "uploadedFile": file["id"],
        "path": file["filename"],
        "contentType": "SVS",
        "width": 46000,
        "height": 32914,
        "depth": 1,
        "duration": 1,
        "channels": 1,
        "extrinsicChannels": 3,
        "apparentChannels": 3,
        "dimensions": "XY",
        "physicalSizeX": 0.499,
        "physicalSizeY": 0.499,
        "physicalSizeZ": None,
        "fps": None,
        "zoom": 8,
        "tileSize": 256,
        "isVirtual": False,
        "magnification": 20,
        "bitPerSample": 8,
        "samplePerPixel": 3,
        "colorspace": None,
        "thumb": f"{base}/thumb.png?maxSize=512",
        "preview": f"{base}/thumb.png?maxSize=1024",
        "macroURL": f"{base}/associated/macro.png?maxWidth=512",
        "inProject": False,
    }
    assert api.get(f"/api/abstractimage/{picture['id']}.json").json() == picture


@pytest.mark.parametrize(
    ("fields", "content_type", "expected"),
    [
        ({"channels": 3, "depth": 5, "duration": 2}, "SVS", ("XYCZT", 8, False, True)),
        ({"width": 256, "height": 100}, "PNG", ("XY", 0, False, False)),
        ({"width": 257, "height": 100, "depth": 2}, "VIRTUALSTACK", ("XYZ", 1, True, False)),
        ({"width": None, "height": None}, "", ("XY", 1, False, True)),
    ],
)
def test_abstract_image_computed_fields(api, storage_id, fields, content_type, expected):
    picture = image(api, upload(api, storage_id, contentType=content_type), **fields)
    got = (
        picture["dimensions"],
        picture["zoom"],
        picture["isVirtual"],
        picture["macroURL"] is not None,
    )
    assert got == expected


def test_abstract_image_list_shows_readable_storages_only(api, team, storage_id):
    mine = slide(api, storage_id)
    theirs = slide(team["owner"]["api"], team["storage"]["id"])
    assert _ids(team["owner"]["api"].get("/api/abstractimage.json")) == [theirs["id"]]
    assert _ids(team["member"]["api"].get("/api/abstractimage.json")) == [theirs["id"]]
    assert _ids(team["other"]["api"].get("/api/abstractimage.json")) == []
    assert _ids(api.get("/api/abstractimage.json")) == [theirs["id"], mine["id"]]


def test_abstract_image_list_filters_sorts_and_pages_in_sql(api, storage_id):
    small = slide(api, storage_id, width=300, height=200)
    large = slide(api, storage_id, width=60000, height=40000)
    medium = slide(api, storage_id, width=5000, height=4000)
    assert _ids(api.get("/api/abstractimage.json", params={"width[lte]": 500})) == [small["id"]]
    by_width = api.get("/api/abstractimage.json", params={"sort": "width", "order": "desc"})
    assert _ids(by_width) == [large["id"], medium["id"], small["id"]]
    paged = api.get(
        "/api/abstractimage.json", params={"sort": "width", "order": "asc", "max": 2, "offset": 1}
    ).json()
    assert [i["id"] for i in paged["collection"]] == [medium["id"], large["id"]]
    assert (paged["size"], paged["perPage"], paged["totalPages"], paged["offset"]) == (3, 2, 2, 1)
    _error(api.get("/api/abstractimage.json", params={"sort": "nothing"}), 400)
    _error(api.get("/api/abstractimage.json", params={"width[lte]": "wide"}), 400)


def test_abstract_image_list_with_project_sets_in_project(api, storage_id):
    placed = slide(api, storage_id)
    loose = slide(api, storage_id)
    instance = place(api, placed)
    listed = api.get("/api/abstractimage.json", params={"project": instance["project"]}).json()
    flags = {i["id"]: i["inProject"] for i in listed["collection"]}
    assert flags == {placed["id"]: True, loose["id"]: False}
    _error(api.get("/api/abstractimage.json", params={"project": 987654}), 404)


def test_abstract_image_unused_lists_images_without_instance_or_companion(api, storage_id):
    placed = slide(api, storage_id)
    with_profile = slide(api, storage_id)
    loose = slide(api, storage_id)
    place(api, placed)
    companion(api, with_profile)
    assert _ids(api.get("/api/abstractimage/unused.json")) == [loose["id"]]


def test_abstract_image_update_with_resolution_alias(api, storage_id):
    picture = slide(api, storage_id)
    body = {**picture, "resolution": 0.25, "magnification": 40, "class_": picture["class"]}
    response = api.put(f"/api/abstractimage/{picture['id']}.json", json=body)
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["callback"]["method"] == "be.cytomine.EditAbstractImageCommand"
    updated = envelope["abstractimage"]
    assert (updated["physicalSizeX"], updated["magnification"]) == (0.25, 40)
    assert updated["thumb"] == picture["thumb"] and updated["zoom"] == picture["zoom"]


def test_abstract_image_update_propagates_calibration_to_copies(api, storage_id, database_url):
    picture = slide(api, storage_id)
    copied, overridden, inherited = (place(api, picture) for _ in range(3))
    stores = {copied["id"]: (0.499, 20), overridden["id"]: (2.0, 10), inherited["id"]: (None, None)}
    for instance_id, (size, magnification) in stores.items():
        run_sql(
            database_url,
            "UPDATE image_instance SET physical_size_x = $2, magnification = $3 WHERE id = $1",
            instance_id,
            size,
            magnification,
        )
    body = {**picture, "physicalSizeX": 0.25, "magnification": 40}
    assert api.put(f"/api/abstractimage/{picture['id']}.json", json=body).status_code == 200

    def stored() -> dict[int, tuple[Any, Any]]:
        rows = run_sql(
            database_url,
            "SELECT id, physical_size_x, magnification FROM "
            "image_instance WHERE base_image_id = $1",
            picture["id"],
        )
        return {row["id"]: (row["physical_size_x"], row["magnification"]) for row in rows}

    assert stored() == {
        copied["id"]: (0.25, 40),
        overridden["id"]: (2.0, 10),
        inherited["id"]: (None, None),
    }
    assert api.get("/api/command/undo.json").status_code == 200
    assert stored()[copied["id"]] == (0.499, 20)
    assert api.get(f"/api/abstractimage/{picture['id']}.json").json()["physicalSizeX"] == 0.499


def test_abstract_image_update_without_original_filename_is_400(api, storage_id):
    picture = slide(api, storage_id)
    body = {key: value for key, value in picture.items() if key != "originalFilename"}
    body.pop("filename")
    response = api.put(f"/api/abstractimage/{picture['id']}.json", json=body)
    assert _error(response, 400)["errors"] == "Property originalFilename must be set"


def test_abstract_image_delete_used_is_403_with_error_values(api, storage_id):
    picture = slide(api, storage_id)
    first = place(api, picture)
    second = place(api, picture)
    body = _error(api.delete(f"/api/abstractimage/{picture['id']}.json"), 403)
    names = sorted([first["projectJson"]["name"], second["projectJson"]["name"]])
    assert body["errorValues"] == {
        "projectNames": names,
        "imageNames": [picture["originalFilename"]],
    }
    assert body["success"] is False and body["errors"] == body["message"]
    assert api.get(f"/api/abstractimage/{picture['id']}.json").status_code == 200


def test_abstract_image_delete_removes_its_slices_and_undo_brings_them_back(api, storage_id):
    picture = slide(api, storage_id, planes=2)
    response = api.delete(f"/api/abstractimage/{picture['id']}.json")
    assert response.status_code == 200, response.text
    assert response.json()["callback"]["method"] == "be.cytomine.DeleteAbstractImageCommand"
    paths = [
        f"/api/abstractimage/{picture['id']}.json",
        *(f"/api/abstractslice/{s['id']}.json" for s in picture["slices"]),
    ]
    assert [api.get(path).status_code for path in paths] == [404, 404, 404]
    assert api.get("/api/command/undo.json").status_code == 200
    assert [api.get(path).status_code for path in paths] == [200, 200, 200]


def test_abstract_image_uploader_and_server_urls(api, storage_id, team):
    picture = slide(team["member"]["api"], team["storage"]["id"])
    uploader = team["owner"]["api"].get(f"/api/abstractimage/{picture['id']}/user.json")
    assert uploader.status_code == 200
    assert uploader.json()["id"] == team["member"]["id"]
    assert uploader.json()["class"] == "be.cytomine.domain.security.User"
    servers = api.get(f"/api/abstractimage/{picture['id']}/imageservers.json")
    assert servers.status_code == 200 and servers.json() == {"imageServersURLs": []}
    _error(api.get("/api/abstractimage/987654/user.json"), 404)


def test_abstract_image_properties_extract_swallows_a_missing_file(api, storage_id, team):
    picture = slide(api, storage_id)
    for tail in ("extract.json", "regenerate.json?deep=true"):
        answer = api.post(f"/api/abstractimage/{picture['id']}/properties/{tail}")
        assert answer.status_code == 200 and answer.json() == {}, answer.text
    _error(api.post("/api/abstractimage/987654/properties/extract.json"), 404)
    other = team["other"]["api"]
    _error(other.post(f"/api/abstractimage/{picture['id']}/properties/extract.json"), 403)


# --- abstract slices -------------------------------------------------------------------------


def test_abstract_slice_json_has_path_and_rank(api, storage_id):
    picture = image(api, upload(api, storage_id), channels=2, depth=3, duration=2)
    piece = plane(api, picture, c=1, z=2, t=1, channelName="DAPI", channelColor="#0000ff")
    assert set(piece) == SLICE_KEYS
    assert piece["class"] == SLICE_CLASS
    assert piece["rank"] == 1 + 2 * (2 + 3 * 1)
    assert piece["path"] == picture["path"]
    assert (piece["channelName"], piece["channelColor"], piece["mime"]) == (
        "DAPI",
        "#0000ff",
        "openslide/svs",
    )
    assert api.get(f"/api/abstractslice/{piece['id']}.json").json() == piece


def test_abstract_slice_path_of_a_virtual_stack_is_the_image_file(api, storage_id):
    stack = upload(api, storage_id, contentType="VIRTUALSTACK")
    picture = image(api, stack, depth=2)
    plane_file = upload(api, storage_id, parent=stack["id"], contentType="TIFF")
    piece = plane(api, picture, z=1, uploadedFile=plane_file["id"])
    assert piece["path"] == stack["filename"]
    ordinary = image(api, upload(api, storage_id), depth=2)
    own = plane(api, ordinary, z=1, uploadedFile=plane_file["id"])
    assert own["path"] == plane_file["filename"]


def test_abstract_slice_lists_and_plane_lookup(api, storage_id):
    picture = image(api, upload(api, storage_id), channels=2, depth=2)
    made = {(c, z): plane(api, picture, c=c, z=z) for z in (1, 0) for c in (1, 0)}
    listed = _ids(api.get(f"/api/abstractimage/{picture['id']}/abstractslice.json"))
    assert listed == [
        made[(0, 0)]["id"],
        made[(0, 1)]["id"],
        made[(1, 0)]["id"],
        made[(1, 1)]["id"],
    ]
    found = api.get(f"/api/abstractimage/{picture['id']}/1/0/0/abstractslice.json")
    assert found.status_code == 200 and found.json()["id"] == made[(1, 0)]["id"]
    _error(api.get(f"/api/abstractimage/{picture['id']}/5/0/0/abstractslice.json"), 404)
    _error(api.get("/api/abstractimage/987654/abstractslice.json"), 404)


def test_abstract_slice_duplicate_plane_is_409(api, storage_id):
    picture = slide(api, storage_id, planes=2)
    body = {"image": picture["id"], "channel": 0, "zStack": 1, "time": 0}
    _error(api.post("/api/abstractslice.json", json=body), 409)
    first = picture["slices"][0]
    _error(api.put(f"/api/abstractslice/{first['id']}.json", json={**first, "zStack": 1}), 409)


def test_abstract_slice_update_and_delete(api, storage_id):
    picture = slide(api, storage_id, planes=2)
    piece = picture["slices"][1]
    response = api.put(
        f"/api/abstractslice/{piece['id']}.json",
        json={**piece, "channelName": "Hematoxylin", "zStack": 4},
    )
    assert response.status_code == 200, response.text
    assert response.json()["callback"]["method"] == "be.cytomine.EditAbstractSliceCommand"
    assert (
        response.json()["abstractslice"]["channelName"],
        response.json()["abstractslice"]["zStack"],
    ) == ("Hematoxylin", 4)
    deleted = api.delete(f"/api/abstractslice/{piece['id']}.json")
    assert deleted.status_code == 200
    assert deleted.json()["callback"]["method"] == "be.cytomine.DeleteAbstractSliceCommand"
    _error(api.get(f"/api/abstractslice/{piece['id']}.json"), 404)


def test_abstract_slice_delete_used_by_a_slice_instance_is_403(api, storage_id):
    picture = slide(api, storage_id)
    instance = place(api, picture)
    body = _error(api.delete(f"/api/abstractslice/{picture['slices'][0]['id']}.json"), 403)
    assert body["errorValues"]["projectNames"] == [instance["projectJson"]["name"]]


def test_abstract_slice_uploader(api, team):
    picture = slide(team["member"]["api"], team["storage"]["id"])
    found = team["owner"]["api"].get(f"/api/abstractslice/{picture['slices'][0]['id']}/user.json")
    assert found.status_code == 200 and found.json()["id"] == team["member"]["id"]


def test_abstract_slice_unknown_mime_is_400(api, storage_id):
    picture = image(api, upload(api, storage_id))
    body = {"image": picture["id"], "mime": "image/unknown"}
    assert _error(api.post("/api/abstractslice.json", json=body), 400)["errors"] == (
        "mime was not found with mimeType: image/unknown"
    )


# --- companion files -------------------------------------------------------------------------


def test_companion_file_crud_and_lists(api, storage_id):
    picture = slide(api, storage_id)
    file = upload(api, storage_id, contentType="HDF5", status=104)
    response = api.post(
        "/api/companionfile.json",
        json={
            "image": picture["id"],
            "uploadedFile": file["id"],
            "originalFilename": "p.hdf5",
            "filename": "profile/p.hdf5",
            "type": "HDF5",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    made = body["companionfile"]
    assert body["callback"] == {
        "method": "be.cytomine.AddCompanionFileCommand",
        "companionfileID": str(made["id"]),
    }
    assert set(made) == COMPANION_KEYS
    assert made["class"] == COMPANION_CLASS
    assert (made["path"], made["status"], made["statusText"], made["progress"]) == (
        file["filename"],
        104,
        "CONVERTED",
        0,
    )
    assert api.get(f"/api/companionfile/{made['id']}.json").json() == made
    by_image = api.get(f"/api/abstractimage/{picture['id']}/companionfile.json")
    assert _ids(by_image) == [made["id"]]
    assert _ids(api.get(f"/api/uploadedfile/{file['id']}/companionfile.json")) == [made["id"]]
    uploader = api.get(f"/api/companionfile/{made['id']}/user.json")
    assert uploader.status_code == 200 and uploader.json()["id"] == me(api)["id"]

    updated = api.put(f"/api/companionfile/{made['id']}.json", json={**made, "progress": 50})
    assert updated.status_code == 200, updated.text
    assert updated.json()["companionfile"]["progress"] == 50
    _error(
        api.post(
            "/api/companionfile.json",
            json={
                "image": picture["id"],
                "uploadedFile": file["id"],
                "filename": "again",
                "type": "HDF5",
            },
        ),
        409,
    )
    deleted = api.delete(f"/api/companionfile/{made['id']}.json")
    assert deleted.status_code == 200
    assert deleted.json()["callback"]["method"] == "be.cytomine.DeleteCompanionFileCommand"
    _error(api.get(f"/api/companionfile/{made['id']}.json"), 404)
    assert api.get("/api/command/undo.json").status_code == 200
    assert api.get(f"/api/companionfile/{made['id']}.json").json()["progress"] == 50


def test_companion_file_needs_image_filename_and_type(api, storage_id):
    picture = slide(api, storage_id)
    cases = [
        ({"filename": "x", "type": "HDF5"}, "Property image must be set"),
        ({"image": picture["id"], "type": "HDF5"}, "Property filename must be set"),
        ({"image": picture["id"], "filename": "x"}, "Property type must be set"),
        ({"image": 987654, "filename": "x", "type": "HDF5"}, "image was not found with id: 987654"),
    ]
    for body, message in cases:
        assert _error(api.post("/api/companionfile.json", json=body), 400)["errors"] == message


def test_companion_file_of_an_unreadable_image_is_403(api, storage_id, team):
    picture = slide(api, storage_id)
    made = companion(api, picture)
    _error(team["other"]["api"].get(f"/api/companionfile/{made['id']}.json"), 403)
    body = {"image": picture["id"], "filename": "x", "type": "HDF5"}
    _error(team["other"]["api"].post("/api/companionfile.json", json=body), 403)


# --- image servers ---------------------------------------------------------------------------


def test_image_server_list_and_show_describe_the_configured_one(api):
    body = api.get("/api/imageserver.json").json()
    assert body["size"] == 1
    (server,) = body["collection"]
    assert set(server) == {
        "class",
        "id",
        "created",
        "updated",
        "name",
        "url",
        "basePath",
        "available",
    }
    assert server["class"] == "be.cytomine.domain.image.server.ImageServer"
    assert (server["url"], server["basePath"], server["available"]) == ("", "", True)
    assert api.get(f"/api/imageserver/{server['id']}.json").json() == server
    _error(api.get("/api/imageserver/987654.json"), 404)


def test_image_server_formats_list_what_the_built_in_server_reads(api):
    formats = api.get("/api/imageserver/format.json").json()["collection"]
    assert {"PYRTIFF", "OMETIFF", "JPEG", "PNG", "WEBP", "SVS", "NDPI", "MRXS"} <= {
        f["id"] for f in formats}  # fmt: skip
    assert set(formats[0]) == {"id", "name", "remarks", "convertible", "readable", "writable",
                               "importable"}  # fmt: skip


# --- pixel endpoints (decision 8) ------------------------------------------------------------

IMAGE_PIXELS = [
    "thumb.png",
    "thumb.jpg?maxSize=256",
    "preview.webp",
    "associated.json",
    "associated/macro.png?maxWidth=512",
    "crop.png?location=POINT(1 1)",
    "window-10-20-300-400.jpg",
    "camera-0-0-5-5.png",
    "metadata.json",
    "download",
]
POSTED = {
    "thumb.png",
    "preview.webp",
    "associated/macro.png?maxWidth=512",
    "crop.png?location=POINT(1 1)",
    "window-10-20-300-400.jpg",
    "camera-0-0-5-5.png",
}
SLICE_PIXELS = [
    "thumb.png",
    "crop.jpg",
    "window-1-1-10-10.png",
    "camera-1-1-10-10.png",
    "normalized-tile/zoom/2/tx/3/ty/4.jpg",
]


def test_pixels_of_an_abstract_image_without_its_file_are_404(api, storage_id):
    picture = slide(api, storage_id)
    for tail in IMAGE_PIXELS:
        path = f"/api/abstractimage/{picture['id']}/{tail}"
        methods = ("GET", "POST") if tail in POSTED else ("GET",)
        for method in methods:
            response = api.request(method, path)
            body = _error(response, 404)
            assert "missing" in body["message"], (method, path)
    assert api.post(f"/api/abstractimage/{picture['id']}/metadata.json").status_code == 405


def test_pixels_of_a_slice_without_its_file_are_404(api, storage_id):
    picture = slide(api, storage_id)
    for tail in SLICE_PIXELS:
        _error(api.get(f"/api/abstractslice/{picture['slices'][0]['id']}/{tail}"), 404)


def test_pixels_decide_404_403_and_bad_parameters_first(api, storage_id, team):
    picture = slide(api, storage_id)
    piece = picture["slices"][0]
    _error(api.get("/api/abstractimage/987654/thumb.png"), 404)
    _error(api.get("/api/abstractslice/987654/thumb.png"), 404)
    _error(team["other"]["api"].get(f"/api/abstractimage/{picture['id']}/thumb.png"), 403)
    _error(team["other"]["api"].get(f"/api/abstractslice/{piece['id']}/crop.png"), 403)
    _error(team["other"]["api"].get(f"/api/abstractimage/{picture['id']}/download"), 403)
    _error(api.get(f"/api/abstractimage/{picture['id']}/window-0-0-0-10.png"), 400)
    _error(api.get(f"/api/abstractimage/{picture['id']}/window-0-0-99999999999-10.png"), 400)
    profile = companion(api, picture, picture["file"])
    _error(api.get(f"/api/companionfile/{profile['id']}/download"), 404)
    _error(team["other"]["api"].get(f"/api/companionfile/{profile['id']}/download"), 403)
    lonely = companion(api, slide(api, storage_id))
    _error(api.get(f"/api/companionfile/{lonely['id']}/download"), 400)


def test_pixels_relayed_to_an_unreachable_image_server_are_502(settings, database_url):
    configured = replace(settings, image_server_url="http://127.0.0.1:9")
    with serve(configured, database_url) as running:
        from tests.harness import ADMIN_PRIVATE_KEY, ADMIN_PUBLIC_KEY

        api = Api(running.url, ADMIN_PUBLIC_KEY, ADMIN_PRIVATE_KEY)
        picture = slide(api, own_storage(api)["id"])
        body = _error(api.get(f"/api/abstractimage/{picture['id']}/thumb.png"), 502)
        assert "http://127.0.0.1:9" in body["message"]
        servers = api.get(f"/api/abstractimage/{picture['id']}/imageservers.json").json()
        assert servers == {"imageServersURLs": [f"http://127.0.0.1:9/image/{picture['path']}"]}
        (server,) = api.get("/api/imageserver.json").json()["collection"]
        assert (server["url"], server["available"]) == ("http://127.0.0.1:9", True)
        extracted = api.post(f"/api/abstractimage/{picture['id']}/properties/extract.json")
        assert (extracted.status_code, extracted.json()) == (200, {})  # failures are swallowed
        assert "http://127.0.0.1:9" in _error(api.get("/api/imageserver/format.json"), 502)[
            "message"]  # fmt: skip


def test_created_dates_are_epoch_ms_strings(api, storage_id):
    picture = slide(api, storage_id)
    for value in (picture["created"], picture["slices"][0]["created"]):
        assert value.isdigit() and abs(int(value) / 1000 - time.time()) < 600
