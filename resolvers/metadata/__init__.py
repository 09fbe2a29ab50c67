"""Properties, attached files and rich-text descriptions on any object (contract core.md
§9.10–§9.13).

Each hangs from an object named by class and id (`resolvers.metadata_target` resolves it and
holds the read and write rules, the same as for tags). Deleting an object deletes its metadata
by trigger, and the deleting mutations record it first (`record_metadata`, which records the
tag associations too) so that undo brings it back.

The area is five modules, re-exported here: `rows` (tables and batch loaders), `rules` (undo
and redo specs, fields, recording), `reads` and `writes` (what the schema calls) and `files`
(the sweep removing the bytes of deleted attached files). It sits below the image, annotation
and track modules, which call `record_metadata`: it reads their tables, never their modules.
"""

from resolvers.metadata.files import sweep_files
from resolvers.metadata.reads import (
    AnnotationPropertyPosition,
    FileDownload,
    PropertyKey,
    annotation_property_keys,
    annotation_property_positions,
    attached_file_download,
    get_attached_file,
    get_description,
    get_property,
    get_property_by_key,
    image_property_keys,
    list_attached_files,
    list_descriptions,
    list_properties,
)
from resolvers.metadata.rows import (
    attached_files_by_domain,
    attached_files_by_id,
    descriptions_by_domain,
    properties_by_domain,
    properties_by_id,
)
from resolvers.metadata.rules import (
    ATTACHED_FILE,
    DESCRIPTION,
    PROPERTY,
    add_properties,
    copy_properties,
    property_pairs,
    record_metadata,
)
from resolvers.metadata.writes import (
    AttachedFileFields,
    DescriptionFields,
    PropertyFields,
    create_attached_file,
    create_description,
    create_property,
    delete_attached_file,
    delete_description,
    delete_property,
    update_description,
    update_property,
)

__all__ = [
    "ATTACHED_FILE",
    "DESCRIPTION",
    "PROPERTY",
    "AnnotationPropertyPosition",
    "AttachedFileFields",
    "DescriptionFields",
    "FileDownload",
    "PropertyFields",
    "PropertyKey",
    "add_properties",
    "annotation_property_keys",
    "annotation_property_positions",
    "attached_file_download",
    "attached_files_by_domain",
    "attached_files_by_id",
    "copy_properties",
    "create_attached_file",
    "create_description",
    "create_property",
    "delete_attached_file",
    "delete_description",
    "delete_property",
    "descriptions_by_domain",
    "get_attached_file",
    "get_description",
    "get_property",
    "get_property_by_key",
    "image_property_keys",
    "list_attached_files",
    "list_descriptions",
    "list_properties",
    "properties_by_domain",
    "properties_by_id",
    "property_pairs",
    "record_metadata",
    "sweep_files",
    "update_description",
    "update_property",
]
