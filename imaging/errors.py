"""The errors of the image server: each carries the HTTP status a client should get.

PixelError
├── BadPixelRequest   400  a parameter no render can honour (zoom out of range, 20 000 px…)
├── FileMissing       404  the object is known but its file is not on disk
├── UnreadableImage   400  the file cannot be read as an image (or not with these pixels)
└── RelayFailed       502  the external image server cannot be reached

`imaging` is a leaf package: the REST layer and the upload route turn these into JSON errors.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["BadPixelRequest", "FileMissing", "PixelError", "RelayFailed", "UnreadableImage"]


class PixelError(Exception):
    """Base of the errors a pixel request can end in; `status` is the HTTP status."""

    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadPixelRequest(PixelError):
    status = 400


class FileMissing(PixelError):
    status = 404


class UnreadableImage(PixelError):
    status = 400


class RelayFailed(PixelError):
    status = 502
