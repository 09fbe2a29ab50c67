"""What only an image server can answer, and the image-server record (decision 8; contract
images-annotations.md §2.9–§2.10).

cytogate computes every JSON resource itself. Pixels (thumbnails, crops, windows, tiles…),
file exports, raw metadata, histograms and the format list come from the image server: the
built-in one (`imaging/`) by default, or an external PIMS the requests are relayed to when
`CYTOGATE_IMAGE_SERVER_URL` names one. A resolver serving a pixel endpoint:

1. decides what it decides for any request on the object first: `NotFound`, `Forbidden`, bad
   parameters (`image_server_request` checks the parameters of each kind), before any pixel
   is read;
2. then describes the request with `image_server_request`: which file (its path under the
   image store), its size and plane, the annotation's geometry, the name a download takes.

Rendering the description, or relaying it, and answering with the bytes is an HTTP matter the
REST layer owns (`rest_compat.pixels`), which releases the request's database connection
first: a render never holds one.

Image instances and slice instances use the same helpers: their resolvers make their own
project checks (blind mode, download flag) and then call `image_server_request`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath
from typing import Any, Final, TypeVar

from sqlalchemy import Row, select

from db.direct import Direct
from db.engine import Lease
from db.id_lists import among_bound, rows_by_id
from db.models import ImageServer
from resolvers.context import Context
from resolvers.crud import table_of
from resolvers.errors import BadGateway, InvalidInput, NotFound, Unavailable
from resolvers.listing import Page, fetch_page

__all__ = [
    "KINDS",
    "ImageServerRequest",
    "PixelArgs",
    "PixelKind",
    "PixelTarget",
    "ask_image_server",
    "available_image_servers",
    "get_image_server",
    "histogram_bounds",
    "image_server_for",
    "image_server_request",
    "image_servers_by_id",
    "list_image_formats",
    "list_image_servers",
    "pixel_url",
]

SERVER_TABLE: Final = table_of(ImageServer)
T = TypeVar("T")


class PixelKind(Enum):
    """What a pixel endpoint asks the image server for (§2.10)."""

    THUMB = "thumb"
    PREVIEW = "preview"
    ASSOCIATED_LABELS = "associated labels"
    ASSOCIATED = "associated image"
    CROP = "crop"
    MASK = "mask"
    ALPHA_MASK = "alpha mask"
    WINDOW = "window"
    CAMERA = "camera"
    NORMALIZED_TILE = "normalized tile"
    METADATA = "metadata"
    DOWNLOAD = "download"
    HISTOGRAM = "histogram"
    HISTOGRAM_BOUNDS = "histogram bounds"
    CHANNEL_HISTOGRAM = "channel histogram"
    CHANNEL_HISTOGRAM_BOUNDS = "channel histogram bounds"


_IMAGE: Final = frozenset((
    PixelKind.THUMB, PixelKind.PREVIEW, PixelKind.ASSOCIATED_LABELS, PixelKind.ASSOCIATED,
    PixelKind.CROP, PixelKind.WINDOW, PixelKind.CAMERA, PixelKind.METADATA, PixelKind.DOWNLOAD,
))  # fmt: skip
_HISTOGRAMS: Final = frozenset((
    PixelKind.HISTOGRAM, PixelKind.HISTOGRAM_BOUNDS, PixelKind.CHANNEL_HISTOGRAM,
    PixelKind.CHANNEL_HISTOGRAM_BOUNDS,
))  # fmt: skip
_SLICE: Final = frozenset((
    PixelKind.THUMB, PixelKind.CROP, PixelKind.WINDOW, PixelKind.CAMERA,
    PixelKind.NORMALIZED_TILE,
))  # fmt: skip

#: The kinds each object serves (§9.1–§9.5, §9.7): anything else is a 400.
KINDS: Final[Mapping[str, frozenset[PixelKind]]] = {
    "AbstractImage": _IMAGE,
    "AbstractSlice": _SLICE,
    "UploadedFile": frozenset((PixelKind.DOWNLOAD,)),
    "CompanionFile": frozenset((PixelKind.DOWNLOAD,)),
    "ImageInstance": _IMAGE | _HISTOGRAMS,
    "SliceInstance": _SLICE | _HISTOGRAMS,
    "UserAnnotation": frozenset((PixelKind.CROP, PixelKind.MASK, PixelKind.ALPHA_MASK)),
    "ReviewedAnnotation": frozenset((PixelKind.CROP, PixelKind.MASK, PixelKind.ALPHA_MASK)),
}

#: The `Accept` header a format suffix selects upstream; anything else asks for JPEG.
ACCEPT: Final[Mapping[str, str]] = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
#: Kinds whose answer is an image in the format of the URL's suffix.
_IMAGES: Final = frozenset((
    PixelKind.THUMB, PixelKind.PREVIEW, PixelKind.ASSOCIATED, PixelKind.CROP, PixelKind.WINDOW,
    PixelKind.CAMERA, PixelKind.NORMALIZED_TILE, PixelKind.MASK, PixelKind.ALPHA_MASK,
))  # fmt: skip
#: The formats a crop may come in, and the one asked for instead of any other (§2.10): an
#: alpha mask needs an alpha channel, so it falls back to PNG.
_CROP_FORMATS: Final[Mapping[PixelKind, tuple[frozenset[str], str]]] = {
    PixelKind.CROP: (frozenset(("jpg", "png", "webp")), "jpg"),
    PixelKind.MASK: (frozenset(("jpg", "png", "webp")), "jpg"),
    PixelKind.ALPHA_MASK: (frozenset(("png", "webp")), "png"),
}


@dataclass(frozen=True, slots=True)
class PixelArgs:
    """The path parameters of a pixel endpoint (its query parameters go to the relay as is)."""

    kind: PixelKind
    format: str | None = None
    label: str | None = None
    x: int | None = None
    y: int | None = None
    width: int | None = None
    height: int | None = None
    zoom: int | None = None
    tx: int | None = None
    ty: int | None = None


@dataclass(frozen=True, slots=True)
class PixelTarget:
    """What an object's pixels are: its file (path under the image store), the image's size,
    the plane (channel, z, t), the name a download takes, an annotation's WKT, the image's
    number of channels."""

    file_path: str | None
    width: int | None = None
    height: int | None = None
    plane: tuple[int, int, int] = (0, 0, 0)
    filename: str | None = None
    geometry: str | None = None
    channels: int | None = None


@dataclass(frozen=True, slots=True)
class ImageServerRequest:
    """What to ask the image server: which server (relayed: an external one), what, about
    which file (its path under the server's root), in which format and so with which `Accept`
    header, and what a render needs of the object."""

    server: Any
    kind: PixelKind
    file_path: str
    format: str | None
    accept: str | None
    relayed: bool = False
    width: int | None = None
    height: int | None = None
    channel: int = 0
    z_stack: int = 0
    time: int = 0
    filename: str | None = None
    geometry: str | None = None
    channels: int | None = None


def pixel_url(ctx: Context, resource: str, object_id: int, tail: str) -> str:
    """The absolute cytogate URL of a pixel endpoint, as JSON gives it (`thumb`, `macroURL`…)."""
    return f"{ctx.public_url}/api/{resource}/{object_id}/{tail}"


# --- the image-server record -----------------------------------------------------------------


_SERVERS: Final = Direct(select(*SERVER_TABLE.c).where(among_bound(ImageServer.id)))


async def image_servers_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    return await rows_by_id(db, _SERVERS, ids)


async def available_image_servers(db: Lease, keys: list[bool]) -> list[Row[Any] | None]:
    """The external image server requests are relayed to (the first available one with a
    URL), whatever the key: a loader so a request reads it once however many objects ask."""
    stmt = (
        select(*SERVER_TABLE.c)
        .where(ImageServer.available, ImageServer.url != "")
        .order_by(ImageServer.id)
        .limit(1)
    )
    async with db.read() as conn:
        server = (await conn.execute(stmt)).first()
    return [server for _ in keys]


async def list_image_servers(ctx: Context, *, limit: int | None, offset: int = 0) -> Page[Any]:
    """Every image-server record (one, kept in step with the configuration at start-up)."""
    ctx.require_viewer()
    stmt = select(*SERVER_TABLE.c).order_by(ImageServer.id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def get_image_server(ctx: Context, server_id: int) -> Any:
    ctx.require_viewer()
    return await ctx.found(image_servers_by_id, server_id, "ImageServer")


async def image_server_for(ctx: Context) -> Any:
    """The image-server record that serves requests: the external one when configured, else
    the built-in one's (the first record). Call it after every check of the object."""
    if ctx.settings.image_server_url:
        server = await ctx.loader(available_image_servers).load(True)
        if server is not None:
            return server
    async with ctx.db.read() as conn:
        return (await conn.execute(select(*SERVER_TABLE.c).order_by(ImageServer.id))).first()


async def ask_image_server(ctx: Context, call: Callable[[Any, str], Awaitable[T]]) -> T:
    """The external image server's answer to `call(service, url)` (an `imaging.relay`
    function), for what a resolver asks it itself; failing or out of reach: 502."""
    from imaging.errors import RelayFailed

    if ctx.pixels is None:
        raise Unavailable("The image server relay is not running")
    server = await image_server_for(ctx)
    url = server.url if server is not None else ctx.settings.image_server_url
    if not url:
        raise Unavailable("No external image server is configured")
    try:
        return await call(ctx.pixels, url)
    except RelayFailed as error:
        raise BadGateway(error.message) from None


async def list_image_formats(ctx: Context) -> list[Any]:
    """The file formats the image server reads (§2.9): the built-in server's list, or the
    external one's."""
    ctx.require_viewer()
    if ctx.settings.image_server_url:
        from imaging.relay import relayed_formats

        return await ask_image_server(ctx, relayed_formats)
    from imaging.formats import FORMATS

    return list(FORMATS)


# --- pixel requests --------------------------------------------------------------------------


def _check_args(domain: str, args: PixelArgs) -> str | None:
    """The format to ask for, after refusing parameters that cannot make a request."""
    if args.kind not in KINDS[domain]:
        raise InvalidInput(f"A {domain} has no {args.kind.value}")
    if args.kind in _IMAGES and not args.format:
        raise InvalidInput(f"The {args.kind.value} needs a format (png, jpg, webp)")
    if args.kind is PixelKind.ASSOCIATED and not (args.label and args.label.strip()):
        raise InvalidInput("The associated image needs a label (macro, label, thumb)")
    if args.kind in (PixelKind.WINDOW, PixelKind.CAMERA):
        region = (args.x, args.y, args.width, args.height)
        if any(value is None for value in region):
            raise InvalidInput(f"The {args.kind.value} needs x, y, width and height")
        if any(value is not None and value < 0 for value in region[:2]):
            raise InvalidInput(f"The {args.kind.value} cannot start at negative coordinates")
        if any(value is not None and value < 1 for value in region[2:]):
            raise InvalidInput(f"The {args.kind.value} must be at least one pixel wide and high")
    if args.kind is PixelKind.NORMALIZED_TILE:
        tile = (args.zoom, args.tx, args.ty)
        if any(value is None or value < 0 for value in tile):
            raise InvalidInput("The tile needs a zoom level and tile coordinates (≥ 0)")
    if args.kind not in _IMAGES:
        return None
    fmt = (args.format or "").lower()
    if args.kind in _CROP_FORMATS:
        allowed, fallback = _CROP_FORMATS[args.kind]
        return fmt if fmt in allowed else fallback
    return fmt


async def image_server_request(
    ctx: Context, domain: str, object_id: int, target: PixelTarget, args: PixelArgs
) -> ImageServerRequest:
    """The image-server request behind a pixel endpoint of an object the caller may read.

    Args:
        domain: the object's class name ("AbstractImage"), which decides the kinds it serves.
        target: the object's file and what a render needs; a None file path is a 400.
    """
    fmt = _check_args(domain, args)
    if not target.file_path:
        raise InvalidInput(f"{domain} {object_id} has no file an image server could serve")
    server = await image_server_for(ctx)
    accept = None if fmt is None else ACCEPT.get(fmt, "image/jpeg")
    channel, z_stack, time = target.plane
    filename = target.filename
    if args.kind is PixelKind.DOWNLOAD and not filename:
        filename = _neutral_name(target.file_path, object_id)
    return ImageServerRequest(
        server, args.kind, target.file_path, fmt, accept,
        relayed=bool(ctx.settings.image_server_url), width=target.width, height=target.height,
        channel=channel, z_stack=z_stack, time=time, filename=filename,
        geometry=target.geometry, channels=target.channels,
    )  # fmt: skip


def _neutral_name(file_path: str, object_id: int) -> str:
    """The name a download takes when the object gives none: in a blind project its real
    name is hidden, and the stored file is named after it, so only its extension is kept."""
    return f"image-{object_id}{PurePosixPath(file_path).suffix}"


_BOUNDS_KEYS: Final = ("channel", "apparentChannel", "sample", "color", "minimum", "maximum")


async def histogram_bounds(
    ctx: Context, request: ImageServerRequest, *, sliced: bool
) -> list[dict[str, Any]]:
    """Per sample, its first and last non-empty intensity (the viewer sets its intensity
    windows with them, PIXELS.md §2): the built-in image server's, computed at import for the
    request's plane, or the external one's for the image or, `sliced`, the slice's plane."""
    plane = (request.channel, request.z_stack, request.time)
    if request.relayed:
        from imaging.relay import relayed_histogram

        kind = request.kind.name
        found = await ask_image_server(ctx, lambda service, url: relayed_histogram(
            service, url, request.file_path, kind, sliced, plane))  # fmt: skip
        if not isinstance(found, list) or not all(
            isinstance(item, dict) and all(key in item for key in _BOUNDS_KEYS) for item in found
        ):
            raise BadGateway("The image server gave histogram bounds in an unknown shape")
        return found
    if ctx.pixels is None:
        raise Unavailable("The built-in image server is not running")
    from imaging.errors import FileMissing, PixelError

    service = ctx.pixels
    try:
        source = service.source(request.file_path, request.width, request.height)
        found = await service.histogram(request.file_path, source, "channels-bounds", None,
                                        plane)  # fmt: skip
    except FileMissing:
        raise NotFound("Image file", request.file_path, "path") from None
    except PixelError as error:
        raise InvalidInput(error.message) from None
    return list(found)
