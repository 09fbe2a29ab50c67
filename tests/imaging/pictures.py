"""Test images made on the spot (PIXELS.md §6): every pixel encodes its position, so a tile,
window or crop can be checked pixel by pixel. R = x mod 256, G = y mod 256,
B = (x div 256 + y div 256) mod 256."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvips


def expected(x: int, y: int) -> tuple[int, int, int]:
    return x % 256, y % 256, (x // 256 + y // 256) % 256


def pattern_array(width: int, height: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs % 256, ys % 256, (xs // 256 + ys // 256) % 256], axis=-1).astype(np.uint8)


def pattern(width: int, height: int) -> pyvips.Image:
    array = pattern_array(width, height)
    return pyvips.Image.new_from_memory(array.tobytes(), width, height, 3, "uchar").copy(
        interpretation="srgb"
    )


def pyramid_tiff(path: Path, width: int, height: int, compression: str = "deflate") -> Path:
    """A tiled pyramidal TIFF written by libvips (levels as pages, halving rounding down)."""
    pattern(width, height).tiffsave(str(path), tile=True, tile_width=256, tile_height=256,
                                    pyramid=True, compression=compression, Q=95)  # fmt: skip
    return path


def flat(path: Path, width: int, height: int) -> Path:
    """A flat JPEG, PNG or WebP (by suffix; PNG and lossless WebP keep exact pixels)."""
    image = pattern(width, height)
    suffix = path.suffix.lower()
    if suffix == ".png":
        image.pngsave(str(path))
    elif suffix == ".webp":
        image.webpsave(str(path), lossless=True)
    else:
        image.jpegsave(str(path), Q=95)
    return path


def svs_like(path: Path, width: int, height: int) -> Path:
    """An Aperio-style SVS (tifffile): tiled levels stepping by 4, a thumbnail, a label and a
    macro; mpp 0.25 and AppMag 40 in the description. OpenSlide reports it as `aperio`."""
    import tifffile

    full = pattern_array(width, height)
    description = (
        f"Aperio Image Library v12.0.15\r\n{width}x{height} [0,0 {width}x{height}] (256x256) "
        "RAW|AppMag = 40|MPP = 0.25"
    )
    with tifffile.TiffWriter(path, bigtiff=False) as tif:
        tif.write(
            full,
            tile=(256, 256),
            photometric="rgb",
            compression="zlib",
            description=description,
            subfiletype=0,
            metadata=None,
        )
        thumb = full[::8, ::8].copy()
        tif.write(thumb, photometric="rgb", description=description, metadata=None)
        level = full[::4, ::4].copy()
        if min(level.shape[:2]) >= 16:
            tif.write(
                level,
                tile=(256, 256),
                photometric="rgb",
                compression="zlib",
                description=description,
                subfiletype=0,
                metadata=None,
            )
        label = np.full((120, 200, 3), 200, np.uint8)
        tif.write(
            label,
            photometric="rgb",
            subfiletype=1,
            description="Aperio Image Library v12.0.15\r\nlabel 200x120",
            metadata=None,
        )
        macro = np.full((150, 400, 3), 90, np.uint8)
        tif.write(
            macro,
            photometric="rgb",
            subfiletype=9,
            description="Aperio Image Library v12.0.15\r\nmacro 400x150",
            metadata=None,
        )
    return path


def ome_tiff(path: Path, width: int, height: int, *, levels: int = 1) -> Path:
    """An RGB OME-TIFF written by tifffile, tiled, with `levels - 1` sub-resolutions (halving
    rounding down) as SubIFDs, 0.5 µm pixels and a 20× objective."""
    import tifffile

    full = pattern_array(width, height)
    metadata = {"axes": "YXS", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5,
                "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm"}  # fmt: skip
    options = {"photometric": "rgb", "tile": (256, 256), "compression": "zlib"}
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        tif.write(full, subifds=levels - 1, metadata=metadata, **options)
        for level in range(1, levels):
            tif.write(full[:: 2**level, :: 2**level].copy(), subfiletype=1, **options)
    return path


def sixteen_bit_tiff(path: Path, width: int, height: int) -> Path:
    """A grey 16-bit tiled TIFF (a fluorescence-like image 8-bit rendering cannot show)."""
    import tifffile

    ys, xs = np.mgrid[0:height, 0:width]
    tifffile.imwrite(path, ((xs * 37 + ys * 11) % 65536).astype(np.uint16), tile=(256, 256))
    return path


def multi_plane_ome(path: Path, width: int, height: int, planes: int = 3) -> Path:
    """A grey OME-TIFF of `planes` focal planes (Z)."""
    import tifffile

    stack = np.stack([pattern_array(width, height)[:, :, 0] + z for z in range(planes)])
    tifffile.imwrite(path, stack.astype(np.uint8), ome=True, metadata={"axes": "ZYX"})
    return path
