"""Properties, descriptions and attached files through raw REST: exact JSON, envelopes,
statuses, the rules of contract core.md §9.10–§9.13, undo and redo, and the cascades of §6.4."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from db.engine import Database
from gateway.app import DATABASE
from resolvers.metadata import sweep_files
from tests.conftest import DATA_DIR
from tests.factories import abstract_image, add_image, created, make_project
from tests.harness import Server, assert_error
from tests.metadata.conftest import CLASSES, upload

PROPERTY_CLASS = "be.cytomine.domain.meta.Property"
DESCRIPTION_CLASS = "be.cytomine.domain.meta.Description"
FILE_CLASS = "be.cytomine.domain.meta.AttachedFile"
PROJECT = CLASSES["Project"]


def epoch_ms(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) == 13


def listed(api: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(path, params={"max": 0, "offset": 0, **params})
    assert response.status_code == 200, response.text
    return response.json()["collection"]  # type: ignore[no-any-return]


def sweep(server: Server) -> int:
    """Run the attached-file sweep on the server's loop, as its upkeep task does."""
    database: Database = server.app[DATABASE]
    return asyncio.run_coroutine_threadsafe(sweep_files(database, DATA_DIR),
                                            server.loop).result(30)  # fmt: skip


# --- properties ------------------------------------------------------------------------------


