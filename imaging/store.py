"""The image data directory, in PIMS's layout (PIXELS.md §4), so a real PIMS could later be
pointed at the same files:

    <root>/upload-<uuid4>/<sanitised name>                 the bytes as received
    <root>/upload-<uuid4>/processed/visualisation.<FMT>    what tiles are read from: a link to
                                                           the original, or its converted pyramid
    <root>/upload-<uuid4>/processed/histogram.json         histograms computed at import
    <root>/.incoming/                                      uploads being received

Every path a request names is resolved inside the root, never outside it.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Final

from imaging.errors import FileMissing

__all__ = ["ImageStore", "is_dir", "is_file", "sanitise"]

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._ -]+")
VISUALISATION: Final = "visualisation"
HISTOGRAM: Final = "histogram.json"


def sanitise(name: str) -> str:
    """A file name safe on disk: its last path component, no leading dots, only plain
    characters, at most 200 of them."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if len(base) > 200:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: 200 - len(suffix) - 1] + dot + suffix) if dot and len(suffix) < 16 \
            else base[:200]  # fmt: skip
    return base or "image"


def is_file(path: Path) -> bool:
    """`path.is_file()`, but False where the file system cannot even look the path up (a name
    too long for it: a stored path is whatever text the writers of its storage gave)."""
    try:
        return path.is_file()
    except OSError:
        return False


def is_dir(path: Path) -> bool:
    """`path.is_dir()`, False where the path cannot be looked up (see `is_file`)."""
    try:
        return path.is_dir()
    except OSError:
        return False


class ImageStore:
    """Paths under the images directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        (self.root / ".incoming").mkdir(parents=True, exist_ok=True)

    @property
    def incoming(self) -> Path:
        return self.root / ".incoming"

    def free_bytes(self) -> int:
        self.ensure()
        return shutil.disk_usage(self.root).free

    def new_upload(self, original_name: str) -> tuple[Path, str]:
        """A new upload folder; the file's absolute path and its path relative to the root
        (the uploaded file's `filename`)."""
        folder = f"upload-{uuid.uuid4()}"
        name = sanitise(original_name)
        (self.root / folder / "processed").mkdir(parents=True)
        return self.root / folder / name, f"{folder}/{name}"

    def discard(self, relative: str) -> None:
        """Remove the upload folder of a stored path, with everything in it."""
        folder = self.upload_folder(relative)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def resolve(self, relative: str) -> Path:
        """The absolute path of a stored file; `FileMissing` for a path leaving the root."""
        root = self.root.resolve()
        candidate = (root / relative).resolve()
        if root != candidate and root not in candidate.parents:
            raise FileMissing("The image's file is not in the image store")
        return candidate

    def upload_folder(self, relative: str) -> Path | None:
        """The `upload-…` folder a stored path lies in, if any."""
        first = relative.split("/", 1)[0]
        if not first.startswith("upload-"):
            return None
        return self.resolve(first)

    def processed(self, relative: str) -> Path | None:
        folder = self.upload_folder(relative)
        return None if folder is None else folder / "processed"

    def representation(self, relative: str) -> tuple[Path, str | None]:
        """The file tiles are read from for a stored path, and its format when the layout
        says it (`visualisation.<FMT>`); else the file itself, format unknown."""
        processed = self.processed(relative)
        if processed is not None and is_dir(processed):
            for child in processed.iterdir():
                if child.stem == VISUALISATION and child.suffix:
                    return child, child.suffix[1:].upper()
        return self.resolve(relative), None

    def histogram(self, relative: str) -> Path | None:
        processed = self.processed(relative)
        return None if processed is None else processed / HISTOGRAM
