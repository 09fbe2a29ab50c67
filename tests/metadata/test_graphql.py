"""Metadata through GraphQL: the fields on every object that carries it, the mutations (two in
one document see each other's writes), and a file uploaded as a multipart request."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import requests

from tests.harness import Api, http_date, signature
from tests.metadata.conftest import CLASSES

OBJECTS = """query($p: Long!, $i: Long!, $a: Long!, $s: Long!) {
  project(id: $p) { properties { key value } attachedFiles { filename } description { data } }
  imageInstance(id: $i) { properties { key } description { data }
    slices { id properties { key } } abstractImage { properties { key } } }
  annotation(id: $a) { properties { key value } description { data } }
  sliceInstance(id: $s) { attachedFiles { filename size } }
}"""


def data(answer: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


def code(answer: dict[str, Any]) -> str:
    return answer["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def gql_upload(api: Api, query: str, variables: dict[str, Any], content: bytes,
               name: str) -> requests.Response:  # fmt: skip
    """A GraphQL multipart request (operations, map, one file) signed as `api`'s user."""
    operations = json.dumps({"query": query, "variables": variables})
    prepared = requests.Request(
        "POST", api.base + "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, content)},
    ).prepare()  # fmt: skip
    date = http_date()
    prepared.headers["date"] = date
    canonical = f"POST\n\n{prepared.headers['Content-Type']}\n{date}"
    prepared.headers["authorization"] = (
        f"CYTOMINE {api.public_key}:{signature(api.private_key, canonical)}"
    )
    return api.session.send(prepared, timeout=60)


UPLOAD = """mutation($file: Upload!, $c: String!, $i: Long!) {
  attachedFileCreate(input: {domainClassName: $c, domainIdent: $i, file: $file, key: "k"}) {
    attachedFile { id filename key size sha256 contentType url user { username } }
    command { id } } }"""


