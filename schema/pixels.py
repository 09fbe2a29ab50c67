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
from typing import Any

import strawberry

from resolvers import pixels
from resolvers.context import Context
from resolvers.pixels import KINDS, ImageServerRequest, PixelArgs, PixelKind
from schema.common import Connection, Info, Long, connection

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

PixelKindType = strawberry.enum(PixelKind, name="PixelKind")


@strawberry.type(description="The image server that serves pixels, file exports and formats.")
class ImageServer:
    id: Long
    created: datetime
    updated: datetime
    name: str
    url: str
    base_path: str
    available: bool = strawberry.field(description="A URL is configured for it.")


@strawberry.type(name="ImageServerRequest", description="What the image server is asked for.")
class ImageServerRequestType:
    server: Any = strawberry.field(graphql_type=ImageServer)
    kind: PixelKind
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
    minimum: int
    maximum: int

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
    remarks: str | None
    convertible: bool
    readable: bool
    writable: bool
    importable: bool


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
        kind: PixelKind,
        format: str | None = None,
        label: str | None = None,
        x: int | None = None,
        y: int | None = None,
        width: int | None = None,
        height: int | None = None,
        zoom: int | None = None,
        tx: int | None = None,
        ty: int | None = None,
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