def test_property_create_read_update_delete_exact_json(api, scene):
    pid = scene["project"]["id"]
    of_project = f"/api/domain/{PROJECT}/{pid}/property.json"
    response = api.post(of_project, json={"key": "stain", "value": 12, "class": "x"})
    assert response.status_code == 200, response.text
    answer = response.json()
    prop = answer["property"]
    xid = prop["id"]
    assert answer == {
        "message": f"Property stain added to {PROJECT} {pid}", "printMessage": True,
        "callback": {"method": "be.cytomine.AddPropertyCommand", "propertyID": str(xid)},
        "command": answer["command"], "property": prop,
    }  # fmt: skip
    assert prop == {"class": PROPERTY_CLASS, "id": xid, "created": prop["created"],
                    "updated": prop["updated"], "domainIdent": pid, "domainClassName": PROJECT,
                    "key": "stain", "value": "12"}  # fmt: skip
    assert epoch_ms(prop["created"])
    one = f"/api/domain/{PROJECT}/{pid}/property/{xid}.json"
    assert api.get(one).json() == prop
    assert api.get(f"/api/project/{pid}/property/{xid}.json").json() == prop
    assert api.get(f"/api/domain/{PROJECT}/{pid}/key/stain/property.json").json() == prop
    assert api.get(f"/api/project/{pid}/key/stain/property.json").json() == prop

    edited = api.put(one, json={**prop, "value": "HE"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["message"] == f"Property stain edited for {PROJECT} {pid}"
    assert edited.json()["callback"]["method"] == "be.cytomine.EditPropertyCommand"
    assert edited.json()["property"]["value"] == "HE"

    removed = api.delete(one)
    assert removed.status_code == 200, removed.text
    assert removed.json()["message"] == f"Property stain deleted for {PROJECT} {pid}"
    assert removed.json()["property"]["value"] == "HE"
    gone = assert_error(api.get(one), 404)
    assert gone["errors"] == {"message": f"Property not found with filters : {{id={xid}}}"}
    assert_error(api.get(f"/api/domain/{PROJECT}/{pid}/key/stain/property.json"), 404)


def test_properties_of_each_kind_of_object_and_their_shortcuts(api, scene, annotate):
    pid, image = scene["project"]["id"], scene["image"]["id"]
    drawn = annotate(api)
    targets = {
        "Project": pid,
        "ImageInstance": image,
        "UserAnnotation": drawn["id"],
        "SliceInstance": scene["slices"][0],
        "AbstractImage": scene["image"]["baseImage"],
    }
    for name, ident in targets.items():
        made = api.post(
            f"/api/domain/{CLASSES[name]}/{ident}/property.json",
            json=[{"key": "k", "value": name}, {"key": "k", "value": "twice"}],
        )
        assert made.status_code == 200 and made.json()["status"] == 200, made.text
    for shortcut, ident, name in (("project", pid, "Project"),
                                  ("imageinstance", image, "ImageInstance"),
                                  ("annotation", drawn["id"], "UserAnnotation")):  # fmt: skip
        rows = listed(api, f"/api/{shortcut}/{ident}/property.json")
        assert [(r["key"], r["value"]) for r in rows] == [("k", name), ("k", "twice")]
        assert {r["domainClassName"] for r in rows} == {CLASSES[name]}
        first = api.get(f"/api/{shortcut}/{ident}/key/k/property.json").json()
        assert first["value"] == name, "the oldest of the properties sharing a key"
    # short forms of the class names, as GraphQL and the clients write them
    for short in ("userannotation", "AnnotationDomain", "annotation"):
        rows = listed(api, f"/api/domain/{short}/{drawn['id']}/property.json")
        assert [r["value"] for r in rows] == ["UserAnnotation", "twice"]
    legacy = listed(api, f"/api/domain/be.cytomine.project.Project/{pid}/property.json")
    assert len(legacy) == 2
    # a property read through another object's path is not found
    prop = rows[0]
    assert_error(api.get(f"/api/project/{pid}/property/{prop['id']}.json"), 404)
    assert_error(api.delete(f"/api/domain/{PROJECT}/{pid}/property/{prop['id']}.json"), 404)


def test_property_posted_to_property_json_and_keys_of_annotations_and_images(api, scene, annotate):
    pid, image = scene["project"]["id"], scene["image"]["id"]
    mine = annotate(api)
    for key, value in (("cells", "12"), ("grade", "II")):
        made = api.post("/api/property.json", json={
            "domainClassName": CLASSES["UserAnnotation"], "domainIdent": mine["id"],
            "key": key, "value": value})  # fmt: skip
        assert made.status_code == 200, made.text
    api.post(f"/api/domain/{CLASSES['ImageInstance']}/{image}/property.json",
             json={"key": "scanner", "value": "x"})  # fmt: skip
    keys = api.get("/api/annotation/property/key.json", params={"idProject": pid}).json()
    assert keys["collection"] == ["cells", "grade"]
    by_image = api.get("/api/annotation/property/key.json", params={"idImage": image})
    assert by_image.json()["collection"] == ["cells", "grade"]
    me = api.get("/api/user/current.json").json()["id"]
    with_user = api.get("/api/annotation/property/key.json",
                        params={"idProject": pid, "user": "true"}).json()  # fmt: skip
    assert with_user["collection"] == [{"key": "cells", "user": me}, {"key": "grade", "user": me}]
    body = assert_error(api.get("/api/annotation/property/key.json"), 400)
    assert body["message"] == "You must specify at least 'idProject' or 'idImage'"
    images = api.get("/api/imageinstance/property/key.json", params={"idProject": pid}).json()
    assert images["collection"] == ["scanner"]
    centres = api.get(f"/api/user/{me}/imageinstance/{image}/annotationposition.json",
                      params={"key": "cells"}).json()  # fmt: skip
    assert centres["collection"] == [{"idAnnotation": mine["id"], "x": 10.0, "y": 10.0,
                                      "value": "12"}]  # fmt: skip
    boxed = api.get(f"/api/user/{me}/imageinstance/{image}/annotationposition.json",
                    params={"key": "cells", "bbox": "100,100,200,200"}).json()  # fmt: skip
    assert boxed["collection"] == []


def test_annotation_property_keys_are_those_of_the_scope_only(api, scene, annotate):
    """Keys are read per distinct key of the class (an index skip): a key another project's
    annotations carry, or another image's, is not one of this scope's."""
    pid, image = scene["project"]["id"], scene["image"]["id"]
    other = make_project(api)
    elsewhere = add_image(api, other["id"], abstract_image(api)["id"])
    theirs = created(api.post("/api/annotation.json", json={"location": "POINT (1 1)",
                                                            "image": elsewhere["id"]}),
                     "annotation")  # fmt: skip
    for target, key in ((annotate(api), "mine"), (theirs, "theirs"), (theirs, "zz")):
        made = api.post("/api/property.json", json={
            "domainClassName": CLASSES["UserAnnotation"], "domainIdent": target["id"],
            "key": key, "value": "1"})  # fmt: skip
        assert made.status_code == 200, made.text
    for params in ({"idProject": pid}, {"idImage": image}):
        keys = api.get("/api/annotation/property/key.json", params=params).json()
        assert keys["collection"] == ["mine"], params
    keys = api.get("/api/annotation/property/key.json", params={"idProject": other["id"]})
    assert keys.json()["collection"] == ["theirs", "zz"]
    empty = make_project(api)
    keys = api.get("/api/annotation/property/key.json", params={"idProject": empty["id"]})
    assert keys.json()["collection"] == []


def test_property_undo_and_redo(api, scene):
    pid = scene["project"]["id"]
    of_project = f"/api/domain/{PROJECT}/{pid}/property.json"
    prop = created(api.post(of_project, json={"key": "a", "value": "1"}), "property")
    one = f"/api/domain/{PROJECT}/{pid}/property/{prop['id']}.json"
    assert api.put(one, json={"key": "a", "value": "2"}).status_code == 200
    undone = api.get("/command/undo.json").json()["collection"]
    assert undone[0]["message"] == f"Property a edited for {PROJECT} {pid}"
    assert api.get(one).json()["value"] == "1"
    assert api.get("/command/redo.json").status_code == 200
    assert api.get(one).json()["value"] == "2"
    assert api.delete(one).status_code == 200
    assert api.get("/command/undo.json").status_code == 200
    assert api.get(one).json() == {**prop, "value": "2", "updated": api.get(one).json()["updated"]}
    history = api.get(f"/api/project/{pid}/commandhistory.json").json()
    assert [row["message"] for row in history[:2]] == [
        f"Property a added to {PROJECT} {pid}",
        f"Property a deleted for {PROJECT} {pid}",
    ]


def test_abstract_image_properties_are_copied_onto_new_instances(api, scene):
    base = abstract_image(api)
    path = f"/api/domain/{CLASSES['AbstractImage']}/{base['id']}/property.json"
    assert api.post(path, json={"key": "scanner", "value": "Aperio"}).status_code == 200
    image = add_image(api, scene["project"]["id"], base["id"])
    rows = listed(api, f"/api/imageinstance/{image['id']}/property.json")
    assert [(r["key"], r["value"]) for r in rows] == [("scanner", "Aperio")]
    assert api.get("/command/undo.json").status_code == 200
    assert_error(api.get(f"/api/imageinstance/{image['id']}/property.json"), 404)
    assert api.get("/command/redo.json").status_code == 200
    rows = listed(api, f"/api/imageinstance/{image['id']}/property.json")
    assert [(r["key"], r["value"]) for r in rows] == [("scanner", "Aperio")]


# --- descriptions ----------------------------------------------------------------------------


def test_description_create_read_update_delete_exact_json(api, scene):
    pid = scene["project"]["id"]
    path = f"/api/domain/{PROJECT}/{pid}/description.json"
    missing = assert_error(api.get(path), 404)
    assert missing["errors"]["message"].startswith("Description not found")
    response = api.post(path, json={"data": "<p>Biopsies</p>"})
    assert response.status_code == 200, response.text
    answer = response.json()
    desc = answer["description"]
    assert answer == {
        "message": f"Description for {PROJECT} created", "printMessage": True,
        "callback": {"method": "be.cytomine.AddDescriptionCommand",
                     "descriptionID": str(desc["id"])},
        "command": answer["command"], "description": desc,
    }  # fmt: skip
    assert desc == {"class": DESCRIPTION_CLASS, "id": desc["id"], "created": desc["created"],
                    "updated": desc["updated"], "domainIdent": pid, "domainClassName": PROJECT,
                    "data": "<p>Biopsies</p>"}  # fmt: skip
    assert api.get(path).json() == desc
    twice = assert_error(api.post("/api/description.json", json={
        "domainClassName": PROJECT, "domainIdent": pid, "data": "again"}), 409)  # fmt: skip
    assert twice["success"] is False
    edited = api.put(path, json={**desc, "data": "<p>Kidney</p>"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["message"] == f"Description for {PROJECT} updated"
    assert api.get(path).json()["data"] == "<p>Kidney</p>"
    assert [d["data"] for d in listed(api, "/api/description.json")] == ["<p>Kidney</p>"]
    removed = api.delete(path)
    assert removed.status_code == 200 and removed.json()["description"]["data"] == "<p>Kidney</p>"
    assert_error(api.get(path), 404)
    assert_error(api.delete(path), 404)
    assert api.get("/command/undo.json").status_code == 200
    assert api.get(path).json()["data"] == "<p>Kidney</p>"


# --- attached files --------------------------------------------------------------------------


def test_attached_file_upload_download_delete_exact_json(server, api, scene):
    pid = scene["project"]["id"]
    content = "résumé, naïve\n".encode() * 1000
    params = {"domainClassName": PROJECT, "domainIdent": pid, "key": "protocol"}
    response = upload(api, content, name="/home/me/Ré sumé.txt", params=params)
    assert response.status_code == 200, response.text
    sent = response.json()
    fid = sent["id"]
    assert sent == {"class": FILE_CLASS, "id": fid, "created": sent["created"],
                    "updated": sent["updated"], "domainIdent": pid, "domainClassName": PROJECT,
                    "filename": "Ré sumé.txt", "key": "protocol",
                    "url": f"/api/attachedfile/{fid}/download", "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "contentType": "text/plain"}  # fmt: skip
    assert api.get(f"/api/attachedfile/{fid}.json").json() == sent
    assert listed(api, f"/api/domain/{PROJECT}/{pid}/attachedfile.json") == [sent]
    assert listed(api, "/api/attachedfile.json") == [sent]

    download = api.get(f"/api/attachedfile/{fid}/download")
    assert download.status_code == 200 and download.content == content
    assert download.headers["Content-Type"] == "application/octet-stream"  # the JSON says text
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"R_ sum_.txt\"; filename*=UTF-8''R%C3%A9%20sum%C3%A9.txt"
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert api.get(f"/api/attachedfile/{fid}/download.json").content == content
    stored = [p for p in (DATA_DIR / "attached").rglob("*") if p.is_file()
              and p.read_bytes() == content]  # fmt: skip
    assert len(stored) == 1 and "sum" not in stored[0].name, "the server names its files"

    removed = api.delete(f"/api/attachedfile/{fid}.json")
    assert removed.status_code == 200, removed.text
    assert removed.json()["message"] == f"AttachedFileCommand {fid} deleted from {PROJECT}"
    assert removed.json()["callback"] == {"method": "be.cytomine.DeleteAttachedFileCommand",
                                          "attachedfileID": str(fid)}  # fmt: skip
    assert_error(api.get(f"/api/attachedfile/{fid}.json"), 404)
    assert_error(api.get(f"/api/attachedfile/{fid}/download"), 404)
    assert sweep(server) == 0 and stored[0].exists(), "kept while undo may restore it"
    assert api.get("/command/undo.json").status_code == 200
    assert api.get(f"/api/attachedfile/{fid}/download").content == content
    assert sweep(server) == 0 and stored[0].exists()


def test_an_upload_with_put_and_a_form_field_and_a_declared_type(api, scene):
    image = scene["image"]["id"]
    fields = {"domainClassName": CLASSES["ImageInstance"], "domainIdent": str(image),
              "filename": "scan"}  # fmt: skip
    import requests

    from tests.harness import http_date, signature

    prepared = requests.Request(
        "PUT", api.base + "/api/attachedfile.json", data=fields,
        files={"files[]": ("ignored.bin", b"\x00\x01", "image/x-custom")},
    ).prepare()  # fmt: skip
    date = http_date()
    canonical = f"PUT\n\n{prepared.headers['Content-Type']}\n{date}"
    prepared.headers["date"] = date
    prepared.headers["authorization"] = (
        f"CYTOMINE {api.public_key}:{signature(api.private_key, canonical)}"
    )
    response = api.session.send(prepared, timeout=60)
    assert response.status_code == 200, response.text
    sent = response.json()
    assert (sent["filename"], sent["contentType"], sent["size"]) == ("scan", "image/x-custom", 2)
    assert sent["domainClassName"] == CLASSES["ImageInstance"]


def test_deleting_an_object_deletes_its_metadata_until_undone_and_files_go_with_a_project(
    server, api, scene, annotate
):
    pid, image = scene["project"]["id"], scene["image"]["id"]
    drawn = annotate(api)
    for name, ident in (("ImageInstance", image), ("UserAnnotation", drawn["id"])):
        base = f"/api/domain/{CLASSES[name]}/{ident}"
        assert api.post(f"{base}/property.json", json={"key": "k", "value": "v"}).status_code == 200
        assert api.post(f"{base}/description.json", json={"data": "d"}).status_code == 200
        params = {"domainClassName": CLASSES[name], "domainIdent": ident}
        assert upload(api, b"bytes", params=params).status_code == 200
    files = [p for p in (DATA_DIR / "attached").rglob("*") if p.is_file()]
    before = {p for p in files if p.read_bytes() == b"bytes"}
    assert api.delete(f"/api/imageinstance/{image}.json").status_code == 200
    for name, ident in (("ImageInstance", image), ("UserAnnotation", drawn["id"])):
        assert_error(api.get(f"/api/domain/{CLASSES[name]}/{ident}/property.json"), 404)
    assert api.get("/command/undo.json").status_code == 200
    for name, ident in (("ImageInstance", image), ("UserAnnotation", drawn["id"])):
        base = f"/api/domain/{CLASSES[name]}/{ident}"
        assert [p["value"] for p in listed(api, f"{base}/property.json")] == ["v"]
        assert api.get(f"{base}/description.json").json()["data"] == "d"
        (sent,) = listed(api, f"{base}/attachedfile.json")
        assert api.get(sent["url"]).content == b"bytes"
    # a project's deletion cannot be undone: its files go at the next sweep
    assert api.delete(f"/api/project/{pid}.json").status_code == 200
    assert sweep(server) == 2
    assert not any(p.exists() for p in before)


def test_project_list_shows_descriptions_when_asked(api, scene):
    pid = scene["project"]["id"]
    other = make_project(api)
    path = f"/api/domain/{PROJECT}/{pid}/description.json"
    assert api.post(path, json={"data": "<p>Biopsies</p>"}).status_code == 200
    rows = listed(api, "/api/project.json", withDescription="true")
    assert {row["id"]: row["description"] for row in rows} == {pid: "<p>Biopsies</p>",
                                                               other["id"]: ""}  # fmt: skip
    assert "description" not in listed(api, "/api/project.json")[0]
