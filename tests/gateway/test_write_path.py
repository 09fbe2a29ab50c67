"""The write path seen from one GraphQL document: a later mutation reads what an earlier one
wrote.

GraphQL runs the root fields of a mutation document one after the other. After each committed
write the request's DataLoader caches are forgotten (`Context.forget_all`, called by the
lease after every transaction), so a mutation that follows another in the same document, and
the nested fields of its payload, see the first one's write; and every mutation returns the
object it changed.

Each test sends ONE document, per area: a first mutation whose payload loads the object (so
the request's loaders cache it as it was), a mutation that changes it, and a mutation whose
payload reaches the changed object again through those loaders. Several of them go further:
the last mutation *decides* something from the cached row before it writes (the image's
project, its calibration, its review state), so a stale cache would make it fail or store a
wrong value, not only show one.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import abstract_image, add_image, created, make_ontology, make_project
from tests.harness import Api

#: A 10×10 pixel square, and a 100×100 and a 200×100 one, inside every image of this file.
SMALL_SQUARE = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"
SQUARE = "POLYGON ((100 100, 200 100, 200 200, 100 200, 100 100))"
WIDE = "POLYGON ((100 100, 300 100, 300 200, 100 200, 100 100))"
PROJECT_CLASS = "be.cytomine.domain.project.Project"


# --- helpers ---------------------------------------------------------------------------------


def mutate(api: Api, document: str, **variables: Any) -> dict[str, Any]:
    """The data of one GraphQL document, after checking that it raised no error."""
    answer = api.gql(document, variables)
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


def me(api: Api) -> dict[str, Any]:
    """The caller's own user JSON."""
    return api.get("/api/user/current.json").json()  # type: ignore[no-any-return]


def role_ids(api: Api) -> dict[str, int]:
    """Role ids by authority."""
    roles = mutate(api, "{ roles { id authority } }")["roles"]
    return {role["authority"]: int(role["id"]) for role in roles}


def join(api: Api, project: int, user: int) -> None:
    """Make `user` a contributor of `project` through REST."""
    added = api.post(f"/api/project/{project}/user/{user}.json")
    assert added.status_code == 200, added.text


