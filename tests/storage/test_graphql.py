"""The storage side of the graph: storages, their files and what was made from them, with the
same rules and errors as REST (DESIGN.md "GraphQL", contract core.md §11)."""

from __future__ import annotations

from typing import Any

from tests.storage.conftest import companion, image, me, place, plane, slide, upload


def codes(answer: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors") or []]


def data(answer: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


STORAGE_GRAPH = """
query($id: Long!) {
  storage(id: $id) {
    name user { username } members { username }
    uploadedFiles(first: 10, onlyRoots: true) {
      totalCount pageInfo { hasNextPage }
      nodes {
        originalFilename statusText isArchive storage { id } lTree
        children { totalCount nodes { id parent { id } } }
        abstractImages {
          id filename path contentType dimensions zoom isVirtual apparentChannels thumbUrl
          previewUrl macroUrl inProject storage { id } uploader { username }
          uploadedFile { id } companionFiles { type }
          slices { rank path channel zStack time image { id } }
        }
      }
    }
  }
}
"""


def test_storage_graph_nests_files_images_slices(api, storage_id):
    picture = slide(api, storage_id, planes=2)
    child = upload(api, storage_id, parent=picture["file"]["id"])
    companion(api, picture, child)
    answer = data(api.gql(STORAGE_GRAPH, {"id": storage_id}))["storage"]
    assert answer["user"]["username"] == answer["members"][0]["username"] == "admin"
    files = answer["uploadedFiles"]
    assert files["totalCount"] == 1 and files["pageInfo"]["hasNextPage"] is False
    (node,) = files["nodes"]
    assert node["statusText"] == "DEPLOYED" and node["storage"]["id"] == storage_id
    assert node["children"] == {
        "totalCount": 1,
        "nodes": [{"id": child["id"], "parent": {"id": picture["file"]["id"]}}],
    }
    (found,) = node["abstractImages"]
    assert found["id"] == picture["id"]
    assert (found["dimensions"], found["zoom"], found["apparentChannels"]) == ("XYZ", 8, 3)
    assert found["thumbUrl"] == picture["thumb"] and found["macroUrl"] == picture["macroURL"]
    assert found["uploader"] == {"username": "admin"}
    assert found["companionFiles"] == [{"type": "HDF5"}]
    assert [s["rank"] for s in found["slices"]] == [0, 1]
    assert {s["path"] for s in found["slices"]} == {picture["path"]}


def test_storage_mutations_record_commands_rest_sees(api, make_user):
    alice = make_user()
    created = data(
        api.gql(
            "mutation($input: StorageInput!) { storageCreate(input: $input) {"
            " storage { id name userId } command { action domain message } } }",
            {"input": {"name": "graph", "userId": alice["id"]}},
        )
    )["storageCreate"]
    storage = created["storage"]
    assert created["command"] == {
        "action": "ADD",
        "domain": "Storage",
        "message": f"Storage {storage['id']} (graph) added",
    }
    assert alice["api"].get(f"/api/storage/{storage['id']}.json").json()["name"] == "graph"
    renamed = alice["api"].gql(
        'mutation($id: Long!) { storageUpdate(id: $id, input: {name: "again"}) {'
        " storage { name userId } } }",
        {"id": storage["id"]},
    )
    assert data(renamed)["storageUpdate"]["storage"] == {"name": "again", "userId": alice["id"]}
    bob = make_user()
    added = alice["api"].gql(
        "mutation($s: Long!, $u: Long!) { storageMemberAdd(storageId: $s, userId: $u) "
        "{ storage { name } user { username } } }",
        {"s": storage["id"], "u": bob["id"]},
    )
    assert data(added) == {
        "storageMemberAdd": {"storage": {"name": "again"}, "user": {"username": bob["username"]}}
    }
    members = data(alice["api"].gql(
        "query($s: Long!) { storageMembers(storageId: $s) { id } }", {"s": storage["id"]}
    ))["storageMembers"]  # fmt: skip
    assert {m["id"] for m in members} == {alice["id"], bob["id"]}
    owner_out = alice["api"].gql(
        "mutation($s: Long!, $u: Long!) { storageMemberRemove(storageId: $s, userId: $u) "
        "{ userId } }",
        {"s": storage["id"], "u": alice["id"]},
    )
    assert codes(owner_out) == ["BAD_USER_INPUT"]
    deleted = alice["api"].gql(
        "mutation($id: Long!) { storageDelete(id: $id) { storage { id } } }", {"id": storage["id"]}
    )
    assert data(deleted)["storageDelete"]["storage"]["id"] == storage["id"]
    assert alice["api"].get(f"/api/storage/{storage['id']}.json").status_code == 404


def test_storage_errors_have_codes(api, make_user, storage_id):
    alice = make_user()
    assert codes(api.gql("{ storage(id: 987654) { id } }")) == ["NOT_FOUND"]
    assert codes(alice["api"].gql(f"{{ storage(id: {storage_id}) {{ id }} }}")) == ["FORBIDDEN"]
    upload(api, storage_id)
    held = api.gql(f"mutation {{ storageDelete(id: {storage_id}) {{ storage {{ id }} }} }}")
    assert codes(held) == ["BAD_USER_INPUT"] and held["errors"][0]["message"] == (
        "Storage contains data"
    )


def test_uploaded_file_mutations_and_lists(api, storage_id):
    root = upload(api, storage_id, contentType="ZIP")
    member = upload(api, storage_id, parent=root["id"], status=10)
    updated = data(
        api.gql(
            "mutation($id: Long!, $input: UploadedFileInput!) {"
            " uploadedFileUpdate(id: $id, input: $input) {"
            " uploadedFile { status statusText size } command { action } } }",
            {
                "id": member["id"],
                "input": {
                    "user": member["user"],
                    "storage": storage_id,
                    "parent": root["id"],
                    "originalFilename": "m.svs",
                    "filename": "m.svs",
                    "status": 100,
                    "size": 5,
                },
            },
        )
    )["uploadedFileUpdate"]
    assert updated == {
        "uploadedFile": {"status": 100, "statusText": "DEPLOYED", "size": 5},
        "command": {"action": "EDIT"},
    }
    tree = data(
        api.gql(
            "query($r: Long!) { uploadedFiles(rootId: $r) { totalCount nodes { id lTree } } }",
            {"r": root["id"]},
        )
    )["uploadedFiles"]
    assert [n["lTree"] for n in tree["nodes"]] == [str(root["id"]), f"{root['id']}.{member['id']}"]
    roots = data(
        api.gql(
            '{ uploadedFileRoots(filters: [{field: "size", op: "lte", value: "5"}]) {'
            " totalCount nodes { id rootId nbChildren globalSize uploadedFile { id } } } }"
        )
    )["uploadedFileRoots"]
    assert roots["nodes"] == [
        {
            "id": member["id"],
            "rootId": root["id"],
            "nbChildren": 0,
            "globalSize": 5,
            "uploadedFile": {"id": member["id"]},
        }
    ]
    child_delete = api.gql(
        f"mutation {{ uploadedFileDelete(id: {member['id']}) {{ command {{ id }} }} }}"
    )
    assert codes(child_delete) == ["FORBIDDEN"]
    done = api.gql(
        f"mutation {{ uploadedFileDelete(id: {root['id']}) {{ uploadedFile {{ id }} }} }}"
    )
    assert data(done)["uploadedFileDelete"]["uploadedFile"]["id"] == root["id"]


def test_uploaded_files_all_is_for_admins(api, make_user):
    answer = make_user()["api"].gql("{ uploadedFiles(all: true) { totalCount } }")
    assert codes(answer) == ["FORBIDDEN"]
    assert data(api.gql("{ uploadedFiles(all: true) { totalCount } }"))["uploadedFiles"]


def test_abstract_image_queries_and_mutations(api, storage_id):
    placed = slide(api, storage_id)
    loose = slide(api, storage_id)
    instance = place(api, placed)
    listed = data(
        api.gql(
            'query($p: Long!) { abstractImages(projectId: $p, sort: "id", order: "asc") {'
            " totalCount nodes { id inProject } } }",
            {"p": instance["project"]},
        )
    )["abstractImages"]
    assert listed["nodes"] == [
        {"id": placed["id"], "inProject": True},
        {"id": loose["id"], "inProject": False},
    ]
    by_file = data(api.gql(f"{{ abstractImage(uploadedFileId: {loose['file']['id']}) {{ id }} }}"))
    assert by_file["abstractImage"]["id"] == loose["id"]
    unused = data(api.gql("{ abstractImages(unused: true) { nodes { id } } }"))["abstractImages"]
    assert unused["nodes"] == [{"id": loose["id"]}]
    refused = api.gql(
        f"mutation {{ abstractImageDelete(id: {placed['id']}) {{ command {{ id }} }} }}"
    )
    assert codes(refused) == ["FORBIDDEN"]
    assert refused["errors"][0]["extensions"]["errorValues"]["imageNames"] == [
        placed["originalFilename"]
    ]
    updated = data(
        api.gql(
            "mutation($id: Long!, $input: AbstractImageInput!) {"
            " abstractImageUpdate(id: $id, input: $input) { abstractImage { physicalSizeX } } }",
            {
                "id": loose["id"],
                "input": {
                    "uploadedFile": loose["file"]["id"],
                    "originalFilename": "x.svs",
                    "resolution": 0.3,
                },
            },
        )
    )["abstractImageUpdate"]
    assert updated["abstractImage"]["physicalSizeX"] == 0.3


def test_abstract_slice_queries_and_mutations(api, storage_id):
    picture = image(api, upload(api, storage_id), channels=2)
    first = plane(api, picture, c=0)
    second = plane(api, picture, c=1)
    found = data(
        api.gql(
            "query($i: Long!) { abstractSlice(abstractImageId: $i, channel: 1) { id rank } }",
            {"i": picture["id"]},
        )
    )["abstractSlice"]
    assert found == {"id": second["id"], "rank": 1}
    listed = data(
        api.gql(
            "query($f: Long!) { abstractSlices(uploadedFileId: $f) { totalCount nodes { id } } }",
            {"f": picture["uploadedFile"]},
        )
    )["abstractSlices"]
    assert listed == {"totalCount": 2, "nodes": [{"id": first["id"]}, {"id": second["id"]}]}
    clash = api.gql(
        "mutation($id: Long!, $input: AbstractSliceInput!) { abstractSliceUpdate(id: $id,"
        " input: $input) { abstractSlice { id } } }",
        {"id": first["id"], "input": {"image": picture["id"], "channel": 1}},
    )
    assert codes(clash) == ["CONFLICT"]
    gone = data(
        api.gql(
            f"mutation {{ abstractSliceDelete(id: {second['id']}) {{ command {{ action }} }} }}"
        )
    )
    assert gone["abstractSliceDelete"]["command"]["action"] == "DELETE"
    uploader = data(api.gql(f"{{ abstractSliceUploader(id: {first['id']}) {{ id }} }}"))
    assert uploader["abstractSliceUploader"]["id"] == me(api)["id"]


def test_companion_file_mutations(api, storage_id):
    picture = slide(api, storage_id)
    made = data(
        api.gql(
            "mutation($input: CompanionFileInput!) { companionFileCreate(input: $input) {"
            " companionFile { id type progress path image { id } } command { domain } } }",
            {"input": {"image": picture["id"], "filename": "p.h5", "type": "HDF5"}},
        )
    )["companionFileCreate"]
    assert made["command"] == {"domain": "CompanionFile"}
    assert made["companionFile"]["image"] == {"id": picture["id"]}
    assert made["companionFile"]["path"] is None
    listed = data(
        api.gql(f"{{ companionFiles(abstractImageId: {picture['id']}) {{ totalCount }} }}")
    )
    assert listed["companionFiles"]["totalCount"] == 1


def test_image_server_request_is_described_by_the_built_in_server(api, storage_id):
    picture = slide(api, storage_id)
    answer = api.gql(
        "query($id: Long!) { abstractImage(id: $id) {"
        ' imageServerRequest(kind: THUMB, format: "png") { filePath } } }',
        {"id": picture["id"]},
    )
    assert answer["data"]["abstractImage"]["imageServerRequest"]["filePath"] == picture["path"]
    bad = api.gql(
        "query($id: Long!) { abstractImage(id: $id) {"
        ' imageServerRequest(kind: NORMALIZED_TILE, format: "png") { filePath } } }',
        {"id": picture["id"]},
    )
    assert codes(bad) == ["BAD_USER_INPUT"]
    servers = data(api.gql("{ imageServers { totalCount nodes { url available } } }"))
    assert servers["imageServers"] == {"totalCount": 1, "nodes": [{"url": "", "available": True}]}
    formats = data(api.gql("{ imageServerFormats { id } }"))["imageServerFormats"]
    assert {"id": "SVS"} in formats
    urls = data(api.gql(f"{{ abstractImage(id: {picture['id']}) {{ imageServerUrls }} }}"))
    assert urls["abstractImage"]["imageServerUrls"] == []


def test_graphql_pages_are_bounded(api, storage_id):
    roots = [upload(api, storage_id) for _ in range(3)]
    upload(api, storage_id, parent=roots[0]["id"])
    answer = data(
        api.gql(
            "query($s: Long!) { storage(id: $s) { uploadedFiles(first: 2, offset: 2) {"
            " totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage offset } } } }",
            {"s": storage_id},
        )
    )["storage"]["uploadedFiles"]
    assert answer["totalCount"] == 4 and len(answer["nodes"]) == 2
    assert answer["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "offset": 2}
    past = data(
        api.gql(
            "query($s: Long!) { storage(id: $s) { uploadedFiles(first: 2, offset: 5,"
            " onlyRoots: true) {"
            " totalCount nodes { id } } } }",
            {"s": storage_id},
        )
    )["storage"]["uploadedFiles"]
    assert past == {"totalCount": 3, "nodes": []}
