"""Multipart uploads, streamed to disk: the one way a file reaches the server, for REST routes,
GraphQL's multipart requests and PIMS's `POST /upload` alike.

`stage` reads a `multipart/form-data` body part by part: the first file part is written, chunk
by chunk, to a temporary file of the directory it will live in (`<root>/<directory>/`), its size
(and, where the store asks, its SHA-256) counted on the way, never held whole in memory; the
other parts are short text fields. Past the store's size limit the upload stops with 413, with
too little free space with the store's error (503 by default); nothing is left behind either
way. The mutation gets the `StagedFile` (a handle, not
the bytes, which never pass through GraphQL variables) and renames it into place before it
writes its row (resolvers/upload.py); `Staged.discard`, run when the request ends, removes
whatever no mutation kept.

A route declares an upload with `Route(upload=Upload(variable, directory))`: the staged file
goes to `$variable`, the text fields join the query parameters as variables.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from resolvers.errors import CytogateError, InvalidInput, TooLarge, Unavailable
from schema.common import StagedFile

__all__ = ["FileStore", "Staged", "Upload", "stage"]

log = logging.getLogger(__name__)

#: Bytes read from the network (and written) at a time.
CHUNK: Final = 256 * 1024
#: Free space that must remain after an upload; checked before and every RECHECK bytes.
RESERVE: Final = 64 * 1024 * 1024
RECHECK: Final = 64 * 1024 * 1024
#: The longest text field of a form, and the most fields.
MAX_FIELD: Final = 64 * 1024
MAX_FIELDS: Final = 100
#: Seconds a client is told to wait when the disk is full.
FULL_RETRY: Final = 60


@dataclass(frozen=True, slots=True)
class Upload:
    """A route's upload: the variable receiving the staged file, the data directory's
    subdirectory it is kept in."""

    variable: str
    directory: str


def _disk_free(directory: Path) -> int:
    return shutil.disk_usage(directory).free


def _unavailable(message: str) -> CytogateError:
    return Unavailable(message, FULL_RETRY)


@dataclass(frozen=True, slots=True)
class FileStore:
    """Where uploads go, how large they may be and what free space they must leave.

    Args:
        root: the directory stored paths are relative to.
        max_bytes: the largest file (413 beyond).
        reserve: free bytes an upload must leave on the disk.
        free: the free bytes of the disk a directory is on.
        full: the error of a disk without room (by default 503 with `Retry-After`; PIMS's
            `POST /upload` answers 507).
        hashed: count the file's SHA-256 on the way (attached files keep it; an image import
            has no use for it, and it costs seconds of a large slide).
    """

    root: Path
    max_bytes: int
    reserve: int = RESERVE
    free: Callable[[Path], int] = _disk_free
    full: Callable[[str], CytogateError] = _unavailable
    hashed: bool = True


@dataclass
class Staged:
    """What a multipart body held: the first file (staged), the text fields."""

    file: StagedFile | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove the staged file unless a mutation kept it (renamed it away)."""
        if self.file is not None:
            self.file.path.unlink(missing_ok=True)


def _check_space(store: FileStore, free: int, needed: int) -> None:
    """Refuse `needed` bytes more where they would leave less than the reserve of `free`."""
    if needed + store.reserve > free:
        raise store.full("Not enough free space on the disk for this upload")


async def _write(out: IO[bytes], chunk: bytes) -> None:
    await asyncio.to_thread(out.write, chunk)


async def _stage_file(
    part: BodyPartReader, store: FileStore, directory: Path, free: int
) -> StagedFile:
    """Stream one file part into a temporary file of `directory`, whose disk had `free` bytes
    free before (every chunk is checked against it; the disk is asked again every RECHECK
    bytes, as other writers use it too)."""
    path = directory / f".upload-{uuid.uuid4().hex}"
    digest = hashlib.sha256() if store.hashed else None
    size = 0
    checked = 0
    try:
        with path.open("xb") as out:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > store.max_bytes:
                    raise TooLarge(f"The file is larger than the upload limit ({store.max_bytes} "
                                   "bytes)")  # fmt: skip
                if size - checked >= RECHECK:
                    free = store.free(directory) + size  # as if this file were not written
                    checked = size
                _check_space(store, free, size)
                if digest is not None:
                    digest.update(chunk)
                await _write(out, chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    content_type = part.headers.get("Content-Type")
    sha256 = digest.hexdigest() if digest is not None else ""
    return StagedFile(path, store.root, size, sha256, part.filename, content_type)


async def _text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > MAX_FIELD:
            raise InvalidInput(f"The form field {part.name} is longer than {MAX_FIELD} bytes")
    try:
        return data.decode(part.get_charset("utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise InvalidInput(f"The form field {part.name} is not text") from None


async def stage(request: web.Request, store: FileStore, directory: str) -> Staged:
    """Read a multipart body: its first file staged under `<root>/<directory>/`, its text
    fields by name (a repeated field keeps its first value). 400 for a body that is not
    multipart, 413 past the size limit (known from Content-Length before anything is read),
    503 without the free space."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("An upload must be sent as multipart/form-data")
    declared = request.content_length
    if declared is not None and declared > store.max_bytes + MAX_FIELD * MAX_FIELDS:
        raise TooLarge(f"The upload is larger than the upload limit ({store.max_bytes} bytes)")
    target = store.root / directory
    target.mkdir(parents=True, exist_ok=True)
    free = store.free(target)
    _check_space(store, free, declared or 0)
    staged = Staged()
    try:
        await _read_parts(await _reader(request), staged, store, target, free)
    except BaseException:
        staged.discard()
        raise
    return staged


async def _reader(request: web.Request) -> MultipartReader:
    """The body's multipart reader; a 400 when the Content-Type names no boundary (or is no
    multipart type aiohttp reads), which aiohttp refuses with ValueError or AssertionError
    before reading a byte."""
    try:
        return await request.multipart()
    except (ValueError, AssertionError) as error:
        raise InvalidInput(f"Malformed multipart body: {error}") from None


async def _read_parts(
    reader: MultipartReader, staged: Staged, store: FileStore, target: Path, free: int
) -> None:
    count = 0
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise InvalidInput("Nested multipart bodies are not accepted")
            count += 1
            if count > MAX_FIELDS:
                raise InvalidInput(f"A form may hold at most {MAX_FIELDS} parts")
            if part.filename is not None:
                if staged.file is None:
                    staged.file = await _stage_file(part, store, target, free)
                else:
                    await part.release()  # only the first file is kept (core.md §9.12)
            elif part.name:
                value = await _text(part)
                staged.fields.setdefault(part.name, value)
            else:
                await part.release()
    except (ValueError, AssertionError, HttpProcessingError) as error:
        # aiohttp's reader raises these for a malformed body (a bad boundary, a bad header)
        raise InvalidInput(f"Malformed multipart body: {error}") from None
