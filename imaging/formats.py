"""The file formats the built-in server reads, with PIMS's ids (PIXELS.md §3 "formats"), and
the detection of a file's format from its bytes (never from its name alone).

The id becomes the uploaded file's `contentType`. Vendor slides are found by OpenSlide's own
detection; other TIFFs are told apart by their structure (OME, pyramid or flat).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "CONVERTIBLE",
    "FORMATS",
    "OPENSLIDE_VENDORS",
    "ImageFormat",
    "detect_format",
    "format_list",
]


@dataclass(frozen=True, slots=True)
class ImageFormat:
    """One readable format, as `GET /api/imageserver/format.json` lists it (§2.9)."""

    id: str
    name: str
    remarks: str
    convertible: bool = False
    readable: bool = True
    writable: bool = False
    importable: bool = True


FORMATS: Final = (
    ImageFormat("PYRTIFF", "Pyramidal TIFF", "Tiled, 8-bit RGB or grey, any compression"),
    ImageFormat("OMETIFF", "OME-TIFF", "Single plane; converted to a pyramid above 1024 px",
                convertible=True),
    ImageFormat("PYROMETIFF", "Pyramidal OME-TIFF", "Sub-resolutions as SubIFDs or pages"),
    ImageFormat("TIFF", "Planar TIFF", "Converted to a pyramid above 1024 px", convertible=True),
    ImageFormat("JPEG", "JPEG", "Converted to a pyramid above 1024 px", convertible=True),
    ImageFormat("PNG", "PNG", "Converted to a pyramid above 1024 px", convertible=True),
    ImageFormat("WEBP", "WebP", "Converted to a pyramid above 1024 px", convertible=True),
    ImageFormat("BMP", "Bitmap", "Converted to a pyramid above 1024 px", convertible=True),
    ImageFormat("SVS", "Leica Aperio SVS", "Read with OpenSlide"),
    ImageFormat("NDPI", "Hamamatsu NDPI", "Read with OpenSlide"),
    ImageFormat("VMS", "Hamamatsu VMS", "Read with OpenSlide"),
    ImageFormat("MRXS", "3DHistech MIRAX", "Read with OpenSlide (with its data folder)"),
    ImageFormat("SCN", "Leica SCN", "Read with OpenSlide"),
    ImageFormat("BIF", "Ventana BIF", "Read with OpenSlide"),
    ImageFormat("PHILIPS", "Philips TIFF", "Read with OpenSlide"),
)  # fmt: skip

#: Formats whose flat files above 1024 px are converted to a tiled pyramid at import.
CONVERTIBLE: Final = frozenset(f.id for f in FORMATS if f.convertible)

#: OpenSlide's vendor names and the format id each stands for.
OPENSLIDE_VENDORS: Final = {
    "aperio": "SVS",
    "hamamatsu": "NDPI",
    "mirax": "MRXS",
    "leica": "SCN",
    "ventana": "BIF",
    "philips": "PHILIPS",
}


def format_list() -> list[dict[str, object]]:
    """The formats as the REST and GraphQL lists give them."""
    return [
        {"id": f.id, "name": f.name, "remarks": f.remarks, "convertible": f.convertible,
         "readable": f.readable, "writable": f.writable, "importable": f.importable}
        for f in FORMATS
    ]  # fmt: skip


def _magic(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(16)


def _openslide_vendor(path: Path) -> str | None:
    import openslide

    try:
        vendor = openslide.OpenSlide.detect_format(str(path))
    except Exception:  # OpenSlide raises its own errors on unreadable files
        return None
    return vendor if isinstance(vendor, str) else None


def _tiff_kind(path: Path) -> str:
    """PYROMETIFF, OMETIFF, PYRTIFF or TIFF from the file's structure; TIFF when its structure
    cannot be read (the magic says TIFF: the integrity check then refuses a damaged one)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            pyramid = len(series.levels) > 1
            if tif.is_ome:
                return "PYROMETIFF" if pyramid else "OMETIFF"
            return "PYRTIFF" if pyramid else "TIFF"
    except Exception:  # tifffile raises many kinds on a corrupt file
        return "TIFF"


def detect_format(path: Path) -> str | None:
    """The format id of the file at `path`, or None when the server cannot read it."""
    head = _magic(path)
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"BM"):
        return "BMP"
    vendor = _openslide_vendor(path)
    if vendor == "hamamatsu" and path.suffix.lower() == ".vms":
        return "VMS"
    if vendor in OPENSLIDE_VENDORS:
        return OPENSLIDE_VENDORS[vendor]
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _tiff_kind(path)
    return None