def test_metadata_fields_and_mutations_on_every_kind_of_object(api, scene, annotate):
    pid, image = scene["project"]["id"], scene["image"]["id"]
    drawn = annotate(api)
    created = data(api.gql("""mutation($p: Long!, $a: Long!, $s: Long!, $b: Long!) {
      one: propertyCreate(input: {domainClassName: "Project", domainIdent: $p, key: "a",
                                  value: "1"}) { property { id key } command { action domain } }
      two: propertyCreate(input: {domainClassName: "annotation", domainIdent: $a, key: "b",
                                  value: "2"}) { property { domainClassName } }
      three: propertyCreate(input: {domainClassName: "SliceInstance", domainIdent: $s,
                                    key: "c", value: "3"}) { property { id } }
      four: propertyCreate(input: {domainClassName: "AbstractImage", domainIdent: $b,
                                   key: "d", value: "4"}) { property { id } }
      desc: descriptionCreate(input: {domainClassName: "be.cytomine.domain.project.Project",
                                      domainIdent: $p, data: "<p>x</p>"}) {
        description { data } command { message } }
    }""", {"p": pid, "a": drawn["id"], "s": scene["slices"][0],
           "b": scene["image"]["baseImage"]}))  # fmt: skip
    assert created["one"]["command"] == {"action": "ADD", "domain": "Property"}
    assert created["two"]["property"]["domainClassName"] == CLASSES["UserAnnotation"]
    assert created["desc"]["command"]["message"] == f"Description for {CLASSES['Project']} created"
    sent = gql_upload(api, UPLOAD, {"file": None, "c": "SliceInstance", "i": scene["slices"][0]},
                      b"hello", "hello.txt")  # fmt: skip
    assert sent.status_code == 200, sent.text
    uploaded = data(sent.json())["attachedFileCreate"]
    assert uploaded["command"] is None
    assert uploaded["attachedFile"] | {"id": 0} == {
        "id": 0, "filename": "hello.txt", "key": "k", "size": 5,
        "sha256": hashlib.sha256(b"hello").hexdigest(), "contentType": "text/plain",
        "url": f"/api/attachedfile/{uploaded['attachedFile']['id']}/download",
        "user": {"username": "admin"}}  # fmt: skip
    assert api.get(uploaded["attachedFile"]["url"]).content == b"hello"

    found = data(api.gql(OBJECTS, {"p": pid, "i": image, "a": drawn["id"],
                                   "s": scene["slices"][0]}))  # fmt: skip
    assert found["project"] == {"properties": [{"key": "a", "value": "1"}], "attachedFiles": [],
                                "description": {"data": "<p>x</p>"}}  # fmt: skip
    assert found["imageInstance"]["properties"] == []
    assert found["imageInstance"]["description"] is None
    assert [s["properties"] for s in found["imageInstance"]["slices"]] == [[{"key": "c"}], []]
    assert found["imageInstance"]["abstractImage"] == {"properties": [{"key": "d"}]}
    assert found["annotation"]["properties"] == [{"key": "b", "value": "2"}]
    assert found["sliceInstance"]["attachedFiles"] == [{"filename": "hello.txt", "size": 5}]

    # two mutations in one document: the second sees the first's write
    both = data(api.gql("""mutation($id: Long!, $p: Long!) {
      propertyUpdate(id: $id, input: {key: "a", value: "changed"}) { property { value } }
      descriptionUpdate(input: {domainClassName: "Project", domainIdent: $p, data: "<p>y</p>"}) {
        description { data } }
    }""", {"id": created["one"]["property"]["id"], "p": pid}))  # fmt: skip
    assert both["propertyUpdate"]["property"]["value"] == "changed"
    after = data(api.gql("""query($p: Long!) { project(id: $p) { properties { value }
      description { data } } properties(domainClassName: "Project", domainIdent: $p) {
      totalCount nodes { key } } }""", {"p": pid}))  # fmt: skip
    assert after["project"] == {"properties": [{"value": "changed"}],
                                "description": {"data": "<p>y</p>"}}  # fmt: skip
    assert after["properties"] == {"totalCount": 1, "nodes": [{"key": "a"}]}
    removed = data(api.gql("""mutation($id: Long!, $p: Long!, $f: Long!) {
      propertyDelete(id: $id) { property { key } command { action } }
      descriptionDelete(domainClassName: "Project", domainIdent: $p) { description { data } }
      attachedFileDelete(id: $f) { attachedFile { filename } command { action } } }""",
        {"id": created["one"]["property"]["id"], "p": pid,
         "f": uploaded["attachedFile"]["id"]}))  # fmt: skip
    assert removed["attachedFileDelete"]["command"] == {"action": "DELETE"}
    assert (
        code(
            api.gql(
                'query($p: Long!) { description(domainClassName: "Project", '
                "domainIdent: $p) { data } }",
                {"p": pid},
            )
        )
        == "NOT_FOUND"
    )


def test_graphql_upload_refusals(api, scene):
    pid = scene["project"]["id"]
    as_json = api.gql(UPLOAD, {"file": "not a file", "c": "Project", "i": pid})
    assert as_json["errors"], "an Upload is never a JSON value"
    empty = gql_upload(api, UPLOAD, {"file": None, "c": "Project", "i": pid}, b"", "empty.txt")
    assert code(empty.json()) == "BAD_USER_INPUT"
    tricky = gql_upload(api, UPLOAD.replace('key: "k"', 'key: "k", filename: "../x"'),
                        {"file": None, "c": "Project", "i": pid}, b"x", "a.txt")  # fmt: skip
    assert code(tricky.json()) == "BAD_USER_INPUT"
    download = api.gql("query($f: Long!) { attachedFileDownload(id: $f) { path } }", {"f": 1})
    assert code(download) in ("FORBIDDEN", "NOT_FOUND")
    assert api.get(f"/api/domain/{CLASSES['Project']}/{pid}/attachedfile.json").json()["size"] == 0
