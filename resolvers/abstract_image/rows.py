"""How abstract images and their slices are read: tables, the formats and MIME types they
may declare, batch loaders and the columns listings sort and filter on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Row, select

from db.direct import Direct
from db.engine import Lease
from db.id_lists import among, among_bound, rows_by_id
from db.models import AbstractImage, AbstractSlice, ImageInstance
from resolvers.crud import table_of

__all__ = [
    "CALIBRATION",
    "IMAGE_FIELDS",
    "IMAGE_TABLE",
    "INSTANCE_TABLE",
    "MACRO_FORMATS",
    "MIME_TYPES",
    "SLICE_TABLE",
    "VIRTUAL_STACK",
    "abstract_images_by_id",
    "abstract_images_by_uploaded_file",
    "abstract_slices_by_id",
    "slices_by_abstract_image",
    "slices_by_uploaded_file",
]

IMAGE_TABLE: Final = table_of(AbstractImage)
SLICE_TABLE: Final = table_of(AbstractSlice)
INSTANCE_TABLE: Final = table_of(ImageInstance)

#: The MIME types a slice may declare (Cytomine seeds exactly these).
MIME_TYPES: Final = frozenset((
    "image/pyrtiff", "image/jp2", "openslide/ndpi", "openslide/mrxs", "openslide/vms",
    "openslide/svs", "openslide/scn", "openslide/bif", "openslide/ventana", "philips/tif",
))  # fmt: skip
#: Formats that carry a macro image; for any other known format `macroURL` is null (§2.3).
MACRO_FORMATS: Final = frozenset(("SVS", "NDPI", "VMS", "SCN", "MRXS", "BIF", "VENTANA", "PHILIPS"))
#: The format of an image whose planes are files of their own (§2.4: slice paths).
VIRTUAL_STACK: Final = "VIRTUALSTACK"

#: Calibration an instance may override; a change follows into the instances whose override
#: equals the old value (§2.3). Instances without an override inherit at read time.
CALIBRATION: Final = ("physical_size_x", "magnification")


# --- loaders ---------------------------------------------------------------------------------


def _grouped(rows: Sequence[Row[Any]], key: str, ids: list[int]) -> list[list[Row[Any]]]:
    grouped: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return [grouped[value] for value in ids]


_IMAGES: Final = Direct(select(*IMAGE_TABLE.c).where(among_bound(AbstractImage.id)))
_SLICES: Final = Direct(select(*SLICE_TABLE.c).where(among_bound(AbstractSlice.id)))


async def abstract_images_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _IMAGES, ids)


async def abstract_slices_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _SLICES, ids)


async def abstract_images_by_uploaded_file(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The abstract images of each uploaded file, oldest first (the first is "the" image)."""
    stmt = (
        select(*IMAGE_TABLE.c)
        .where(among(AbstractImage.uploaded_file_id, ids))
        .order_by(AbstractImage.id)
    )
    async with db.read() as conn:
        return _grouped((await conn.execute(stmt)).all(), "uploaded_file_id", ids)


_PLANE_ORDER: Final = (AbstractSlice.channel, AbstractSlice.z_stack, AbstractSlice.time)


async def slices_by_abstract_image(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The slices of each abstract image, by channel, z, time."""
    stmt = select(*SLICE_TABLE.c).where(among(AbstractSlice.image_id, ids)).order_by(*_PLANE_ORDER)
    async with db.read() as conn:
        return _grouped((await conn.execute(stmt)).all(), "image_id", ids)


async def slices_by_uploaded_file(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The slices stored in each uploaded file, by id."""
    stmt = (
        select(*SLICE_TABLE.c)
        .where(among(AbstractSlice.uploaded_file_id, ids))
        .order_by(AbstractSlice.id)
    )
    async with db.read() as conn:
        return _grouped((await conn.execute(stmt)).all(), "uploaded_file_id", ids)


# --- listings --------------------------------------------------------------------------------

IMAGE_FIELDS: Final[Mapping[str, Any]] = {
    "id": AbstractImage.id,
    "created": AbstractImage.created,
    "updated": AbstractImage.updated,
    "originalFilename": AbstractImage.original_filename,
    "filename": AbstractImage.original_filename,
    "uploadedFile": AbstractImage.uploaded_file_id,
    "user": AbstractImage.user_id,
    "width": AbstractImage.width,
    "height": AbstractImage.height,
    "depth": AbstractImage.depth,
    "duration": AbstractImage.duration,
    "channels": AbstractImage.channels,
    "samplePerPixel": AbstractImage.sample_per_pixel,
    "bitPerSample": AbstractImage.bit_per_sample,
    "physicalSizeX": AbstractImage.physical_size_x,
    "physicalSizeY": AbstractImage.physical_size_y,
    "physicalSizeZ": AbstractImage.physical_size_z,
    "fps": AbstractImage.fps,
    "magnification": AbstractImage.magnification,
    "colorspace": AbstractImage.colorspace,
    "tileSize": AbstractImage.tile_size,
}
