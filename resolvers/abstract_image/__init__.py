"""Abstract images and their slices: the physical images of a storage (contract
images-annotations.md §2.3–§2.4, §9.1–§9.2).

The area is four modules, re-exported here: `rows` (tables, formats, batch loaders and listing
columns), `rules` (rights, undo/redo specs, checks on written fields and on uses), `reads` and
`writes` (what the schema calls).
"""

from resolvers.abstract_image.reads import (
    abstract_image_request,
    abstract_slice_request,
    apparent_channels,
    dimensions,
    get_abstract_image,
    get_abstract_image_uploader,
    get_abstract_slice,
    get_abstract_slice_uploader,
    image_file,
    image_server_urls,
    image_target_of,
    image_uploader,
    is_virtual,
    list_abstract_images,
    list_abstract_slices,
    macro_url,
    slice_path,
    slice_rank,
    zoom_levels,
)
from resolvers.abstract_image.rows import (
    MIME_TYPES,
    VIRTUAL_STACK,
    abstract_images_by_id,
    abstract_images_by_uploaded_file,
    abstract_slices_by_id,
    slices_by_abstract_image,
    slices_by_uploaded_file,
)
from resolvers.abstract_image.rules import (
    ABSTRACT_IMAGE,
    ABSTRACT_SLICE,
    AbstractImageFields,
    AbstractSliceFields,
    refuse_used,
    require_storage_of_file,
    storage_of_file,
)
from resolvers.abstract_image.writes import (
    create_abstract_image,
    create_abstract_slice,
    delete_abstract_image,
    delete_abstract_slice,
    extract_abstract_image_properties,
    update_abstract_image,
    update_abstract_slice,
)

__all__ = [
    "ABSTRACT_IMAGE",
    "ABSTRACT_SLICE",
    "MIME_TYPES",
    "VIRTUAL_STACK",
    "AbstractImageFields",
    "AbstractSliceFields",
    "abstract_image_request",
    "abstract_images_by_id",
    "abstract_images_by_uploaded_file",
    "abstract_slice_request",
    "abstract_slices_by_id",
    "apparent_channels",
    "create_abstract_image",
    "create_abstract_slice",
    "delete_abstract_image",
    "delete_abstract_slice",
    "dimensions",
    "extract_abstract_image_properties",
    "get_abstract_image",
    "get_abstract_image_uploader",
    "get_abstract_slice",
    "get_abstract_slice_uploader",
    "image_file",
    "image_server_urls",
    "image_target_of",
    "image_uploader",
    "is_virtual",
    "list_abstract_images",
    "list_abstract_slices",
    "macro_url",
    "refuse_used",
    "require_storage_of_file",
    "slice_path",
    "slice_rank",
    "slices_by_abstract_image",
    "slices_by_uploaded_file",
    "storage_of_file",
    "update_abstract_image",
    "update_abstract_slice",
    "zoom_levels",
]
