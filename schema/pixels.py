"""The image server in the graph: its record, what it is asked for pixels, and the formats it
reads (decision 8; contract images-annotations.md §2.9–§2.10).

Pixels themselves are bytes and stay plain HTTP; object types give their URLs (`thumbUrl`…).
Each type with pixel endpoints has an `imageServerRequest` field, made by
`image_server_request_field`, that says what the image server is asked for, after the same
checks as the pixel endpoint itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers import pixels
from resolvers.context import Context
from resolvers.pixels import KINDS, ImageServerRequest, PixelArgs, PixelKind
from schema.common import Connection, Info, Long, about, connection, described_enum

__all__ = [
    "KINDS",
    "HistogramBounds",
    "ImageFormat",
    "ImageServer",
    "ImageServerQuery",
    "ImageServerRequestType",
    "PixelKind",
    "PixelKindType",
    "image_server_request_field",
]

PixelKindType = described_enum(
    PixelKind,
    name="PixelKind",
    description="One of the image server's pixel endpoints (which an object serves depends on "
    "its type: an INVALID_INPUT names the ones it does not).",
    values={
        PixelKind.THUMB: "A thumbnail of the whole image (or slice); needs `format`.",
        PixelKind.PREVIEW: "A larger view of the whole image; needs `format`.",
        PixelKind.ASSOCIATED_LABELS: "The names of the image's associated images.",
        PixelKind.ASSOCIATED: "One associated image (`label`: macro, label, thumb…); needs "
        "`format`.",
        PixelKind.CROP: "An annotation's bounding box (jpg, png or webp; else jpg).",
        PixelKind.MASK: "An annotation's mask: white inside, black outside (jpg, png or webp; "
        "else jpg).",
        PixelKind.ALPHA_MASK: "An annotation's crop, transparent outside it (png or webp; "
        "else png).",
        PixelKind.WINDOW: "A region, in full-resolution pixels: x, y, width and height; needs "
        "`format`.",
        PixelKind.CAMERA: "A region as the viewer's camera shows it: x, y, width and height; "
        "needs `format`.",
        PixelKind.NORMALIZED_TILE: "One tile of the pyramid: zoom, tx and ty; needs `format`.",
        PixelKind.METADATA: "The file's own metadata.",
        PixelKind.DOWNLOAD: "The original file.",
        PixelKind.HISTOGRAM: "The histogram of the image's pixel values.",
        PixelKind.HISTOGRAM_BOUNDS: "The smallest and largest pixel values of the image.",
        PixelKind.CHANNEL_HISTOGRAM: "The histogram of each channel.",
        PixelKind.CHANNEL_HISTOGRAM_BOUNDS: "The smallest and largest values of each channel.",
    },
)


@strawberry.type(description="The image server that serves pixels, file exports and formats.")
class ImageServer:
    id: Long
    created: datetime
    updated: datetime
    name: str
    url: str = strawberry.field(
        description="The external image server's URL; empty for the built-in one."
    )
    base_path: str = strawberry.field(description="Legacy: always empty.")
    available: bool = strawberry.field(description="A URL is configured for it.")


@strawberry.type(name="ImageServerRequest", description="What the image server is asked for.")
class ImageServerRequestType:
    server: Any = strawberry.field(
        graphql_type=ImageServer, description="The image server that answers it."
    )
    kind: PixelKind = strawberry.field(description="The pixel endpoint asked for.")
    file_path: str = strawberry.field(description="The file, under the image server's root.")
    format: str | None = strawberry.field(description="The image format of the answer.")
    accept: str | None = strawberry.field(description="The media type asked for.")
    relayed: bool = strawberry.field(
        description="Relayed to an external image server (else the built-in one renders it)."
    )
    width: int | None = strawberry.field(description="The image's width, in pixels.")
    height: int | None = strawberry.field(description="The image's height, in pixels.")
    channels: int | None = strawberry.field(
        description="The image's number of channels (an RGB image has one)."
    )
    channel: int = strawberry.field(description="The plane's channel.")
    z_stack: int = strawberry.field(description="The plane's focal position.")
    time: int = strawberry.field(description="The plane's time point.")
    filename: str | None = strawberry.field(description="The name a download takes.")
    geometry: str | None = strawberry.field(
        description="An annotation's WKT (bottom-left origin), for its crops."
    )


@strawberry.type(description="A sample's first and last non-empty intensity in a plane.")
class HistogramBounds:
    channel: int = strawberry.field(description="The file's channel.")
    apparent_channel: int = strawberry.field(description="The channel a viewer shows.")
    sample: int = strawberry.field(description="The sample (R, G, B: 0, 1, 2).")
    color: str | None = strawberry.field(description="The sample's colour in an RGB image.")
    minimum: int = strawberry.field(description="The lowest intensity the sample reaches.")
    maximum: int = strawberry.field(description="The highest intensity the sample reaches.")

    @classmethod
    def of(cls, found: dict[str, Any]) -> HistogramBounds:
        """From the image server's item (`resolvers.pixels.histogram_bounds`)."""
        return cls(channel=found["channel"], apparent_channel=found["apparentChannel"],
                   sample=found["sample"], color=found["color"], minimum=found["minimum"],
                   maximum=found["maximum"])  # fmt: skip


