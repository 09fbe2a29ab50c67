"""Tags and tag associations through the official cytomine-python-client 4.3.0: save, fetch,
update, delete and the collections, with the values the server answered."""

from __future__ import annotations

from typing import Any

from cytomine.models import (
    Annotation,
    ImageInstance,
    Project,
    Tag,
    TagCollection,
    TagDomainAssociation,
    TagDomainAssociationCollection,
)

from tests.tag.conftest import CLASSES

TAG_CLASS = "be.cytomine.domain.meta.Tag"
LINK_CLASS = "be.cytomine.domain.meta.TagDomainAssociation"


def test_tag_save_fetch_update_delete_and_collection(client: Any) -> None:
    me = client.current_user
    made = Tag("needs-review").save()
    assert made and isinstance(made.id, int)
    assert (made.class_, made.name, made.user, made.creatorName) == (
        TAG_CLASS, "needs-review", me.id, me.username)  # fmt: skip
    assert not Tag().save(), "a tag without a name is refused"
    assert not Tag("NEEDS-REVIEW").save(), "names are unique whatever the case"
    Tag("approved").save()

    fetched = Tag().fetch(made.id)
    assert (fetched.id, fetched.name) == (made.id, "needs-review")
    fetched.name = "reviewing"
    updated = fetched.update()
    assert updated.name == "reviewing"
    assert Tag().fetch(made.id).name == "reviewing"

    tags = TagCollection().fetch()
    assert [tag.name for tag in tags] == ["approved", "reviewing"]
    assert all(tag.class_ == TAG_CLASS for tag in tags)

    assert Tag().delete(made.id)
    assert not Tag().fetch(made.id)
    assert [tag.name for tag in TagCollection().fetch()] == ["approved"]


def test_tag_domain_association_save_fetch_collection_delete(
    client: Any, scene: dict[str, Any], annotate: Any, api: Any
) -> None:
    project = Project().fetch(scene["project"]["id"])
    image = ImageInstance().fetch(scene["image"]["id"])
    annotation = Annotation().fetch(annotate(api)["id"])
    first, second = Tag("first").save(), Tag("second").save()

    link = TagDomainAssociation(project, first.id).save()
    assert link and isinstance(link.id, int)
    assert (link.class_, link.domainClassName, link.domainIdent, link.tag, link.tagName) == (
        LINK_CLASS, CLASSES["Project"], project.id, first.id, "first")  # fmt: skip
    assert not TagDomainAssociation(project, first.id).save(), "a tag goes on an object once"
    TagDomainAssociation(project, second.id).save()
    on_image = TagDomainAssociation(image, second.id).save()
    assert on_image.domainClassName == CLASSES["ImageInstance"]
    on_annotation = TagDomainAssociation(annotation, first.id).save()
    assert (on_annotation.domainClassName, on_annotation.domainIdent) == (
        CLASSES["UserAnnotation"], annotation.id)  # fmt: skip

    fetched = TagDomainAssociation(project).fetch(link.id)
    assert (fetched.id, fetched.tag, fetched.tagName, fetched.domainIdent) == (
        link.id, first.id, "first", project.id)  # fmt: skip
    of_project = TagDomainAssociationCollection(project).fetch()
    assert [(item.tagName, item.domainIdent) for item in of_project] == [
        ("first", project.id), ("second", project.id)]  # fmt: skip
    assert [item.tag for item in TagDomainAssociationCollection(annotation).fetch()] == [first.id]

    assert TagDomainAssociation(project).delete(link.id)
    assert not TagDomainAssociation(project).fetch(link.id)
    assert [item.tagName for item in TagDomainAssociationCollection(project).fetch()] == [
        "second"]  # fmt: skip
    assert Tag().delete(second.id)
    assert len(TagDomainAssociationCollection(image).fetch()) == 0
