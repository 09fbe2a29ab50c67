"""Files a request brought: what the transport staged on disk, and how a resolver keeps one.

A multipart upload is streamed by the transport (rest_compat/upload.py, for REST and
GraphQL alike) into a temporary file of the directory its data will live in, with its size
and SHA-256 counted on the way and the size limit applied; a mutation receives the
`StagedFile` (its handle, never its bytes) and renames it into place before writing its row,
so a row never names a file that is not whole. The transport deletes what no mutation kept
once the request is over, so a refused or failed upload leaves nothing behind.
"""

from __future__ import annotations

import os
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from resolvers.errors import InvalidInput

__all__ = ["MAX_FILENAME", "StagedFile", "client_filename", "keep"]

#: The longest file name kept, in characters.
MAX_FILENAME: Final = 255


@dataclass(frozen=True, slots=True)
class StagedFile:
    """An uploaded file, whole on disk under a temporary name.

    Args:
        path: where it is now (a temporary name in its final directory).
        root: the data directory, against which stored paths are relative.
        size: its length in bytes.
        sha256: the hex SHA-256 of its bytes.
        filename: the name the client gave its part, as sent (maybe a whole local path).
        content_type: the part's declared type, if any.
    """

    path: Path
    root: Path
    size: int
    sha256: str
    filename: str | None
    content_type: str | None


def client_filename(explicit: str | None, part_name: str | None) -> str:
    """The name a file is kept under, from an explicit `filename` or else the part's name cut
    after its last `/` or `\\` (clients send whole local paths there, core.md §9.12). An
    explicit name holding a directory, a name with control characters, an empty name, `.`,
    `..` or one longer than MAX_FILENAME is a 400: path tricks never reach the disk, whose
    names the server chooses anyway."""
    if explicit is not None and explicit.strip():
        name = explicit.strip()
        if "/" in name or "\\" in name:
            raise InvalidInput(f"The file name {name!r} must not hold a directory")
    else:
        name = (part_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", ".."):
        raise InvalidInput("The file needs a name")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in name):
        raise InvalidInput("The file name must not hold control characters")
    if len(name) > MAX_FILENAME:
        raise InvalidInput(f"The file name is longer than {MAX_FILENAME} characters")
    return name


def keep(staged: StagedFile) -> Path:
    """Rename a staged file to a new server-chosen name in its directory (fanned out over 256
    subdirectories); returns the new path. The rename stays on one file system, so the file
    appears whole or not at all."""
    name = uuid.uuid4().hex
    target = staged.path.parent / name[:2] / name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged.path, target)
    return target
