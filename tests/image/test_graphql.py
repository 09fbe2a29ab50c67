"""Image instances and slice instances in the graph: nested reads, the two calibrations, the
review state, blind mode, mutations with payloads and error codes (contract
images-annotations.md §2.6–§2.7, §11)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import add_image, make_project, upload
from tests.harness import Api
from tests.imaging.pictures import pyramid_tiff

NESTED = """
query($id: Long!) {
  project(id: $id) {
    numberOfImages
    images(first: 2, sort: "width", order: "asc", filters: [{field: "width", op: "gte",
           value: "400"}]) {
      totalCount pageInfo { hasNextPage offset }
      nodes {
        id instanceFilename width reviewState
        calibration { physicalSizeX magnification }
        calibrationOverride { physicalSizeX magnification }
        slices { channel zStack time rank path baseSlice { id } }
        abstractImage { id originalFilename uploadedFile { id storage { name } } }
        project { id } user { username }
      }
    }
  }
}
"""


def gql_ok(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    answer = api.gql(query, variables)
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


def gql_error(api: Api, query: str, **variables: Any) -> str:
    answer = api.gql(query, variables)
    assert answer.get("errors"), answer
    return str(answer["errors"][0]["extensions"]["code"])


@pytest.fixture
def project(api: Api) -> dict[str, Any]:
    return make_project(api)


def test_project_images_nested_with_page_sort_filters_slices_and_storage(
    api, project, make_abstract_image
):
    widths = (300, 500, 700, 900)
    images = [add_image(api, project["id"], make_abstract_image(slices=2, width=w)["id"])
              for w in widths]  # fmt: skip
    data = gql_ok(api, NESTED, id=project["id"])["project"]
    assert data["numberOfImages"] == 4
    page = data["images"]
    assert page["totalCount"] == 3
    assert page["pageInfo"] == {"hasNextPage": True, "offset": 0}
    assert [node["id"] for node in page["nodes"]] == [images[1]["id"], images[2]["id"]]
    node = page["nodes"][0]
    assert node["reviewState"] == "NONE"
    assert node["calibration"] == {"physicalSizeX": 0.499, "magnification": 20}
    assert node["calibrationOverride"] == {"physicalSizeX": None, "magnification": None}
    assert [(s["zStack"], s["rank"]) for s in node["slices"]] == [(0, 0), (1, 1)]
    assert node["slices"][0]["baseSlice"]["id"] is not None
    assert node["abstractImage"]["uploadedFile"]["storage"]["name"] == "admin storage"
    assert node["project"]["id"] == project["id"] and node["user"]["username"] == "admin"


def test_image_instance_create_update_delete_mutations(api, project, make_abstract_image):
    base = make_abstract_image()
    created = gql_ok(api, """
        mutation($input: ImageInstanceInput!) {
          imageInstanceCreate(input: $input) {
            command { action domain message printMessage }
            imageInstance { id instanceFilename slices { id } }
          }
        }""", input={"baseImage": base["id"], "project": project["id"],
                     "instanceFilename": "named"})["imageInstanceCreate"]  # fmt: skip
    image = created["imageInstance"]
    assert created["command"]["action"] == "ADD" and created["command"]["domain"] == "ImageInstance"
    assert image["instanceFilename"] == "named" and len(image["slices"]) == 1
    me = gql_ok(api, "{ viewer { user { id } } }")["viewer"]["user"]["id"]
    updated = gql_ok(api, """
        mutation($id: Long!, $input: ImageInstanceInput!) {
          imageInstanceUpdate(id: $id, input: $input) {
            imageInstance { instanceFilename reviewState reviewUser { id }
              calibration { physicalSizeX fps } calibrationOverride { physicalSizeX fps } }
          }
        }""", id=image["id"], input={"project": project["id"], "physicalSizeX": 0.2,
                                     "reviewStart": "2026-01-02T03:04:05Z",
                                     "reviewUser": me})["imageInstanceUpdate"]  # fmt: skip
    after = updated["imageInstance"]
    assert after["instanceFilename"] == base["originalFilename"]  # absent: the name is reset
    assert after["reviewState"] == "IN_REVIEW" and after["reviewUser"]["id"] == me
    assert after["calibration"] == {"physicalSizeX": 0.2, "fps": None}
    assert after["calibrationOverride"] == {"physicalSizeX": 0.2, "fps": None}
    stopped = gql_ok(api, """
        mutation($id: Long!, $input: ImageInstanceInput!) {
          imageInstanceUpdate(id: $id, input: $input) { imageInstance { reviewState reviewStop } }
        }""", id=image["id"], input={"project": project["id"], "reviewUser": me,
                                     "reviewStart": "2026-01-02T03:00:00Z",
                                     "reviewStop": "2026-01-02T04:00:00Z"})  # fmt: skip
    assert stopped["imageInstanceUpdate"]["imageInstance"] == {
        "reviewState": "VALIDATED", "reviewStop": "2026-01-02T04:00:00+00:00"}  # fmt: skip
    deleted = gql_ok(api, "mutation($id: Long!) { imageInstanceDelete(id: $id) { "
                     "command { action } imageInstance { id } } }", id=image["id"])  # fmt: skip
    assert deleted["imageInstanceDelete"] == {"command": {"action": "DELETE"},
                                              "imageInstance": {"id": image["id"]}}  # fmt: skip
    code = gql_error(api, "query($id: Long!) { imageInstance(id: $id) { id } }", id=image["id"])
    assert code == "NOT_FOUND"


def test_slice_instance_reads_and_mutations(api, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image(planes=[(0, 0, 0), (1, 0, 0)])["id"])
    data = gql_ok(api, """
        query($id: Long!) { imageInstance(id: $id) {
          referenceSlice { id channel } slices { id baseSliceId channel image { id } }
        } }""", id=image["id"])["imageInstance"]  # fmt: skip
    assert data["referenceSlice"]["channel"] == 1
    second = data["slices"][1]
    assert second["image"]["id"] == image["id"]
    at = gql_ok(api, "query($id: Long!) { sliceInstanceAt(imageInstanceId: $id, channel: 1, "
                "zStack: 0, time: 0) { id } }", id=image["id"])  # fmt: skip
    assert at["sliceInstanceAt"]["id"] == second["id"]
    gql_ok(api, "mutation($id: Long!) { sliceInstanceDelete(id: $id) { sliceInstance { id } } }",
           id=second["id"])  # fmt: skip
    remade = gql_ok(api, """
        mutation($input: SliceInstanceInput!) {
          sliceInstanceCreate(input: $input) { command { action } sliceInstance { channel } }
        }""", input={"baseSlice": second["baseSliceId"], "image": image["id"],
                     "project": project["id"]})["sliceInstanceCreate"]  # fmt: skip
    assert remade == {"command": {"action": "ADD"}, "sliceInstance": {"channel": 1}}
    code = gql_error(api, "mutation($input: SliceInstanceInput!) { sliceInstanceCreate("
                     "input: $input) { sliceInstance { id } } }",
                     input={"baseSlice": second["baseSliceId"], "image": image["id"],
                            "project": project["id"]})  # fmt: skip
    assert code == "CONFLICT"


def test_image_next_previous_and_bounds_in_the_graph(api, project, make_abstract_image):
    first, second = (add_image(api, project["id"], make_abstract_image(width=w)["id"])
                     for w in (100, 200))  # fmt: skip
    data = gql_ok(api, """
        query($id: Long!, $project: Long!) {
          imageInstance(id: $id) { next { id } previous { id } }
          imageInstanceBounds(projectId: $project) {
            width { min max values } format { values } created { min }
          }
          lastOpenedImageInstances { date }
        }""", id=second["id"], project=project["id"])  # fmt: skip
    assert data["imageInstance"] == {"next": {"id": first["id"]}, "previous": None}
    bounds = data["imageInstanceBounds"]
    assert bounds["width"] == {"min": 100, "max": 200, "values": None}
    assert bounds["format"] == {"values": ["SVS"]}
    assert data["lastOpenedImageInstances"] == []


def test_blind_project_hides_storage_links_from_contributors(api, make_user, make_abstract_image):
    contributor = make_user()
    project = make_project(api, blindMode=True, users=(contributor["id"],))
    image = add_image(api, project["id"], make_abstract_image(name="secret.svs")["id"])
    query = """query($id: Long!) { imageInstance(id: $id) {
        instanceFilename filename abstractImage { originalFilename }
        slices { path baseSlice { id } } } }"""
    seen = gql_ok(contributor["api"], query, id=image["id"])["imageInstance"]
    assert seen == {"instanceFilename": None, "filename": None, "abstractImage": None,
                    "slices": [{"path": None, "baseSlice": None}]}  # fmt: skip
    seen = gql_ok(api, query, id=image["id"])["imageInstance"]
    assert seen["instanceFilename"] == str(image["baseImage"]) and seen["filename"] == "secret.svs"
    assert seen["abstractImage"] == {"originalFilename": "secret.svs"}


def test_error_codes(api, make_user, project, make_abstract_image):
    image = add_image(api, project["id"], make_abstract_image()["id"])
    stranger = make_user()["api"]
    read = "query($id: Long!) { imageInstance(id: $id) { id } }"
    assert gql_error(stranger, read, id=image["id"]) == "FORBIDDEN"
    assert gql_error(api, read, id=987654) == "NOT_FOUND"
    sort = 'query($p: Long!) { imageInstances(projectId: $p, sort: "shoe") { totalCount } }'
    assert gql_error(api, sort, p=project["id"]) == "NOT_SUPPORTED"
    paging = "query($p: Long!) { imageInstances(projectId: $p, offset: -1) { totalCount } }"
    assert gql_error(api, paging, p=project["id"]) == "BAD_USER_INPUT"
    mine = "query($u: Long!) { userImageInstances(userId: $u) { totalCount } }"
    assert gql_error(stranger, mine, u=987654) == "FORBIDDEN"
    create = ("mutation($input: ImageInstanceInput!) { imageInstanceCreate(input: $input) "
              "{ imageInstance { id } } }")  # fmt: skip
    body = {"baseImage": image["baseImage"], "project": project["id"]}
    assert gql_error(api, create, input=body) == "CONFLICT"
    assert gql_error(api, create, input={**body, "physicalSizeX": -1.0}) == "BAD_USER_INPUT"


VIEWER = """
query($id: Long!) {
  imageInstance(id: $id) {
    thumbUrl(maxSize: 256) tileUrlTemplate zoomLevels tileSize
    histogramBounds { channel apparentChannel sample color minimum maximum }
    referenceSlice {
      thumbUrl tileUrlTemplate zoomLevels tileSize
      histogramBounds { channel apparentChannel sample color minimum maximum }
    }
  }
}
"""


def test_viewer_fields_of_an_uploaded_image(api, make_user, tmp_path):
    project = make_project(api)
    made = upload(api, pyramid_tiff(tmp_path / "slide.tif", 1500, 1100), project["id"])
    instance = made[0]["images"][0]["imageInstances"][0]["id"]
    image = gql_ok(api, VIEWER, id=instance)["imageInstance"]
    piece = image["referenceSlice"]
    assert image["zoomLevels"] == piece["zoomLevels"] == 4  # 1500 → 750 → 375 → 188
    assert image["tileSize"] == piece["tileSize"] == 256
    assert image["thumbUrl"].endswith(f"/api/imageinstance/{instance}/thumb.png?maxSize=256")
    assert image["tileUrlTemplate"] == piece["tileUrlTemplate"]
    path = piece["tileUrlTemplate"].split(api.base, 1)[1]
    tile = api.get(path.replace("{z}", "3").replace("{x}", "5").replace("{y}", "4"))
    assert tile.status_code == 200 and tile.headers["Content-Type"] == "image/jpeg", tile.text
    assert api.get(piece["thumbUrl"].split(api.base, 1)[1]).status_code == 200
    rest = api.get(f"/api/imageinstance/{instance}/channelhistogram/bounds.json").json()
    expected = [{key: item[key] for key in ("channel", "apparentChannel", "sample", "color",
                                            "minimum", "maximum")}
                for item in rest["collection"]]  # fmt: skip
    assert image["histogramBounds"] == piece["histogramBounds"] == expected
    assert [item["color"] for item in expected] == ["#f00", "#0f0", "#00f"]
    stranger = make_user()["api"].gql(VIEWER, {"id": instance})
    assert stranger["errors"][0]["extensions"]["code"] == "FORBIDDEN", stranger
