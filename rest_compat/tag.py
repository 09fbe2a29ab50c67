"""REST routes of tags and tag associations (contract core.md §9.14–§9.15).

An association's envelope key is `tagdomainassociation` (the class name), not the python
client's callback identifier `tag_domain_association`: the client falls back to the former.
"""

from __future__ import annotations

from typing import Final

from rest_compat.envelopes import command, page, single
from rest_compat.routes import Route
from rest_compat.shapes import domain

__all__ = ["ROUTES", "tag_domain_association_json", "tag_json"]

tag_json = domain("meta.Tag")
tag_domain_association_json = domain("meta.TagDomainAssociation")

_tag_command = command("tag", "Tag", tag_json)
_link_command = command("tagdomainassociation", "TagDomainAssociation",
                        tag_domain_association_json)  # fmt: skip
_TAG: Final = "/api/tag/{id:int}.json"
_LINKS: Final = "/api/tag_domain_association.json"
_LINK: Final = "/api/tag_domain_association/{id:int}.json"
_OF_DOMAIN: Final = "/api/domain/{domainClassName}/{domainIdent:int}/tag_domain_association.json"

ROUTES: Final = (
    Route("GET", "/api/tag.json", "Tags", page(tag_json)),
    Route("POST", "/api/tag.json", "TagCreate", _tag_command, body="input", bulk=True,
          command=True),
    Route("GET", _TAG, "TagShow", single(tag_json)),
    Route("PUT", _TAG, "TagUpdate", _tag_command, body="input", command=True),
    Route("DELETE", _TAG, "TagDelete", _tag_command, command=True),
    Route("GET", _LINKS, "TagDomainAssociations", page(tag_domain_association_json)),
    Route("POST", _LINKS, "TagDomainAssociationCreate", _link_command, body="*", command=True),
    Route("GET", _LINK, "TagDomainAssociationShow", single(tag_domain_association_json)),
    Route("DELETE", _LINK, "TagDomainAssociationDelete", _link_command, command=True),
    Route("GET", _OF_DOMAIN, "TagDomainAssociationsOfDomain",
          page(tag_domain_association_json)),
    Route("POST", _OF_DOMAIN, "TagDomainAssociationCreate", _link_command, body="*",
          command=True),
)  # fmt: skip