def draw(api: Api, location: str, *, image: int | None = None, slice_: int | None = None,
         terms: tuple[int, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """A user annotation drawn through REST on an image (its reference slice) or a slice."""
    body: dict[str, Any] = {"location": location, "term": list(terms)}
    if image is not None:
        body["image"] = image
    if slice_ is not None:
        body["slice"] = slice_
    return created(api.post("/api/annotation.json", json=body), "annotation")


@pytest.fixture
def scene(api: Api) -> dict[str, Any]:
    """A project (ontology with terms Tumour and Stroma) holding one 1000×800 image calibrated
    at 0.5 µm/px with two slices; keys `project`, `ontology`, `terms` (name → id), `base` (the
    abstract image's JSON), `image` and `slices` (the instance's slice ids, by z)."""
    ontology = make_ontology(api, "Scene ontology", terms=("Tumour", "Stroma"))
    project = make_project(api, "Scene project", ontology=ontology["id"])
    base = abstract_image(api, slices=2, width=1000, height=800, physicalSizeX=0.5)
    image = add_image(api, project["id"], base["id"])
    slices = api.get(f"/api/imageinstance/{image['id']}/sliceinstance.json").json()["collection"]
    return {
        "project": project,
        "ontology": ontology,
        "terms": {name: term["id"] for name, term in ontology["terms"].items()},
        "base": base,
        "image": image,
        "slices": [piece["id"] for piece in sorted(slices, key=lambda s: s["zStack"])],
    }


# --- ontologies and terms --------------------------------------------------------------------


def test_ontology_second_mutation_reads_the_first(api):
    ontology = make_ontology(api, "Old ontology", terms=("Seed",))
    data = mutate(
        api,
        """
        mutation($ontology: Long!, $seed: Long!) {
          prime: termUpdate(id: $seed, input: {name: "Seed", color: "#00AA00",
                                               ontology: $ontology}) {
            term { ontology { name terms { name } } }
          }
          rename: ontologyUpdate(id: $ontology, input: {name: "New ontology"}) {
            ontology { id name }
          }
          check: termCreate(input: {name: "Fresh", color: "#0000AA", ontology: $ontology}) {
            term { name ontology { name terms { name } } }
          }
        }
        """,
        ontology=ontology["id"],
        seed=ontology["terms"]["Seed"]["id"],
    )
    assert data == {
        "prime": {"term": {"ontology": {"name": "Old ontology", "terms": [{"name": "Seed"}]}}},
        "rename": {"ontology": {"id": ontology["id"], "name": "New ontology"}},
        "check": {
            "term": {
                "name": "Fresh",
                "ontology": {"name": "New ontology",
                             "terms": [{"name": "Fresh"}, {"name": "Seed"}]},
            }
        },
    }  # fmt: skip


def test_term_second_mutation_reads_the_first(api):
    ontology = make_ontology(api, terms=("Parent", "Child"))
    data = mutate(
        api,
        """
        mutation($ontology: Long!, $parent: Long!, $child: Long!) {
          prime: termCreate(input: {name: "Sibling", color: "#00AA00", ontology: $ontology,
                                    parent: $parent}) {
            term { parent { name color children { name } } }
          }
          rename: termUpdate(id: $parent, input: {name: "Renamed parent", color: "#0000AA",
                                                  ontology: $ontology}) {
            term { name color }
          }
          check: relationTermCreate(term1: $parent, term2: $child) {
            relationTerm {
              term1 { name color children { name } }
              term2 { name parent { name } }
            }
          }
        }
        """,
        ontology=ontology["id"],
        parent=ontology["terms"]["Parent"]["id"],
        child=ontology["terms"]["Child"]["id"],
    )
    assert data == {
        "prime": {"term": {"parent": {"name": "Parent", "color": "#AA0000",
                                      "children": [{"name": "Sibling"}]}}},
        "rename": {"term": {"name": "Renamed parent", "color": "#0000AA"}},
        "check": {
            "relationTerm": {
                "term1": {"name": "Renamed parent", "color": "#0000AA",
                          "children": [{"name": "Child"}, {"name": "Sibling"}]},
                "term2": {"name": "Child", "parent": {"name": "Renamed parent"}},
            }
        },
    }  # fmt: skip


# --- projects --------------------------------------------------------------------------------


def test_project_second_mutation_reads_the_first(api, make_user):
    old = make_ontology(api, "First ontology")
    new = make_ontology(api, "Second ontology")
    project = make_project(api, "Old project", ontology=old["id"])
    member = make_user()
    join(api, project["id"], member["id"])
    data = mutate(
        api,
        """
        mutation($project: Long!, $admin: Long!, $member: Long!, $ontology: Long!) {
          prime: projectDefaultLayerCreate(input: {project: $project, user: $admin}) {
            projectDefaultLayer { project { name ontologyName blindMode } }
          }
          update: projectUpdate(id: $project, input: {name: "New project", ontology: $ontology,
                                                      blindMode: true}) {
            project { name ontologyName blindMode }
          }
          check: projectDefaultLayerCreate(input: {project: $project, user: $member}) {
            projectDefaultLayer { project { name ontologyName blindMode ontology { name } } }
          }
        }
        """,
        project=project["id"],
        admin=me(api)["id"],
        member=member["id"],
        ontology=new["id"],
    )
    assert data == {
        "prime": {"projectDefaultLayer": {"project": {
            "name": "Old project", "ontologyName": "First ontology", "blindMode": False}}},
        "update": {"project": {
            "name": "New project", "ontologyName": "Second ontology", "blindMode": True}},
        "check": {"projectDefaultLayer": {"project": {
            "name": "New project", "ontologyName": "Second ontology", "blindMode": True,
            "ontology": {"name": "Second ontology"}}}},
    }  # fmt: skip


def test_project_members_second_mutation_reads_the_first(api, make_user):
    project = make_project(api, "Team project")
    admin = me(api)
    newcomer = make_user("newcomer")
    data = mutate(
        api,
        """
        mutation($project: Long!, $admin: Long!, $newcomer: Long!) {
          prime: projectDefaultLayerCreate(input: {project: $project, user: $admin}) {
            projectDefaultLayer {
              project {
                membersCount
                members(sort: "username", order: "asc") { totalCount nodes { user { username } } }
                representatives { user { username } }
              }
            }
          }
          add: projectMemberAdd(projectId: $project, userId: $newcomer) {
            manager user { username } project { membersCount }
          }
          check: projectRepresentativeUserCreate(input: {project: $project, user: $newcomer}) {
            projectRepresentativeUser {
              user { username }
              project {
                membersCount
                members(sort: "username", order: "asc") { totalCount nodes { user { username } } }
                representatives { user { username } }
              }
            }
          }
        }
        """,
        project=project["id"],
        admin=admin["id"],
        newcomer=newcomer["id"],
    )
    assert data["prime"]["projectDefaultLayer"]["project"] == {
        "membersCount": 1,
        "members": {"totalCount": 1, "nodes": [{"user": {"username": "admin"}}]},
        "representatives": [{"user": {"username": "admin"}}],
    }
    assert data["add"] == {
        "manager": False,
        "user": {"username": "newcomer"},
        "project": {"membersCount": 2},
    }
    assert data["check"]["projectRepresentativeUser"] == {
        "user": {"username": "newcomer"},
        "project": {
            "membersCount": 2,
            "members": {"totalCount": 2, "nodes": [{"user": {"username": "admin"}},
                                                   {"user": {"username": "newcomer"}}]},
            "representatives": [{"user": {"username": "admin"}},
                                {"user": {"username": "newcomer"}}],
        },
    }  # fmt: skip


def test_default_layers_second_mutation_reads_the_first(api, make_user):
    project = make_project(api, "Layered project")
    shown, hidden = make_user("shown"), make_user("hidden")
    for user in (shown, hidden):
        join(api, project["id"], user["id"])
    layer = mutate(
        api,
        """
        mutation($project: Long!, $user: Long!) {
          projectDefaultLayerCreate(input: {project: $project, user: $user,
                                            hideByDefault: false}) {
            projectDefaultLayer { id }
          }
        }
        """,
        project=project["id"],
        user=hidden["id"],
    )["projectDefaultLayerCreate"]["projectDefaultLayer"]["id"]
    data = mutate(
        api,
        """
        mutation($project: Long!, $layer: Long!, $shown: Long!, $hidden: Long!) {
          prime: projectRepresentativeUserCreate(input: {project: $project, user: $shown}) {
            projectRepresentativeUser { project { defaultLayers { userId hideByDefault } } }
          }
          update: projectDefaultLayerUpdate(id: $layer, input: {user: $hidden,
                                                                hideByDefault: true}) {
            projectDefaultLayer { id userId hideByDefault }
          }
          check: projectDefaultLayerCreate(input: {project: $project, user: $shown,
                                                   hideByDefault: false}) {
            projectDefaultLayer {
              hideByDefault
              project { defaultLayers { user { username } hideByDefault } }
            }
          }
        }
        """,
        project=project["id"],
        layer=layer,
        shown=shown["id"],
        hidden=hidden["id"],
    )
    assert data == {
        "prime": {"projectRepresentativeUser": {"project": {
            "defaultLayers": [{"userId": hidden["id"], "hideByDefault": False}]}}},
        "update": {"projectDefaultLayer": {
            "id": layer, "userId": hidden["id"], "hideByDefault": True}},
        "check": {"projectDefaultLayer": {
            "hideByDefault": False,
            "project": {"defaultLayers": [
                {"user": {"username": "hidden"}, "hideByDefault": True},
                {"user": {"username": "shown"}, "hideByDefault": False},
            ]},
        }},
    }  # fmt: skip


# --- users and software ----------------------------------------------------------------------


def test_user_second_mutation_reads_the_first(api, make_user):
    user = make_user("renamed", firstname="Before", lastname="Rename")
    roles = role_ids(api)
    data = mutate(
        api,
        """
        mutation($user: Long!, $guest: Long!, $admin: Long!, $email: String!) {
          prime: userRoleCreate(userId: $user, roleId: $guest) {
            userRole { authority user { firstname fullName roles isAdmin } }
          }
          update: userUpdate(id: $user, input: {username: "renamed", firstname: "After",
                                                lastname: "Rename", email: $email}) {
            user { firstname }
          }
          check: userRoleCreate(userId: $user, roleId: $admin) {
            userRole { authority user { firstname fullName roles isAdmin } }
          }
        }
        """,
        user=user["id"],
        guest=roles["ROLE_GUEST"],
        admin=roles["ROLE_ADMIN"],
        email=user["email"],
    )
    assert data["prime"]["userRole"]["user"]["firstname"] == "Before"
    assert data["prime"]["userRole"]["user"]["isAdmin"] is False
    assert data["update"] == {"user": {"firstname": "After"}}
    checked = data["check"]["userRole"]
    assert checked["authority"] == "ROLE_ADMIN"
    assert checked["user"]["firstname"] == "After"
    assert checked["user"]["fullName"] == "After Rename (renamed)"
    assert sorted(checked["user"]["roles"]) == ["ROLE_ADMIN", "ROLE_GUEST", "ROLE_USER"]
    assert checked["user"]["isAdmin"] is True


def test_software_second_mutation_reads_the_first(api):
    first, second = make_project(api, "First project"), make_project(api, "Second project")
    software = mutate(
        api,
        'mutation { softwareCreate(input: {name: "Old software", softwareVersion: "1.0"}) '
        "{ software { id } } }",
    )["softwareCreate"]["software"]["id"]
    data = mutate(
        api,
        """
        mutation($software: Long!, $first: Long!, $second: Long!) {
          prime: softwareProjectCreate(input: {software: $software, project: $first}) {
            softwareProject { name softwareVersion software { name softwareVersion } }
          }
          update: softwareUpdate(id: $software, input: {name: "New software",
                                                        softwareVersion: "2.0"}) {
            software { name softwareVersion }
          }
          check: softwareProjectCreate(input: {software: $software, project: $second}) {
            softwareProject {
              name softwareVersion
              software { name softwareVersion }
              project { name softwares { name softwareVersion } }
            }
          }
        }
        """,
        software=software,
        first=first["id"],
        second=second["id"],
    )
    old = {"name": "Old software", "softwareVersion": "1.0"}
    new = {"name": "New software", "softwareVersion": "2.0"}
    assert data == {
        "prime": {"softwareProject": {**old, "software": old}},
        "update": {"software": new},
        "check": {"softwareProject": {
            **new, "software": new, "project": {"name": "Second project", "softwares": [new]}}},
    }  # fmt: skip


# --- storages, files, abstract images, companion files ---------------------------------------


def test_storage_second_mutation_reads_the_first(api):
    admin = me(api)
    storage = mutate(
        api, 'mutation { storageCreate(input: {name: "Old storage"}) { storage { id } } }'
    )["storageCreate"]["storage"]["id"]
    data = mutate(
        api,
        """
        mutation($storage: Long!, $user: Long!) {
          prime: uploadedFileCreate(input: {user: $user, storage: $storage, size: 10,
                                            originalFilename: "a.svs", filename: "u1/a.svs",
                                            contentType: "SVS"}) {
            uploadedFile { storage { name uploadedFiles { totalCount } } }
          }
          update: storageUpdate(id: $storage, input: {name: "New storage"}) {
            storage { id name }
          }
          check: uploadedFileCreate(input: {user: $user, storage: $storage, size: 10,
                                            originalFilename: "b.svs", filename: "u2/b.svs",
                                            contentType: "SVS"}) {
            uploadedFile {
              originalFilename
              storage { name uploadedFiles { totalCount nodes { originalFilename } } }
            }
          }
        }
        """,
        storage=storage,
        user=admin["id"],
    )
    assert data["prime"] == {
        "uploadedFile": {"storage": {"name": "Old storage", "uploadedFiles": {"totalCount": 1}}}
    }
    assert data["update"] == {"storage": {"id": storage, "name": "New storage"}}
    checked = data["check"]["uploadedFile"]
    assert checked["originalFilename"] == "b.svs"
    assert checked["storage"]["name"] == "New storage"
    files = checked["storage"]["uploadedFiles"]
    assert files["totalCount"] == 2
    assert sorted(node["originalFilename"] for node in files["nodes"]) == ["a.svs", "b.svs"]


def test_uploaded_file_second_mutation_reads_the_first(api):
    image = abstract_image(api, name="before.svs")
    upload = image["uploadedFile"]
    data = mutate(
        api,
        """
        mutation($image: Long!, $upload: Long!, $user: Long!, $storage: Long!,
                 $filename: String!) {
          prime: abstractSliceCreate(input: {image: $image, uploadedFile: $upload,
                                             mime: "openslide/svs", zStack: 1}) {
            abstractSlice { uploadedFile { originalFilename size status } }
          }
          update: uploadedFileUpdate(id: $upload, input: {user: $user, storage: $storage,
                                                          originalFilename: "after.svs",
                                                          filename: $filename,
                                                          contentType: "SVS", size: 2048,
                                                          status: 100}) {
            uploadedFile { originalFilename size status }
          }
          check: companionFileCreate(input: {image: $image, uploadedFile: $upload,
                                             filename: "side.h5", type: "HDF5"}) {
            companionFile {
              uploadedFile { originalFilename size status companionFiles { filename } }
              image { uploadedFile { originalFilename size status } }
            }
          }
        }
        """,
        image=image["id"],
        upload=upload["id"],
        user=upload["user"],
        storage=upload["storage"],
        filename=upload["filename"],
    )
    before = {"originalFilename": "before.svs", "size": 1000, "status": 0}
    after = {"originalFilename": "after.svs", "size": 2048, "status": 100}
    assert data == {
        "prime": {"abstractSlice": {"uploadedFile": before}},
        "update": {"uploadedFile": after},
        "check": {"companionFile": {
            "uploadedFile": {**after, "companionFiles": [{"filename": "side.h5"}]},
            "image": {"uploadedFile": after},
        }},
    }  # fmt: skip


def test_abstract_image_second_mutation_reads_the_first(api):
    """The instance that inherits the abstract image's calibration measures a new annotation
    with the new calibration (its row was cached with the old one by the first mutation, and
    the annotation's area is computed from it before the write), and a new plane's payload
    shows the image's new size."""
    image = abstract_image(api, name="base.svs", width=1000, height=800, physicalSizeX=0.5)
    project = make_project(api, "Calibrated project")
    instance = add_image(api, project["id"], image["id"])
    data = mutate(
        api,
        """
        mutation($image: Long!, $instance: Long!, $upload: Long!, $square: String!) {
          prime: annotationCreate(input: {image: $instance, location: $square}) {
            annotation { area image { width depth calibration { physicalSizeX } } }
          }
          update: abstractImageUpdate(id: $image, input: {uploadedFile: $upload,
                                                          originalFilename: "base.svs",
                                                          width: 2000, height: 1600, depth: 2,
                                                          physicalSizeX: 0.25}) {
            abstractImage { width height depth physicalSizeX }
          }
          check: annotationCreate(input: {image: $instance, location: $square}) {
            annotation { area image { width depth calibration { physicalSizeX } } }
          }
          plane: abstractSliceCreate(input: {image: $image, uploadedFile: $upload,
                                             mime: "openslide/svs", zStack: 1}) {
            abstractSlice { zStack image { width height depth physicalSizeX slices { zStack } } }
          }
        }
        """,
        image=image["id"],
        instance=instance["id"],
        upload=image["uploadedFile"]["id"],
        square=SMALL_SQUARE,
    )
    assert data["prime"]["annotation"] == {
        "area": 25.0,  # 100 px² at 0.5 µm/px
        "image": {"width": 1000, "depth": 1, "calibration": {"physicalSizeX": 0.5}},
    }
    new = {"width": 2000, "height": 1600, "depth": 2, "physicalSizeX": 0.25}
    assert data["update"] == {"abstractImage": new}
    assert data["check"]["annotation"] == {
        "area": 6.25,  # 100 px² at 0.25 µm/px
        "image": {"width": 2000, "depth": 2, "calibration": {"physicalSizeX": 0.25}},
    }
    assert data["plane"] == {
        "abstractSlice": {"zStack": 1, "image": {**new, "slices": [{"zStack": 0}, {"zStack": 1}]}}
    }


def test_companion_file_second_mutation_reads_the_first(api):
    image = abstract_image(api)
    companion = mutate(
        api,
        """
        mutation($image: Long!) {
          companionFileCreate(input: {image: $image, filename: "meta.h5", type: "HDF5"}) {
            companionFile { id }
          }
        }
        """,
        image=image["id"],
    )["companionFileCreate"]["companionFile"]["id"]
    data = mutate(
        api,
        """
        mutation($image: Long!, $upload: Long!, $companion: Long!) {
          prime: abstractSliceCreate(input: {image: $image, uploadedFile: $upload,
                                             mime: "openslide/svs", zStack: 1}) {
            abstractSlice { image { companionFiles { originalFilename progress } } }
          }
          update: companionFileUpdate(id: $companion, input: {image: $image,
                                                              filename: "meta.h5",
                                                              originalFilename: "renamed.h5",
                                                              type: "HDF5", progress: 100}) {
            companionFile { id originalFilename progress }
          }
          check: companionFileCreate(input: {image: $image, filename: "extra.zarr",
                                             type: "ZARR"}) {
            companionFile {
              originalFilename
              image { companionFiles { originalFilename progress } }
            }
          }
        }
        """,
        image=image["id"],
        upload=image["uploadedFile"]["id"],
        companion=companion,
    )
    assert data == {
        "prime": {"abstractSlice": {"image": {"companionFiles": [
            {"originalFilename": "meta.h5", "progress": 0}]}}},
        "update": {"companionFile": {
            "id": companion, "originalFilename": "renamed.h5", "progress": 100}},
        "check": {"companionFile": {
            "originalFilename": "extra.zarr",
            "image": {"companionFiles": [{"originalFilename": "renamed.h5", "progress": 100},
                                         {"originalFilename": "extra.zarr", "progress": 0}]},
        }},
    }  # fmt: skip


# --- image instances -------------------------------------------------------------------------


def test_image_instance_second_mutation_reads_the_first(api, scene):
    """The image moves to another project, is renamed and recalibrated; then a plane is
    added in the new project (refused if the image's cached row still said the old one) and
    an annotation drawn on it is stored in the new project and measured with the new
    calibration."""
    target = make_project(api, "Target project")
    data = mutate(
        api,
        """
        mutation($image: Long!, $doomed: Long!, $plane: Long!, $target: Long!, $kept: Long!,
                 $square: String!) {
          prime: sliceInstanceDelete(id: $doomed) {
            sliceInstance { image { instanceFilename projectId calibration { physicalSizeX } } }
          }
          move: imageInstanceUpdate(id: $image, input: {project: $target,
                                                        instanceFilename: "moved.svs",
                                                        physicalSizeX: 2.0}) {
            imageInstance { instanceFilename projectId calibration { physicalSizeX } }
          }
          plane: sliceInstanceCreate(input: {baseSlice: $plane, image: $image,
                                             project: $target}) {
            sliceInstance {
              zStack projectId
              image { instanceFilename projectId project { name } slices { zStack } }
            }
          }
          draw: annotationCreate(input: {slice: $kept, location: $square}) {
            annotation { projectId area project { name } }
          }
        }
        """,
        image=scene["image"]["id"],
        doomed=scene["slices"][1],
        plane=scene["base"]["slices"][1]["id"],
        target=target["id"],
        kept=scene["slices"][0],
        square=SMALL_SQUARE,
    )
    source = scene["project"]["id"]
    assert data["prime"]["sliceInstance"]["image"] == {
        "instanceFilename": scene["image"]["instanceFilename"],
        "projectId": source,
        "calibration": {"physicalSizeX": 0.5},
    }
    moved = {"instanceFilename": "moved.svs", "projectId": target["id"]}
    assert data["move"] == {"imageInstance": {**moved, "calibration": {"physicalSizeX": 2.0}}}
    assert data["plane"] == {"sliceInstance": {
        "zStack": 1, "projectId": target["id"],
        "image": {**moved, "project": {"name": "Target project"},
                  "slices": [{"zStack": 0}, {"zStack": 1}]},
    }}  # fmt: skip
    assert data["draw"] == {
        "annotation": {"projectId": target["id"], "area": 400.0,  # 100 px² at 2 µm/px
                       "project": {"name": "Target project"}}
    }  # fmt: skip


# --- annotations -----------------------------------------------------------------------------


def test_annotation_second_mutation_reads_the_first(api, scene):
    annotation = draw(api, SQUARE, image=scene["image"]["id"])
    data = mutate(
        api,
        """
        mutation($annotation: Long!, $tumour: Long!, $stroma: Long!, $wide: String!) {
          prime: annotationTermAdd(input: {annotation: $annotation, term: $tumour}) {
            annotationTerm { annotation { location area termIds } }
          }
          update: annotationUpdate(id: $annotation, input: {location: $wide}) {
            annotation { location area }
          }
          check: annotationTermAdd(input: {annotation: $annotation, term: $stroma}) {
            annotationTerm {
              term { name }
              annotation { location area perimeter termIds terms { term { name } } }
            }
          }
        }
        """,
        annotation=annotation["id"],
        tumour=scene["terms"]["Tumour"],
        stroma=scene["terms"]["Stroma"],
        wide=WIDE,
    )
    tumour, stroma = scene["terms"]["Tumour"], scene["terms"]["Stroma"]
    primed = data["prime"]["annotationTerm"]["annotation"]
    assert primed["area"] == 2500.0
    assert primed["termIds"] == [tumour]
    updated = data["update"]["annotation"]
    assert updated["area"] == 5000.0
    assert updated["location"] != primed["location"]
    checked = data["check"]["annotationTerm"]
    assert checked["term"] == {"name": "Stroma"}
    assert checked["annotation"]["location"] == updated["location"]
    assert checked["annotation"]["area"] == 5000.0
    assert checked["annotation"]["perimeter"] == pytest.approx(0.3)  # 600 px at 0.5 µm, in mm
    assert sorted(checked["annotation"]["termIds"]) == sorted([tumour, stroma])
    assert sorted(t["term"]["name"] for t in checked["annotation"]["terms"]) == [
        "Stroma",
        "Tumour",
    ]


def test_track_second_mutation_reads_the_first(api, scene):
    first = draw(api, SQUARE, slice_=scene["slices"][0])
    second = draw(api, SQUARE, slice_=scene["slices"][1])
    track = created(
        api.post("/api/track.json", json={"name": "Old track", "color": "#ff0000",
                                          "image": scene["image"]["id"]}), "track"
    )  # fmt: skip
    data = mutate(
        api,
        """
        mutation($track: Long!, $image: Long!, $first: Long!, $second: Long!) {
          prime: annotationTrackCreate(input: {annotation: $first, track: $track}) {
            annotationTrack { track { name color annotationTracks { annotationId } } }
          }
          update: trackUpdate(id: $track, input: {name: "New track", color: "#00ff00",
                                                  image: $image}) {
            track { name color }
          }
          check: annotationTrackCreate(input: {annotation: $second, track: $track}) {
            annotationTrack {
              annotationId
              track { name color annotationTracks { annotationId } annotations { id } }
            }
          }
        }
        """,
        track=track["id"],
        image=scene["image"]["id"],
        first=first["id"],
        second=second["id"],
    )
    assert data == {
        "prime": {"annotationTrack": {"track": {
            "name": "Old track", "color": "#ff0000",
            "annotationTracks": [{"annotationId": first["id"]}]}}},
        "update": {"track": {"name": "New track", "color": "#00ff00"}},
        "check": {"annotationTrack": {
            "annotationId": second["id"],
            "track": {
                "name": "New track", "color": "#00ff00",
                "annotationTracks": [{"annotationId": first["id"]},
                                     {"annotationId": second["id"]}],
                "annotations": [{"id": first["id"]}, {"id": second["id"]}],
            },
        }},
    }  # fmt: skip


def test_tag_second_mutation_reads_the_first(api):
    first, second = make_project(api, "Tagged project"), make_project(api, "Other project")
    tag = mutate(api, 'mutation { tagCreate(input: {name: "old-tag"}) { tag { id } } }')[
        "tagCreate"
    ]["tag"]["id"]
    data = mutate(
        api,
        """
        mutation($tag: Long!, $project: String!, $first: Long!, $second: Long!) {
          prime: tagAssociationCreate(input: {tag: $tag, domainClassName: $project,
                                              domainIdent: $first}) {
            tagAssociation { tagName tag { name } }
          }
          update: tagUpdate(id: $tag, input: {name: "new-tag"}) { tag { id name } }
          check: tagAssociationCreate(input: {tag: $tag, domainClassName: $project,
                                              domainIdent: $second}) {
            tagAssociation { tagName domainIdent tag { name } }
          }
        }
        """,
        tag=tag,
        project=PROJECT_CLASS,
        first=first["id"],
        second=second["id"],
    )
    assert data == {
        "prime": {"tagAssociation": {"tagName": "old-tag", "tag": {"name": "old-tag"}}},
        "update": {"tag": {"id": tag, "name": "new-tag"}},
        "check": {"tagAssociation": {
            "tagName": "new-tag", "domainIdent": second["id"], "tag": {"name": "new-tag"}}},
    }  # fmt: skip


def test_annotation_comments_second_mutation_reads_the_first(api, scene, make_user):
    reader = make_user("reader")
    join(api, scene["project"]["id"], reader["id"])
    annotation = draw(api, SQUARE, image=scene["image"]["id"])
    data = mutate(
        api,
        """
        mutation($annotation: Long!, $tumour: Long!, $stroma: Long!, $reader: Long!) {
          prime: annotationTermAdd(input: {annotation: $annotation, term: $tumour}) {
            annotationTerm { annotation { countComments } }
          }
          comment: annotationCommentCreate(input: {annotation: $annotation, comment: "Look",
                                                   receivers: [$reader]}) {
            sharedAnnotation { comment receiverIds annotation { countComments } }
          }
          check: annotationTermAdd(input: {annotation: $annotation, term: $stroma}) {
            annotationTerm { annotation { countComments } }
          }
        }
        """,
        annotation=annotation["id"],
        tumour=scene["terms"]["Tumour"],
        stroma=scene["terms"]["Stroma"],
        reader=reader["id"],
    )
    assert data == {
        "prime": {"annotationTerm": {"annotation": {"countComments": 0}}},
        "comment": {"sharedAnnotation": {"comment": "Look", "receiverIds": [reader["id"]],
                                         "annotation": {"countComments": 1}}},
        "check": {"annotationTerm": {"annotation": {"countComments": 1}}},
    }  # fmt: skip


def test_review_second_mutation_reads_the_first(api, scene):
    """Accepting an annotation needs the image in review by the caller: decided from the image
    row the first mutation's payload cached before the review started."""
    annotation = draw(api, SQUARE, image=scene["image"]["id"], terms=(scene["terms"]["Tumour"],))
    admin = me(api)
    data = mutate(
        api,
        """
        mutation($annotation: Long!, $image: Long!, $stroma: Long!) {
          prime: annotationTermAdd(input: {annotation: $annotation, term: $stroma}) {
            annotationTerm { annotation { image { reviewState reviewUserId } } }
          }
          start: imageReviewStart(id: $image) {
            imageInstance { reviewState reviewUserId reviewUser { username } }
          }
          check: annotationReview(input: {annotation: $annotation}) {
            reviewedAnnotation {
              parentIdent reviewUserId
              terms { name }
              image { reviewState reviewUserId numberOfReviewedAnnotations }
            }
          }
        }
        """,
        annotation=annotation["id"],
        image=scene["image"]["id"],
        stroma=scene["terms"]["Stroma"],
    )
    assert data["prime"] == {
        "annotationTerm": {"annotation": {"image": {"reviewState": "NONE", "reviewUserId": None}}}
    }
    assert data["start"] == {"imageInstance": {
        "reviewState": "IN_REVIEW", "reviewUserId": admin["id"],
        "reviewUser": {"username": "admin"}}}  # fmt: skip
    reviewed = data["check"]["reviewedAnnotation"]
    assert reviewed["parentIdent"] == annotation["id"]
    assert reviewed["reviewUserId"] == admin["id"]
    assert sorted(term["name"] for term in reviewed["terms"]) == ["Stroma", "Tumour"]
    assert reviewed["image"] == {
        "reviewState": "IN_REVIEW", "reviewUserId": admin["id"], "numberOfReviewedAnnotations": 1
    }  # fmt: skip
