"""Every table, imported here so `Base.metadata` is complete for Alembic and the drift test."""

from db.models.acl import AclEntry
from db.models.activity import (
    AnnotationAction,
    ImageConsultation,
    PersistentConnection,
    PositionFollower,
    ProjectConnection,
    UserPosition,
)
from db.models.annotation import (
    AnnotationIndex,
    AnnotationTerm,
    ReviewedAnnotation,
    ReviewedAnnotationTerm,
    SharedAnnotation,
    UserAnnotation,
)
from db.models.base import Base
from db.models.command import Command, CommandHistory, RedoStackItem, UndoStackItem
from db.models.image import (
    AbstractImage,
    AbstractSlice,
    CompanionFile,
    ImageInstance,
    ImageServer,
    SliceInstance,
)
from db.models.metadata import AttachedFile, AttachedFileTrash, Description, Property
from db.models.ontology import Ontology, Relation, RelationTerm, Term
from db.models.project import Project, ProjectDefaultLayer, ProjectRepresentativeUser
from db.models.software import Software, SoftwareProject
from db.models.storage import Storage, UploadedFile
from db.models.tag import Tag, TagDomainAssociation
from db.models.track import AnnotationTrack, Track
from db.models.user import (
    AdminSession,
    AuthToken,
    SecRole,
    SecUser,
    SecUserSecRole,
    SignInFailure,
)

__all__ = [
    "AbstractImage",
    "AbstractSlice",
    "AclEntry",
    "AdminSession",
    "AnnotationAction",
    "AnnotationIndex",
    "AnnotationTerm",
    "AnnotationTrack",
    "AttachedFile",
    "AttachedFileTrash",
    "AuthToken",
    "Base",
    "Command",
    "CommandHistory",
    "CompanionFile",
    "Description",
    "ImageConsultation",
    "ImageInstance",
    "ImageServer",
    "Ontology",
    "PersistentConnection",
    "PositionFollower",
    "Project",
    "ProjectConnection",
    "ProjectDefaultLayer",
    "ProjectRepresentativeUser",
    "Property",
    "RedoStackItem",
    "Relation",
    "RelationTerm",
    "ReviewedAnnotation",
    "ReviewedAnnotationTerm",
    "SecRole",
    "SecUser",
    "SecUserSecRole",
    "SharedAnnotation",
    "SignInFailure",
    "SliceInstance",
    "Software",
    "SoftwareProject",
    "Storage",
    "Tag",
    "TagDomainAssociation",
    "Term",
    "Track",
    "UndoStackItem",
    "UploadedFile",
    "UserAnnotation",
    "UserPosition",
]