@strawberry.type(description="A file format the image server reads.")
class ImageFormat:
    id: str
    name: str
    remarks: str | None = strawberry.field(description="Notes on how its files are read.")
    convertible: bool = strawberry.field(
        description="Its files may be converted to a pyramid at import."
    )
    readable: bool = strawberry.field(description="The image server reads its files.")
    writable: bool = strawberry.field(description="The image server writes files in it.")
    importable: bool = strawberry.field(description="Files in it can be uploaded and imported.")


RequestFn = Callable[[Context, Any, PixelArgs], Awaitable[ImageServerRequest]]


def image_server_request_field(request: RequestFn) -> Any:
    """A field asking the image server for pixels of the parent object.

    Args:
        request: the area's resolver, given the context, the parent row and the arguments;
            it makes the object's own checks, then `resolvers.pixels.image_server_request`.
    """

    async def image_server_request(
        parent: strawberry.Parent[Any],
        info: Info,
        kind: Annotated[PixelKind, about("The endpoint asked for.")],
        format: Annotated[str | None, about("The picture's format: jpg, png or webp.")] = None,
        label: Annotated[str | None, about("An associated image's label.")] = None,
        x: Annotated[int | None, about("A region's left edge, in pixels.")] = None,
        y: Annotated[int | None, about("A region's top edge, in pixels.")] = None,
        width: Annotated[int | None, about("A region's width, in pixels.")] = None,
        height: Annotated[int | None, about("A region's height, in pixels.")] = None,
        zoom: Annotated[int | None, about("A tile's zoom level, from 0 (the smallest).")] = None,
        tx: Annotated[int | None, about("A tile's column, from 0.")] = None,
        ty: Annotated[int | None, about("A tile's row, from 0.")] = None,
    ) -> ImageServerRequest:
        args = PixelArgs(kind, format, label, x, y, width, height, zoom, tx, ty)
        return await request(info.context, parent, args)

    return strawberry.field(
        resolver=image_server_request,
        graphql_type=ImageServerRequestType,
        description="What the image server is asked for one of this object's pixel endpoints: "
        "`format` for images, `label` for an associated image, x/y/width/height for a window, "
        "zoom/tx/ty for a tile.",
    )


ImageServerConnection = Connection[ImageServer]


@strawberry.type
class ImageServerQuery:
    @strawberry.field(description="The image-server records (one, kept in step with settings).")
    async def image_servers(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> ImageServerConnection:
        return connection(await pixels.list_image_servers(info.context, limit=first, offset=offset))

    @strawberry.field(graphql_type=ImageServer)
    async def image_server(self, info: Info, id: Long) -> Any:
        return await pixels.get_image_server(info.context, id)

    @strawberry.field(description="The formats the image server reads.")
    async def image_server_formats(self, info: Info) -> list[ImageFormat]:
        return await pixels.list_image_formats(info.context)
